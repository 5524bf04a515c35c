"""Customer rebooking of a place in a group session (acceptance defect 1).

A place moves into another session of the same kind (team, topic, channel) with a free place, or
into an individual appointment of the case's usual length with a suitable caseworker of the team
(the case's own caseworker first, not the host); either way it leaves its session: the session
counts it no more, and cancelling the session does not cancel it.
"""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CustomerGroup
from jobcenter.exceptions import ConflictError
from organisation.models import Role
from scheduling import services_appointments
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    ContactAgreement,
    GroupSession,
    GroupSessionStatus,
    RebookingPolicy,
    StaffCalendar,
)
from scheduling.services_appointments import (
    rebooking_alternatives,
    rebooking_choose,
    rebooking_token_make,
)
from scheduling.services_group_sessions import (
    group_session_cancel,
    group_session_get_for_user,
    group_session_participant_list,
)
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar
from tests.scheduling.test_appointments import WORKING_HOURS, local, make_staff

TOPIC = "Bewerbungstraining"


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(team):
    """The team lead hosts the sessions (as in the demo)."""
    user = UserFactory(username="lead", role=Role.TEAM_LEAD, team=team)
    consenting_calendar(
        user, working_hours=WORKING_HOURS, channels=["in_person", "video"], location="Haus A"
    )
    return user


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"], location="Haus B, Raum 2.01")


def session_make(host, start, *, topic=TOPIC, capacity=8, channel="in_person", **fields):
    values = {"location": "Haus A, Gruppenraum 1"} if channel == "in_person" else {}
    values.update(fields)
    return GroupSession.objects.create(
        team=host.team,
        host=host,
        start=start,
        end=start + dt.timedelta(minutes=90),
        capacity=capacity,
        channel=channel,
        topic=topic,
        **values,
    )


def place_make(session, case=None, **fields) -> Appointment:
    fields.setdefault("status", AppointmentStatus.SENT)
    return Appointment.objects.create(
        case=case or CaseFactory(team=session.team),
        staff=session.host,
        start=session.start,
        end=session.end,
        channel=session.channel,
        location=session.location,
        video_link=session.video_link,
        purpose=session.topic,
        group_session=session,
        **fields,
    )


@pytest.fixture
def session(lead):
    return session_make(lead, local(25, 13))  # Wednesday 13:00-14:30


@pytest.fixture
def case(team, anna):
    case = CaseFactory(team=team, caseworker=anna, customer_group=CustomerGroup.ADMINISTRATIVE)
    ContactAgreement.objects.create(case=case, duration_minutes=60)
    return case


@pytest.fixture
def place(session, case):
    return place_make(session, case)


def taken(session, user) -> int:
    return group_session_get_for_user(user=user, session_id=session.pk).taken


# --- what is offered -------------------------------------------------------------------------------


def test_a_place_is_offered_sessions_of_the_same_kind_first(lead, anna, session, place):
    same_kind = session_make(lead, local(27, 10))
    session_make(lead, local(26, 10), topic="Informationsveranstaltung")  # another kind
    full = session_make(lead, local(30, 10), capacity=2)
    place_make(full)
    place_make(full)
    slots = rebooking_alternatives(appointment=place, limit=500, per_day=None)
    groups = [slot for slot in slots if slot.group_session_id is not None]
    assert [(s.group_session_id, s.start, s.topic) for s in groups] == [
        (same_kind.pk, same_kind.start, TOPIC)
    ]
    assert slots[0] == groups[0]
    assert groups[0].key == f"g{same_kind.pk}_{int(same_kind.start.timestamp())}"


def test_a_place_is_offered_individual_times_of_the_usual_length_own_caseworker_first(
    lead, anna, session, place
):
    slots = [s for s in rebooking_alternatives(appointment=place) if s.group_session_id is None]
    assert slots
    assert all(s.end - s.start == dt.timedelta(minutes=60) for s in slots)
    # The case's caseworker is the usual contact person, not the session's host.
    assert slots[0].staff_id == anna.pk
    assert all(s.same_caseworker == (s.staff_id == anna.pk) for s in slots)
    every = rebooking_alternatives(appointment=place, limit=500, per_day=None)
    assert any(s.staff_id == lead.pk for s in every)
    assert not any(s.same_caseworker for s in every if s.staff_id == lead.pk)


