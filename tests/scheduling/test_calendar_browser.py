""" "My calendar" in a real browser: a caseworker agrees to share, enters working hours, records an
absence, and the page passes axe (WCAG 2.1 AA); "Sync now" answers in place (htmx); a team lead
records a sick day on the team calendar. Selectors use ids and names, not texts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Absence, AppointmentStatus, StaffCalendar
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in_anywhere,
    screenshot,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import free_port
from tests.scheduling.factories_planning import make_appointment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_caseworker_sets_up_their_calendar(page, live_server, caseworker):  # noqa: F811
    log_in_anywhere(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{reverse('scheduling:calendar_detail')}")
    assert_accessible(page)

    page.locator("#id_consent").check()
    page.locator("#calendar-consent button[type=submit]").click()
    page.wait_for_selector("#consent-state:not(.kern-alert)")

    page.locator("#id_hours_0").fill("08:00-12:00, 13:00-15:30")
    page.locator("#id_part_time_share").fill("0,8")  # German, with a comma
    page.locator("#calendar-settings button[type=submit]").click()
    page.wait_for_selector(".kern-alert--success")

    day = timezone.localdate() + dt.timedelta(days=30)  # absences lie within two years ahead
    page.locator("#id_kind").select_option("training")
    page.locator("#id_start").fill(f"{day:%Y-%m-%d}T09:00")
    page.locator("#id_end").fill(f"{day:%Y-%m-%d}T17:00")
    page.locator("#calendar-absences form[action$='/absences/'] button[type=submit]").click()
    page.wait_for_selector("#absence-list tbody form")
    screenshot(page, "calendar_detail")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)

    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.has_consent
    assert calendar.working_hours[1] == {"weekday": 0, "start": "13:00", "end": "15:30"}
    assert str(calendar.part_time_share) == "0.80"
    assert Absence.objects.get(user=caseworker).kind == "training"


def test_invalid_working_hours_are_announced_in_the_browser(page, live_server, caseworker):  # noqa: F811
    log_in_anywhere(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{reverse('scheduling:calendar_detail')}")

    page.locator("#id_hours_1").fill("14:00-09:00")
    page.locator("#calendar-settings button[type=submit]").click()

    page.wait_for_selector("#settings-errors[role=alert]")
    assert_accessible(page)


def test_sync_now_answers_in_place_with_the_reason(page, live_server, caseworker, settings):  # noqa: F811
    settings.CALENDAR_ALLOWED_HOSTS = ["127.0.0.1"]
    StaffCalendar.objects.create(
        user=caseworker,
        consent_given_at=timezone.now(),
        ics_url=f"http://127.0.0.1:{free_port()}/a.ics",
    )
    log_in_anywhere(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{reverse('scheduling:calendar_detail')}")

    page.locator("#calendar-sync form button[type=submit]").first.click()

    page.wait_for_selector("#calendar-sync-state #sync-error[role=alert]")
    assert page.url.endswith(reverse("scheduling:calendar_detail"))  # no reload: htmx swapped
    assert "HTTPConnectionPool" not in page.locator("#sync-error").inner_text()
    assert_accessible(page)


def test_a_team_lead_records_a_sick_day_for_a_caseworker(page, live_server, team_lead, caseworker):  # noqa: F811
    day = timezone.localdate() + dt.timedelta(days=7)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    case = CaseFactory(team=caseworker.team, caseworker=caseworker)
    make_appointment(case, caseworker, start, status=AppointmentStatus.SENT)
    log_in_anywhere(page, live_server, team_lead.username)

    page.goto(f"{live_server.url}{reverse('scheduling:team_calendar')}")
    assert_accessible(page)
    page.locator(f"#team-member-{caseworker.pk} a").first.click()
    page.wait_for_selector("#member-calendar")
    page.locator("#id_kind").select_option("sick")
    page.locator("#id_start").fill(f"{day:%Y-%m-%d}T00:00")
    page.locator("#id_end").fill(f"{day + dt.timedelta(days=1):%Y-%m-%d}T00:00")
    page.locator("#calendar-absences form[action$='/absences/'] button[type=submit]").click()

    page.wait_for_selector("#appointments-to-move-list tbody tr")
    screenshot(page, "team_member")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)
    absence = Absence.objects.get(user=caseworker)
    assert (absence.kind, absence.created_by) == ("sick", team_lead)
