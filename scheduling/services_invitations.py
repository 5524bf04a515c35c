"""Invitations (Einladung nach § 59 SGB II in Verbindung mit § 309 SGB III): the text from the
versioned template, the letter PDF, the e-mail with the ICS file, and the record of delivery.

An invitation goes out only after a human approved the appointment (status "approved"), or again
after a change of an appointment already sent (status "sent"; the ICS file carries the
appointment's current SEQUENCE so calendar programs update the entry). Every channel tried leaves
one InvitationDelivery row with the exact template version used; a mail server that refuses the
message is recorded as failed and leaves the appointment approved, so it can be sent again.
"""

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Channel, Customer
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.calendars import ics_invitation
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    DeliveryStatus,
    InvitationChannel,
    InvitationDelivery,
    InvitationTemplate,
)
from scheduling.services_appointments import rebooking_token_make

logger = logging.getLogger(__name__)

FALLBACK_LANGUAGE = "de"
SENDABLE_STATUSES = (AppointmentStatus.APPROVED, AppointmentStatus.SENT)

# The customer's document, not the staff UI: the words that fill the template follow the template's
# language (like cases/pdf/texts.py), not the language of the person who sends it.
_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_DATE_FORMAT = {"de": "%d.%m.%Y", "en": "%d %B %Y"}
_TIME_FORMAT = {"de": "%H:%M Uhr", "en": "%H:%M"}
_CHANNELS = {
    "de": {
        Channel.IN_PERSON: "persönlich im Jobcenter",
        Channel.PHONE: "telefonisch (wir rufen Sie an)",
        Channel.VIDEO: "per Video",
        Channel.OUTREACH: "aufsuchend (wir treffen Sie vor Ort)",
    },
    "en": {
        Channel.IN_PERSON: "in person at the jobcenter",
        Channel.PHONE: "by phone (we will call you)",
        Channel.VIDEO: "by video",
        Channel.OUTREACH: "outreach (we meet you where you are)",
    },
}
_PLACE_PHONE = {"de": "Wir rufen Sie unter {phone} an.", "en": "We will call you on {phone}."}
_PLACE_PHONE_UNKNOWN = {
    "de": "Wir rufen Sie an. Bitte teilen Sie uns Ihre Telefonnummer mit.",
    "en": "We will call you. Please tell us your phone number.",
}
_PLACE_VIDEO = {"de": "Videolink: {link}", "en": "Video link: {link}"}
_PLACE_MISSING = {"de": "wird Ihnen noch mitgeteilt", "en": "to be announced"}


@dataclass(frozen=True)
class InvitationSendResult:
    appointment: Appointment
    deliveries: list[InvitationDelivery]
    letter_pdf: bytes
    rendered: dict = field(repr=False)


# --- templates -------------------------------------------------------------------------------------


@transaction.atomic
def invitation_template_publish(
    *,
    ctx: AuditContext,
    language: str,
    subject: str,
    body: str,
    legal_notice: str,
    valid_from: dt.datetime | None = None,
) -> InvitationTemplate:
    """A new version of the invitation text of `language` (versions are never edited in place)."""
    language = (language or "").strip().lower()
    if not language:
        raise ApplicationError(_("A template needs a language."))
    # Lock the language's versions so two admins publishing at once get different numbers.
    latest = (
        InvitationTemplate.objects.select_for_update()
        .filter(language=language)
        .aggregate(latest=Max("version"))["latest"]
    )
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    template = InvitationTemplate(
        version=(latest or 0) + 1,
        language=language,
        subject=subject.strip(),
        body=body.strip(),
        legal_notice=legal_notice.strip(),
        valid_from=valid_from or timezone.now(),
        created_by=actor,
    )
    template.full_clean()
    template.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="invitation_template",
        object_id=template.pk,
        detail={"language": language, "version": template.version},
    )
    return template


def invitation_template_current(*, language: str, now: dt.datetime | None = None):
    """The template of `language` in force now, else the German one (None if none at all)."""
    template = InvitationTemplate.objects.current(language=language, now=now)
    if template is None and language != FALLBACK_LANGUAGE:
        template = InvitationTemplate.objects.current(language=FALLBACK_LANGUAGE, now=now)
    return template