def test_a_case_without_agreement_gets_the_default_length(lead, anna, session, team):
    place = place_make(session, CaseFactory(team=team, caseworker=anna))
    slots = rebooking_alternatives(appointment=place)
    assert {s.end - s.start for s in slots} == {dt.timedelta(minutes=30)}


def test_an_individual_appointment_is_not_offered_group_sessions(lead, anna, case):
    session_make(lead, local(27, 10))
    individual = Appointment.objects.create(
        case=case,
        staff=anna,
        start=local(25, 9),
        end=local(25, 9, 30),
        channel="in_person",
        purpose="Beratung",
    )
    slots = rebooking_alternatives(appointment=individual, limit=500, per_day=None)
    assert slots
    assert all(s.group_session_id is None for s in slots)


# --- moving out of the session ---------------------------------------------------------------------


def test_moving_a_place_to_an_individual_time_detaches_it(
    lead, anna, session, place, django_capture_on_commit_callbacks
):
    other = place_make(session)
    assert taken(session, lead) == 2
    with django_capture_on_commit_callbacks() as callbacks:
        moved = rebooking_choose(
            token=rebooking_token_make(place), start=local(24, 10), staff_id=anna.pk
        )
    moved.refresh_from_db()
    assert moved.group_session_id is None
    assert (moved.staff_id, moved.start, moved.end) == (anna.pk, local(24, 10), local(24, 11))
    assert moved.location == "Haus B, Raum 2.01"
    assert (moved.status, moved.sequence, moved.rebook_count) == (AppointmentStatus.SENT, 1, 1)
    assert len(callbacks) == 1  # the new invitation
    assert taken(session, lead) == 1
    assert group_session_participant_list(session=session) == [other]
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(place.pk))
    assert event.channel == "customer"
    assert event.detail["rebooked_by_customer"]["group_session"] == {
        "from": session.pk,
        "to": None,
    }
    # The team lead then cancels the session: only the place still in it is cancelled.
    group_session_cancel(
        ctx=AuditContext(actor=lead, channel="ui"), session_id=session.pk, reason="Krank"
    )
    moved.refresh_from_db()
    other.refresh_from_db()
    assert (moved.status, moved.sequence) == (AppointmentStatus.SENT, 1)
    assert other.status == AppointmentStatus.CANCELLED


def test_moving_a_place_to_the_host_recomputes_the_place_too(lead, anna, session, place):
    moved = rebooking_choose(
        token=rebooking_token_make(place), start=local(24, 10), staff_id=lead.pk
    )
    moved.refresh_from_db()
    assert moved.group_session_id is None
    assert moved.location == "Haus A"  # the host's own place, not the group room


def test_a_video_place_moved_to_an_individual_time_loses_the_group_link(team, lead, anna, case):
    StaffCalendar.objects.filter(user=anna).update(channels=["in_person", "video"])
    video = session_make(lead, local(25, 13), channel="video", video_link="https://v.example/g1")
    place = place_make(video, case)
    moved = rebooking_choose(
        token=rebooking_token_make(place), start=local(24, 10), staff_id=anna.pk
    )
    moved.refresh_from_db()
    assert (moved.group_session_id, moved.video_link, moved.location) == (None, "", "")


def test_moving_a_place_into_another_session_of_the_same_kind(lead, anna, team, session, place):
    host = make_staff(team, "hugo", channels=["in_person"])
    later = session_make(host, local(27, 10), location="Haus C, Saal")
    moved = rebooking_choose(
        token=rebooking_token_make(place), start=later.start, group_session_id=later.pk
    )
    moved.refresh_from_db()
    assert moved.group_session_id == later.pk
    assert (moved.staff_id, moved.start, moved.end) == (host.pk, later.start, later.end)
    assert moved.location == "Haus C, Saal"
    assert taken(session, lead) == 0
    assert taken(later, lead) == 1


