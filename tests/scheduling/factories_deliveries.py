"""Records of what went to the customer, made directly (the sending itself is tested in
test_invitations.py): an invitation delivery with its template version and a reminder."""

import datetime as dt

from scheduling.models import (
    Appointment,
    DeliveryStatus,
    InvitationChannel,
    InvitationDelivery,
    InvitationTemplate,
    Reminder,
    ReminderStatus,
)

LETTER_PDF = b"%PDF-1.4 a letter"


def german_template() -> InvitationTemplate:
    """The newest German template (version 1 comes with the migrations; a transactional test may
    have flushed it, then one is made)."""
    template = InvitationTemplate.objects.filter(language="de").order_by("-version").first()
    if template is not None:
        return template
    return InvitationTemplate.objects.create(
        version=99,
        language="de",
        subject="Einladung",
        body="Bitte kommen Sie.",
        legal_notice="Rechtsfolgenbelehrung",
        valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def record_delivery(
    appointment: Appointment,
    *,
    at: dt.datetime,
    channel: str = InvitationChannel.LETTER,
    status: str = DeliveryStatus.SENT,
    sequence: int | None = None,
    recipient: str = "Frau Muster\nMusterstraße 1\n12345 Berlin",
    error: str = "",
    language: str = "de",
) -> InvitationDelivery:
    """One invitation delivery of the appointment's current version (a letter keeps a PDF)."""
    return InvitationDelivery.objects.create(
        appointment=appointment,
        channel=channel,
        template=german_template(),
        sent_at=at,
        recipient=recipient,
        status=status,
        error=error,
        ics_sequence=appointment.sequence if sequence is None else sequence,
        document=LETTER_PDF if channel == InvitationChannel.LETTER else None,
        language=language,
    )


def record_reminder(
    appointment: Appointment,
    *,
    at: dt.datetime,
    channel: str = "sms",
    status: str = ReminderStatus.SENT,
    recipient: str = "+49 170 1234567",
    error: str = "",
) -> Reminder:
    return Reminder.objects.create(
        appointment=appointment,
        channel=channel,
        due_at=at,
        appointment_sequence=appointment.sequence,
        status=status,
        recipient=recipient,
        sent_at=at if status == ReminderStatus.SENT else None,
        error=error,
    )
