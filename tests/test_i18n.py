"""German by default, English on request, and a complete, compiled German catalogue."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from cases.models import CustomerGroup, Phase
from organisation.models import Role

LOCALE = Path(settings.BASE_DIR) / "locale"
DE_PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
DE_MO = LOCALE / "de" / "LC_MESSAGES" / "django.mo"
SOURCE_DIRS = (
    "audit",
    "cases",
    "jobcenter",
    "organisation",
    "profiling",
    "scheduling",
    "supervision",
)


def _parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list), flags.

    Small on purpose: enough for files written by makemessages; obsolete (#~) entries are skipped.
    """
    entries, entry, key = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "msgctxt": None, "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            key = match.group(1)
            value = ast.literal_eval(match.group(3))
            if key.startswith("msgstr"):
                index = int(match.group(2) or 0)
                entry["msgstr"][index] = value
                key = ("msgstr", index)
            else:
                entry[key] = value
            continue
        value = ast.literal_eval(line)  # a continuation line: "..."
        if isinstance(key, tuple):
            entry["msgstr"][key[1]] += value
        else:
            entry[key] += value
    return [
        {**entry, "msgstr": [entry["msgstr"][i] for i in sorted(entry["msgstr"])]}
        for entry in entries
    ]


def _messages(path: Path) -> list[dict]:
    return [entry for entry in _parse_po(path) if entry["msgid"]]  # without the header


# --- the catalogue -------------------------------------------------------------------------------


def test_every_german_message_is_translated_and_none_is_fuzzy():
    messages = _messages(DE_PO)
    assert len(messages) > 100
    untranslated = [entry["msgid"] for entry in messages if not all(entry["msgstr"])]
    fuzzy = [entry["msgid"] for entry in _parse_po(DE_PO) if "fuzzy" in entry["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_german_placeholders_match_the_english_ones():
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    for entry in _messages(DE_PO):
        expected = sorted(placeholder.findall(entry["msgid_plural"] or entry["msgid"]))
        for text in entry["msgstr"]:
            assert sorted(placeholder.findall(text)) == expected, entry["msgid"]


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo holds exactly the committed translations (run compilemessages)."""
    with DE_MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    for entry in _messages(DE_PO):
        msgid = entry["msgid"]
        if entry["msgctxt"]:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if entry["msgid_plural"]:
            for index, text in enumerate(entry["msgstr"]):
                assert catalog[(msgid, index)] == text, msgid
        else:
            assert catalog[msgid] == entry["msgstr"][0], msgid


def test_english_catalogue_exists_and_is_compiled():
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.po").exists()
    assert (LOCALE / "en" / "LC_MESSAGES" / "django.mo").exists()


def _source_msgids() -> set[str]:
    """Literal msgids in templates and Python (the simple one-literal forms makemessages sees)."""
    found: set[str] = set()
    template_tag = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
    python_call = re.compile(
        r"""\b(?:_|gettext|gettext_lazy|ngettext|ngettext_lazy)\(\s*"((?:[^"\\\n]|\\.)*)"\s*[,)]"""
    )
    base = Path(settings.BASE_DIR)
    for path in (base / "templates").rglob("*.html"):
        found.update(match.group(2) for match in template_tag.finditer(path.read_text()))
    for directory in SOURCE_DIRS:
        for path in (base / directory).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            found.update(ast.literal_eval(f'"{m.group(1)}"') for m in python_call.finditer(text))
    return found


def test_every_string_in_the_source_is_in_the_catalogue():
    """A new string without `makemessages -l de -l en` and a translation fails here."""
    catalogued = {entry["msgid"] for entry in _messages(DE_PO)}
    missing = sorted(_source_msgids() - catalogued)
    assert missing == [], "run makemessages and translate: " + "; ".join(missing)


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ("Work queue", "Arbeitsvorrat"),
        ("Caseworker", "Integrationsfachkraft"),
        ("Household", "Bedarfsgemeinschaft"),
        ("overdue", "überfällig"),
        ("Goal review due", "Zielüberprüfung fällig"),
    ],
)
def test_glossary_terms(english, german):
    with translation.override("de"):
        assert translation.gettext(english) == german


def test_phases_groups_and_roles_in_german():
    with translation.override("de"):
        assert [str(label) for label in Phase.labels] == [
            "Profiling",
            "Ziel- und Handlungsplanung",
            "Umsetzung",
            "Zielüberprüfung",
            "Abgeschlossen",
        ]
        assert [str(label) for label in CustomerGroup.labels] == [
            "Marktnah",
            "Potenzialkund*innen",
            "Verwaltungskund*innen",
        ]
        assert str(Role.CASEWORKER.label) == "Integrationsfachkraft"
        assert str(Role.TEAM_LEAD.label) == "Führungskraft"


# --- the language of the pages -------------------------------------------------------------------


def test_german_is_the_default(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("cases:work_queue")).content.decode()
    assert '<html lang="de">' in body
    assert '<h1 class="kern-heading-large">Arbeitsvorrat</h1>' in body
    assert "Kundengruppe" in body


def test_an_english_browser_still_gets_german_until_the_user_chooses(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("cases:work_queue"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content
    assert '<html lang="de">' in body.decode()


def test_api_messages_follow_accept_language(client, caseworker):
    client.force_login(caseworker)
    english = client.get("/api/v1/cases/?phase=foo", HTTP_ACCEPT_LANGUAGE="en").json()
    german = client.get("/api/v1/cases/?phase=foo").json()
    assert english["message"] != german["message"]


def test_login_page_is_german_for_anonymous_users(client):
    body = client.get(reverse("login")).content.decode()
    assert '<html lang="de">' in body
    assert "Anmelden" in body


def test_english_after_choosing_it(client, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get(reverse("cases:work_queue")).content.decode()
    assert '<html lang="en">' in body
    assert '<h1 class="kern-heading-large">Work queue</h1>' in body
    assert "Customer group" in body


def test_language_switcher_offers_the_other_language(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("cases:work_queue")).content.decode()
    assert 'name="language" value="en" lang="en"' in body
    assert reverse("set_language") in body
