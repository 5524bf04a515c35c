"""Starter data for case notes: a template with a checklist for every note type, and a tag vocabulary.

This is data, not code: admins edit both in /admin/ afterwards, so the German texts live here and
not in the translation catalogue. Existing rows are left alone (an admin may have edited them), and
undoing the migration leaves the data in place for the same reason.
"""

from django.db import migrations


def _item(key: str, label: str, required: bool = True) -> dict:
    return {"key": key, "label": label, "required": required}


TEMPLATES = {
    "conversation": {
        "body": (
            "Anlass des Gesprächs:\n\n"
            "Aktuelle Situation der Kundin/des Kunden:\n\n"
            "Besprochene Themen:\n\n"
            "Vereinbarte nächste Schritte:\n\n"
            "Nächster Kontakt:\n"
        ),
        "checklist": [
            _item("concern", "Anliegen der Kundin/des Kunden festgehalten"),
            _item("situation", "Aktuelle Situation und Veränderungen erfasst"),
            _item("next_steps", "Vereinbarte nächste Schritte festgehalten"),
            _item("next_contact", "Nächster Kontakt vereinbart"),
            _item("legal_notice", "Rechtsfolgenbelehrung erforderlich? Geprüft"),
            _item("plan_discussed", "Kooperationsplan besprochen", required=False),
        ],
    },
    "phone_call": {
        "body": (
            "Anruf von/an:\n\n"
            "Anliegen:\n\n"
            "Ergebnis und Vereinbarungen:\n\n"
            "Rückruf/nächster Kontakt:\n"
        ),
        "checklist": [
            _item(
                "identity_checked", "Identität der Gesprächspartnerin/des Gesprächspartners geprüft"
            ),
            _item("concern", "Anliegen festgehalten"),
            _item("result", "Ergebnis und Vereinbarungen festgehalten"),
            _item("next_contact", "Rückruf oder nächster Kontakt vereinbart", required=False),
        ],
    },
    "video": {
        "body": (
            "Anlass der Videoberatung:\n\n"
            "Besprochene Themen:\n\n"
            "Vereinbarte nächste Schritte:\n\n"
            "Nächster Kontakt:\n"
        ),
        "checklist": [
            _item("identity_checked", "Identität geprüft"),
            _item("consent", "Einverständnis zur Videoberatung liegt vor"),
            _item("concern", "Anliegen der Kundin/des Kunden festgehalten"),
            _item("next_steps", "Vereinbarte nächste Schritte festgehalten"),
            _item("next_contact", "Nächster Kontakt vereinbart", required=False),
            _item("technical_issues", "Technische Störungen vermerkt", required=False),
        ],
    },
    "outreach_visit": {
        "body": (
            "Ort des Termins:\n\n"
            "Anwesende Personen:\n\n"
            "Situation vor Ort:\n\n"
            "Vereinbarte nächste Schritte:\n\n"
            "Nächster Kontakt:\n"
        ),
        "checklist": [
            _item("place", "Ort des Termins festgehalten"),
            _item("persons_present", "Anwesende Personen festgehalten"),
            _item("concern", "Anliegen und Situation erfasst"),
            _item("next_steps", "Vereinbarte nächste Schritte festgehalten"),
            _item("next_contact", "Nächster Kontakt vereinbart", required=False),
        ],
    },
    "document_received": {
        "body": (
            "Art der Unterlage:\n\n"
            "Eingegangen über:\n\n"
            "Vollständig? Fehlende Teile:\n\n"
            "Frist:\n\n"
            "Weiteres Vorgehen:\n"
        ),
        "checklist": [
            _item("document_kind", "Art der Unterlage festgehalten"),
            _item("complete", "Vollständigkeit geprüft"),
            _item("deadline", "Frist geprüft und notiert"),
            _item("forwarded", "An die zuständige Stelle weitergeleitet", required=False),
        ],
    },
    "other": {
        "body": "Anlass:\n\nInhalt:\n\nNächste Schritte:\n",
        "checklist": [
            _item("subject", "Anlass festgehalten"),
            _item("next_steps", "Nächste Schritte festgehalten", required=False),
        ],
    },
}

TAGS = {
    "Anerkennung ausländischer Abschlüsse": "Anerkennung von Schul-, Berufs- und Hochschulabschlüssen",
    "Bewerbung": "Bewerbungen, Bewerbungsunterlagen, Vorstellungsgespräche",
    "Gesundheit": "Gesundheitliche Einschränkungen, Gutachten, Reha",
    "Kinderbetreuung": "Betreuung von Kindern, Kita- und Schulzeiten",
    "Mobilität": "Führerschein, ÖPNV, Pendelzeiten",
    "Qualifizierung": "Weiterbildung, Umschulung, Bildungsgutschein",
    "Schulden": "Schulden, Schuldnerberatung",
    "Sprachkurs": "Integrations- und Berufssprachkurse",
    "Vermittlung": "Stellenangebote, Vermittlungsvorschläge, Arbeitgeberkontakte",
    "Wohnen": "Wohnsituation, drohender Wohnungsverlust",
}


def create_starter_data(apps, schema_editor):
    NoteTemplate = apps.get_model("cases", "NoteTemplate")
    Tag = apps.get_model("cases", "Tag")
    for note_type, template in TEMPLATES.items():
        NoteTemplate.objects.get_or_create(note_type=note_type, defaults=template)
    for name, description in TAGS.items():
        Tag.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_lifecycle")]

    operations = [migrations.RunPython(create_starter_data, migrations.RunPython.noop)]
