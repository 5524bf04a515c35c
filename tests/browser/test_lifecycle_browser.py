"""The lifecycle in a real browser: claim a case from the team queue, change its phase, close it.

Texts new with this part are looked up through gettext (they are German once the catalogue is
compiled); elements are found by their labels, ids and addresses.
"""

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.services import AuditContext
from cases.models import CustomerGroup, Phase, PhaseTransition
from cases.services.queue import case_claim
from organisation.models import Role
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in, screenshot
from tests.cases.factories import CaseEventFactory, CaseFactory, CustomerFactory, ProfileFactory
from tests.cases.factories_lifecycle import IncompleteNoteFactory
from tests.organisation.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def de(text: str) -> str:
    with translation.override("de"):
        return gettext(text)


@pytest.fixture
def queue_case(team, caseworker):
    today = timezone.localdate()
    case = CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Jonas", last_name="Kayser"),
        phase=Phase.PROFILING,
        customer_group=CustomerGroup.MARKET_NEAR,
        phase_since=timezone.now() - datetime.timedelta(days=20),
        review_due=today + datetime.timedelta(days=60),
    )
    ProfileFactory(customer=case.customer)
    CaseEventFactory(case=case, summary="Erstgespräch geführt", actor=caseworker)
    IncompleteNoteFactory(case=CaseFactory(team=team, customer_group=""))
    CaseFactory(
        team=team,
        caseworker=caseworker,
        customer_group=CustomerGroup.POTENTIAL,
        review_due=today - datetime.timedelta(days=3),
    )
    return case


def test_caseworker_claims_from_the_team_queue_and_moves_the_case_on(
    page, live_server, caseworker, queue_case
):
    log_in(page, live_server, "cw")
    # "My cases" first, with what is due counted at the top.
    due = page.locator(".app-due-counts")
    assert due.locator('[data-due="review_due"] .app-phase-counts__count').inner_text() == "1"

    page.locator(".app-queue-tabs__link[href*='queue=team']").click()
    page.wait_for_url("**queue=team**")
    row = page.locator(f"#case-row-{queue_case.pk}")
    assert "Kayser" in row.inner_text()
    assert de("Profiling taking long") in row.inner_text()
    screenshot(page, "lifecycle_team_queue")
    assert_accessible(page)

    # Claim straight from the row: htmx swaps only that row.
    with page.expect_response(lambda r: r.url.endswith(f"/cases/{queue_case.pk}/claim/")) as claim:
        row.get_by_role("button", name=de("Claim")).click()
    assert claim.value.status == 200
    row.get_by_role("button", name=de("Release")).wait_for()
    assert str(caseworker) in row.inner_text()
    assert "queue=team" in page.url  # still on the team queue, no page load

    row.get_by_role("link", name="Kayser, Jonas").click()
    page.wait_for_url(f"{live_server.url}/cases/{queue_case.pk}/")
    lifecycle = page.locator("#case-lifecycle")
    assert str(caseworker) in lifecycle.locator("#case-claim").inner_text()

    # Only the transitions possible now are offered: planning and closing.
    select = page.locator("#id_transition_to")
    offered = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", "planning", "closed"]
    # The reason for closing shows only when closing is chosen.
    assert not page.locator("#id_transition_closure_reason").is_visible()

    select.select_option("planning")
    page.locator("#id_transition_reason").fill("Profil vollständig")
    with page.expect_response(lambda r: r.url.endswith("/transition/")) as changed:
        lifecycle.get_by_role("button", name=de("Change phase")).click()
    assert changed.value.status == 200
    page.wait_for_function(
        "() => document.querySelector('#case-timeline').textContent.includes('Profil vollständig')"
    )
    assert de("Goal and action planning") in page.locator("#case-phase").inner_text()
    assert de("Goal and action planning") in page.locator("#case-badges").inner_text()
    screenshot(page, "lifecycle_case_page")
    assert_accessible(page)

    # Closing without a reason: the error appears next to the field, nothing changes.
    page.locator("#id_transition_to").select_option("closed")
    assert page.locator("#id_transition_closure_reason").is_visible()
    with page.expect_response(lambda r: r.url.endswith("/transition/")) as refused:
        page.locator("#case-lifecycle").get_by_role("button", name=de("Change phase")).click()
    assert refused.value.status == 400
    error = page.locator("#id_transition_closure_reason_error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert page.locator("#id_transition_closure_reason").get_attribute("aria-invalid") == "true"
    screenshot(page, "lifecycle_close_error")
    assert_accessible(page)

    page.locator("#id_transition_closure_reason").select_option("insured_employment")
    with page.expect_response(lambda r: r.url.endswith("/transition/")) as closed:
        page.locator("#case-lifecycle").get_by_role("button", name=de("Change phase")).click()
    assert closed.value.status == 200
    page.locator("#case-transition-form").wait_for(state="detached")
    assert (
        de("Integration into work subject to social insurance")
        in page.locator("#case-lifecycle").inner_text()
    )
    queue_case.refresh_from_db()
    assert queue_case.phase == Phase.CLOSED
    assert queue_case.claimed_by is None  # closing gave the claim back
    assert list(
        PhaseTransition.objects.filter(case=queue_case)
        .order_by("at")
        .values_list("to_phase", flat=True)
    ) == ["planning", "closed"]
    assert_accessible(page)
    assert_only_local_requests(page, live_server)


def test_phase_change_works_without_javascript(browser, live_server, caseworker, queue_case):
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "cw")
        page.goto(f"{live_server.url}/cases/{queue_case.pk}/")
        page.locator("#id_transition_to").select_option("planning")
        page.locator("#case-lifecycle").get_by_role("button", name=de("Change phase")).click()
        page.wait_for_url(f"{live_server.url}/cases/{queue_case.pk}/")
        assert de("The phase was changed.") in page.locator("main").inner_text()
        queue_case.refresh_from_db()
        assert queue_case.phase == Phase.PLANNING
    finally:
        context.close()


def test_someone_else_was_faster_the_row_says_who(page, live_server, team, queue_case):
    """A 409 is swapped in like a 400: the row shows who claimed the case in the meantime."""
    log_in(page, live_server, "cw")
    page.goto(f"{live_server.url}/?queue=team")
    row = page.locator(f"#case-row-{queue_case.pk}")
    colleague = UserFactory(username="colleague", role=Role.CASEWORKER, team=team)
    case_claim(ctx=AuditContext.system(actor=colleague), case_id=queue_case.pk)

    with page.expect_response(lambda r: r.url.endswith(f"/cases/{queue_case.pk}/claim/")) as claim:
        row.get_by_role("button", name=de("Claim")).click()
    assert claim.value.status == 409
    alert = row.get_by_role("alert")
    alert.wait_for()
    assert str(colleague) in alert.inner_text()
    assert str(colleague) in row.inner_text()
    assert row.get_by_role("button").count() == 0  # neither claim nor release for someone else's
    assert_accessible(page)
