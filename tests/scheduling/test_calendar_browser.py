""" "My calendar" in a real browser: a caseworker agrees to share, enters working hours, records an
absence, and the page passes axe (WCAG 2.1 AA). Selectors use ids and names, not texts."""

import pytest
from django.urls import reverse

from scheduling.models import Absence, StaffCalendar
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in_anywhere,
    screenshot,
)

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
    page.locator("#id_part_time_share").fill("0.8")
    page.locator("#calendar-settings button[type=submit]").click()
    page.wait_for_selector(".kern-alert--success")

    page.locator("#id_kind").select_option("training")
    page.locator("#id_start").fill("2030-03-04T09:00")
    page.locator("#id_end").fill("2030-03-04T17:00")
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
