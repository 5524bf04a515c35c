"""One case from the team queue to closing, in a real browser, clicked as a caseworker clicks.

The caseworker logs in, claims a new case from the team queue, records the profile, moves the case
to planning, drafts and agrees the cooperation plan, downloads its PDF, moves the case to
implementation, ticks a step done and adds a note on the case page (htmx, no page load), then moves
the case to the goal review and closes it. The page is found by what the user reads: the German
labels, button texts and headings of the compiled catalogue. At the end the database is checked.

Set BROWSER_SCREENSHOTS=/some/dir to keep screenshots of the pages for a look by eye.
"""

import datetime
import importlib
import io
import re

import pypdf
import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from cases.models import (
    CaseNote,
    CasePolicy,
    ClosureReason,
    CooperationPlan,
    NoteType,
    Phase,
    PhaseTransition,
    PlanStatus,
    StepStatus,
)
from cases.services.plans import plan_default_review_date
from profiling.models import Profile
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in, screenshot
from tests.cases.factories import CaseFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOAL = "Beschäftigung als Fachkraft für Lagerlogistik in Vollzeit"
CUSTOMER_STEP = "Bewerbungen bei fünf Logistikbetrieben schreiben"
JOBCENTER_STEP = "Gabelstaplerschein über einen Bildungsgutschein fördern"
CONVERSATION_CHECKLIST = (
    "Anliegen der Kundin/des Kunden festgehalten",
    "Aktuelle Situation und Veränderungen erfasst",
    "Vereinbarte nächste Schritte festgehalten",
    "Nächster Kontakt vereinbart",
    "Rechtsfolgenbelehrung erforderlich? Geprüft",
    "Kooperationsplan besprochen",
)


@pytest.fixture(autouse=True)
def _starter_data(db):
    """Note templates and tags of migration 0005 and the case work rules: a transactional test
    before may have flushed them."""
    migration = importlib.import_module("cases.migrations.0005_note_templates_and_tags")
    migration.create_starter_data(django_apps, None)
    CasePolicy.objects.update_or_create(pk=1, defaults={"plan_review_months": 6})


@pytest.fixture
def new_case(team, caseworker):
    """A new case in the team queue: no customer group yet, no profile, nobody working on it."""
    return CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Leonie", last_name="Brandt"),
        phase=Phase.PROFILING,
        customer_group="",
    )


def _htmx(response) -> bool:
    return response.request.headers.get("hx-request") == "true"


def _mark_page(page) -> None:
    """A flag on the window: it survives htmx swaps and vanishes with a page load."""
    page.evaluate("window.__samePage = true")


def _still_same_page(page) -> bool:
    return page.evaluate("window.__samePage === true")


def _change_phase(page, case_pk: int, to: str, reason: str = "", closure: str = "") -> None:
    """Choose the new phase in the lifecycle card, give the reason, press the button (htmx)."""
    lifecycle = page.locator("#case-lifecycle")
    lifecycle.get_by_label("Neue Phase").select_option(label=to)
    if closure:
        lifecycle.get_by_label("Grund für den Abschluss").select_option(label=closure)
    lifecycle.get_by_label("Begründung").fill(reason)
    _mark_page(page)
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{case_pk}/transition/")) as sent:
        lifecycle.get_by_role("button", name="Phase wechseln").click()
    assert sent.value.status == 200
    assert _htmx(sent.value)
    page.locator("#case-phase", has_text=to).wait_for()
    page.locator("#case-badges", has_text=f"Phase: {to}").wait_for()
    if reason:
        page.locator("#case-timeline", has_text=reason).wait_for()
    assert _still_same_page(page)


def _choose_level(page, section: str, level: str, legend: str = "Handlungsbedarf") -> None:
    dimension = page.get_by_role("group", name=section, exact=True)
    dimension.get_by_role("group", name=legend, exact=True).get_by_label(level, exact=True).check()


