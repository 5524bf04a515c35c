"""Staff make and move appointments by hand (services appointment_book and appointment_move):
checked against the staff member's calendar, approved by the person who makes them, invited
through the normal sending path, and a move sends the invitation again with the new time."""

import datetime as dt
import types

import icalendar
import pytest
import time_machine
from django.core import mail
from django.utils import translation

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent, Phase
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.models import (
    Absence,
    Appointment,
    AppointmentStatus,
    BusyTime,
    DeliveryStatus,
    InvitationDelivery,
)
from scheduling.services_appointments import (
    appointment_book,
    appointment_move,
    rebooking_token_make,
    rebooking_token_read,
)
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_deliveries import german_template, record_delivery
from tests.scheduling.test_appointments import BERLIN, local, make_appointment, make_staff


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _in_english():
    """The messages in their source language (their German arrives with the catalogue)."""
    with translation.override("en"):
        yield


@pytest.fixture
def sent(monkeypatch):
    """The invitation task is recorded, not run."""
    import scheduling.tasks as tasks

    seen = []
    monkeypatch.setattr(
        tasks, "scheduling_invitation_send", types.SimpleNamespace(delay=seen.append)
    )
    return seen


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"], location="Raum 1.01")


@pytest.fixture
def ben(team):
    return make_staff(team, "ben", channels=["in_person"])


@pytest.fixture
def own_case(team, anna):
    return CaseFactory(team=team, caseworker=anna, phase=Phase.IMPLEMENTATION)


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def book(user, case, staff, start, **changes) -> Appointment:
    values = {
        "duration_minutes": 30,
        "channel": "in_person",
        "purpose": "Besprechung der Bewerbungen",
        **changes,
    }
    return appointment_book(ctx=ui(user), case_id=case.pk, staff_id=staff.pk, start=start, **values)


# --- booking by hand -------------------------------------------------------------------------------


def test_a_booking_by_hand_is_approved_by_its_maker_and_invites(
    caseworker, own_case, anna, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(caseworker, own_case, anna, local(25, 10))
    assert appointment.status == AppointmentStatus.APPROVED
    assert (appointment.approved_by, appointment.approved_at) == (caseworker, NOW)
    assert (appointment.start, appointment.end) == (local(25, 10), local(25, 10, 30))
    assert appointment.location == "Raum 1.01"  # the staff member's calendar
    assert sent == [appointment.pk]  # the normal sending path, after commit
    audit = AuditEvent.objects.get(object_type="appointment", object_id=str(appointment.pk))
    assert (audit.action, audit.actor, audit.customer_id) == (
        "create",
        caseworker,
        own_case.customer_id,
    )
    assert audit.detail["status"] == "approved"
    assert CaseEvent.objects.filter(case=own_case, data__appointment_id=appointment.pk).exists()


def test_a_booking_almost_a_year_ahead_is_possible(caseworker, own_case, anna, sent):
    # 2027-11-18 is a Thursday, 360 days ahead.
    appointment = book(caseworker, own_case, anna, local(18, 10).replace(year=2027))
    assert appointment.status == AppointmentStatus.APPROVED


def test_a_booking_that_is_rolled_back_sends_nothing(caseworker, own_case, anna, sent):
    book(caseworker, own_case, anna, local(25, 10))
    assert sent == []  # never committed in this test


def test_the_invitation_really_goes_out(
    caseworker, own_case, anna, django_capture_on_commit_callbacks
):
    german_template()
    own_case.customer.email = "kundin@example.org"
    own_case.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(caseworker, own_case, anna, local(25, 10))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SENT
    channels = set(
        InvitationDelivery.objects.filter(appointment=appointment).values_list("channel", flat=True)
    )
    assert channels == {"letter", "email"}
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("start", "changes", "field", "message"),
    [
        (local(23, 7), {}, "start", "Please choose a time in the future."),
        # Further ahead than any cadence: it would silence the case's invitations until then.
        (dt.datetime(2099, 12, 1, 10, tzinfo=BERLIN), {}, "start", "at most 365 days ahead"),
        (local(25, 10).replace(year=2027), {}, "start", "at most 365 days ahead"),
        (local(25, 17), {}, "start", "outside their working hours"),
        (local(28, 10), {}, "start", "outside their working hours"),  # a Saturday
        (local(25, 10), {"channel": "video"}, "channel", "does not offer appointments by Video"),
        (local(25, 10), {"duration_minutes": 5}, "duration_minutes", "15"),
        (local(25, 10), {"purpose": "  "}, "purpose", "purpose"),
        (local(25, 10), {"channel": "letter"}, "channel", "phone"),
    ],
)
def test_a_booking_against_the_rules_is_refused_at_its_field(
    caseworker, own_case, anna, sent, start, changes, field, message
):
    with pytest.raises(ApplicationError) as refused:
        book(caseworker, own_case, anna, start, **changes)
    assert set(refused.value.extra["fields"]) == {field}
    assert message in refused.value.message
    assert not Appointment.objects.exists()
    assert sent == []


def test_an_absence_and_a_busy_time_refuse_the_time(caseworker, own_case, anna):
    Absence.objects.create(user=anna, start=local(26, 0), end=local(27, 0), kind="vacation")
    BusyTime.objects.create(
        user=anna, start=local(25, 10), end=local(25, 11), source="upload", synced_at=NOW
    )
    with pytest.raises(ApplicationError, match="is absent then"):
        book(caseworker, own_case, anna, local(26, 10))
    with pytest.raises(ApplicationError, match="is not available then"):
        book(caseworker, own_case, anna, local(25, 10, 30))
    assert book(caseworker, own_case, anna, local(25, 11)).start == local(25, 11)


