"""Appointments: the database refuses double bookings; the service and the rebooking link."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEvent
from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role
from scheduling.models import Appointment, AppointmentStatus, RebookingPolicy
from scheduling.services_appointments import (
    RebookingLinkError,
    RebookingLinkExpiredError,
    RebookingLinkOutdatedError,
    appointment_create,
    appointment_rebook,
    rebooking_refusal,
    rebooking_token_make,
    rebooking_token_read,
)
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A Berlin wall-clock time in 2026."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def make_staff(team, username: str, **calendar_fields):
    user = UserFactory(username=username, role=Role.CASEWORKER, team=team)
    consenting_calendar(user, working_hours=WORKING_HOURS, **calendar_fields)
    return user


def make_appointment(case, staff, start: dt.datetime, minutes: int = 30, **fields) -> Appointment:
    fields.setdefault("channel", "in_person")
    fields.setdefault("purpose", "Besprechung Ihrer beruflichen Situation")
    return Appointment.objects.create(
        case=case, staff=staff, start=start, end=start + dt.timedelta(minutes=minutes), **fields
    )


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(team):
    return make_staff(team, "anna")


@pytest.fixture
def own_case(team, staff):
    return CaseFactory(team=team, caseworker=staff)


# --- the database constraints ----------------------------------------------------------------------


def test_two_active_appointments_at_the_same_start_are_refused_by_the_database(own_case, staff):
    make_appointment(own_case, staff, local(25, 9))
    other = CaseFactory(team=own_case.team)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_appointment(other, staff, local(25, 9))


def test_overlapping_active_appointments_are_refused_by_the_database_on_postgresql(own_case, staff):
    if connection.vendor != "postgresql":
        pytest.skip("The exclusion constraint on overlapping times exists on PostgreSQL only.")
    make_appointment(own_case, staff, local(25, 9), minutes=60)
    other = CaseFactory(team=own_case.team)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_appointment(other, staff, local(25, 9, 30))


def test_cancelled_and_finished_appointments_do_not_block_the_slot(own_case, staff):
    make_appointment(own_case, staff, local(25, 9), status=AppointmentStatus.CANCELLED)
    make_appointment(own_case, staff, local(25, 9), status=AppointmentStatus.MISSED)
    make_appointment(own_case, staff, local(25, 9))
    assert Appointment.objects.filter(staff=staff, start=local(25, 9)).count() == 3


def test_end_before_start_is_refused_by_the_database(own_case, staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_appointment(own_case, staff, local(25, 9), minutes=-30)


# --- creating and moving ---------------------------------------------------------------------------


def test_caseworker_creates_an_appointment_with_uid_and_audit(own_case, staff, caseworker):
    ctx = AuditContext(actor=caseworker, channel="ui")
    appointment = appointment_create(
        ctx=ctx,
        case_id=own_case.pk,
        staff_id=staff.pk,
        start=local(25, 9),
        end=local(25, 9, 30),
        channel="in_person",
        purpose="  Erstgespräch  ",
        location="Raum 1.12",
    )
    assert appointment.status == AppointmentStatus.PLANNED
    assert appointment.uid.endswith("@jobcenter")
    assert appointment.purpose == "Erstgespräch"
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(appointment.pk))
    assert event.customer_id == own_case.customer_id


def test_an_overlapping_appointment_is_a_conflict_with_a_clear_message(own_case, staff):
    ctx = AuditContext.system()
    make_appointment(own_case, staff, local(25, 9), minutes=60)
    with pytest.raises(ConflictError, match="vergeben|taken"):
        appointment_create(
            ctx=ctx,
            case_id=CaseFactory(team=own_case.team).pk,
            staff_id=staff.pk,
            start=local(25, 9, 30),
            end=local(25, 10),
            channel="phone",
            purpose="Rückfragen",
        )


@pytest.mark.parametrize(
    ("start", "end", "channel", "purpose"),
    [
        (local(25, 10), local(25, 9), "phone", "x"),
        (local(25, 9), local(25, 18), "phone", "x"),
        (local(25, 9), local(25, 10), "letter", "x"),
        (local(25, 9), local(25, 10), "phone", "   "),
        (local(25, 9).replace(tzinfo=None), local(25, 10).replace(tzinfo=None), "phone", "x"),
    ],
)
def test_bad_appointment_input_is_refused(own_case, staff, start, end, channel, purpose):
    with pytest.raises(ApplicationError):
        appointment_create(
            ctx=AuditContext.system(),
            case_id=own_case.pk,
            staff_id=staff.pk,
            start=start,
            end=end,
            channel=channel,
            purpose=purpose,
        )
    assert not Appointment.objects.exists()


def test_caseworker_of_another_team_cannot_plan_or_use_staff_of_another_team(
    own_case, staff, other_caseworker
):
    with pytest.raises(ApplicationError):
        appointment_create(
            ctx=AuditContext(actor=other_caseworker, channel="ui"),
            case_id=own_case.pk,
            staff_id=staff.pk,
            start=local(25, 9),
            end=local(25, 10),
            channel="phone",
            purpose="x",
        )
    with pytest.raises(ApplicationError):
        appointment_create(
            ctx=AuditContext.system(),
            case_id=own_case.pk,
            staff_id=other_caseworker.pk,
            start=local(25, 9),
            end=local(25, 10),
            channel="phone",
            purpose="x",
        )
    assert not Appointment.objects.exists()


def test_moving_raises_the_sequence_and_keeps_the_uid(own_case, staff):
    appointment = make_appointment(own_case, staff, local(25, 9))
    uid = appointment.uid
    moved = appointment_rebook(
        ctx=AuditContext.system(), appointment_id=appointment.pk, new_start=local(26, 11)
    )
    assert (moved.start, moved.end, moved.sequence, moved.uid) == (
        local(26, 11),
        local(26, 11, 30),
        1,
        uid,
    )


def test_moving_onto_an_active_appointment_is_a_conflict(own_case, staff):
    appointment = make_appointment(own_case, staff, local(25, 9))
    make_appointment(CaseFactory(team=own_case.team), staff, local(26, 11))
    with pytest.raises(ConflictError):
        appointment_rebook(
            ctx=AuditContext.system(), appointment_id=appointment.pk, new_start=local(26, 11)
        )
    appointment.refresh_from_db()
    assert appointment.start == local(25, 9)


# --- the rebooking link ----------------------------------------------------------------------------


def test_a_fresh_link_opens_its_appointment(own_case, staff, at_now):
    appointment = make_appointment(own_case, staff, local(25, 9))
    assert rebooking_token_read(rebooking_token_make(appointment)) == appointment


def test_an_expired_link_is_refused(own_case, staff, at_now):
    appointment = make_appointment(own_case, staff, local(25, 9))
    token = rebooking_token_make(appointment)
    at_now.shift(dt.timedelta(days=14, minutes=1))
    with pytest.raises(RebookingLinkExpiredError) as error:
        rebooking_token_read(token)
    assert error.value.status_code == 410


@pytest.mark.parametrize("change", ["flip", "cut", "garbage", "other_salt"])
def test_a_tampered_link_is_refused(own_case, staff, at_now, change):
    from django.core import signing

    appointment = make_appointment(own_case, staff, local(25, 9))
    token = rebooking_token_make(appointment)
    tampered = {
        "flip": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "cut": token[:10],
        "garbage": "not-a-token",
        "other_salt": signing.TimestampSigner(salt="x").sign_object({"a": appointment.pk, "s": 0}),
    }[change]
    with pytest.raises(RebookingLinkError) as error:
        rebooking_token_read(tampered)
    assert error.value.status_code == 400


def test_a_link_dies_when_the_appointment_changes_or_is_cancelled(own_case, staff, at_now):
    appointment = make_appointment(own_case, staff, local(25, 9))
    token = rebooking_token_make(appointment)
    appointment_rebook(
        ctx=AuditContext.system(), appointment_id=appointment.pk, new_start=local(26, 9)
    )
    with pytest.raises(RebookingLinkOutdatedError):
        rebooking_token_read(token)
    appointment.refresh_from_db()
    fresh = rebooking_token_make(appointment)
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    with pytest.raises(RebookingLinkOutdatedError):
        rebooking_token_read(fresh)


def test_policy_refuses_too_many_and_too_late_rebookings(own_case, staff):
    policy = RebookingPolicy.load()
    appointment = make_appointment(own_case, staff, local(25, 9))
    assert rebooking_refusal(appointment=appointment, policy=policy, now=NOW) is None
    appointment.rebook_count = 2
    assert rebooking_refusal(appointment=appointment, policy=policy, now=NOW)
    appointment.rebook_count = 0
    late = appointment.start - dt.timedelta(hours=23)
    assert rebooking_refusal(appointment=appointment, policy=policy, now=late)
    policy.latest_hours_before = 12
    policy.save()
    assert (
        rebooking_refusal(appointment=appointment, policy=RebookingPolicy.load(), now=late) is None
    )
    assert RebookingPolicy.objects.count() == 1