def _record_profile(page) -> None:
    _choose_level(page, "Schul- und Berufsabschlüsse", "teilweise")
    page.get_by_label("Schulabschluss", exact=True).select_option(
        label="mittlerer Schulabschluss (Realschule)"
    )
    page.get_by_label("Berufsabschluss", exact=True).select_option(label="keine Berufsausbildung")
    page.get_by_label("Anmerkungen zur Qualifikation").fill(
        "Ausbildung zur Fachlageristin abgebrochen"
    )
    _choose_level(page, "Berufserfahrung und Zielberuf", "teilweise")
    page.get_by_label("Beschäftigungsmonate in den letzten fünf Jahren").fill("20")
    page.get_by_label("Monate arbeitslos").fill("9")
    page.get_by_label("Monate im Leistungsbezug").fill("9")
    page.get_by_label("Zielberuf", exact=True).fill("Fachkraft für Lagerlogistik")
    _choose_level(page, "Sprachen", "kein")
    page.get_by_label("Deutschkenntnisse").select_option(label="Muttersprache")
    _choose_level(page, "Gesundheitliche Einschränkungen", "kein")
    _choose_level(page, "Pflege und Kinderbetreuung", "hoch")
    page.get_by_label("Anmerkungen zu Pflege und Kinderbetreuung").fill(
        "Ein Kind, drei Jahre; Kita-Platz ab August zugesagt"
    )
    _choose_level(page, "Wohnen", "kein")
    _choose_level(page, "Schulden", "teilweise")
    page.get_by_label("Anmerkungen zu Schulden").fill(
        "Ratenzahlung läuft, Schuldnerberatung bekannt"
    )
    _choose_level(page, "Mobilität", "kein")
    _choose_level(page, "Digitale Kompetenzen", "kein")
    _choose_level(page, "Motivation und eigene Ziele", "hoch", legend="Motivation")
    page.get_by_label("eigene Ziele der Kund*in").fill(
        "Wieder im Lager arbeiten, gern im Schichtdienst"
    )


