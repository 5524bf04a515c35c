"""Reminders: rows made when the invitation goes out, sent once by the periodic task."""

import datetime as dt
import logging
import threading
import time

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderChannel,
    ReminderPolicy,
    ReminderStatus,
)
from scheduling.services_appointments import appointment_delivery_records, appointment_rebook
from scheduling.services_invitations import invitation_send
from scheduling.services_reminders import (
    reminders_cancel_for,
    reminders_reschedule,
    reminders_schedule_for,
    reminders_send_due,
)
from scheduling.tasks import scheduling_reminders_send
from tests.cases.factories import CaseFactory
from tests.scheduling.test_invitations import (
    START,
    appointment_make,
    german_v1_install,
    staff_make,
)
from tests.scheduling.test_sms import gateway_serve

NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # a week before START (2 Dec, 09:00 Berlin)
EMAIL_DUE = START - dt.timedelta(hours=48)
SMS_DUE = START - dt.timedelta(hours=24)


@pytest.fixture(autouse=True)
def german_v1(db):
    german_v1_install()


@pytest.fixture
def staff(team):
    return staff_make(team)


@pytest.fixture
def appointment(team, staff):
    return appointment_make(team, staff)


@pytest.fixture
def ctx(staff):
    return AuditContext(actor=staff, channel="ui")


@pytest.fixture
def gateway():
    with gateway_serve() as server:
        yield server


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def customer(appointment):
    customer = appointment.case.customer
    customer.phone = "0170 1234567"
    customer.save()
    return customer


@pytest.fixture
def sent(appointment, customer, ctx):
    """The appointment with its invitation sent (which schedules the reminders)."""
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    mail.outbox.clear()
    appointment.refresh_from_db()
    return appointment


def _reminders(appointment) -> dict[str, Reminder]:
    return {r.channel: r for r in Reminder.objects.filter(appointment=appointment)}


# --- scheduling --------------------------------------------------------------------------------------


def test_sending_the_invitation_schedules_one_reminder_per_channel(sent):
    reminders = _reminders(sent)
    assert set(reminders) == {ReminderChannel.EMAIL, ReminderChannel.SMS}
    assert reminders["email"].due_at == EMAIL_DUE
    assert reminders["email"].recipient == "jana.schulz@example.org"
    assert reminders["sms"].due_at == SMS_DUE
    assert reminders["sms"].recipient == "0170 1234567"
    assert all(
        r.status == ReminderStatus.PENDING and r.appointment_sequence == 0
        for r in reminders.values()
    )


def test_scheduling_again_makes_no_second_row(sent):
    again = reminders_schedule_for(appointment=sent)
    assert sorted(r.pk for r in again) == sorted(r.pk for r in _reminders(sent).values())
    assert Reminder.objects.count() == 2


def test_a_channel_turned_off_gets_no_reminder(appointment, customer, ctx):
    policy = ReminderPolicy.load()
    policy.sms_hours_before = 0
    policy.save()
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert set(_reminders(appointment)) == {ReminderChannel.EMAIL}


def test_no_reminder_without_an_address(appointment, ctx):
    customer = appointment.case.customer
    customer.email = ""
    customer.phone = ""
    customer.save()
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert _reminders(appointment) == {}


def test_no_reminder_whose_time_has_passed_already(appointment, customer, ctx, frozen):
    frozen.move_to(START - dt.timedelta(hours=30))  # e-mail time (48 h before) is over
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert set(_reminders(appointment)) == {ReminderChannel.SMS}


def test_no_reminder_before_the_invitation_went_out(appointment, customer):
    assert appointment.status == AppointmentStatus.APPROVED
    assert reminders_schedule_for(appointment=appointment) == []


# --- sending -------------------------------------------------------------------------------------------


