"""Group sessions over REST: list, set up, read one with participants, cancel; and the schema."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from drf_spectacular.validation import validate_schema

from audit.models import AuditEvent
from organisation.models import Role
from scheduling.models import Appointment, AppointmentStatus, GroupSession, GroupSessionStatus
from tests.api.conftest import api_client, token_client
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]
LIST = "/api/v1/group-sessions/"

# The operations this module adds, with their documented status codes (for
# tests/api/test_schema.py OPERATIONS).
OPERATIONS = {
    ("/api/v1/group-sessions/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/group-sessions/", "post"): {"201", "400", "401", "403", "409"},
    ("/api/v1/group-sessions/{session_id}/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/group-sessions/{session_id}/cancel/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_throttle():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


def body(host, **overrides) -> dict:
    data = {
        "host_id": host.pk,
        "start": "2026-11-26T09:00:00+01:00",
        "end": "2026-11-26T10:30:00+01:00",
        "capacity": 10,
        "channel": "in_person",
        "topic": "Bewerbungstraining",
        "location": "Raum 0.04",
    }
    data.update(overrides)
    return data


def detail(session) -> str:
    return f"{LIST}{session.pk}/"


def cancel(session) -> str:
    return f"{LIST}{session.pk}/cancel/"


# --- access ---------------------------------------------------------------------------------------


def test_anonymous_gets_401(session):
    client = api_client()

    assert client.get(LIST).status_code == 401
    assert client.get(detail(session)).status_code == 401


def test_an_admin_gets_403(admin_user, session):
    client = token_client(admin_user)

    assert client.get(LIST).status_code == 403
    assert client.get(detail(session)).status_code == 403


def test_a_caseworker_of_another_team_gets_404_and_an_empty_list(other_caseworker, session):
    client = token_client(other_caseworker)

    listing = client.get(LIST)
    one = client.get(detail(session))
    cancelled = client.post(cancel(session), {"reason": "x"}, format="json")

    assert listing.status_code == 200
    assert listing.json()["results"] == []
    assert one.status_code == 404
    assert set(one.json()) == {"message", "extra"}
    assert cancelled.status_code == 404
    session.refresh_from_db()
    assert session.status == GroupSessionStatus.OPEN


def test_a_caseworker_cannot_set_up_or_cancel(caseworker, host, session):
    client = token_client(caseworker)

    created = client.post(LIST, body(host), format="json")
    cancelled = client.post(cancel(session), {"reason": "Keine Lust"}, format="json")

    assert created.status_code == 403
    assert cancelled.status_code == 403
    assert GroupSession.objects.count() == 1


# --- reads ----------------------------------------------------------------------------------------


def test_the_list_has_places_taken_and_free(caseworker, session, participant):
    response = token_client(caseworker).get(LIST)

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == session.pk
    assert (item["capacity"], item["taken"], item["free"]) == (6, 1, 5)
    assert item["host"] == {"id": session.host_id, "name": str(session.host)}
    assert item["status"] == "open"


def test_an_unknown_query_parameter_is_a_400(caseworker, session):
    response = token_client(caseworker).get(LIST, {"team": "2"})

    assert response.status_code == 400
    assert response.json()["extra"]["unknown"] == ["team"]


def test_one_session_with_its_participants_is_audited(caseworker, session, participant):
    response = token_client(caseworker).get(detail(session))

    assert response.status_code == 200
    [person] = response.json()["participants"]
    customer = participant.case.customer
    assert person == {
        "appointment_id": participant.pk,
        "case_id": participant.case_id,
        "customer_number": customer.customer_number,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "status": "planned",
    }
    assert AuditEvent.objects.filter(
        object_type="appointment",
        action="list",
        object_id=str(participant.pk),
        customer_id=customer.pk,
        channel="api",
    ).exists()


# --- setting up -----------------------------------------------------------------------------------


def test_the_team_lead_sets_up_a_session(team_lead, host):
    response = token_client(team_lead).post(LIST, body(host), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    session = GroupSession.objects.get()
    assert data["id"] == session.pk
    assert data["participants"] == []
    assert (data["taken"], data["free"]) == (0, 10)
    assert session.start == dt.datetime(2026, 11, 26, 9, tzinfo=BERLIN)
    assert AuditEvent.objects.filter(
        object_type="group_session", action="create", channel="api"
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"location": ""}, "location"),
        ({"channel": "video", "location": ""}, "video_link"),
        ({"capacity": 1}, "capacity"),
        ({"channel": "phone"}, "channel"),
    ],
)
def test_bad_input_is_a_400_with_the_field(team_lead, host, overrides, field):
    response = token_client(team_lead).post(LIST, body(host, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert response.json()["message"]
    assert not GroupSession.objects.exists()


def test_in_the_past_is_a_400_with_a_message(team_lead, host):
    response = token_client(team_lead).post(
        LIST,
        body(host, start="2026-11-20T09:00:00+01:00", end="2026-11-20T10:00:00+01:00"),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "A group session can only be set up for a time in the future."
    )


def test_a_host_who_is_taken_is_a_409(team_lead, host, session):
    response = token_client(team_lead).post(
        LIST,
        body(host, start="2026-11-25T10:30:00+01:00", end="2026-11-25T11:00:00+01:00"),
        format="json",
    )

    assert response.status_code == 409
    assert host.get_full_name() in response.json()["message"]
    assert GroupSession.objects.count() == 1


def test_a_body_that_is_not_an_object_is_a_400(team_lead):
    response = token_client(team_lead).post(LIST, [1, 2], format="json")

    assert response.status_code == 400


# --- cancelling -----------------------------------------------------------------------------------


def test_the_team_lead_cancels_with_a_reason(team_lead, session, participant):
    response = token_client(team_lead).post(
        cancel(session), {"reason": "Referentin erkrankt"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["sequence"] == 1
    participant.refresh_from_db()
    assert participant.status == AppointmentStatus.CANCELLED


def test_cancelling_without_a_reason_is_a_400(team_lead, session):
    response = token_client(team_lead).post(cancel(session), {"reason": ""}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]


def test_cancelling_twice_is_a_409(team_lead, session):
    client = token_client(team_lead)
    client.post(cancel(session), {"reason": "Raum belegt"}, format="json")

    response = client.post(cancel(session), {"reason": "Noch einmal"}, format="json")

    assert response.status_code == 409


# --- the schema -----------------------------------------------------------------------------------


def test_the_operations_and_their_errors_are_documented():
    schema = api_client().get("/api/schema/", {"format": "json"}).json()
    validate_schema(schema)

    for (path, method), codes in OPERATIONS.items():
        responses = schema["paths"][path][method]["responses"]
        assert set(responses) == codes, (path, method)
        for code in codes - {"200", "201"}:
            content = responses[code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, code)
