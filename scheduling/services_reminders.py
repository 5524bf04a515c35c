"""Reminders before an appointment: rows in the database, sent by a periodic task.

A reminder is a Reminder row (appointment, channel, due_at, the appointment's sequence), never a
Celery task with an ETA days ahead: a worker restart, a moved appointment or a changed policy cannot
leave a stale message in a queue. `reminders_send_due` (beat, every five minutes) sends the rows
whose time has come; each row is locked while it is sent (SKIP LOCKED on PostgreSQL, so two workers
never send the same one) and ends as sent, failed (with the error), not sent (an SMS with no gateway
configured: the log backend took it and nothing reached the customer) or cancelled.

Decisions:
- Reminders are made when the invitation has gone out (status sent or confirmed), one per channel
  the ReminderPolicy turns on (hours before > 0) and the customer has an address for; no SMS
  reminders when SMS are switched off (DJANGO_SMS_BACKEND=off).
- Only a reminder whose time lies ahead is made: an appointment closer than the policy's hours got
  its invitation moments ago, and a reminder right after it would only be noise.
- The address is read again when the reminder is sent (the customer may have changed it); a phone
  number that cannot be one is recorded as failed with the reason.
- A reminder of an appointment that is no longer active, or of an older version (moved since), is
  cancelled instead of sent.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import pgettext

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Customer
from scheduling.languages import customer_language, language_is_rtl
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderChannel,
    ReminderPolicy,
    ReminderStatus,
)
from scheduling.sms import SmsGatewayMissingError, sms_enabled, sms_send

logger = logging.getLogger(__name__)

# Reminders are made once the customer has the invitation.
REMINDED_STATUSES = (AppointmentStatus.SENT, AppointmentStatus.CONFIRMED)

# The customer's message, not the staff UI: its words follow the message's language (like
# services_invitations), German always first (its words here); the customer's language after it
# where it is one of settings.CUSTOMER_LANGUAGES (catalogue, "customer" context, English msgids).
_REMINDER_DE = {
    "subject": "Erinnerung an Ihren Termin am {date} um {time}",
    "heading": "Erinnerung an Ihren Termin",
    "greeting": "Guten Tag {name},",
    "intro": "wir erinnern Sie an Ihren Termin im Jobcenter:",
    "date": "Datum",
    "time": "Uhrzeit",
    "place": "Ort",
    "caseworker": "Ihre Ansprechperson",
    "rebook": (
        "Wenn Sie nicht kommen können, sagen Sie bitte vor dem Termin Bescheid. Einen anderen "
        "Termin können Sie hier wählen oder um einen Rückruf bitten:"
    ),
    "binding": "Es gilt die Einladung, die Sie erhalten haben.",
}


def _reminder_words(language: str) -> dict[str, str]:
    """The reminder's words in a customer language (the active catalogue), "{name}" kept."""
    with translation.override(language):
        return {
            "heading": pgettext("customer", "Reminder of your appointment"),
            "greeting": pgettext("customer", "Dear %(name)s,") % {"name": "{name}"},
            "intro": pgettext(
                "customer", "This is a reminder of your appointment at the jobcenter:"
            ),
            "date": pgettext("customer", "Date"),
            "time": pgettext("customer", "Time"),
            "place": pgettext("customer", "Place"),
            "caseworker": pgettext("customer", "Your contact person"),
            "rebook": pgettext(
                "customer",
                "If you cannot come, please tell us before the appointment. You can choose another "
                "time or ask for a call-back here:",
            ),
            "binding": pgettext(
                "customer", "Translation: only the German text and your invitation are binding."
            ),
        }