def test_a_full_or_other_session_cannot_be_chosen(lead, anna, team, session, place):
    full = session_make(lead, local(27, 10), capacity=2)
    place_make(full)
    place_make(full)
    other_kind = session_make(lead, local(26, 10), topic="Informationsveranstaltung")
    token = rebooking_token_make(place)
    for target in (full, other_kind, session):
        with pytest.raises(ConflictError):
            rebooking_choose(token=token, start=target.start, group_session_id=target.pk)
    cancelled = session_make(lead, local(30, 10))
    GroupSession.objects.filter(pk=cancelled.pk).update(status=GroupSessionStatus.CANCELLED)
    with pytest.raises(ConflictError):
        rebooking_choose(token=token, start=cancelled.start, group_session_id=cancelled.pk)
    place.refresh_from_db()
    assert (place.group_session_id, place.sequence) == (session.pk, 0)


def test_an_individual_appointment_cannot_take_a_group_place(lead, anna, case):
    target = session_make(lead, local(27, 10))
    individual = Appointment.objects.create(
        case=case,
        staff=anna,
        start=local(25, 9),
        end=local(25, 9, 30),
        channel="in_person",
        purpose="Beratung",
    )
    with pytest.raises(ConflictError):
        rebooking_choose(
            token=rebooking_token_make(individual), start=target.start, group_session_id=target.pk
        )


def test_a_place_moved_before_this_rule_no_longer_counts_nor_is_cancelled(lead, session):
    """An old move left `group_session` set at another time: not a place in the session."""
    stale = place_make(session)
    Appointment.objects.filter(pk=stale.pk).update(
        start=local(24, 10), end=local(24, 11, 30), staff=lead
    )
    assert taken(session, lead) == 0
    group_session_cancel(
        ctx=AuditContext(actor=lead, channel="ui"), session_id=session.pk, reason="Raum belegt"
    )
    stale.refresh_from_db()
    assert stale.status == AppointmentStatus.SENT


# --- the page --------------------------------------------------------------------------------------


def test_page_labels_group_sessions_and_moves_into_one(client, lead, anna, session, place):
    later = session_make(lead, local(27, 10))
    token = rebooking_token_make(place)
    html = client.get(f"/scheduling/rebook/{token}/").content.decode()
    key = f"g{later.pk}_{int(later.start.timestamp())}"
    assert f'value="{key}"' in html
    assert f'<span lang="de">{TOPIC}</span>' in html
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "choose", "slot": key})
    assert response.status_code == 200
    place.refresh_from_db()
    assert place.group_session_id == later.pk


def test_page_with_a_tampered_link_shows_no_group_sessions(client, lead, session, place):
    session_make(lead, local(27, 10))
    token = rebooking_token_make(place)
    response = client.get(f"/scheduling/rebook/{token[:-2]}xx/")
    assert response.status_code == 400
    html = response.content.decode()
    assert TOPIC not in html
    assert 'type="radio"' not in html


# --- the race --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_customers_racing_for_the_last_place_one_wins(team, lead, anna, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writes; the race needs PostgreSQL's concurrency.")
    # Widen the window between counting the places and the write: without the session row lock
    # both customers would see the free place.
    counted = services_appointments._group_session_slots

    def slow_count(**kwargs):
        slots = counted(**kwargs)
        time.sleep(0.3)
        return slots

    monkeypatch.setattr(services_appointments, "_group_session_slots", slow_count)
    RebookingPolicy.load()  # made now: creating it in both threads would serialise them
    first = session_make(lead, local(25, 13))
    target = session_make(lead, local(27, 10), capacity=2)
    place_make(target)
    places = [place_make(first), place_make(first)]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def choose(token: str) -> None:
        try:
            barrier.wait(timeout=30)
            rebooking_choose(token=token, start=target.start, group_session_id=target.pk)
            results.append("won")
        except ConflictError:
            results.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results.append(repr(error))
        finally:
            connection.close()

    with time_machine.travel(NOW, tick=False):
        tokens = [rebooking_token_make(p) for p in places]
        threads = [threading.Thread(target=choose, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == ["conflict", "won"]
    assert taken(target, lead) == 2