def test_staff_without_a_shared_calendar_are_refused(caseworker, team, own_case):
    no_calendar = UserFactory(username="nocal", role="caseworker", team=team)
    with pytest.raises(ApplicationError, match="share their calendar") as refused:
        book(caseworker, own_case, no_calendar, local(25, 10))
    assert set(refused.value.extra["fields"]) == {"staff"}


def test_an_overlap_is_a_conflict(caseworker, own_case, anna):
    make_appointment(CaseFactory(team=own_case.team), anna, local(25, 10), minutes=60)
    with pytest.raises(ConflictError):
        book(caseworker, own_case, anna, local(25, 10, 30))


def test_only_a_person_of_the_team_books(other_caseworker, admin_user, own_case, anna, other_team):
    for user in (other_caseworker, admin_user):
        with pytest.raises(ApplicationError):
            book(user, own_case, anna, local(25, 10))
    with pytest.raises(ApplicationError):
        appointment_book(
            ctx=AuditContext.system(),
            case_id=own_case.pk,
            staff_id=anna.pk,
            start=local(25, 10),
            duration_minutes=30,
            channel="in_person",
            purpose="x",
        )
    stranger = make_staff(other_team, "stranger")
    with pytest.raises(ApplicationError) as refused:
        book(own_case.caseworker, own_case, stranger, local(25, 10))
    assert set(refused.value.extra["fields"]) == {"staff"}
    assert not Appointment.objects.exists()


def test_a_closed_case_gets_no_new_appointment(caseworker, team, anna):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    with pytest.raises(ApplicationError, match="The case is closed"):
        book(caseworker, closed, anna, local(25, 10))


# --- moving by hand --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AppointmentStatus.SENT, AppointmentStatus.CONFIRMED])
def test_moving_an_invited_appointment_sends_it_again(
    team_lead, own_case, anna, sent, status, django_capture_on_commit_callbacks
):
    appointment = make_appointment(own_case, anna, local(25, 9), status=status)
    record_delivery(appointment, at=NOW - dt.timedelta(days=3))
    token = rebooking_token_make(appointment)
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_move(
            ctx=ui(team_lead), appointment_id=appointment.pk, start=local(26, 11)
        )
    assert (moved.start, moved.end, moved.sequence) == (local(26, 11), local(26, 11, 30), 1)
    assert moved.status == AppointmentStatus.SENT
    assert sent == [appointment.pk]
    with pytest.raises(ApplicationError):
        rebooking_token_read(token)  # the old link died
    event = CaseEvent.objects.get(case=own_case, data__appointment_id=appointment.pk)
    assert event.summary.startswith("Appointment moved from 11/25/2026 9 a.m. to 11/26/2026 11")
    assert event.actor == team_lead
    audit = AuditEvent.objects.get(object_type="appointment", object_id=str(appointment.pk))
    assert audit.detail["rebooked"]["to"]["start"] == local(26, 11).isoformat()


def test_the_moved_invitation_really_goes_out_with_the_new_time(
    caseworker, own_case, anna, django_capture_on_commit_callbacks
):
    german_template()
    own_case.customer.email = "kundin@example.org"
    own_case.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(caseworker, own_case, anna, local(25, 10))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_move(ctx=ui(caseworker), appointment_id=appointment.pk, start=local(27, 9))
    deliveries = InvitationDelivery.objects.filter(
        appointment=appointment, status=DeliveryStatus.SENT
    )
    assert sorted(deliveries.values_list("ics_sequence", flat=True)) == [0, 0, 1, 1]
    assert len(mail.outbox) == 2
    ics = next(a for a in mail.outbox[1].attachments if a[0].endswith(".ics"))[1]
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == local(27, 9)


def test_moving_to_a_colleague_checks_the_colleagues_calendar(
    caseworker, own_case, anna, ben, sent
):
    appointment = make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.SENT)
    Absence.objects.create(user=ben, start=local(26, 0), end=local(27, 0), kind="sick")
    with pytest.raises(ApplicationError, match="is absent then"):
        appointment_move(
            ctx=ui(caseworker), appointment_id=appointment.pk, start=local(26, 10), staff_id=ben.pk
        )
    moved = appointment_move(
        ctx=ui(caseworker), appointment_id=appointment.pk, start=local(27, 10), staff_id=ben.pk
    )
    assert (moved.staff, moved.start) == (ben, local(27, 10))


@pytest.mark.parametrize(
    ("status", "start", "message"),
    [
        (AppointmentStatus.SENT, local(23, 6), "in the future"),
        (AppointmentStatus.SENT, dt.datetime(2099, 12, 1, 10, tzinfo=BERLIN), "365 days ahead"),
        (AppointmentStatus.SENT, local(25, 20), "outside their working hours"),
        (AppointmentStatus.SENT, local(25, 9), "at this time already"),
        (AppointmentStatus.CANCELLED, local(26, 10), "can be moved"),
        (AppointmentStatus.ATTENDED, local(26, 10), "can be moved"),
    ],
)
def test_a_move_against_the_rules_changes_nothing(
    caseworker, own_case, anna, sent, status, start, message
):
    appointment = make_appointment(own_case, anna, local(25, 9), status=status)
    with pytest.raises(ApplicationError, match=message):
        appointment_move(ctx=ui(caseworker), appointment_id=appointment.pk, start=start)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.sequence) == (local(25, 9), 0)
    assert sent == []


def test_staff_of_another_team_cannot_move(other_caseworker, own_case, anna):
    appointment = make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.SENT)
    with pytest.raises(ApplicationError):
        appointment_move(
            ctx=ui(other_caseworker), appointment_id=appointment.pk, start=local(26, 10)
        )
    appointment.refresh_from_db()
    assert appointment.start == local(25, 9)
