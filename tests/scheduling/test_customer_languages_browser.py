"""An Arabic-speaking customer's rebooking link in a real browser: the page is Arabic and right to
left, the switch goes to German and back with the link still working, a new time is chosen, and
axe passes (WCAG 2.1 AA) on each page. Selectors use ids, not texts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import Appointment, AppointmentStatus
from scheduling.services_appointments import rebooking_token_make
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import assert_accessible, assert_only_local_requests, screenshot
from tests.cases.factories import CaseFactory
from tests.scheduling.factories_planning import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]
BERLIN = ZoneInfo("Europe/Berlin")


def working_day_ahead(days: int) -> dt.date:
    """The `days`-th working day from today (so the rebooking window has free times)."""
    day = timezone.localdate()
    while days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _direction(page) -> tuple[str, str]:  # noqa: F811 - the fixture's name
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    return lang, direction


def test_an_arabic_customer_rebooks_right_to_left(page, live_server, team):  # noqa: F811
    anna = make_staff(team, "anna")
    case = CaseFactory(team=team, caseworker=anna, customer__preferred_language="ar")
    start = dt.datetime.combine(working_day_ahead(4), dt.time(9), tzinfo=BERLIN)
    appointment = Appointment.objects.create(
        case=case,
        staff=anna,
        start=start,
        end=start + dt.timedelta(minutes=30),
        channel="in_person",
        location="Raum 2.14",
        purpose="Besprechung Ihrer beruflichen Situation",
        status=AppointmentStatus.SENT,
    )
    url = f"{live_server.url}/scheduling/rebook/{rebooking_token_make(appointment)}/"

    page.goto(url)
    assert _direction(page) == ("ar", "rtl")
    assert page.locator("h1").inner_text() == "موعدكم"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    # Right to left: the heading starts at the right edge of the content.
    box = page.locator("h1").bounding_box()
    main = page.locator("main").bounding_box()
    assert box["x"] + box["width"] > main["x"] + main["width"] / 2
    screenshot(page, "rebook_ar")
    assert_accessible(page)

    page.locator("#rebook-language-de").click()
    page.wait_for_url("**?lang=de")
    assert _direction(page) == ("de", "ltr")
    assert page.locator("#rebook-language-ar").count() == 1
    assert_accessible(page)
    page.locator("#rebook-language-ar").click()
    page.wait_for_url("**?lang=ar")
    assert _direction(page) == ("ar", "rtl")

    page.locator("#slot-1").check()
    page.locator("#rebook-alternatives button[type=submit]").click()
    page.wait_for_selector("#rebook-done")
    assert _direction(page) == ("ar", "rtl")
    screenshot(page, "rebook_done_ar")
    assert_accessible(page)
    appointment.refresh_from_db()
    assert appointment.rebook_count == 1
    assert appointment.start != start
    assert_only_local_requests(page, live_server)