def test_caseworker_takes_a_new_case_from_the_team_queue_to_closing(
    page, live_server, caseworker, new_case
):
    case_url = f"{live_server.url}/cases/{new_case.pk}/"
    today = timezone.localdate()

    # 1. Log in, open the team queue, claim the new case and open it.
    log_in(page, live_server, caseworker.username)
    page.get_by_role("navigation", name="Arbeitsvorräte").get_by_role(
        "link", name="Teamvorrat"
    ).click()
    page.wait_for_url("**queue=team**")
    row = page.locator(f"#case-row-{new_case.pk}")
    assert "Brandt, Leonie" in row.inner_text()
    assert "noch nicht zugeordnet" in row.inner_text()
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{new_case.pk}/claim/")) as claim:
        row.get_by_role("button", name=re.compile(r"^Übernehmen\s*: Leonie Brandt$")).click()
    assert claim.value.status == 200
    row.get_by_role("button", name=re.compile(r"^Freigeben\s*: Leonie Brandt$")).wait_for()
    assert f"übernommen von {caseworker}" in row.inner_text()
    row.get_by_role("link", name="Brandt, Leonie").click()
    page.wait_for_url(case_url)
    assert page.get_by_role("heading", level=1).inner_text() == "Leonie Brandt"
    assert str(caseworker) in page.locator("#case-claim").inner_text()
    assert "Phase: Profiling" in page.locator("#case-badges").inner_text()

    # 2. Record the profile on the profile page; the case page's card shows it afterwards.
    page.get_by_role("link", name="Profil erfassen").click()
    page.wait_for_url(f"{live_server.url}/cases/{new_case.pk}/profile/")
    assert page.get_by_role("heading", level=1).inner_text() == "Profil von Leonie Brandt"
    _record_profile(page)
    _mark_page(page)
    page.get_by_role("button", name="Profil speichern").click()
    page.get_by_role("status").filter(has_text="Das Profil wurde gespeichert.").wait_for()
    assert _still_same_page(page)
    assert "Aktuelle Version 1" in page.locator("#profile-status").inner_text()
    assert "Profil erfasst" in page.locator(".app-profile-history").inner_text()
    assert page.get_by_label("Anmerkungen zu Schulden").input_value() == (
        "Ratenzahlung läuft, Schuldnerberatung bekannt"
    )
    screenshot(page, "flow_profile")
    page.get_by_role("link", name="Zurück zum Fall").click()
    page.wait_for_url(case_url)
    profile_card = page.locator("section", has=page.locator("#profile-heading"))
    assert "Fachkraft für Lagerlogistik" in profile_card.inner_text()
    assert "Wieder im Lager arbeiten" in profile_card.inner_text()

    # 3. Profiling done: to planning, with a reason.
    _change_phase(page, new_case.pk, "Ziel- und Handlungsplanung", reason="Profiling abgeschlossen")
    screenshot(page, "flow_case_planning")
    assert_accessible(page)

    # 4. Draft the cooperation plan: goal, the default review date, two steps; then agree it.
    page.get_by_role("link", name="Plan öffnen: Entwurf, Versionen und PDFs").click()
    page.wait_for_url(f"{case_url}plan/")
    page.get_by_label("Eingliederungsziel").fill(GOAL)
    review_date = page.get_by_label("Zielüberprüfung am").input_value()
    assert review_date == plan_default_review_date().isoformat()  # six months from today
    with page.expect_response(lambda r: r.url.endswith("/plan/draft/")) as started:
        page.get_by_role("button", name="Entwurf beginnen").click()
    assert started.value.status == 204  # htmx loads the plan page anew, with the draft editor
    new_step = page.get_by_role("form", name="Schritt hinzufügen")
    new_step.wait_for()
    assert "Entwurf: Version 1.1" in page.locator("#plan-draft-heading").inner_text()

    for responsible, what, days in (
        ("Kund*in", CUSTOMER_STEP, 21),
        ("Jobcenter", JOBCENTER_STEP, 42),
    ):
        steps_before = page.locator("[id^=plan-draft-step-]").count()
        new_step.get_by_label("Wer ist verantwortlich").select_option(label=responsible)
        new_step.get_by_label("Was genau").fill(what)
        new_step.get_by_label("Fällig am").fill((today + datetime.timedelta(days=days)).isoformat())
        with page.expect_response(lambda r: r.url.endswith("/plan/steps/")) as added:
            new_step.get_by_role("button", name="Schritt hinzufügen").click()
        assert added.value.status == 200
        page.locator("[id^=plan-draft-step-]").nth(steps_before).wait_for()
        assert new_step.get_by_label("Was genau").input_value() == ""
    assert page.locator("[id^=plan-draft-step-]").count() == 2
    screenshot(page, "flow_plan_draft")
    assert_accessible(page)

    agree = page.get_by_role("form", name="Plan mit der Kundin oder dem Kunden vereinbaren")
    assert agree.count() == 1
    agree.get_by_label("Wie wurde der Plan mit der Kundin oder dem Kunden vereinbart?").fill(
        "Im persönlichen Gespräch am Jobcenter besprochen, Kundin ist einverstanden"
    )
    agree.get_by_role("button", name="Vereinbarung festhalten").click()
    agreed = page.locator("section", has=page.locator("#plan-agreed-heading"))
    agreed.get_by_role("link", name="PDF auf Deutsch").wait_for()
    assert agree.count() == 0
    assert GOAL in agreed.inner_text()
    assert CUSTOMER_STEP in agreed.inner_text()
    assert JOBCENTER_STEP in agreed.inner_text()
    screenshot(page, "flow_plan_agreed")
    assert_accessible(page)

    # 5. The PDF for the customer, in German, with the integration goal in it.
    with page.expect_download() as download:
        agreed.get_by_role("link", name="PDF auf Deutsch").click()
    assert download.value.suggested_filename.endswith("-de.pdf")
    with open(download.value.path(), "rb") as file:
        content = file.read()
    assert content.startswith(b"%PDF")
    text = " ".join(page_.extract_text() for page_ in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert GOAL in re.sub(r"\s+", " ", text)

    # 6. Back on the case: to implementation (only possible with the agreed plan).
    page.get_by_role("link", name="Zurück zum Fall").click()
    page.wait_for_url(case_url)
    _change_phase(page, new_case.pk, "Umsetzung", reason="Kooperationsplan vereinbart")

    # 7. The customer has sent the applications: tick step 1 done, inline.
    plan_card = page.locator("#plan-card")
    first_step = plan_card.locator("li.app-plan-step", has_text=CUSTOMER_STEP)
    assert "Offen" in first_step.inner_text()
    plan_card.get_by_label("Notiz zur Nachhaltung von Schritt 1").fill(
        "Fünf Bewerbungen als Nachweis vorgelegt"
    )
    _mark_page(page)
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as ticked:
        plan_card.get_by_role("button", name="Schritt 1 erledigt").click()
    assert ticked.value.status == 200
    assert _htmx(ticked.value)
    page.locator("li.app-plan-step--done", has_text=CUSTOMER_STEP).wait_for()
    first_step = page.locator("#plan-card li.app-plan-step", has_text=CUSTOMER_STEP)
    assert "Erledigt" in first_step.inner_text()
    assert "Fünf Bewerbungen als Nachweis vorgelegt" in first_step.inner_text()
    second_step = page.locator("#plan-card li.app-plan-step", has_text=JOBCENTER_STEP)
    assert "Offen" in second_step.inner_text()
    assert _still_same_page(page)
    assert page.url == case_url

    # 8. A note of today's conversation, added in the notes card without leaving the page.
    notes = page.locator("#notes-card")
    with page.expect_response(lambda r: "/notes/new/" in r.url and _htmx(r)):
        notes.get_by_role("link", name="Vermerk hinzufügen").click()
    form = page.locator("#note-form")
    form.wait_for()
    assert form.get_by_label("Vermerkart").input_value() == NoteType.CONVERSATION
    assert "Gespräch" in form.get_by_label("Vermerkart").locator("option:checked").inner_text()
    for item in CONVERSATION_CHECKLIST:
        form.get_by_label(item).check()
    form.get_by_label("Text", exact=True).fill(
        "Gespräch zum Stand der Bewerbungen. Zwei Rückmeldungen stehen aus; "
        "nächster Termin in vier Wochen."
    )
    form.get_by_label("Bewerbung", exact=True).check()
    with page.expect_response(lambda r: "/notes/new/" in r.url) as saved:
        form.get_by_role("button", name="Vermerk speichern").click()
    assert saved.value.status == 200
    note_item = notes.locator(".app-note")
    note_item.wait_for()
    assert page.locator("#note-form").count() == 0
    assert "Zwei Rückmeldungen stehen aus" in note_item.inner_text()
    assert "Bewerbung" in note_item.inner_text()
    assert note_item.locator(".app-note__flag").count() == 0  # complete: nothing flagged
    assert _still_same_page(page)
    screenshot(page, "flow_case_implementation")
    assert_accessible(page)

    # 9. Goal review, then closing: the customer has found work subject to social insurance.
    _change_phase(page, new_case.pk, "Zielüberprüfung", reason="Arbeitsvertrag liegt vor")
    _change_phase(
        page,
        new_case.pk,
        "Abgeschlossen",
        reason="Unbefristeter Arbeitsvertrag ab dem Ersten des Monats",
        closure="Integration in sozialversicherungspflichtige Beschäftigung",
    )
    lifecycle = page.locator("#case-lifecycle")
    page.locator("#case-transition-form").wait_for(state="detached")
    assert "Integration in sozialversicherungspflichtige Beschäftigung" in lifecycle.inner_text()
    assert "Der Fall ist abgeschlossen" in lifecycle.inner_text()

    # 10. The timeline tells the story, newest first.
    timeline = page.locator("#case-timeline").inner_text()
    for summary in (
        "Phase gewechselt von Profiling zu Ziel- und Handlungsplanung.",
        "Phase gewechselt von Ziel- und Handlungsplanung zu Umsetzung.",
        "Phase gewechselt von Umsetzung zu Zielüberprüfung.",
        "Fall abgeschlossen (Integration in sozialversicherungspflichtige Beschäftigung), "
        "aus Zielüberprüfung.",
        "Kooperationsplan vereinbart",
    ):
        assert summary in timeline
    positions = [
        timeline.index(text)
        for text in (
            "Fall abgeschlossen",
            "von Umsetzung zu Zielüberprüfung",
            "von Ziel- und Handlungsplanung zu Umsetzung",
            "von Profiling zu Ziel- und Handlungsplanung",
        )
    ]
    assert positions == sorted(positions)
    screenshot(page, "flow_case_closed")
    assert_accessible(page)

    # The plan card on this page is from before closing: ticking step 2 there is refused now,
    # and the page loaded anew offers no step buttons and no new note (the case is final).
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as refused:
        page.locator("#plan-card").get_by_role("button", name="Schritt 2 erledigt").click()
    assert refused.value.status == 400
    page.locator("#plan-card [role=alert]", has_text="Der Fall ist abgeschlossen").wait_for()
    page.reload()
    assert page.locator("#plan-card").get_by_role("button").count() == 0
    assert JOBCENTER_STEP in page.locator("#plan-card").inner_text()
    assert page.locator("#notes-card").get_by_role("link", name="Vermerk hinzufügen").count() == 0
    assert_only_local_requests(page, live_server)

    # What was recorded.
    new_case.refresh_from_db()
    assert new_case.phase == Phase.CLOSED
    assert new_case.closure_reason == ClosureReason.INSURED_EMPLOYMENT
    assert new_case.closed_at is not None
    assert new_case.claimed_by is None  # closing gave the claim back
    transitions = list(
        PhaseTransition.objects.filter(case=new_case)
        .order_by("at", "id")
        .values_list("from_phase", "to_phase", "actor_id")
    )
    assert transitions == [
        (Phase.PROFILING, Phase.PLANNING, caseworker.pk),
        (Phase.PLANNING, Phase.IMPLEMENTATION, caseworker.pk),
        (Phase.IMPLEMENTATION, Phase.REVIEW, caseworker.pk),
        (Phase.REVIEW, Phase.CLOSED, caseworker.pk),
    ]
    assert PhaseTransition.objects.get(to_phase=Phase.CLOSED).closure_reason == (
        ClosureReason.INSURED_EMPLOYMENT
    )

    profile = Profile.objects.get(customer=new_case.customer)
    assert (profile.version, profile.care, profile.debt, profile.motivation) == (
        1,
        "high",
        "some",
        "high",
    )
    assert profile.care_note == "Ein Kind, drei Jahre; Kita-Platz ab August zugesagt"

    plan = CooperationPlan.objects.get(case=new_case)
    assert (plan.status, plan.cycle, plan.version) == (PlanStatus.AGREED, 1, 1)
    assert plan.integration_goal == GOAL
    assert plan.review_date.isoformat() == review_date
    assert plan.agreed_by == caseworker
    assert "persönlichen Gespräch" in plan.agreement_note
    customer_step, jobcenter_step = plan.steps.order_by("position")
    assert (customer_step.responsible, customer_step.status) == ("customer", StepStatus.DONE)
    assert customer_step.follow_up.endswith("Fünf Bewerbungen als Nachweis vorgelegt")
    assert (jobcenter_step.responsible, jobcenter_step.status) == ("jobcenter", StepStatus.OPEN)
    assert customer_step.due_date > today
    assert jobcenter_step.due_date > today

    note = CaseNote.objects.get(case=new_case)
    assert (note.note_type, note.author, note.is_incomplete) == (
        NoteType.CONVERSATION,
        caseworker,
        False,
    )
    assert list(note.tags.values_list("name", flat=True)) == ["Bewerbung"]

    writes = AuditEvent.objects.for_customer(new_case.customer_id).filter(
        actor=caseworker, action__in=[AuditAction.CREATE, AuditAction.UPDATE]
    )
    assert {"case", "profile", "cooperation_plan", "plan_step", "case_note"} <= set(
        writes.values_list("object_type", flat=True)
    )
    operations = [
        event.detail.get("to")
        for event in writes.filter(object_type="case").order_by("at", "id")
        if event.detail.get("operation") == "transition"
    ]
    assert operations == ["planning", "implementation", "review", "closed"]
    assert AuditEvent.objects.filter(
        customer_id=new_case.customer_id, action=AuditAction.EXPORT, actor=caseworker
    ).exists()
