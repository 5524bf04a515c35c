"""Group sessions: times far in the future or past are refused with a message (they once ended in
an HTML 500), and the session page shows its date readably."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from organisation.models import Role
from scheduling.models import GroupSession
from scheduling.selectors import MAX_DAYS_AHEAD, _day_bounds, staff_busy_intervals
from tests.api.conftest import token_client
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar
from tests.scheduling.test_group_sessions_api import body
from tests.scheduling.test_group_sessions_views import form_data

BERLIN = ZoneInfo("Europe/Berlin")
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]


def too_far() -> str:
    return _("A group session can be set up at most %(days)s days ahead.") % {
        "days": MAX_DAYS_AHEAD
    }


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def host(team):
    user = UserFactory(username="anna", role=Role.CASEWORKER, team=team)
    consenting_calendar(user, working_hours=WORKING_HOURS)
    return user


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31T10:00+01:00", "9999-12-31T11:00+01:00"),
        ("2029-01-02T10:00+01:00", "2029-01-02T11:00+01:00"),
    ],
)
def test_the_api_refuses_a_start_far_ahead_with_a_400(team_lead, host, start, end):
    response = token_client(team_lead).post(
        "/api/v1/group-sessions/", body(host, start=start, end=end), format="json"
    )
    assert response.status_code == 400
    with translation.override("en"):  # the API clients of the tests ask for English
        assert response.json()["message"] == f"start: {too_far()}"
    assert not GroupSession.objects.exists()


@pytest.mark.parametrize(
    "start", ["0001-01-01T00:00+01:00", "0001-01-01T10:00+01:00", "1900-01-01T10:00+01:00"]
)
def test_the_api_refuses_a_start_far_in_the_past_with_a_400(team_lead, host, start):
    response = token_client(team_lead).post(
        "/api/v1/group-sessions/",
        body(host, start=start, end=start.replace("T10:", "T11:").replace("T00:", "T01:")),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}


def test_the_api_still_sets_up_a_session_a_year_ahead(team_lead, host):
    response = token_client(team_lead).post(
        "/api/v1/group-sessions/",
        body(host, start="2027-11-25T09:00:00+01:00", end="2027-11-25T10:30:00+01:00"),
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("day", ["9999-12-31", "2029-01-02"])
def test_the_form_refuses_a_day_far_ahead(client, team_lead, host, day):
    client.force_login(team_lead)
    response = client.post(
        reverse("scheduling:group_session_create"),
        form_data(host, day=day),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert too_far() in response.content.decode()
    assert not GroupSession.objects.exists()


def test_the_form_refuses_the_year_one(client, team_lead, host):
    client.force_login(team_lead)
    response = client.post(
        reverse("scheduling:group_session_create"),
        form_data(host, day="0001-01-01"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400


def test_the_last_day_of_the_calendar_has_bounds():
    start, end = _day_bounds(dt.date.max, BERLIN)
    assert start < end
    assert start.date() == end.date() == dt.date.max


def test_busy_intervals_reach_the_end_of_the_calendar(host):
    start = dt.datetime(9999, 12, 31, 10, tzinfo=BERLIN)
    busy = staff_busy_intervals(user=host, start=start, end=start + dt.timedelta(hours=1))
    assert busy == []  # a Friday inside the working hours: an answer instead of an overflow


def test_the_session_page_shows_weekday_and_date(client, team, team_lead, host):
    session = GroupSession.objects.create(
        team=team,
        host=host,
        start=dt.datetime(2026, 12, 15, 10, tzinfo=BERLIN),
        end=dt.datetime(2026, 12, 15, 11, 30, tzinfo=BERLIN),
        capacity=6,
        channel="in_person",
        location="Raum 1.12",
        topic="Informationsveranstaltung",
    )
    client.force_login(team_lead)
    html = client.get(reverse("scheduling:group_session_detail", args=[session.pk])).content
    assert f"{_('Tuesday')}, 15.12.2026 10:00–11:30".encode() in html
    assert b"SHORT_DATE_FORMAT" not in html
    assert b"CET" not in html
