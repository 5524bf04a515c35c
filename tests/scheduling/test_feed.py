"""The staff member's private ICS feed: their appointments and the group sessions they host."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.urls import reverse

from audit.services import AuditContext
from organisation.models import Role
from scheduling.models import Appointment, AppointmentStatus, GroupSession
from scheduling.selectors import staff_feed_events
from scheduling.services_appointments import (
    appointment_cancel,
    appointment_create,
    appointment_rebook,
)
from tests.cases.factories import CaseFactory, CustomerFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(team):
    user = UserFactory(username="anna", role=Role.CASEWORKER, team=team)
    consenting_calendar(user, working_hours=WORKING_HOURS)
    return user


@pytest.fixture
def customer_case(team, staff):
    return CaseFactory(
        team=team,
        caseworker=staff,
        customer=CustomerFactory(
            customer_number="123D000042", first_name="Gisela", last_name="Geheimnis"
        ),
    )


def ctx(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def feed(client, user) -> dict[str, icalendar.Event]:
    """The feed as the calendar program reads it (no login): its events by UID."""
    token = user.staff_calendar.feed_token
    response = client.get(reverse("scheduling:calendar_feed", kwargs={"token": token}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events), "every UID once"
    return by_uid


def book(staff, case, start: dt.datetime) -> Appointment:
    return appointment_create(
        ctx=ctx(staff),
        case_id=case.pk,
        staff_id=staff.pk,
        start=start,
        end=start + dt.timedelta(minutes=30),
        channel="in_person",
        purpose="Beratung zur beruflichen Situation",
        location="Raum 2.01",
    )


def test_an_appointment_appears_with_its_uid_and_sequence(client, staff, customer_case):
    appointment = book(staff, customer_case, local(25, 9))

    events = feed(client, staff)

    event = events[appointment.uid]
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == local(25, 9)
    assert str(event["LOCATION"]) == "Raum 2.01"
    assert str(event["STATUS"]) in ("TENTATIVE", "CONFIRMED")


def test_the_summary_has_purpose_customer_number_and_channel_but_no_name(
    client, staff, customer_case
):
    appointment = book(staff, customer_case, local(25, 9))

    body = client.get(
        reverse("scheduling:calendar_feed", kwargs={"token": staff.staff_calendar.feed_token})
    ).content.decode()
    summary = str(feed(client, staff)[appointment.uid]["SUMMARY"])

    assert "Beratung zur beruflichen Situation" in summary
    assert "123D000042" in summary
    assert "Geheimnis" not in body
    assert "Gisela" not in body


def test_a_moved_appointment_has_a_higher_sequence(client, staff, customer_case):
    appointment = book(staff, customer_case, local(25, 9))

    appointment_rebook(ctx=ctx(staff), appointment_id=appointment.pk, new_start=local(26, 10))
    event = feed(client, staff)[appointment.uid]

    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == local(26, 10)


def test_a_cancelled_appointment_stays_in_the_feed_as_cancelled(client, staff, customer_case):
    appointment = book(staff, customer_case, local(25, 9))

    appointment_cancel(ctx=ctx(staff), appointment_id=appointment.pk, reason="Kunde krank")
    event = feed(client, staff)[appointment.uid]

    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1


def test_old_appointments_leave_the_feed_after_thirty_days(staff, customer_case):
    old = Appointment.objects.create(
        case=customer_case,
        staff=staff,
        start=NOW - dt.timedelta(days=31),
        end=NOW - dt.timedelta(days=31) + dt.timedelta(minutes=30),
        channel="phone",
        purpose="Alt",
        status=AppointmentStatus.ATTENDED,
    )
    recent = Appointment.objects.create(
        case=customer_case,
        staff=staff,
        start=NOW - dt.timedelta(days=3),
        end=NOW - dt.timedelta(days=3) + dt.timedelta(minutes=30),
        channel="phone",
        purpose="Neu",
        status=AppointmentStatus.ATTENDED,
    )

    uids = {event["uid"] for event in staff_feed_events(user=staff)}

    assert recent.uid in uids
    assert old.uid not in uids


def test_a_hosted_group_session_appears_once(client, staff, team):
    session = GroupSession.objects.create(
        team=team,
        host=staff,
        start=local(25, 10),
        end=local(25, 11, 30),
        capacity=5,
        channel="in_person",
        location="Raum 1.12",
        topic="Informationsveranstaltung",
    )
    for _number in range(3):
        Appointment.objects.create(
            case=CaseFactory(team=team),
            staff=staff,
            start=session.start,
            end=session.end,
            channel="in_person",
            location="Raum 1.12",
            purpose=session.topic,
            group_session=session,
        )

    events = feed(client, staff)

    assert list(events) == [session.uid]
    event = events[session.uid]
    assert "Informationsveranstaltung" in str(event["SUMMARY"])
    assert str(event["LOCATION"]) == "Raum 1.12"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_someone_elses_appointments_are_not_in_my_feed(client, staff, customer_case, team):
    colleague = UserFactory(username="bert", role=Role.CASEWORKER, team=team)
    consenting_calendar(colleague, working_hours=WORKING_HOURS)
    appointment = book(staff, customer_case, local(25, 9))

    assert appointment.uid not in feed(client, colleague)


def test_an_unknown_token_is_a_404(client, staff):
    response = client.get(reverse("scheduling:calendar_feed", kwargs={"token": "falsch"}))

    assert response.status_code == 404
