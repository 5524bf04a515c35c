"""The cooperation plan in a real browser: draft it, fix a bad step, agree it, download the PDFs,
then tick a step done on the case page, all with htmx and checked with axe-core.

Set BROWSER_SCREENSHOTS=/some/dir to keep screenshots of the pages for a look by eye.
"""

import datetime

import pytest
from django.utils import timezone

from cases.models import CooperationPlan, CustomerGroup, Phase, PlanStatus, PlanStep, StepStatus
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in, screenshot
from tests.cases.factories import CaseFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def planning_case(team, caseworker):
    return CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Samira", last_name="Haddad", preferred_language="ar"),
        phase=Phase.PLANNING,
        customer_group=CustomerGroup.POTENTIAL,
        caseworker=caseworker,
    )


def test_caseworker_drafts_agrees_downloads_and_ticks_a_step(page, live_server, planning_case):
    due = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    log_in(page, live_server, "cw")
    page.goto(f"{live_server.url}/cases/{planning_case.pk}/")
    card = page.locator("#plan-card")
    assert card.is_visible()
    card.locator(f"a[href='/cases/{planning_case.pk}/plan/']").click()
    page.wait_for_url(f"{live_server.url}/cases/{planning_case.pk}/plan/")
    assert_accessible(page)

    # Start the draft: the page comes back with the draft editor and the new version listed.
    page.locator("#id_integration_goal").fill("Arbeit als Pflegehelferin in Teilzeit")
    with page.expect_response(lambda r: r.url.endswith("/plan/draft/")) as started:
        page.locator("form[action$='/plan/draft/'] button[type=submit]").click()
    assert started.value.status == 204
    page.wait_for_selector("#id_new-description")
    draft = CooperationPlan.objects.get()
    assert page.locator(f"a[href$='/plan/versions/{draft.pk}/']").count() == 1

    # A third party without a name: the error appears next to the field, nothing is saved.
    page.locator("#id_new-responsible").select_option("third_party")
    page.locator("#id_new-description").fill("Sprachkurs B1 mit Kinderbetreuung")
    page.locator("#id_new-due_date").fill(due)
    add_button = page.locator("form[action$='/plan/steps/'] button[type=submit]")
    with page.expect_response(lambda r: r.url.endswith("/plan/steps/")) as refused:
        add_button.click()
    assert refused.value.status == 400
    error = page.locator("#id_new-responsible_name_error")
    error.wait_for()
    assert page.locator("#id_new-responsible_name").get_attribute("aria-invalid") == "true"
    assert not PlanStep.objects.exists()
    screenshot(page, "plan_step_error")
    assert_accessible(page)

    page.locator("#id_new-responsible_name").fill("Bildungswerk Nord")
    with page.expect_response(lambda r: r.url.endswith("/plan/steps/")) as added:
        page.locator("form[action$='/plan/steps/'] button[type=submit]").click()
    assert added.value.status == 200
    page.wait_for_selector("[id^=plan-draft-step-]")
    assert page.locator("#id_new-responsible_name_error").count() == 0
    screenshot(page, "plan_draft")
    assert_accessible(page)

    # Agree it: the page reloads with the agreed plan and the PDF links.
    page.locator("#id_agreement_note").fill("Im persönlichen Gespräch besprochen und vereinbart")
    page.locator("form[action$='/plan/agree/'] button[type=submit]").click()
    page.wait_for_selector(".app-plan-pdf")
    plan = CooperationPlan.objects.get()
    assert plan.status == PlanStatus.AGREED
    assert "Sprachkurs B1" in page.locator("main").inner_text()
    screenshot(page, "plan_agreed")
    assert_accessible(page)

    # German, and Arabic (the customer's language).
    for language in ("de", "ar"):
        with page.expect_download() as download:
            page.locator(f".app-plan-pdf a[hreflang={language}]").click()
        assert download.value.suggested_filename.endswith(f"-{language}.pdf")
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"

    # Back on the case page: tick the step done with a note, inline.
    page.goto(f"{live_server.url}/cases/{planning_case.pk}/")
    step = PlanStep.objects.get()
    page.locator(f"#progress-{step.pk}-follow_up").fill("Anmeldung liegt vor")
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as ticked:
        page.locator(f"#plan-step-{step.pk} button[value=done]").click()
    assert ticked.value.status == 200
    assert ticked.value.request.headers.get("hx-request") == "true"
    page.wait_for_selector(f"#plan-step-{step.pk}.app-plan-step--done")
    assert "Anmeldung liegt vor" in page.locator(f"#plan-step-{step.pk}").inner_text()
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    assert page.url == f"{live_server.url}/cases/{planning_case.pk}/"
    screenshot(page, "plan_card")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_a_stale_tick_is_refused_with_a_message(page, live_server, planning_case, caseworker):
    plan = CooperationPlan.objects.create(
        case=planning_case,
        cycle=1,
        version=1,
        status=PlanStatus.AGREED,
        integration_goal="Arbeit",
        review_date=timezone.localdate() + datetime.timedelta(days=90),
        created_by=caseworker,
        agreed_by=caseworker,
        agreed_at=timezone.now(),
        agreement_note="Gespräch",
    )
    step = PlanStep.objects.create(
        plan=plan,
        position=1,
        responsible="customer",
        description="Bewerbungen schreiben",
        due_date=timezone.localdate() + datetime.timedelta(days=10),
    )
    log_in(page, live_server, "cw")
    page.goto(f"{live_server.url}/cases/{planning_case.pk}/")
    # Meanwhile a colleague drops the step.
    PlanStep.objects.filter(pk=step.pk).update(status=StepStatus.DROPPED, lock_version=1)
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as refused:
        page.locator(f"#plan-step-{step.pk} button[value=done]").click()
    assert refused.value.status == 409
    page.wait_for_selector(f"#plan-step-{step.pk} [role=alert]")
    step.refresh_from_db()
    assert step.status == StepStatus.DROPPED
    screenshot(page, "plan_card_conflict")
    assert_accessible(page)
