"""The group session pages: the team's list with the team lead's form, a session, cancel, held."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from organisation.models import Role
from scheduling.models import Appointment, AppointmentStatus, GroupSession, GroupSessionStatus
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import assert_accessible, assert_only_local_requests, log_in_anywhere
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]
LIST_URL = reverse("scheduling:group_session_list")
CREATE_URL = reverse("scheduling:group_session_create")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def at_now(request):
    # The browser tests need a running clock (timeouts of the live server and the page).
    ticking = request.node.get_closest_marker("browser") is not None
    with time_machine.travel(NOW, tick=ticking) as traveller:
        yield traveller


@pytest.fixture
def host(team):
    user = UserFactory(username="anna", role=Role.CASEWORKER, team=team)
    consenting_calendar(user, working_hours=WORKING_HOURS)
    return user


@pytest.fixture
def session(team, host, team_lead):
    return GroupSession.objects.create(
        team=team,
        host=host,
        start=dt.datetime(2026, 11, 25, 10, tzinfo=BERLIN),
        end=dt.datetime(2026, 11, 25, 11, 30, tzinfo=BERLIN),
        capacity=6,
        channel="in_person",
        location="Raum 1.12",
        topic="Informationsveranstaltung",
        created_by=team_lead,
    )


@pytest.fixture
def participant(session):
    return Appointment.objects.create(
        case=CaseFactory(team=session.team),
        staff=session.host,
        start=session.start,
        end=session.end,
        channel="in_person",
        location=session.location,
        purpose=session.topic,
        group_session=session,
    )


def form_data(host, **overrides) -> dict:
    data = {
        "topic": "Bewerbungstraining",
        "host": str(host.pk),
        "day": "2026-11-26",
        "start_time": "09:00",
        "end_time": "10:30",
        "capacity": "10",
        "channel": "in_person",
        "location": "Raum 0.04",
        "video_link": "",
    }
    data.update(overrides)
    return data


def detail_url(session) -> str:
    return reverse("scheduling:group_session_detail", args=[session.pk])


# --- access ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login(client, session):
    for url in (LIST_URL, detail_url(session)):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_an_admin_is_forbidden(client, admin_user, session):
    client.force_login(admin_user)

    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(session)).status_code == 403


def test_a_caseworker_of_another_team_sees_neither_the_session_nor_it_in_the_list(
    client, other_caseworker, session
):
    client.force_login(other_caseworker)

    listing = client.get(LIST_URL)
    detail = client.get(detail_url(session))
    cancel = client.post(
        reverse("scheduling:group_session_cancel", args=[session.pk]), {"reason": "x"}
    )

    assert listing.status_code == 200
    assert f'id="group-session-row-{session.pk}"' not in listing.content.decode()
    assert detail.status_code == 404
    assert cancel.status_code == 404
    session.refresh_from_db()
    assert session.status == GroupSessionStatus.OPEN


def test_a_caseworker_cannot_set_up_a_session(client, caseworker, host):
    client.force_login(caseworker)

    listing = client.get(LIST_URL).content.decode()
    response = client.post(CREATE_URL, form_data(host))

    assert 'id="group-session-create"' not in listing
    assert response.status_code == 403
    assert not GroupSession.objects.exists()


# --- the list -------------------------------------------------------------------------------------


def test_the_team_sees_upcoming_sessions_with_places_taken_and_free(
    client, caseworker, session, participant
):
    client.force_login(caseworker)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="group-session-row-{session.pk}"' in html
    assert 'data-taken="1"' in html
    assert 'data-free="5"' in html
    assert detail_url(session) in html


def test_the_list_needs_the_same_queries_for_more_sessions(
    client, caseworker, session, django_assert_max_num_queries
):
    client.force_login(caseworker)
    client.get(LIST_URL)
    for hour in (12, 13, 14):
        GroupSession.objects.create(
            team=session.team,
            host=session.host,
            start=dt.datetime(2026, 11, 27, hour, tzinfo=BERLIN),
            end=dt.datetime(2026, 11, 27, hour, 45, tzinfo=BERLIN),
            capacity=4,
            channel="video",
            video_link="https://video.example/r",
            topic=f"Sitzung {hour}",
        )

    with django_assert_max_num_queries(8):
        response = client.get(LIST_URL)

    assert response.content.decode().count('id="group-session-row-') == 4


def test_the_team_lead_gets_the_form_with_hosts_who_share_their_calendar(
    client, team_lead, host, team
):
    no_consent = UserFactory(username="ohne", role=Role.CASEWORKER, team=team)
    client.force_login(team_lead)

    response = client.get(LIST_URL)

    form = response.context["form"]
    hosts = {value for value, _label in form.fields["host"].choices if value}
    assert host.pk in hosts
    assert no_consent.pk not in hosts
    assert 'id="group-session-create"' in response.content.decode()


# --- setting one up -------------------------------------------------------------------------------


def test_the_team_lead_sets_up_a_session_with_a_plain_post(client, team_lead, host):
    client.force_login(team_lead)

    response = client.post(CREATE_URL, form_data(host))

    session = GroupSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(session)
    assert session.start == dt.datetime(2026, 11, 26, 9, tzinfo=BERLIN)
    assert (session.host, session.capacity, session.location) == (host, 10, "Raum 0.04")
    assert AuditEvent.objects.filter(object_type="group_session", action="create").exists()


def test_with_htmx_a_success_redirects_the_browser(client, team_lead, host):
    client.force_login(team_lead)

    response = client.post(CREATE_URL, form_data(host), **HTMX)

    session = GroupSession.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(session)


def test_with_htmx_an_error_returns_only_the_form_fragment(client, team_lead, host):
    client.force_login(team_lead)

    response = client.post(CREATE_URL, form_data(host, location=""), **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<section class="app-section"')
    assert 'id="group-session-create"' in html
    assert 'id="group-session-errors"' in html
    assert "<html" not in html
    assert not GroupSession.objects.exists()


def test_without_htmx_an_error_shows_the_whole_page_again(client, team_lead, host):
    client.force_login(team_lead)

    response = client.post(CREATE_URL, form_data(host, end_time="08:30"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "<html" in html
    assert 'id="group-session-errors"' in html


def test_a_host_already_taken_is_a_conflict_with_the_message(client, team_lead, host, session):
    client.force_login(team_lead)

    response = client.post(
        CREATE_URL,
        form_data(host, day="2026-11-25", start_time="10:30", end_time="11:00"),
        **HTMX,
    )

    assert response.status_code == 409
    assert 'id="group-session-errors"' in response.content.decode()
    assert GroupSession.objects.count() == 1


def test_a_host_outside_working_hours_is_refused(client, team_lead, host):
    client.force_login(team_lead)

    response = client.post(CREATE_URL, form_data(host, start_time="16:00", end_time="17:00"))

    assert response.status_code == 409
    assert not GroupSession.objects.exists()


# --- a session ------------------------------------------------------------------------------------


def test_the_session_page_lists_participants_linked_to_their_case(
    client, caseworker, session, participant
):
    client.force_login(caseworker)

    response = client.get(detail_url(session))

    html = response.content.decode()
    customer = participant.case.customer
    assert response.status_code == 200
    assert f'id="participant-{participant.pk}"' in html
    assert reverse("cases:case_detail", args=[participant.case_id]) in html
    assert customer.last_name in html
    assert AuditEvent.objects.filter(
        object_type="appointment",
        action="list",
        object_id=str(participant.pk),
        customer_id=customer.pk,
        actor=caseworker,
    ).exists()
    # A caseworker who is not the host gets no actions.
    assert 'id="group-session-cancel-form"' not in html


def test_the_team_lead_cancels_with_a_reason(client, team_lead, session, participant):
    client.force_login(team_lead)

    response = client.post(
        reverse("scheduling:group_session_cancel", args=[session.pk]),
        {"reason": "Referentin erkrankt"},
    )

    assert response.status_code == 302
    session.refresh_from_db()
    participant.refresh_from_db()
    assert session.status == GroupSessionStatus.CANCELLED
    assert participant.status == AppointmentStatus.CANCELLED


def test_cancelling_without_a_reason_returns_the_actions_fragment_for_htmx(
    client, team_lead, session
):
    client.force_login(team_lead)

    response = client.post(
        reverse("scheduling:group_session_cancel", args=[session.pk]), {"reason": ""}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<section class="app-section"')
    assert 'id="group-session-cancel-errors"' in html
    assert "<html" not in html
    session.refresh_from_db()
    assert session.status == GroupSessionStatus.OPEN


def test_a_caseworker_cannot_cancel(client, caseworker, session):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:group_session_cancel", args=[session.pk]), {"reason": "Warum nicht"}
    )

    assert response.status_code == 403
    session.refresh_from_db()
    assert session.status == GroupSessionStatus.OPEN


def test_the_host_records_it_held_after_the_start(client, host, session, at_now):
    client.force_login(host)
    url = reverse("scheduling:group_session_mark_held", args=[session.pk])

    early = client.post(url)
    session.refresh_from_db()
    assert early.status_code == 302
    assert session.status == GroupSessionStatus.OPEN

    at_now.move_to(dt.datetime(2026, 11, 25, 10, 15, tzinfo=BERLIN))
    client.force_login(host)  # the login of two days ago has expired
    html = client.get(detail_url(session)).content.decode()
    assert 'id="group-session-held-form"' in html
    client.post(url)

    session.refresh_from_db()
    assert session.status == GroupSessionStatus.HELD


# --- in a real browser ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_team_lead_sets_up_a_session_in_the_browser(page, live_server, team_lead, host):  # noqa: F811
    log_in_anywhere(page, live_server, team_lead.username)
    page.goto(f"{live_server.url}{LIST_URL}")
    assert_accessible(page)

    page.locator("#id_topic").fill("Bewerbungstraining")
    page.locator("#id_host").select_option(str(host.pk))
    page.locator("#id_day").fill("2026-11-26")
    page.locator("#id_start_time").fill("09:00")
    page.locator("#id_end_time").fill("10:30")
    page.locator("#id_capacity").fill("10")
    page.locator("#id_channel").select_option("in_person")
    page.locator("#group-session-create button[type=submit]").click()
    # No room: htmx swaps the form with its errors in place.
    page.wait_for_selector("#group-session-errors[role=alert]")
    assert_accessible(page)
    assert not GroupSession.objects.exists()

    page.locator("#id_location").fill("Raum 0.04")
    page.locator("#group-session-create button[type=submit]").click()
    page.wait_for_selector("#group-session-status")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)

    session = GroupSession.objects.get()
    assert page.url.endswith(detail_url(session))
    assert (session.location, session.capacity) == ("Raum 0.04", 10)
