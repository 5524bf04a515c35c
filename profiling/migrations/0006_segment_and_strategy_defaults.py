"""Starter configuration of the AI profiling: the three customer groups, their first rules, and the
catalogue of action strategies.

This is data, not code: admins change all of it afterwards (the rules on the customer group rules
page, which saves a new version; group settings and strategies in /admin/), so the German texts
live here and not in the translation catalogue. Rows that exist already are left alone. Undoing the
migration removes the starter rows again, except a rule set that suggestions already point to.

The rules (profiling.rules): the first rule that applies decides, the last applies to everyone.
"""

from django.db import migrations

# The thresholds of the first rule set, on the predicted probability of integration into work
# subject to social insurance within 12 months. From 40 % a customer is market-near (the digital
# channels and matching will usually do); below 10 % no current capacity is assumed (group
# formats). The lowest upper bound (10 %) is also the threshold of the fairness audit.
MARKET_NEAR_FROM = 0.40
ADMINISTRATIVE_BELOW = 0.10

RULES = [
    {
        "group": "market_near",
        "min_probability": MARKET_NEAR_FROM,
        "max_probability": None,
        "conditions": [],
    },
    {
        "group": "administrative",
        "min_probability": None,
        "max_probability": ADMINISTRATIVE_BELOW,
        "conditions": [],
    },
    # No current capacity: low motivation together with serious health restrictions.
    {
        "group": "administrative",
        "min_probability": None,
        "max_probability": None,
        "conditions": [
            {"field": "motivation", "op": "eq", "value": "low"},
            {"field": "health", "op": "eq", "value": "high"},
        ],
    },
    {"group": "potential", "min_probability": None, "max_probability": None, "conditions": []},
]

SEGMENTS = {
    "market_near": {
        "service_model": (
            "Überwiegend digital und KI-gestützt: Stellenvorschläge (Matching), Hilfe bei den "
            "Bewerbungsunterlagen und Self-Service im Portal. Keine feste Ansprechperson: "
            "Anliegen bearbeitet das Team über seine Warteschlange."
        ),
        "contact_cadence_days": 84,
        "channels": ["digital", "phone", "video"],
        "fixed_caseworker": False,
    },
    "potential": {
        "service_model": (
            "Hybrid: KI-Unterstützung und persönliche Beratung durch eine feste "
            "Integrationsfachkraft (feste Fallzuordnung). Schwerpunkt sind die Feinplanung und "
            "die Begleitung bei der Umsetzung des Kooperationsplans."
        ),
        "contact_cadence_days": 28,
        "channels": ["in_person", "video", "phone", "outreach"],
        "fixed_caseworker": True,
    },
    "administrative": {
        "service_model": (
            "Überwiegend KI-gestützt und in Gruppenformaten (Gruppeninformationen, "
            "Gruppenmaßnahmen). Keine feste Ansprechperson: Kontakte plant das Team nach "
            "seiner Auslastung über die Warteschlange."
        ),
        "contact_cadence_days": 91,
        "channels": ["letter", "digital", "in_person"],
        "fixed_caseworker": False,
    },
}