def test_the_periodic_task_sends_each_reminder_once(sent, frozen, gateway, settings):
    settings.SMS_BACKEND = "scheduling.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    assert reminders_send_due() == 0  # nothing due yet
    frozen.move_to(SMS_DUE + dt.timedelta(minutes=1))

    assert scheduling_reminders_send.delay().get() == 2
    assert reminders_send_due() == 0

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jana.schulz@example.org"]
    assert message.subject == "Erinnerung an Ihren Termin am Mittwoch, 02.12.2026 um 09:00 Uhr"
    for expected in ("Jobcenter Mitte, Raum 2.14", "Anna Berg", "/scheduling/rebook/"):
        assert expected in message.body
    assert "Reminder of your appointment" not in message.alternatives[0].content

    reminders = _reminders(sent)
    assert {r.status for r in reminders.values()} == {ReminderStatus.SENT}
    assert reminders["sms"].recipient == "+491701234567"
    assert reminders["email"].sent_at == SMS_DUE + dt.timedelta(minutes=1)
    assert len(gateway.requests) == 1
    sms = gateway.requests[0]["body"]["text"]
    assert "02.12.2026" in sms
    assert "09:00 Uhr" in sms

    audits = AuditEvent.objects.filter(object_type="reminder").order_by("id")
    assert [(a.object_id, a.customer_id, a.detail["status"]) for a in audits] == [
        (str(r.pk), sent.case.customer_id, "sent")
        for r in sorted(reminders.values(), key=lambda r: (r.due_at, r.pk))
    ]
    assert all(a.actor is None and a.channel == "system" for a in audits)


def test_the_reminder_e_mail_adds_the_customers_language(sent, frozen):
    customer = sent.case.customer
    customer.preferred_language = "en"
    customer.save()
    frozen.move_to(EMAIL_DUE + dt.timedelta(minutes=1))
    assert reminders_send_due() == 1
    body = mail.outbox[0].body
    assert body.index("Guten Tag Jana Schulz") < body.index("Dear Jana Schulz")
    assert "Wednesday, 02 December 2026" in body
    assert "only the German text and your invitation are binding" in body


def test_an_invalid_phone_number_is_recorded_as_failed(sent, customer, frozen):
    customer.phone = "bitte anrufen"
    customer.save()
    frozen.move_to(SMS_DUE)
    assert reminders_send_due() == 1  # the e-mail
    sms = _reminders(sent)["sms"]
    assert sms.status == ReminderStatus.FAILED
    assert "InvalidPhoneNumberError" in sms.error
    assert sms.sent_at is None
    audit = AuditEvent.objects.get(object_type="reminder", object_id=str(sms.pk))
    assert audit.detail["status"] == "failed"
    assert reminders_send_due() == 0  # a failure is not retried every five minutes


def test_a_gateway_failure_is_recorded_with_its_status(sent, frozen, gateway, settings):
    gateway.status = 500
    settings.SMS_BACKEND = "scheduling.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    frozen.move_to(SMS_DUE)
    reminders_send_due()
    sms = _reminders(sent)["sms"]
    assert sms.status == ReminderStatus.FAILED
    assert "HTTP 500" in sms.error
    assert gateway.requests[0]["body"]["to"] == "+491701234567"
    assert _reminders(sent)["email"].status == ReminderStatus.SENT


def test_a_cancelled_appointment_gets_no_reminder(sent, frozen):
    Appointment.objects.filter(pk=sent.pk).update(status=AppointmentStatus.CANCELLED)
    frozen.move_to(SMS_DUE)
    assert reminders_send_due() == 0
    assert mail.outbox == []
    assert {r.status for r in _reminders(sent).values()} == {ReminderStatus.CANCELLED}


def test_reminders_cancel_for_cancels_the_pending_ones(sent):
    assert reminders_cancel_for(appointment=sent) == 2
    assert reminders_cancel_for(appointment=sent) == 0
    assert {r.status for r in _reminders(sent).values()} == {ReminderStatus.CANCELLED}


