"""The customer's language: which of settings.CUSTOMER_LANGUAGES a customer is written to in.

German is the jobcenter's language and the binding one: every customer document is German first;
a customer whose preferred language (Customer.preferred_language, ISO 639-1) is one of
CUSTOMER_LANGUAGES also gets the fixed texts in that language. Those texts are gettext messages
with the context "customer" (`pgettext("customer", ...)`, `{% translate ... context "customer" %}`),
so they can be told apart from the staff UI's strings; every customer language's catalogue
translates all of them (tests/scheduling/test_customer_languages.py).
"""

from django.conf import settings
from django.utils import translation

GERMAN = "de"


def customer_languages() -> tuple[str, ...]:
    return tuple(settings.CUSTOMER_LANGUAGES)


def language_code_normalise(code: str | None) -> str:
    """The bare language of a code: "uk-UA" -> "uk", " AR " -> "ar"; "" for nothing."""
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def customer_language(code: str | None) -> str | None:
    """The customer language for a preferred-language code, or None if we have no texts in it."""
    code = language_code_normalise(code)
    return code if code in customer_languages() else None


def language_is_rtl(code: str) -> bool:
    """Whether the language is written right to left (Arabic, Farsi, ...), by Django's LANG_INFO."""
    try:
        return bool(translation.get_language_info(code)["bidi"])
    except KeyError:
        return False


def language_name_local(code: str) -> str:
    """The language's name in itself ("Українська"), for a language switch."""
    try:
        name = translation.get_language_info(code)["name_local"]
    except KeyError:
        return code
    return name[:1].upper() + name[1:]