def _when(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


STRATEGIES = [
    {
        "code": "sprachkurs",
        "name": "Sprachkurs (Integrations- oder Berufssprachkurs)",
        "description": (
            "Deutschkenntnisse bis B1: Integrationskurs oder Berufssprachkurs (DeuFöV) beim "
            "BAMF-Kursträger. Ziel ist mindestens B2 für die meisten Berufe."
        ),
        "customer_text": (
            "Gute Deutschkenntnisse helfen sehr bei der Arbeitssuche. In einem Sprachkurs lernen "
            "Sie Deutsch für den Alltag und für den Beruf. Der Kurs kostet Sie nichts."
        ),
        "conditions": [_when("german", "lte", "B1")],
        "addresses": ["german"],
        "groups": [],
        "step_text": "Bei einem Kursträger für einen Integrations- oder Berufssprachkurs anmelden.",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 30,
    },
    {
        "code": "qualifizierung",
        "name": "Berufliche Qualifizierung / Umschulung",
        "description": (
            "Ohne Berufsabschluss: Teilqualifizierung, Umschulung oder abschlussorientierte "
            "Weiterbildung mit Bildungsgutschein (§ 16 SGB II, §§ 81 ff. SGB III) prüfen."
        ),
        "customer_text": (
            "Mit einem Berufsabschluss finden Sie leichter eine gute Arbeit. Wir beraten Sie, "
            "welche Weiterbildung oder Umschulung zu Ihnen passt. Das Jobcenter kann die Kosten "
            "übernehmen."
        ),
        "conditions": [_when("vocational", "eq", "none")],
        "addresses": ["vocational", "school"],
        "groups": ["market_near", "potential"],
        "step_text": "Beratung zu Weiterbildung oder Umschulung; Bildungsgutschein prüfen.",
        "step_responsible": "jobcenter",
        "step_due_weeks": 6,
        "priority": 20,
    },
    {
        "code": "anerkennung",
        "name": "Anerkennung ausländischer Berufsabschlüsse",
        "description": (
            "Das Modell kennt nicht, ob ein Abschluss im Ausland erworben wurde. Die Strategie "
            "wird deshalb allen vorgeschlagen, bei denen die berufliche Qualifikation die Chancen "
            "senkt, mit niedriger Priorität: Bitte im Profil prüfen, ob ein ausländischer "
            "Abschluss vorliegt, und sonst nicht übernehmen."
        ),
        "customer_text": (
            "Haben Sie einen Beruf im Ausland gelernt oder studiert? Dann kann Ihr Abschluss in "
            "Deutschland anerkannt werden. Das hilft bei der Arbeitssuche. Wir helfen Ihnen beim "
            "Antrag."
        ),
        "conditions": [],
        "addresses": ["vocational"],
        "groups": [],
        "step_text": (
            "Unterlagen zum ausländischen Abschluss zusammenstellen und eine "
            "Anerkennungsberatung (z. B. IQ-Netzwerk) wahrnehmen."
        ),
        "step_responsible": "customer",
        "step_due_weeks": 8,
        "priority": -10,
    },
    {
        "code": "kinderbetreuung",
        "name": "Kinderbetreuung organisieren",
        "description": (
            "Betreuungspflichten schränken die Verfügbarkeit ein: Kita- oder Tagespflegeplatz, "
            "Randzeitenbetreuung, Unterstützung für Alleinerziehende."
        ),
        "customer_text": (
            "Wenn Ihr Kind gut betreut ist, haben Sie Zeit für Arbeit oder einen Kurs. Wir helfen "
            "Ihnen, einen Platz in der Kita oder bei einer Tagesmutter zu finden."
        ),
        "conditions": [_when("care", "in", ["some", "high"])],
        "addresses": ["care", "single_parent"],
        "groups": [],
        "step_text": "Kita- oder Tagespflegeplatz beim Jugendamt beantragen.",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 25,
    },
    {
        "code": "gesundheit",
        "name": "Gesundheitliche Beratung / Ärztlicher Dienst",
        "description": (
            "Gesundheitliche Einschränkungen: Leistungsfähigkeit durch den Ärztlichen Dienst der "
            "BA klären lassen; Reha-Bedarf und passende Tätigkeiten prüfen."
        ),
        "customer_text": (
            "Ihre Gesundheit ist wichtig. Eine Ärztin oder ein Arzt des Ärztlichen Dienstes "
            "schaut mit Ihnen, welche Arbeit gut für Sie ist. Sie müssen dafür nichts bezahlen."
        ),
        "conditions": [_when("health", "in", ["some", "high"])],
        "addresses": ["health"],
        "groups": [],
        "step_text": "Begutachtung durch den Ärztlichen Dienst veranlassen.",
        "step_responsible": "jobcenter",
        "step_due_weeks": 4,
        "priority": 25,
    },
    {
        "code": "schuldnerberatung",
        "name": "Schuldnerberatung",
        "description": (
            "Schulden belasten und gefährden eine Arbeitsaufnahme (Pfändung): Schuldnerberatung "
            "als kommunale Eingliederungsleistung (§ 16a SGB II)."
        ),
        "customer_text": (
            "Schulden machen Sorgen. Eine Schuldnerberatung hilft Ihnen kostenlos, einen Plan "
            "für Ihre Schulden zu machen."
        ),
        "conditions": [_when("debt", "in", ["some", "high"])],
        "addresses": ["debt"],
        "groups": [],
        "step_text": "Einen Termin bei der Schuldnerberatung vereinbaren.",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 20,
    },
    {
        "code": "wohnungssicherung",
        "name": "Wohnungssicherung",
        "description": (
            "Wohnungsprobleme oder drohender Wohnungsverlust: Fachstelle für Wohnungssicherung "
            "bzw. Wohnungsnotfallhilfe einschalten; hat Vorrang vor anderen Schritten."
        ),
        "customer_text": (
            "Eine sichere Wohnung ist die Grundlage für alles andere. Wir helfen Ihnen, Ihre "
            "Wohnung zu behalten oder eine Wohnung zu finden."
        ),
        "conditions": [_when("housing", "in", ["some", "high"])],
        "addresses": ["housing"],
        "groups": [],
        "step_text": "Fachstelle Wohnungssicherung einschalten und einen Termin vereinbaren.",
        "step_responsible": "jobcenter",
        "step_due_weeks": 2,
        "priority": 30,
    },
    {
        "code": "bewerbungscoaching",
        "name": "Bewerbungscoaching",
        "description": (
            "Wenig Berufserfahrung in den letzten fünf Jahren oder lange arbeitslos: Coaching "
            "zu Bewerbungsunterlagen und Vorstellungsgespräch. Passt allen; es rangiert umso "
            "höher, je mehr Berufserfahrung und Dauer der Arbeitslosigkeit die Chancen senken "
            "(Bedingungen lassen sich nur mit „und“ verknüpfen)."
        ),
        "customer_text": (
            "Eine gute Bewerbung öffnet Türen. Im Coaching machen wir zusammen Ihre "
            "Bewerbungsunterlagen und üben das Vorstellungsgespräch."
        ),
        "conditions": [],
        "addresses": ["work_months_5y", "months_unemployed"],
        "groups": [],
        "step_text": "Am Bewerbungscoaching teilnehmen und die Bewerbungsunterlagen überarbeiten.",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 10,
    },
    {
        "code": "direkte_vermittlung",
        "name": "Direkte Vermittlung / Matching",
        "description": (
            "Marktnahe Kundinnen und Kunden: passende Stellenangebote über das Matching "
            "vorschlagen und Bewerbungen zeitnah nachhalten."
        ),
        "customer_text": (
            "Sie haben gute Chancen auf dem Arbeitsmarkt. Wir schicken Ihnen passende "
            "Stellenangebote. Bitte bewerben Sie sich darauf."
        ),
        "conditions": [],
        "addresses": [],
        "groups": ["market_near"],
        "step_text": "Auf mindestens drei passende Stellenangebote bewerben.",
        "step_responsible": "customer",
        "step_due_weeks": 2,
        "priority": 80,
    },
    {
        "code": "gruppeninformation",
        "name": "Gruppeninformationsveranstaltung",
        "description": (
            "Verwaltungskundinnen und -kunden: Einstieg über eine Gruppeninformation zu "
            "Angeboten, Rechten und Pflichten; danach Gruppenmaßnahmen nach Bedarf."
        ),
        "customer_text": (
            "In einer Informationsveranstaltung erfahren Sie zusammen mit anderen, welche Hilfen "
            "es gibt. Sie können dort auch Fragen stellen."
        ),
        "conditions": [],
        "addresses": [],
        "groups": ["administrative"],
        "step_text": "An der Gruppeninformationsveranstaltung des Jobcenters teilnehmen.",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 40,
    },
    {
        "code": "motivationscoaching",
        "name": "Motivations- und Stabilisierungscoaching",
        "description": (
            "Geringe Motivation: ganzheitliches Coaching (§ 16k SGB II) zur Stabilisierung, "
            "zum Klären eigener Ziele und zum Aufbau einer Tagesstruktur."
        ),
        "customer_text": (
            "Manchmal ist alles zu viel. Im Coaching sprechen Sie mit einer festen Person über "
            "Ihre Situation und Ihre Ziele. Sie gehen kleine Schritte in Ihrem Tempo."
        ),
        "conditions": [_when("motivation", "eq", "low")],
        "addresses": ["motivation"],
        "groups": [],
        "step_text": "Ein Coaching zur Stabilisierung beginnen (ganzheitliche Betreuung).",
        "step_responsible": "customer",
        "step_due_weeks": 4,
        "priority": 20,
    },
    {
        "code": "mobilitaetshilfe",
        "name": "Mobilitätshilfe / Führerschein",
        "description": (
            "Kein Führerschein: Förderung des Führerscheins oder andere Mobilitätshilfen "
            "(§ 16 SGB II i. V. m. § 44 SGB III) prüfen, wenn die Zielstellen ihn verlangen."
        ),
        "customer_text": (
            "Für viele Stellen brauchen Sie ein Auto oder einen Führerschein. Das Jobcenter kann "
            "Sie dabei unterstützen, zum Beispiel beim Führerschein."
        ),
        "conditions": [_when("driving_licence", "eq", 0)],
        "addresses": ["driving_licence"],
        "groups": [],
        "step_text": "Förderung des Führerscheins oder eine andere Mobilitätshilfe prüfen.",
        "step_responsible": "jobcenter",
        "step_due_weeks": 6,
        "priority": 10,
    },
]


def install_defaults(apps, schema_editor=None) -> None:
    SegmentConfig = apps.get_model("profiling", "SegmentConfig")
    SegmentRuleSet = apps.get_model("profiling", "SegmentRuleSet")
    ActionStrategy = apps.get_model("profiling", "ActionStrategy")
    for group, values in SEGMENTS.items():
        SegmentConfig.objects.get_or_create(group=group, defaults=values)
    if not SegmentRuleSet.objects.exists():
        SegmentRuleSet.objects.create(
            version=1, rules=RULES, note="Startregeln bei der Einrichtung", moves={}
        )
    for strategy in STRATEGIES:
        values = dict(strategy)
        ActionStrategy.objects.get_or_create(code=values.pop("code"), defaults=values)


def remove_defaults(apps, schema_editor) -> None:
    SegmentConfig = apps.get_model("profiling", "SegmentConfig")
    SegmentRuleSet = apps.get_model("profiling", "SegmentRuleSet")
    ActionStrategy = apps.get_model("profiling", "ActionStrategy")
    ActionStrategy.objects.filter(code__in=[s["code"] for s in STRATEGIES]).delete()
    SegmentConfig.objects.filter(group__in=list(SEGMENTS)).delete()
    # Suggestions keep pointing at the rules they were made with (PROTECT): those stay.
    SegmentRuleSet.objects.filter(version=1, suggestions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("profiling", "0005_ai_log_append_only")]
    operations = [migrations.RunPython(install_defaults, remove_defaults)]