def test_without_a_gateway_the_sms_reminder_is_recorded_as_not_sent(sent, frozen, caplog):
    # The default backend writes the SMS to the log: nothing reached the customer, so the
    # reminder is "not sent: no SMS gateway", not sent, not failed, and not counted.
    caplog.set_level(logging.INFO, logger="scheduling.sms")
    frozen.move_to(SMS_DUE + dt.timedelta(minutes=1))

    assert reminders_send_due() == 1  # the e-mail

    reminders = _reminders(sent)
    assert reminders["email"].status == ReminderStatus.SENT
    sms = reminders["sms"]
    assert sms.status == ReminderStatus.NOT_SENT
    assert sms.get_status_display() == "nicht gesendet: kein SMS-Gateway"
    assert sms.sent_at is None
    assert "no SMS gateway configured" in sms.error
    sms_log = [r.getMessage() for r in caplog.records if r.name == "scheduling.sms"]
    assert len(sms_log) == 1
    assert "02.12.2026" in sms_log[0]
    audit = AuditEvent.objects.get(object_type="reminder", object_id=str(sms.pk))
    assert audit.detail["status"] == "not_sent"
    assert audit.detail["channel"] == "sms"
    # Never tried again.
    assert reminders_send_due() == 0
    assert len([r for r in caplog.records if r.name == "scheduling.sms"]) == 1
    # Staff see it on the case's appointment card (and in the API) as not sent.
    records = appointment_delivery_records(sent)
    assert {(r["channel"], r["status"]) for r in records if r["kind"] == "reminder"} == {
        ("email", "sent"),
        ("sms", "not_sent"),
    }


def test_with_sms_switched_off_no_sms_reminder_is_made(appointment, customer, ctx, settings):
    settings.SMS_BACKEND = "off"
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert set(_reminders(appointment)) == {"email"}


def test_a_moved_appointment_cancels_the_old_reminders_and_schedules_new_ones(
    sent, ctx, frozen, gateway, settings
):
    settings.SMS_BACKEND = "scheduling.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    new_start = START + dt.timedelta(days=1)
    moved = appointment_rebook(ctx=ctx, appointment_id=sent.pk, new_start=new_start)
    assert moved.sequence == 1
    reminders_reschedule(appointment=moved)

    rows = Reminder.objects.filter(appointment=sent).order_by("appointment_sequence", "channel")
    assert [(r.appointment_sequence, r.channel, r.status, r.due_at) for r in rows] == [
        (0, "email", ReminderStatus.CANCELLED, EMAIL_DUE),
        (0, "sms", ReminderStatus.CANCELLED, SMS_DUE),
        (1, "email", ReminderStatus.PENDING, new_start - dt.timedelta(hours=48)),
        (1, "sms", ReminderStatus.PENDING, new_start - dt.timedelta(hours=24)),
    ]
    frozen.move_to(new_start - dt.timedelta(hours=1))
    assert reminders_send_due() == 2
    assert "Donnerstag, 03.12.2026" in mail.outbox[0].body


def test_a_reminder_of_an_older_version_is_cancelled_not_sent(sent, frozen):
    # Moved by a path that did not reschedule: the periodic task must still not send it.
    Appointment.objects.filter(pk=sent.pk).update(sequence=1)
    frozen.move_to(SMS_DUE)
    assert reminders_send_due() == 0
    assert mail.outbox == []
    assert {r.status for r in _reminders(sent).values()} == {ReminderStatus.CANCELLED}


# --- two workers at once (PostgreSQL) ------------------------------------------------------------------


class SlowBackend(EmailBackend):
    """locmem, but each message takes a moment: the two workers overlap for sure."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_each_reminder_exactly_once(
    team, staff, ctx, settings, frozen
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writes; the race needs PostgreSQL's row locks.")
    settings.EMAIL_BACKEND = "tests.scheduling.test_reminders.SlowBackend"
    policy = ReminderPolicy.load()
    policy.sms_hours_before = 0
    policy.save()
    appointments = []
    for n in range(12):
        case = CaseFactory(team=team, caseworker=staff)
        case.customer.email = f"kunde{n}@example.org"
        case.customer.save()
        appointments.append(
            Appointment.objects.create(
                case=case,
                staff=staff,
                start=START + dt.timedelta(minutes=30 * n),
                end=START + dt.timedelta(minutes=30 * n + 30),
                channel="in_person",
                location="Raum 1",
                purpose="Beratung",
                status=AppointmentStatus.SENT,
            )
        )
    for item in appointments:
        reminders_schedule_for(appointment=item)
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 12

    barrier = threading.Barrier(2)
    counts: list[object] = []
    later = START - dt.timedelta(minutes=1)  # every e-mail reminder is due, no appointment begun

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(reminders_send_due(now=later))
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            counts.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(count, int) for count in counts), counts
    assert sum(counts) == 12
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"kunde{n}@example.org" for n in range(12)
    )
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 12
    assert AuditEvent.objects.filter(object_type="reminder").count() == 12
