"""The planning page in a real browser: a team lead plans now, sees the proposal with its figures,
a rejection without reason is announced, a single invitation is approved in place; axe passes
(WCAG 2.1 AA). Selectors use ids, not texts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import (
    AppointmentStatus,
    InvitationDelivery,
    PlanningDecision,
    PlanningRun,
    PlanningRunStatus,
)
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in_anywhere,
    screenshot,
)
from tests.scheduling.factories_planning import calendar_for, due_case, make_staff
from tests.scheduling.test_invitations import german_v1_install

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]
ALL_WEEK = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]


def next_working_day() -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_a_team_lead_plans_and_decides_in_the_browser(
    page,  # noqa: F811
    live_server,
    team,
    team_lead,
):
    german_v1_install()  # the migration's template; another transactional test may have flushed it
    calendar_for(team_lead, working_hours=ALL_WEEK)
    make_staff(team, "anna", working_hours=ALL_WEEK)
    for _ in range(3):
        due_case(team, due=next_working_day(), window=(0, 3))

    log_in_anywhere(page, live_server, team_lead.username)
    page.goto(f"{live_server.url}{reverse('scheduling:planning_list')}")
    assert_accessible(page)
    page.locator("#planning-start button[type=submit]").click()

    page.wait_for_selector("#planning-figures")  # the (eager) worker ran after the commit
    run = PlanningRun.objects.get()
    assert run.status == PlanningRunStatus.PROPOSED
    assert run.placed_count == 3
    page.wait_for_selector("#planning-chart")
    screenshot(page, "planning_detail")
    assert_accessible(page)

    first, second = list(run.items.order_by("id"))[:2]
    page.locator(f"#planning-item-reject-toggle-{first.pk}").click()
    page.locator(f"#planning-item-reject-{first.pk}").click()
    page.wait_for_selector("#planning-item-error[role=alert]")
    assert page.locator(f"#planning-item-reason-{first.pk}").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.locator(f"#planning-item-approve-{second.pk}").click()
    page.wait_for_selector("#planning-item-message")
    assert page.locator(f"#planning-item-approve-{second.pk}").count() == 0
    second.refresh_from_db()
    assert second.decision == PlanningDecision.APPROVED
    # The (eager) worker sent the invitation after the commit: the letter is recorded.
    second.appointment.refresh_from_db()
    assert second.appointment.status == AppointmentStatus.SENT
    assert list(
        InvitationDelivery.objects.filter(appointment=second.appointment).values_list(
            "channel", flat=True
        )
    ) == ["letter"]
    first.appointment.refresh_from_db()
    assert first.appointment.status == AppointmentStatus.PLANNED
    # The filter replaces only the invitations (htmx) and keeps the focus on the chosen option.
    page.locator("#planning-filter-pending").check()
    page.wait_for_url("**filter=pending**")
    page.wait_for_function("document.querySelectorAll('#planning-item-list tbody tr').length === 2")
    assert page.locator("#planning-filter-pending").is_checked()
    assert page.evaluate("document.activeElement.id") == "planning-filter-pending"
    assert page.locator("#planning-figures").count() == 1
    assert_accessible(page)
    assert_only_local_requests(page, live_server)