# --- rendering -------------------------------------------------------------------------------------


def invitation_rebook_url(appointment: Appointment) -> str:
    """The customer's rebooking link. Absolute when settings.SITE_URL is set, else a path."""
    path = reverse("scheduling:rebook", args=[rebooking_token_make(appointment)])
    base = (getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def _language_of(customer: Customer) -> str:
    return (customer.preferred_language or "").strip().lower().split("-")[0] or FALLBACK_LANGUAGE


def _place(appointment: Appointment, customer: Customer, language: str) -> str:
    words = language if language in _CHANNELS else FALLBACK_LANGUAGE
    if appointment.channel == Channel.PHONE:
        if customer.phone:
            return _PLACE_PHONE[words].format(phone=customer.phone)
        return _PLACE_PHONE_UNKNOWN[words]
    if appointment.channel == Channel.VIDEO and appointment.video_link:
        return _PLACE_VIDEO[words].format(link=appointment.video_link)
    return appointment.location or _PLACE_MISSING[words]


def invitation_values(*, appointment: Appointment, language: str) -> dict[str, str]:
    """The values of the template's placeholders for this appointment."""
    words = language if language in _CHANNELS else FALLBACK_LANGUAGE
    customer = appointment.case.customer
    start = appointment.start.astimezone(ZoneInfo(settings.TIME_ZONE))
    staff = appointment.staff
    return {
        "name": customer.full_name,
        "date": f"{_WEEKDAYS[words][start.weekday()]}, {start.strftime(_DATE_FORMAT[words])}",
        "time": start.strftime(_TIME_FORMAT[words]),
        "place": _place(appointment, customer, language),
        "channel": _CHANNELS[words].get(appointment.channel, appointment.channel),
        "purpose": appointment.purpose,
        "caseworker": staff.get_full_name() or staff.get_username(),
        "rebook_url": invitation_rebook_url(appointment),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    # format_map with a default: a placeholder the template does not know stays as written.
    return text.format_map(defaultdict(str, values))


def invitation_render(*, appointment: Appointment, language: str | None = None) -> dict:
    """Subject, body and notice of legal consequences filled for this appointment.

    `language` defaults to the customer's preferred language; where no template of that language
    exists, the German one is used (`language` in the result says which one).
    """
    customer = appointment.case.customer
    wanted = (language or _language_of(customer)).strip().lower()
    template = invitation_template_current(language=wanted)
    if template is None:
        raise ApplicationError(
            _("There is no invitation template yet. An administrator must publish one first.")
        )
    values = invitation_values(appointment=appointment, language=template.language)
    return {
        "template": template,
        "language": template.language,
        "version": template.version,
        "subject": _fill(template.subject, values),
        "body": _fill(template.body, values),
        "legal_notice": _fill(template.legal_notice, values),
        "values": values,
    }


# --- sending ---------------------------------------------------------------------------------------


def _postal_address(customer: Customer) -> str:
    household = customer.household
    return f"{customer.full_name}\n{household.street}\n{household.postal_code} {household.city}"


def _ics(appointment: Appointment, rendered: dict, attendee: str) -> bytes:
    return ics_invitation(
        event={
            "uid": appointment.uid,
            "start": appointment.start,
            "end": appointment.end,
            "sequence": appointment.sequence,
            "summary": rendered["subject"],
            "location": rendered["values"]["place"],
            "description": f"{rendered['body']}\n\n{rendered['legal_notice']}",
        },
        organizer_email=appointment.staff.email or settings.DEFAULT_FROM_EMAIL,
        organizer_name=rendered["values"]["caseworker"],
        attendee_emails=[attendee],
        method="REQUEST",
    )


def _email(appointment: Appointment, rendered: dict, pdf: bytes, filename: str, to: str):
    context = {
        "subject": rendered["subject"],
        "body": rendered["body"],
        "legal_notice": rendered["legal_notice"],
        "rebook_url": rendered["values"]["rebook_url"],
        "language": rendered["language"],
    }
    # The e-mail is in the language of its template, whoever sends it.
    with translation.override(rendered["language"]):
        text = render_to_string("scheduling/email/invitation.txt", context)
        html = render_to_string("scheduling/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=rendered["subject"],
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(html, "text/html")
    message.attach(
        "einladung.ics", _ics(appointment, rendered, to), "text/calendar; method=REQUEST"
    )
    message.attach(filename, pdf, "application/pdf")
    return message


@transaction.atomic
def invitation_send(
    *, ctx: AuditContext, appointment_id: int, resend: bool = False
) -> InvitationSendResult:
    """Send the invitation of an approved appointment (or send it again after a change).

    Always makes the letter PDF (to print and post); sends an e-mail with the ICS file and the
    PDF if the customer has an e-mail address. One delivery row per channel. An appointment
    already sent is sent again only after a change (its `sequence` rose) or with `resend=True`
    (say, the customer lost the letter), so a double click or two sends at once send once.
    """
    from scheduling.letters import invitation_letter_pdf  # fpdf2 loads only when letters are made

    # Locked until commit: a second send at the same moment waits, then sees the new state.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("case__customer__household", "staff")
        .get(pk=appointment_id)
    )
    if appointment.status not in SENDABLE_STATUSES:
        if appointment.status == AppointmentStatus.PLANNED:
            raise ApplicationError(
                _(
                    "This invitation needs approval first: a person must approve it before it is sent."
                )
            )
        raise ApplicationError(
            _("Invitations can only be sent for approved appointments (status now: %(status)s).")
            % {"status": appointment.get_status_display()}
        )
    if appointment.status == AppointmentStatus.SENT and not resend:
        already = appointment.invitation_deliveries.filter(
            status=DeliveryStatus.SENT, ics_sequence__gte=appointment.sequence
        ).exists()
        if already:
            # The usual case of two sends at once: the second one waited for the lock above.
            raise ConflictError(
                _(
                    "This invitation has already been sent and the appointment has not changed since."
                )
            )
    customer = appointment.case.customer
    # The German text is the binding one (the customer's language may follow in a later version).
    rendered = invitation_render(appointment=appointment, language=FALLBACK_LANGUAGE)
    template = rendered["template"]
    pdf = invitation_letter_pdf(appointment=appointment, rendered=rendered)
    filename = f"einladung-{customer.customer_number}-{appointment.pk}-{appointment.sequence}.pdf"
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    now = timezone.now()

    deliveries = [
        InvitationDelivery.objects.create(
            appointment=appointment,
            channel=InvitationChannel.LETTER,
            template=template,
            sent_at=now,
            sent_by=actor,
            recipient=_postal_address(customer),
            status=DeliveryStatus.SENT,
            ics_sequence=appointment.sequence,
        )
    ]
    email_failed = False
    if customer.email:
        error = ""
        try:
            _email(appointment, rendered, pdf, filename, customer.email).send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - any mail backend failure is recorded, not raised
            logger.warning("Invitation e-mail for appointment %s failed: %s", appointment.pk, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            email_failed = True
        deliveries.append(
            InvitationDelivery.objects.create(
                appointment=appointment,
                channel=InvitationChannel.EMAIL,
                template=template,
                sent_at=now,
                sent_by=actor,
                recipient=customer.email,
                status=DeliveryStatus.FAILED if email_failed else DeliveryStatus.SENT,
                error=error,
                ics_sequence=appointment.sequence,
            )
        )

    previous_status = appointment.status
    if not email_failed:
        appointment.status = AppointmentStatus.SENT
        appointment.save(update_fields=["status", "updated_at"])
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="invitation",
        object_id=appointment.pk,
        customer_id=customer.pk,
        detail={
            "template": {"language": template.language, "version": template.version},
            "sequence": appointment.sequence,
            "deliveries": [
                {"id": delivery.pk, "channel": delivery.channel, "status": delivery.status}
                for delivery in deliveries
            ],
            "status": {"from": previous_status, "to": appointment.status},
        },
    )
    return InvitationSendResult(
        appointment=appointment, deliveries=deliveries, letter_pdf=pdf, rendered=rendered
    )