# SMS: the German line (binding, with the link), then one short line in the customer's language
# without the link. GSM-7 carries 153 characters a part of a long SMS, but one character outside
# GSM-7 (Cyrillic, Arabic, Turkish ş, Polish ł, Romanian ș ...) turns the whole SMS into UCS-2 with
# 67 a part. SMS_MAX_PARTS caps the cost: a translated line that would take the SMS over it is left
# out (the link leads to the rebooking page in the customer's language anyway).
# The link cannot cancel an appointment: it moves it or asks for a call-back (as short as the
# words it replaced: every character counts against SMS_MAX_PARTS).
_SMS_TEXT = (
    "Jobcenter: Erinnerung an Ihren Termin am {date} um {time}, {place}. "
    "Verschieben oder Rückruf: {rebook_url}"
)
_SMS_PLACE_LENGTH = 60
_SMS_PLACE_LENGTH_WITH_TRANSLATION = 24
SMS_MAX_PARTS = 6
# GSM 03.38: the basic set, and the extension set (two septets each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_parts(text: str) -> int:
    """How many parts the SMS takes: GSM-7 (160 characters alone, 153 a part) where every
    character is in GSM 03.38, else UCS-2 (70 alone, 67 a part; a character beyond the BMP, such
    as an emoji, counts twice)."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        units = sum(2 if char in _GSM7_EXTENSION else 1 for char in text)
        single, part = 160, 153
    else:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, part = 70, 67
    return 1 if units <= single else -(-units // part)


def _system_ctx() -> AuditContext:
    return AuditContext.system()


def _email_of(customer: Customer) -> str:
    return (customer.email or "").strip()


def _phone_of(customer: Customer) -> str:
    return (customer.phone or "").strip()


_ADDRESS = {ReminderChannel.EMAIL: _email_of, ReminderChannel.SMS: _phone_of}


def _hours(policy: ReminderPolicy, channel: str) -> int:
    if channel == ReminderChannel.EMAIL:
        return policy.email_hours_before
    return policy.sms_hours_before


def reminders_schedule_for(
    *, appointment: Appointment, now: dt.datetime | None = None
) -> list[Reminder]:
    """The reminders of the appointment's current version, made where missing.

    One per channel turned on in the ReminderPolicy, if the customer has an address for it and
    the reminder's time lies ahead. Idempotent: an existing row of (appointment, channel,
    sequence) is returned as it is (the unique constraint decides two callers at once).
    """
    now = now or timezone.now()
    if appointment.status not in REMINDED_STATUSES or appointment.start <= now:
        return []
    policy = ReminderPolicy.load()
    customer = appointment.case.customer
    reminders = []
    for channel in (ReminderChannel.EMAIL, ReminderChannel.SMS):
        hours = _hours(policy, channel)
        recipient = _ADDRESS[channel](customer)
        if not hours or not recipient:
            continue
        if channel == ReminderChannel.SMS and not sms_enabled():
            continue
        due_at = appointment.start - dt.timedelta(hours=hours)
        if due_at <= now:
            continue
        key = {
            "appointment": appointment,
            "channel": channel,
            "appointment_sequence": appointment.sequence,
        }
        try:
            with transaction.atomic():  # a savepoint: the other caller's row wins, we read it
                reminder, _created = Reminder.objects.get_or_create(
                    **key, defaults={"due_at": due_at, "recipient": recipient}
                )
        except IntegrityError:
            reminder = Reminder.objects.get(**key)
        reminders.append(reminder)
    return reminders


@transaction.atomic
def reminders_cancel_for(*, appointment: Appointment, below_sequence: int | None = None) -> int:
    """Cancel the appointment's pending reminders (only those of older versions with
    `below_sequence`); returns how many."""
    pending = Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING)
    if below_sequence is not None:
        pending = pending.filter(appointment_sequence__lt=below_sequence)
    return pending.update(status=ReminderStatus.CANCELLED)


@transaction.atomic
def reminders_reschedule(*, appointment: Appointment) -> list[Reminder]:
    """After a change: the older versions' pending reminders are cancelled, the current version's
    made (none if the appointment is no longer active or its invitation not sent yet)."""
    if appointment.is_active:
        reminders_cancel_for(appointment=appointment, below_sequence=appointment.sequence)
    else:
        reminders_cancel_for(appointment=appointment)
    return reminders_schedule_for(appointment=appointment)


# --- sending -----------------------------------------------------------------------------------------


def _sections(appointment: Appointment) -> list[dict]:
    """The message's text blocks: German, then the customer's language where we have its words."""
    from scheduling.services_invitations import (
        FALLBACK_LANGUAGE,
        _language_of,
        invitation_values,
        jobcenter_contact,
        jobcenter_of,
    )

    jobcenter = jobcenter_of(appointment)
    languages = [FALLBACK_LANGUAGE]
    wanted = customer_language(_language_of(appointment.case.customer))
    if wanted and wanted != FALLBACK_LANGUAGE:
        languages.append(wanted)
    sections = []
    for language in languages:
        words = _REMINDER_DE if language == FALLBACK_LANGUAGE else _reminder_words(language)
        values = invitation_values(appointment=appointment, language=language)
        sections.append(
            {
                "language": language,
                "rtl": language_is_rtl(language),
                "heading": words["heading"],
                "greeting": words["greeting"].format(name=values["name"]),
                "intro": words["intro"],
                "rows": [
                    (words["date"], values["date"]),
                    (words["time"], values["time"]),
                    (words["place"], values["place"]),
                    (words["caseworker"], values["caseworker"]),
                ],
                "rebook": words["rebook"],
                "rebook_url": values["rebook_url"],
                "binding": words["binding"],
                "values": values,
                "contact": jobcenter_contact(jobcenter=jobcenter, language=language),
            }
        )
    return sections


def reminder_email_message(*, appointment: Appointment, to: str) -> EmailMultiAlternatives:
    sections = _sections(appointment)
    german = sections[0]["values"]
    subject = _REMINDER_DE["subject"].format(date=german["date"], time=german["time"])
    context = {"subject": subject, "sections": sections}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("scheduling/email/reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(
        render_to_string("scheduling/email/reminder.html", context), "text/html"
    )
    return message


def _sms_translated_line(appointment: Appointment, language: str) -> str:
    """The SMS's line in a customer language: date (the language's short format) and time."""
    start = timezone.localtime(appointment.start)
    with translation.override(language):
        # The language's short date; English not Django's US "12/02/2026" but "02 December 2026".
        if language == "en":
            date = start.strftime("%d %B %Y")
        else:
            date = date_format(start, "SHORT_DATE_FORMAT")
        return pgettext(
            "customer",
            "Reminder of your jobcenter appointment on %(date)s at %(time)s. To move it or ask for "
            "a call-back, use the link above.",
        ) % {"date": date, "time": start.strftime("%H:%M")}


def reminder_sms_text(*, appointment: Appointment) -> str:
    """The German line with the link, then one line in the customer's language if the SMS stays
    within SMS_MAX_PARTS parts with it."""
    from scheduling.services_invitations import _language_of, invitation_values

    values = invitation_values(appointment=appointment, language="de")

    def german(place_length: int) -> str:
        place = values["place"]
        if len(place) > place_length:
            place = place[: place_length - 3] + "..."  # "…" is not GSM-7
        return _SMS_TEXT.format(
            date=values["date"], time=values["time"], place=place, rebook_url=values["rebook_url"]
        )

    text = german(_SMS_PLACE_LENGTH)
    language = customer_language(_language_of(appointment.case.customer))
    if language and language != "de":
        translated = _sms_translated_line(appointment, language)
        # A non-GSM script makes every part shorter: the place is cut shorter first (the letter
        # has it in full), the translated line is left out only when even that is too long.
        for place_length in (_SMS_PLACE_LENGTH, _SMS_PLACE_LENGTH_WITH_TRANSLATION):
            both = f"{german(place_length)}\n{translated}"
            if sms_parts(both) <= SMS_MAX_PARTS:
                return both
    return text


def _deliver(reminder: Reminder, appointment: Appointment) -> str:
    """Send one reminder; returns the address used. Raises on failure."""
    customer = appointment.case.customer
    address = _ADDRESS[reminder.channel](customer)
    if not address:
        raise ValueError("The customer has no address for this channel any more.")
    if reminder.channel == ReminderChannel.EMAIL:
        reminder_email_message(appointment=appointment, to=address).send(fail_silently=False)
        return address
    return sms_send(to=address, text=reminder_sms_text(appointment=appointment))


def _lock_one(reminder_id: int) -> Reminder | None:
    """The reminder, locked for this transaction, if it is still pending and nobody else holds it.

    SKIP LOCKED (PostgreSQL): a reminder another worker is sending right now is passed over, not
    waited for; when that worker commits, the row is no longer pending. SQLite serialises writes
    and has no row locks, so plain selection is enough there.
    """
    rows = Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.PENDING)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    else:
        rows = rows.select_for_update()
    return rows.first()


def _send_one(reminder_id: int, now: dt.datetime) -> str | None:
    """Send (or cancel) one due reminder in its own transaction; its new status, or None."""
    with transaction.atomic():
        reminder = _lock_one(reminder_id)
        if reminder is None:
            return None
        appointment = (
            Appointment.objects.select_related(
                "case__customer__household", "case__team__jobcenter", "staff"
            )
            .filter(pk=reminder.appointment_id)
            .first()
        )
        if (
            appointment is None
            or not appointment.is_active
            or appointment.sequence != reminder.appointment_sequence
            or appointment.start <= now
        ):
            reminder.status = ReminderStatus.CANCELLED
            reminder.save(update_fields=["status"])
            return reminder.status
        try:
            reminder.recipient = _deliver(reminder, appointment)[:254]
            reminder.status = ReminderStatus.SENT
            reminder.sent_at = timezone.now()
            reminder.error = ""
        except SmsGatewayMissingError as error:
            # Not a failure to retry or chase: there is nothing to send it through.
            reminder.status = ReminderStatus.NOT_SENT
            reminder.error = str(error)[:2000]
        except Exception as error:  # noqa: BLE001 - any gateway or mail failure is recorded
            logger.warning("Reminder %s (%s) failed: %s", reminder.pk, reminder.channel, error)
            reminder.status = ReminderStatus.FAILED
            reminder.error = f"{type(error).__name__}: {error}"[:2000]
        reminder.save(update_fields=["recipient", "status", "sent_at", "error"])
        audit_record(
            ctx=_system_ctx(),
            action=AuditAction.CREATE,
            object_type="reminder",
            object_id=reminder.pk,
            customer_id=appointment.case.customer_id,
            detail={
                "appointment_id": appointment.pk,
                "channel": reminder.channel,
                "sequence": reminder.appointment_sequence,
                "status": reminder.status,
            },
        )
        return reminder.status


def reminders_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the pending reminders whose time has come; returns how many were sent.

    Each reminder is sent in its own transaction with its row locked, so a second run at the same
    moment (another worker, a beat that fired twice) skips it, and a failure stops no other.
    """
    now = now or timezone.now()
    due_ids = list(
        Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for reminder_id in due_ids:
        if _send_one(reminder_id, now) == ReminderStatus.SENT:
            sent += 1
    if due_ids:
        logger.info("Reminders: %d of %d due sent.", sent, len(due_ids))
    return sent
