"""The customer's language beside German (settings.CUSTOMER_LANGUAGES): the "customer"-context
catalogues, the rebooking pages, the invitation templates (migration 0008), the letter, the
invitation, cancellation and reminder e-mails and the SMS.

The rebooking page has no login: the signed token is the access. Who has no valid token (a
tampered one) gets the invalid-link page and nothing of the appointment (the access test below).
"""

import ast
import datetime as dt
import gettext
import importlib
import io
import re
import unicodedata
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.utils import translation
from django.utils.translation import pgettext
from pypdf import PdfReader

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import Appointment, AppointmentStatus, InvitationDelivery, InvitationTemplate
from scheduling.services_appointments import rebooking_alternatives, rebooking_token_make
from scheduling.services_invitations import invitation_cancellation_send, invitation_send
from scheduling.services_reminders import (
    SMS_MAX_PARTS,
    reminder_email_message,
    reminder_sms_text,
    sms_parts,
)
from scheduling.sms import MAX_SMS_LENGTH
from tests.cases.factories import CaseFactory
from tests.scheduling.test_appointments import local, make_appointment
from tests.scheduling.test_invitations import appointment_make, german_v1_install, staff_make
from tests.scheduling.test_rebooking import anna, at_now  # noqa: F401 - the fixtures
from tests.test_i18n import _parse_po

LOCALE = Path(settings.BASE_DIR) / "locale"
# German and English: the lead's catalogues (tests/test_i18n.py); these are the ones added here.
TRANSLATED = [code for code in settings.CUSTOMER_LANGUAGES if code not in ("de", "en")]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
MIGRATION = importlib.import_module("scheduling.migrations.0008_invitation_template_translations")
GERMAN_V1 = importlib.import_module("scheduling.migrations.0004_invitations")


def translations_install() -> None:
    """Version 1 of every translation as the migration makes it (a transactional test elsewhere
    may have flushed the rows)."""
    german_v1_install()
    MIGRATION.create_translations_v1(apps, None)


def _customer_entries(language: str) -> list[dict]:
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    return [e for e in _parse_po(po) if e["msgid"] and e["msgctxt"] == "customer"]


def _source_customer_msgids() -> set[str]:
    """Every "customer"-context message in the templates and the Python code."""
    base = Path(settings.BASE_DIR)
    found: set[str] = set()
    tag = re.compile(r"""\{%\s*translate\s+(["'])(.+?)\1\s+context\s+(["'])customer\3\s*%\}""")
    block = re.compile(
        r"""\{%\s*blocktranslate\s+context\s+"customer"[^%]*%\}(.*?)\{%\s*endblocktranslate\s*%\}""",
        re.S,
    )
    for path in (base / "templates").rglob("*"):
        if path.suffix not in (".html", ".txt"):
            continue
        text = path.read_text(encoding="utf-8")
        found.update(match.group(2) for match in tag.finditer(text))
        found.update(
            re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", match.group(1))
            for match in block.finditer(text)
        )
    for path in (base / "scheduling").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "pgettext"
                and len(node.args) == 2
                and all(isinstance(arg, ast.Constant) for arg in node.args)
                and node.args[0].value == "customer"
            ):
                found.add(node.args[1].value)
    return found


def _pdf_text(data: bytes, page: int | None = None) -> str:
    """The PDF's text with Arabic presentation forms folded back (NFKC) and spaces collapsed."""
    pages = PdfReader(io.BytesIO(data)).pages
    chosen = pages if page is None else [pages[page]]
    text = " ".join(p.extract_text() for p in chosen)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _set_language(appointment: Appointment, language: str, **fields) -> None:
    customer = appointment.case.customer
    customer.preferred_language = language
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.save()


# --- the setting and the catalogues -------------------------------------------------------------


def test_the_customer_languages_are_german_first_and_known_to_django():
    assert settings.CUSTOMER_LANGUAGES[0] == "de"
    assert {"de", "en", "uk", "ru", "ar", "tr", "fa", "ro", "pl", "it"} <= set(
        settings.CUSTOMER_LANGUAGES
    )
    rtl = {
        code for code in settings.CUSTOMER_LANGUAGES if translation.get_language_info(code)["bidi"]
    }
    assert rtl == {"ar", "fa"}
    assert [code for code, _name in settings.LANGUAGES] == ["de", "en"]  # the staff UI


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_customer_message_is_translated_with_its_placeholders(language):
    entries = _customer_entries(language)
    assert {e["msgid"] for e in entries} >= _source_customer_msgids()
    for entry in entries:
        assert all(entry["msgstr"]), (language, entry["msgid"])
        assert "fuzzy" not in entry["flags"], (language, entry["msgid"])
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        assert sorted(PLACEHOLDER.findall(entry["msgstr"][0])) == expected, entry["msgid"]


def test_the_source_has_customer_messages():
    msgids = _source_customer_msgids()
    assert len(msgids) > 50
    assert "This link has expired. Please contact your jobcenter to change the appointment." in (
        msgids
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_current(language):
    """The .mo holds exactly the .po's translations (run compilemessages -l <language>)."""
    directory = LOCALE / language / "LC_MESSAGES"
    with (directory / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    translated = {}
    for entry in _parse_po(directory / "django.po"):
        if not entry["msgid"] or not all(entry["msgstr"]) or "fuzzy" in entry["flags"]:
            continue
        key = f"{entry['msgctxt']}\x04{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]
        translated[key] = entry["msgstr"][0]
    compiled = {key: value for key, value in catalog.items() if key}
    assert compiled == translated


@pytest.mark.parametrize("language", TRANSLATED)
def test_django_activates_the_catalogue(language):
    """translation.override really picks our catalogue (Django loads a language it has files of)."""
    entries = {e["msgid"]: e["msgstr"][0] for e in _customer_entries(language)}
    with translation.override(language):
        assert translation.get_language() == language
        assert pgettext("customer", "Choose another time") == entries["Choose another time"]


# --- the invitation templates of migration 0008 ----------------------------------------------------


@pytest.mark.parametrize("language", [c for c in settings.CUSTOMER_LANGUAGES if c != "de"])
def test_version_1_of_each_translation_has_the_german_placeholders_and_says_german_binds(
    db, language
):
    translations_install()
    template = InvitationTemplate.objects.get(language=language, version=1)
    template.full_clean()
    for field, german in (
        ("subject", GERMAN_V1.GERMAN_V1_SUBJECT),
        ("body", GERMAN_V1.GERMAN_V1_BODY),
        ("legal_notice", GERMAN_V1.GERMAN_V1_LEGAL_NOTICE),
    ):
        assert sorted(PLACEHOLDER.findall(getattr(template, field))) == sorted(
            PLACEHOLDER.findall(german)
        ), field
    # The legal basis and the consequence as in German: § 59 SGB II with § 309 SGB III, § 32 SGB II,
    # 10 percent for one month, the German terms kept beside the translation.
    for expected in ("59", "309", "(SGB II)", "(SGB III)"):
        assert expected in template.body
    for expected in ("32", "SGB II", "10", "Meldeversäumnis", "Regelbedarf", "Bürgergeld"):
        assert expected in template.legal_notice
    assert template.legal_notice.count("\n\n") == GERMAN_V1.GERMAN_V1_LEGAL_NOTICE.count("\n\n") + 1


def test_the_migration_keeps_a_language_an_admin_published_and_its_reverse_keeps_delivered(db):
    translations_install()
    assert set(InvitationTemplate.objects.values_list("language", flat=True)) == set(
        settings.CUSTOMER_LANGUAGES
    )
    MIGRATION.create_translations_v1(apps, None)  # again: nothing new
    assert InvitationTemplate.objects.filter(version=1).count() == len(settings.CUSTOMER_LANGUAGES)


# --- the rebooking page --------------------------------------------------------------------------


@pytest.fixture
def rebook_page(client, team, anna, at_now):  # noqa: F811 - the imported fixtures
    def get(language: str, query: str = "", **fields):
        case = CaseFactory(team=team, caseworker=anna, customer__preferred_language=language)
        appointment = make_appointment(case, anna, local(25, 9), **fields)
        url = f"/scheduling/rebook/{rebooking_token_make(appointment)}/"
        return appointment, url, client.get(url + query)

    return get


def test_the_page_of_a_ukrainian_customer_is_in_ukrainian(rebook_page):
    _appointment, _url, response = rebook_page("uk")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "uk"
    assert '<html lang="uk" dir="ltr">' in html
    assert "Виберіть інший час" in html
    assert "Середа" in html  # the weekday of 25 November 2026
    assert "особисто в Jobcenter" in html  # the channel in the customer's words
    assert 'href="?lang=de" lang="de" hreflang="de"' in html
    assert "Deutsch" in html
    assert "Choose another time" not in html


def test_the_page_of_an_arabic_customer_is_right_to_left(rebook_page):
    _appointment, _url, response = rebook_page("ar")
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert response["Content-Language"] == "ar"
    assert "اختاروا وقتًا آخر" in html
    assert html.count('type="radio" name="slot"') == 15
    # The caseworker's German purpose is marked German for screen readers.
    assert '<dd class="kern-description-list-item__value" lang="de">' in html


def test_the_switch_gives_german_and_back_and_keeps_the_link_working(rebook_page, client):
    appointment, url, _response = rebook_page("uk")
    german = client.get(url + "?lang=de")
    html = german.content.decode()
    assert german.status_code == 200
    assert german["Content-Language"] == "de"
    assert '<html lang="de" dir="ltr">' in html
    assert "Mittwoch" in html
    assert "25. November 2026" in html
    assert "Виберіть інший час" not in html
    assert 'href="?lang=uk" lang="uk" hreflang="uk"' in html
    assert "Українська" in html

    back = client.get(url + "?lang=uk").content.decode()
    assert '<html lang="uk" dir="ltr">' in back

    # The forms post to the same address, so the answer stays in the language chosen.
    slot = rebooking_alternatives(appointment=appointment)[0]
    done = client.post(url + "?lang=de", {"action": "choose", "slot": slot.key})
    assert done.status_code == 200
    assert '<html lang="de" dir="ltr">' in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == slot.start


def test_a_language_without_texts_gets_german_with_every_customer_language_offered(
    rebook_page, client
):
    _appointment, url, response = rebook_page("sw")
    html = response.content.decode()
    assert '<html lang="de" dir="ltr">' in html
    assert response["Content-Language"] == "de"
    for code in settings.CUSTOMER_LANGUAGES:
        if code != "de":
            assert f'href="?lang={code}"' in html
    assert '<html lang="de" dir="ltr">' in client.get(url + "?lang=sw").content.decode()


def test_the_services_messages_come_in_the_customers_language(
    rebook_page,
    client,
    anna,  # noqa: F811 - the imported fixture
):
    appointment, url, _response = rebook_page("uk")
    slot = rebooking_alternatives(appointment=appointment)[0]
    make_appointment(CaseFactory(team=appointment.case.team), anna, slot.start)
    taken = client.post(url, {"action": "choose", "slot": slot.key})
    assert taken.status_code == 409
    assert "Цей час щойно зайняли. Будь ласка, виберіть інший." in taken.content.decode()

    empty = client.post(url, {"action": "callback", "reason": " "})
    assert empty.status_code == 400
    assert "коротко напишіть" in empty.content.decode()

    nothing = client.post(url, {"action": "choose", "slot": "x"})
    assert "виберіть один із запропонованих" in nothing.content.decode()


def test_a_refusal_comes_in_the_customers_language(rebook_page, client, at_now):  # noqa: F811
    _appointment, url, _response = rebook_page("ar")
    at_now.move_to(local(25, 7))  # two hours before
    html = client.get(url).content.decode()
    assert "الموعد قريب جدًا ولا يمكن نقله عبر الإنترنت" in html


def test_a_tampered_link_gets_german_with_every_language_and_nothing_of_the_appointment(
    rebook_page, client
):
    appointment, url, _response = rebook_page("ar")
    tampered = url[:-3] + "xx/"
    response = client.get(tampered)
    html = response.content.decode()
    assert response.status_code == 400
    assert '<html lang="de" dir="ltr">' in html
    assert 'id="rebook-invalid"' in html
    assert appointment.purpose not in html
    assert 'href="?lang=ar"' in html
    arabic = client.get(tampered + "?lang=ar")
    html = arabic.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "هذا الرابط غير صالح" in html
    assert appointment.purpose not in html


def test_an_expired_or_outdated_link_explains_itself_in_the_customers_language(
    rebook_page,
    client,
    at_now,  # noqa: F811
):
    appointment, url, _response = rebook_page("uk")
    at_now.shift(dt.timedelta(days=15))
    expired = client.get(url)
    assert expired.status_code == 410
    html = expired.content.decode()
    assert '<html lang="uk" dir="ltr">' in html
    assert "Термін дії цього посилання минув" in html
    assert "Посилання не можна використати" in html
    at_now.shift(dt.timedelta(days=-15))

    Appointment.objects.filter(pk=appointment.pk).update(sequence=1)
    outdated = client.get(url)
    assert outdated.status_code == 410
    assert "Ця зустріч змінилася" in outdated.content.decode()
    assert '<html lang="de"' in client.get(url + "?lang=de").content.decode()


# --- the invitation ----------------------------------------------------------------------------------


@pytest.fixture
def invited(team):
    """Jana Schulz's approved appointment (test_invitations) with the translations installed."""
    translations_install()
    staff = staff_make(team)
    return appointment_make(team, staff), AuditContext(actor=staff, channel="ui")


@pytest.mark.parametrize(
    ("language", "heading", "binding", "greeting"),
    [
        (
            "fa",
            "توضیح پیامدهای حقوقی",
            "تنها متن آلمانی از نظر حقوقی معتبر است.",
            "Jana Schulz گرامی،",
        ),
        (
            "tr",
            "Hukuki sonuçlar hakkında bilgilendirme",
            "Yalnızca Almanca metin hukuken bağlayıcıdır.",
            "Sayın Jana Schulz,",
        ),
    ],
)
def test_the_invitation_carries_german_and_the_customers_language(
    invited, language, heading, binding, greeting
):
    appointment, ctx = invited
    _set_language(appointment, language)

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    message = mail.outbox[0]
    body = message.body
    assert body.index("Rechtsfolgenbelehrung") < body.index(heading)
    assert greeting in body
    assert binding in body
    html = message.alternatives[0].content
    direction = "rtl" if language == "fa" else "ltr"
    assert f'id="invitation-translation" lang="{language}" dir="{direction}"' in html

    # The delivery rows: the binding German version, and the language of the translation beside
    # it; the audit row names both versions.
    german = InvitationTemplate.objects.get(language="de", version=1)
    assert {(d.template_id, d.language) for d in result.deliveries} == {(german.pk, language)}
    audit = AuditEvent.objects.get(object_type="invitation", object_id=str(appointment.pk))
    assert audit.detail["template"] == {"language": "de", "version": 1}
    assert audit.detail["translation"] == {"language": language, "version": 1}

    letter = _pdf_text(result.letter_pdf)
    assert "Rechtsfolgenbelehrung" in letter
    # The translation: everything after the note that only the German text is binding.
    translated = letter.split("verbindlich ist allein der deutsche Text")[-1]
    assert heading in translated
    assert binding in translated
    assert "Rechtsfolgenbelehrung" not in translated


@pytest.mark.parametrize("language", [c for c in settings.CUSTOMER_LANGUAGES if c != "de"])
def test_every_language_is_drawn_in_the_letter(invited, language):
    """Each translation's letter page, read back: the notice's last sentence (the German text
    binds) and the customer's name. Farsi and Arabic come back shaped, in logical order."""
    appointment, ctx = invited
    _set_language(appointment, language, phone="0170 1234567")
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    template = InvitationTemplate.objects.get(language=language, version=1)
    last_paragraph = template.legal_notice.split("\n\n")[-1]
    text = _pdf_text(result.letter_pdf)
    for sentence in re.split(r"(?<=[.!])\s+", last_paragraph):
        assert " ".join(sentence.split()) in text, (language, sentence)
    assert "Jana Schulz" in text
    assert "/scheduling/rebook/" in text


# --- cancellations and reminders ----------------------------------------------------------------------


def test_the_cancellation_carries_both_languages(invited):
    appointment, ctx = invited
    _set_language(appointment, "tr")
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED, sequence=1
    )

    result = invitation_cancellation_send(ctx=ctx, appointment_id=appointment.pk)

    body = mail.outbox[-1].body
    assert body.index("findet nicht statt") < body.index("yapılmayacaktır")
    assert "Randevunuzun iptali: Çarşamba, 02 Aralık 2026, saat 09:00" in body
    assert "gelmenize gerek yoktur" in body
    assert 'lang="tr" dir="ltr" id="cancellation-translation"' in (
        mail.outbox[-1].alternatives[0].content
    )
    assert {d.language for d in result.deliveries} == {"tr"}
    assert "yapılmayacaktır" in _pdf_text(result.letter_pdf)


def test_the_reminder_e_mail_carries_both_languages(invited):
    appointment, _ctx = invited
    _set_language(appointment, "ar")
    message = reminder_email_message(appointment=appointment, to="jana.schulz@example.org")
    assert message.subject.startswith("Erinnerung an Ihren Termin am Mittwoch")
    assert message.body.index("Guten Tag Jana Schulz,") < message.body.index("السيدة/السيد")
    assert "الأربعاء، 2 ديسمبر، 2026" in message.body
    assert "ترجمة: النص الألماني ودعوتكم وحدهما الملزمان." in message.body
    assert 'lang="ar" dir="rtl" id="reminder-translation"' in message.alternatives[0].content


def test_a_german_customer_gets_german_only(invited):
    appointment, ctx = invited
    message = reminder_email_message(appointment=appointment, to="jana.schulz@example.org")
    assert 'id="reminder-translation"' not in message.alternatives[0].content
    assert "\n" not in reminder_sms_text(appointment=appointment)
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert "binding" not in mail.outbox[0].body
    assert {d.language for d in InvitationDelivery.objects.all()} == {"de"}


# The SMS limit: German line (with the link) plus one translated line, at most SMS_MAX_PARTS parts
# (6 UCS-2 parts = 402 characters, below sms.MAX_SMS_LENGTH, so nothing is ever cut off).
LONG_PLACE = "Jobcenter Musterstadt, Geschäftsstelle Nord, Haus B, 3. Etage, Raum 3.147 (Aufzug)"


@pytest.mark.parametrize("language", [c for c in settings.CUSTOMER_LANGUAGES if c != "de"])
def test_the_sms_has_the_german_line_and_one_translated_line_within_the_limit(
    invited, settings, language
):
    settings.SITE_URL = "https://termine.jobcenter-musterstadt.de"
    appointment, _ctx = invited
    # A large installation's ids (seven digits, a moved appointment): the longest link.
    Appointment.objects.filter(pk=appointment.pk).update(
        id=9_999_999, location=LONG_PLACE, sequence=12
    )
    appointment = Appointment.objects.get(pk=9_999_999)
    _set_language(appointment, language)
    text = reminder_sms_text(appointment=appointment)
    german, translated = text.split("\n")
    assert german.startswith("Jobcenter: Erinnerung an Ihren Termin am Mittwoch, 02.12.2026")
    assert "https://termine.jobcenter-musterstadt.de/scheduling/rebook/" in german
    assert "09:00" in translated
    assert "rebook" not in translated
    assert sms_parts(text) <= SMS_MAX_PARTS
    assert len(text) <= MAX_SMS_LENGTH
    with translation.override(language):
        assert translated.startswith(
            pgettext(
                "customer",
                "Reminder of your jobcenter appointment on %(date)s at %(time)s. To move it or ask "
                "for a call-back, use the link above.",
            ).split("%")[0]
        )


def test_a_translated_line_that_would_make_the_sms_too_long_is_left_out(invited, settings):
    settings.SITE_URL = "https://" + "termine." * 12 + "jobcenter.example"
    appointment, _ctx = invited
    _set_language(appointment, "uk")
    text = reminder_sms_text(appointment=appointment)
    assert "\n" not in text
    assert text.startswith("Jobcenter: Erinnerung")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("ä" * 306, 2),  # ä is GSM-7
        ("€" * 80, 1),  # an extension character counts twice
        ("€" * 81, 2),
        ("ш" * 70, 1),
        ("ш" * 71, 2),
        ("ş" * 135, 3),  # Turkish ş is not GSM-7: UCS-2, 67 a part
    ],
)
def test_sms_parts(text, parts):
    assert sms_parts(text) == parts
