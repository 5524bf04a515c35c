"""Invitations (Einladung nach § 59 SGB II in Verbindung mit § 309 SGB III): the text from the
versioned template, the letter PDF, the e-mail with the ICS file, and the record of delivery.

An invitation goes out only after a human approved the appointment (status "approved"), or again
after a change of an appointment already sent (status "sent"; the ICS file carries the
appointment's current SEQUENCE so calendar programs update the entry). Every channel tried leaves
one InvitationDelivery row with the exact template version used; a mail server that refuses the
message is recorded as failed and leaves the appointment approved, so it can be sent again.

The German text is binding. Where the customer's preferred language has a published template (and
the letter's fonts can draw its script), its translation follows the German text in the letter and
the e-mail, marked as a translation; the delivery rows record that language. The letter PDF is kept
on the letter's row (`document`) and can be downloaded by staff of the case's team.

A cancelled appointment whose invitation went out gets a cancellation (`invitation_cancellation_send`):
a letter and an e-mail with ICS METHOD:CANCEL (same UID, higher SEQUENCE). The Celery task calls
`invitation_send_if_due`, which sends whichever is due and is idempotent.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.models import AuditAction, AuditEvent
from audit.services import AuditContext, audit_record
from cases.models import Channel, Customer
from cases.selectors import case_visible_to
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Jobcenter
from organisation.selectors import jobcenter_get_for_customers
from scheduling.calendars import ics_invitation
from scheduling.languages import customer_language, language_code_normalise, language_is_rtl
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    DeliveryStatus,
    InvitationChannel,
    InvitationDelivery,
    InvitationTemplate,
    template_fill,
)
from scheduling.services_appointments import rebooking_token_make
from scheduling.services_reminders import reminders_cancel_for, reminders_reschedule

logger = logging.getLogger(__name__)

FALLBACK_LANGUAGE = "de"
SENDABLE_STATUSES = (AppointmentStatus.APPROVED, AppointmentStatus.SENT)
# The audit rows of a withdrawn invitation; their existence also says "cancellation already sent"
# (InvitationDelivery has no kind of its own, and the row is written in the same transaction).
CANCELLATION_OBJECT = "invitation_cancellation"

# The customer's document, not the staff UI: the words that fill the template follow the template's
# language, not the language of the person who sends it. German (the binding text) and English keep
# their words here, as version 1 of the templates was written with them; every other customer
# language takes the catalogue's "customer"-context messages (whose msgids are the English words)
# and Django's date format of that language.
_WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_DATE_FORMAT = {"de": "%d.%m.%Y", "en": "%d %B %Y"}  # English: "02 December 2026", not US style
_TIME_FORMAT_DE = "%H:%M Uhr"
_TIME_FORMAT = "%H:%M"  # every translation: the 24-hour clock of the German letter
_CHANNELS_DE = {
    Channel.IN_PERSON: "persönlich im Jobcenter",
    Channel.PHONE: "telefonisch (wir rufen Sie an)",
    Channel.VIDEO: "per Video",
    Channel.OUTREACH: "aufsuchend (wir treffen Sie vor Ort)",
}
_PLACE_DE = {
    "phone": "Wir rufen Sie unter {phone} an.",
    "phone_unknown": "Wir rufen Sie an. Bitte teilen Sie uns Ihre Telefonnummer mit.",
    "video": "Videolink: {link}",
    "missing": "wird Ihnen noch mitgeteilt",
}
# How to reach the jobcenter (letters, e-mails): the German labels; customer languages below.
_CONTACT_DE = {
    "heading": "So erreichen Sie uns",
    "address": "Anschrift",
    "phone": "Telefon",
    "email": "E-Mail",
    "opening_hours": "Öffnungszeiten",
    "website": "Internet",
}


def _channels_translated() -> dict[str, str]:
    """The channels in the active language (customer context)."""
    return {
        Channel.IN_PERSON: pgettext("customer", "in person at the jobcenter"),
        Channel.PHONE: pgettext("customer", "by phone (we will call you)"),
        Channel.VIDEO: pgettext("customer", "by video"),
        Channel.OUTREACH: pgettext("customer", "outreach (we meet you where you are)"),
    }


def _words_language(language: str) -> str:
    """German, or the customer language whose catalogue fills the placeholders; a template in a
    language without a catalogue (an admin may publish one) gets the English words."""
    language = language_code_normalise(language)
    if language == FALLBACK_LANGUAGE:
        return FALLBACK_LANGUAGE
    return customer_language(language) or "en"


def invitation_channel_words(channel: str, language: str) -> str:
    """How the appointment takes place, in words for the customer ("persönlich im Jobcenter")."""
    language = _words_language(language)
    if language == FALLBACK_LANGUAGE:
        return _CHANNELS_DE.get(channel, channel)
    with translation.override(language):
        return _channels_translated().get(channel, channel)


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


def site_url_absolute(path: str) -> str:
    """A path of this site as the absolute address customers reach it at (settings.SITE_URL).

    Letters, e-mails and SMS leave the site, so a link in them must be absolute: there is no
    relative fallback, and a SITE_URL that is not an absolute http(s) address is refused (the
    settings refuse it at start already; production requires it, the demo sets it from --addr).
    A path prefix the site is served under belongs in SITE_URL, so it is taken off `path`."""
    base = (getattr(settings, "SITE_URL", "") or "").rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(
            "SITE_URL (env DJANGO_SITE_URL) must be the absolute http(s) address customers reach "
            f"this installation at, for the links in letters, e-mails and SMS; it is {base!r}."
        )
    prefix = get_script_prefix()
    if prefix != "/" and path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    return f"{base}{path}"


def invitation_rebook_url(appointment: Appointment) -> str:
    """The customer's rebooking link, always absolute (site_url_absolute)."""
    return site_url_absolute(reverse("scheduling:rebook", args=[rebooking_token_make(appointment)]))


# --- the jobcenter: where it is and how customers reach it ---------------------------------------


def jobcenter_of(appointment: Appointment) -> Jobcenter | None:
    """The jobcenter of the appointment's case (its team's), else the installation's."""
    team = appointment.case.team
    if team is not None and team.jobcenter_id:
        return team.jobcenter
    return jobcenter_get_for_customers()


def _contact_words(language: str) -> dict[str, str]:
    if language == FALLBACK_LANGUAGE:
        return _CONTACT_DE
    with translation.override(language):
        return {
            "heading": pgettext("customer", "How to reach us"),
            "address": pgettext("customer", "Address"),
            "phone": pgettext("customer", "Phone"),
            "email": pgettext("customer", "E-mail"),
            "opening_hours": pgettext("customer", "Opening hours"),
            "website": pgettext("customer", "Website"),
        }


def jobcenter_contact(*, jobcenter: Jobcenter | None, language: str) -> dict:
    """How customers reach the jobcenter, with labels in `language` (German or a customer
    language): {"name", "heading", "rows": [(label, value)], "items": [(key, label, value)],
    "sender", "footer"}. Only what the jobcenter has filled in appears; "rows" is empty when
    nothing but the name is known. Keys: address, phone, email, website, opening_hours."""
    words = _contact_words(_words_language(language))
    name = jobcenter.name if jobcenter is not None else "Jobcenter"
    items: list[tuple[str, str, str]] = []
    sender = [name]
    footer = [name]
    if jobcenter is not None:
        town = " ".join(p for p in (jobcenter.postal_code.strip(), jobcenter.city.strip()) if p)
        sender += [part for part in (jobcenter.street.strip(), town) if part]
        values = {
            "address": jobcenter.postal_address,
            "phone": jobcenter.phone.strip(),
            "email": jobcenter.email.strip(),
            "website": jobcenter.website.strip(),
            "opening_hours": "\n".join(jobcenter.opening_hours_lines),
        }
        items = [(key, words[key], value) for key, value in values.items() if value]
        footer = sender + ([f"{words['phone']} {values['phone']}"] if values["phone"] else [])
    return {
        "name": name,
        "heading": words["heading"],
        "rows": [(label, value) for _key, label, value in items],
        "items": items,
        "sender": " · ".join(sender),
        "footer": " · ".join(footer),
    }


def _language_of(customer: Customer) -> str:
    """The customer's preferred language, bare ("uk"); any language an admin may have published a
    template in, not only the customer languages."""
    return language_code_normalise(customer.preferred_language) or FALLBACK_LANGUAGE


def _in_person_place(appointment: Appointment) -> str:
    """Where to come for an in-person appointment: the staff member's location (often only a room,
    "Haus A, Raum 102") followed by the jobcenter's address unless the location names it already;
    the jobcenter's name and address when there is no location; "" when neither is known."""
    location = (appointment.location or "").strip()
    jobcenter = jobcenter_of(appointment)
    address = jobcenter.postal_address if jobcenter is not None else ""
    if not address:
        return location
    if not location:
        return f"{jobcenter.name}, {address}"
    known = location.casefold()
    street, postal_code = jobcenter.street.strip(), jobcenter.postal_code.strip()
    if (street and street.casefold() in known) or (postal_code and postal_code in known):
        return location
    return f"{location}, {address}"


def _place(appointment: Appointment, customer: Customer, language: str) -> str:
    """Where the appointment is, in `language` (German or a customer language, see _words_language)."""
    location = (
        _in_person_place(appointment)
        if appointment.channel == Channel.IN_PERSON
        else appointment.location
    )
    if language == FALLBACK_LANGUAGE:
        if appointment.channel == Channel.PHONE:
            if customer.phone:
                return _PLACE_DE["phone"].format(phone=customer.phone)
            return _PLACE_DE["phone_unknown"]
        if appointment.channel == Channel.VIDEO and appointment.video_link:
            return _PLACE_DE["video"].format(link=appointment.video_link)
        return location or _PLACE_DE["missing"]
    with translation.override(language):
        if appointment.channel == Channel.PHONE:
            if customer.phone:
                return pgettext("customer", "We will call you on %(phone)s.") % {
                    "phone": customer.phone
                }
            return pgettext("customer", "We will call you. Please tell us your phone number.")
        if appointment.channel == Channel.VIDEO and appointment.video_link:
            return pgettext("customer", "Video link: %(link)s") % {"link": appointment.video_link}
        return location or pgettext("customer", "to be announced")


def _date_and_time(start: dt.datetime, language: str) -> tuple[str, str]:
    """Date and time in words: German "Mittwoch, 02.12.2026" and "09:00 Uhr"; a customer language
    gets its weekday and Django's date format with the 24-hour time ("Середа, 02 грудня 2026 р.",
    "09:00")."""
    if language == FALLBACK_LANGUAGE:
        day = f"{_WEEKDAYS_DE[start.weekday()]}, {start.strftime(_DATE_FORMAT['de'])}"
        return day, start.strftime(_TIME_FORMAT_DE)
    with translation.override(language):
        weekday = date_format(start, "l")
        if language in _DATE_FORMAT:
            day = start.strftime(_DATE_FORMAT[language])
        else:
            day = date_format(start, "DATE_FORMAT")
        # As on the rebooking page; Arabic and Farsi write the Arabic comma.
        date = pgettext("customer", "%(weekday)s, %(date)s") % {"weekday": weekday, "date": day}
    return date, start.strftime(_TIME_FORMAT)


def invitation_values(*, appointment: Appointment, language: str) -> dict[str, str]:
    """The values of the template's placeholders for this appointment, in `language`'s words."""
    words = _words_language(language)
    customer = appointment.case.customer
    start = appointment.start.astimezone(ZoneInfo(settings.TIME_ZONE))
    staff = appointment.staff
    date, time = _date_and_time(start, words)
    return {
        "name": customer.full_name,
        "date": date,
        "time": time,
        "place": _place(appointment, customer, words),
        "channel": invitation_channel_words(appointment.channel, words),
        "purpose": appointment.purpose,
        "caseworker": staff.get_full_name() or staff.get_username(),
        "rebook_url": invitation_rebook_url(appointment),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    # Never str.format: only plain {name} placeholders are filled, whatever a row holds.
    return template_fill(text, values)


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
        "contact": jobcenter_contact(
            jobcenter=jobcenter_of(appointment), language=template.language
        ),
    }


# --- the customer's language -----------------------------------------------------------------------


def _language_name(language: str) -> str:
    """The language's name in the active language ("Arabisch" in German): no second script
    inside the note, which would turn its brackets around."""
    try:
        # str() now: the name is lazy and would otherwise come out in whatever language is active
        # when it is formatted, not in the one of the note.
        return str(translation.get_language_info(language)["name_translated"])
    except KeyError:
        return language


def invitation_translation_mark(language: str) -> str:
    """The note above a translation, in German and in the translation's language (in English for a
    language we have no catalogue of): "Übersetzung (Ukrainisch) – verbindlich ist allein der
    deutsche Text. / Переклад (українська) – ..."."""
    marks = []
    for code in (FALLBACK_LANGUAGE, _words_language(language)):
        with translation.override(code):
            note = pgettext(
                "customer", "Translation (%(language)s) – only the German text is binding."
            )
        marks.append(note % {"language": _language_name_in(language, code)})
    return " / ".join(marks)


def _language_name_in(language: str, in_language: str) -> str:
    with translation.override(in_language):
        return _language_name(language)


def invitation_translation(*, appointment: Appointment) -> dict | None:
    """The invitation in the customer's preferred language, to print after the binding German
    text, or None: German customers, a language without a published template, or a script the
    letter's fonts cannot draw (logged; the customer gets the German text only)."""
    from scheduling.letters import letter_text_renderable

    language = _language_of(appointment.case.customer)
    if language == FALLBACK_LANGUAGE:
        return None
    if InvitationTemplate.objects.current(language=language) is None:
        return None
    rendered = invitation_render(appointment=appointment, language=language)
    text = "\n".join((rendered["subject"], rendered["body"], rendered["legal_notice"]))
    if not letter_text_renderable(text):
        logger.warning(
            "Invitation of appointment %s: the letter fonts cannot draw the %r template "
            "(script not covered); sent in German only.",
            appointment.pk,
            language,
        )
        return None
    rendered["mark"] = invitation_translation_mark(language)
    rendered["rtl"] = language_is_rtl(language)
    words = _words_language(language)
    rendered["attached"] = _attached_note(words, cancellation=False)
    rendered["change_label"] = invitation_change_label(words)
    return rendered


def invitation_change_label(language: str) -> str:
    """The label of the rebooking link in `language` (customer context)."""
    with translation.override(language):
        return pgettext("customer", "Change the appointment or ask for a call-back")


# --- sending ---------------------------------------------------------------------------------------


def _postal_address(customer: Customer) -> str:
    household = customer.household
    return f"{customer.full_name}\n{household.street}\n{household.postal_code} {household.city}"


def _ics(
    appointment: Appointment,
    rendered: dict,
    attendee: str,
    *,
    method: str = "REQUEST",
    sequence: int | None = None,
) -> bytes:
    return ics_invitation(
        event={
            "uid": appointment.uid,
            "start": appointment.start,
            "end": appointment.end,
            "sequence": appointment.sequence if sequence is None else sequence,
            "summary": rendered["subject"],
            "location": rendered["values"]["place"],
            "description": f"{rendered['body']}\n\n{rendered.get('legal_notice', '')}".strip(),
        },
        organizer_email=appointment.staff.email or settings.DEFAULT_FROM_EMAIL,
        organizer_name=rendered["values"]["caseworker"],
        attendee_emails=[attendee],
        method=method,
    )


def _email(
    appointment: Appointment,
    rendered: dict,
    pdf: bytes,
    filename: str,
    to: str,
    translated: dict | None = None,
):
    context = {
        "subject": rendered["subject"],
        "body": rendered["body"],
        "legal_notice": rendered["legal_notice"],
        "rebook_url": rendered["values"]["rebook_url"],
        "language": rendered["language"],
        "translation": translated,
        "contact": rendered["contact"],
    }
    # The e-mail is in the language of its (binding, German) template, whoever sends it.
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

    Always makes the letter PDF (to print and post; kept on the letter's delivery row); sends an
    e-mail with the ICS file and the PDF if the customer has an e-mail address. The German text is
    binding; where the customer's language has a published template, its translation follows
    (letter and e-mail; the delivery rows record the language). One delivery row per channel. An
    appointment already sent is sent again only after a change (its `sequence` rose) or with
    `resend=True` (say, the customer lost the letter), so a double click or two sends at once
    send once. Once sent, the reminders of this version are scheduled (older ones cancelled).
    """
    from scheduling.letters import invitation_letter_pdf  # fpdf2 loads only when letters are made

    # Locked until commit: a second send at the same moment waits, then sees the new state.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("case__customer__household", "case__team__jobcenter", "staff")
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
    if appointment.status == AppointmentStatus.SENT and not resend and _delivered(appointment):
        # The usual case of two sends at once: the second one waited for the lock above.
        raise ConflictError(
            _("This invitation has already been sent and the appointment has not changed since.")
        )
    customer = appointment.case.customer
    # The German text is the binding one; the customer's language follows where we have it.
    rendered = invitation_render(appointment=appointment, language=FALLBACK_LANGUAGE)
    translated = invitation_translation(appointment=appointment)
    language = translated["language"] if translated else FALLBACK_LANGUAGE
    template = rendered["template"]
    pdf = invitation_letter_pdf(appointment=appointment, rendered=rendered, translation=translated)
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
            document=pdf,
            language=language,
        )
    ]
    email_failed = False
    if customer.email:
        error = ""
        try:
            _email(appointment, rendered, pdf, filename, customer.email, translated).send(
                fail_silently=False
            )
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
                language=language,
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
            "translation": (
                {"language": translated["language"], "version": translated["version"]}
                if translated
                else None
            ),
            "sequence": appointment.sequence,
            "deliveries": [
                {"id": delivery.pk, "channel": delivery.channel, "status": delivery.status}
                for delivery in deliveries
            ],
            "status": {"from": previous_status, "to": appointment.status},
        },
    )
    if appointment.status == AppointmentStatus.SENT:
        reminders_reschedule(appointment=appointment)
    return InvitationSendResult(
        appointment=appointment, deliveries=deliveries, letter_pdf=pdf, rendered=rendered
    )


def _delivered(appointment: Appointment) -> bool:
    """Whether the appointment's current version has reached the customer already."""
    return appointment.invitation_deliveries.filter(
        status=DeliveryStatus.SENT, ics_sequence__gte=appointment.sequence
    ).exists()


# An approved invitation normally goes out within seconds of its approval (a task sent on commit,
# or the demo's background thread). Should that task be lost (a worker killed mid-batch, the demo
# stopped while sending), the periodic sweep finds the invitation here and sends it: approved,
# still ahead, untouched for a while, and never attempted for its current version. An attempt that
# failed (a refused e-mail) is not retried by the sweep: it shows on the case page for a person.
UNSENT_SETTLE = dt.timedelta(minutes=10)


def invitations_unsent_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Approved appointments ahead whose invitation was never attempted for their version."""
    now = now or timezone.now()
    attempted = InvitationDelivery.objects.filter(
        appointment=OuterRef("pk"), ics_sequence__gte=OuterRef("sequence")
    )
    return list(
        Appointment.objects.filter(
            status=AppointmentStatus.APPROVED,
            start__gt=now,
            updated_at__lt=now - UNSENT_SETTLE,
        )
        .exclude(Exists(attempted))
        .order_by("start", "pk")
        .values_list("pk", flat=True)
    )


# --- cancellation: withdrawing an invitation already sent ------------------------------------------

# The customer's document: German always (binding, its words here); the customer's language after
# it where it is a customer language (catalogue, "customer" context; English is the msgid).
_CANCELLATION_DE = {
    "subject": "Absage Ihres Termins am {date} um {time}",
    "body": (
        "Guten Tag {name},\n\n"
        "der Termin am {date} um {time} ({place}) findet nicht statt. Die Einladung zu diesem "
        "Termin ist aufgehoben; Sie müssen zu diesem Termin nicht kommen.\n\n"
        "Wenn wir einen neuen Termin mit Ihnen vereinbaren, erhalten Sie dazu eine neue "
        "Einladung.\n\n"
        "Mit freundlichen Grüßen\n{caseworker}"
    ),
}


def _cancellation_translated(language: str, values: dict[str, str]) -> dict[str, str]:
    """Subject and body of the cancellation in a customer language, from its catalogue."""
    with translation.override(language):
        subject = pgettext("customer", "Cancellation of your appointment on %(date)s at %(time)s")
        paragraphs = (
            pgettext("customer", "Dear %(name)s,"),
            pgettext(
                "customer",
                "The appointment on %(date)s at %(time)s (%(place)s) will not take place. The "
                "invitation to it is withdrawn; you do not need to come.",
            ),
            pgettext(
                "customer",
                "If we arrange a new appointment with you, you will receive a new invitation.",
            ),
            pgettext("customer", "Kind regards"),
        )
    body = "\n\n".join(paragraphs) + "\n%(caseworker)s"
    return {"subject": subject % values, "body": body % values}


def _cancellation_sections(appointment: Appointment, language: str) -> list[dict]:
    """The German text, then the customer language's (if `language` is one, and not German)."""
    values = invitation_values(appointment=appointment, language=FALLBACK_LANGUAGE)
    jobcenter = jobcenter_of(appointment)
    sections = [
        {
            "language": FALLBACK_LANGUAGE,
            "subject": _fill(_CANCELLATION_DE["subject"], values),
            "body": _fill(_CANCELLATION_DE["body"], values),
            "caseworker": values["caseworker"],
            "values": values,
            "contact": jobcenter_contact(jobcenter=jobcenter, language=FALLBACK_LANGUAGE),
        }
    ]
    translated = customer_language(language)
    if translated and translated != FALLBACK_LANGUAGE:
        values = invitation_values(appointment=appointment, language=translated)
        sections.append(
            {
                "language": translated,
                **_cancellation_translated(translated, values),
                "caseworker": values["caseworker"],
                "values": values,
                "mark": invitation_translation_mark(translated),
                "attached": _attached_note(translated, cancellation=True),
                "rtl": language_is_rtl(translated),
                "contact": jobcenter_contact(jobcenter=jobcenter, language=translated),
            }
        )
    return sections


def _attached_note(language: str, *, cancellation: bool) -> str:
    """The e-mail's line about its attachments, in `language` (customer context)."""
    with translation.override(language):
        if cancellation:
            return pgettext(
                "customer",
                "The cancellation is attached as a PDF and as a calendar entry (ICS) that removes "
                "the appointment from your calendar.",
            )
        return pgettext(
            "customer", "This invitation is attached as a PDF and as a calendar entry (ICS)."
        )


def _cancellation_email(
    appointment: Appointment, sections: list[dict], pdf: bytes, filename: str, to: str, seq: int
):
    german = sections[0]
    context = {"sections": sections, "subject": german["subject"]}
    with translation.override(FALLBACK_LANGUAGE):
        text = render_to_string("scheduling/email/cancellation.txt", context)
        html = render_to_string("scheduling/email/cancellation.html", context)
    message = EmailMultiAlternatives(
        subject=german["subject"], body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    ics = _ics(appointment, german, to, method="CANCEL", sequence=seq)
    message.attach("absage.ics", ics, "text/calendar; method=CANCEL")
    message.attach(filename, pdf, "application/pdf")
    return message


def invitation_cancellation_due(appointment: Appointment) -> bool:
    """A cancelled appointment whose invitation reached the customer, not yet withdrawn."""
    return (
        appointment.status == AppointmentStatus.CANCELLED
        and appointment.invitation_deliveries.filter(status=DeliveryStatus.SENT).exists()
        and not AuditEvent.objects.filter(
            object_type=CANCELLATION_OBJECT, object_id=str(appointment.pk)
        ).exists()
    )


@transaction.atomic
def invitation_cancellation_send(
    *, ctx: AuditContext, appointment_id: int
) -> InvitationSendResult | None:
    """Withdraw the invitation of a cancelled appointment: a cancellation letter (PDF kept on the
    letter's delivery row) and, with an e-mail address, an e-mail with the ICS file METHOD:CANCEL
    (same UID, higher SEQUENCE, so calendar programs remove the entry). Once per appointment;
    None when there is nothing to withdraw (never sent, or withdrawn already).

    The cancellation is a new calendar version: if the cancelling service did not raise the
    appointment's sequence above the last one sent, it is raised here.
    """
    from scheduling.letters import cancellation_letter_pdf

    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("case__customer__household", "case__team__jobcenter", "staff")
        .get(pk=appointment_id)
    )
    if not invitation_cancellation_due(appointment):
        return None
    last = (
        appointment.invitation_deliveries.filter(status=DeliveryStatus.SENT)
        .order_by("-ics_sequence", "-id")
        .first()
    )
    sequence = max(appointment.sequence, (last.ics_sequence or 0) + 1)
    if sequence != appointment.sequence:
        appointment.sequence = sequence
        appointment.save(update_fields=["sequence", "updated_at"])
    customer = appointment.case.customer
    sections = _cancellation_sections(appointment, last.language)
    language = sections[-1]["language"]
    pdf = cancellation_letter_pdf(appointment=appointment, sections=sections)
    filename = f"absage-{customer.customer_number}-{appointment.pk}-{sequence}.pdf"
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    now = timezone.now()
    common = {
        "appointment": appointment,
        "template": last.template,  # the invitation version withdrawn
        "sent_at": now,
        "sent_by": actor,
        "ics_sequence": sequence,
        "language": language,
    }
    deliveries = [
        InvitationDelivery.objects.create(
            channel=InvitationChannel.LETTER,
            recipient=_postal_address(customer),
            status=DeliveryStatus.SENT,
            document=pdf,
            **common,
        )
    ]
    if customer.email:
        error = ""
        try:
            _cancellation_email(
                appointment, sections, pdf, filename, customer.email, sequence
            ).send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - any mail backend failure is recorded, not raised
            logger.warning("Cancellation e-mail for appointment %s failed: %s", appointment.pk, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        deliveries.append(
            InvitationDelivery.objects.create(
                channel=InvitationChannel.EMAIL,
                recipient=customer.email,
                status=DeliveryStatus.FAILED if error else DeliveryStatus.SENT,
                error=error,
                **common,
            )
        )
    reminders_cancel_for(appointment=appointment)
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=CANCELLATION_OBJECT,
        object_id=appointment.pk,
        customer_id=customer.pk,
        detail={
            "sequence": sequence,
            "language": language,
            "deliveries": [
                {"id": delivery.pk, "channel": delivery.channel, "status": delivery.status}
                for delivery in deliveries
            ],
        },
    )
    return InvitationSendResult(
        appointment=appointment, deliveries=deliveries, letter_pdf=pdf, rendered=sections[0]
    )


# --- the task's entry point ----------------------------------------------------------------------


def invitation_send_if_due(*, appointment_id: int) -> str:
    """What scheduling.tasks.scheduling_invitation_send runs (no actor: the system sends).

    "sent": the invitation of the current version went out (or, for a cancelled appointment
    whose invitation had gone out, the cancellation); "failed": the e-mail was refused (recorded
    on the delivery row; the appointment stays approved to be sent again); "skipped": nothing to do
    (not approved, this version delivered already, cancellation sent already, gone).
    """
    ctx = AuditContext.system()
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return "skipped"
    if appointment.status == AppointmentStatus.CANCELLED:
        result = invitation_cancellation_send(ctx=ctx, appointment_id=appointment_id)
        if result is None:
            return "skipped"
        return _outcome(result)
    if appointment.status not in SENDABLE_STATUSES:
        return "skipped"
    if appointment.status == AppointmentStatus.SENT and _delivered(appointment):
        return "skipped"
    try:
        result = invitation_send(ctx=ctx, appointment_id=appointment_id)
    except ConflictError:
        return "skipped"  # another send of this version was faster
    except ApplicationError as error:
        # The status changed while we waited for the lock, or there is no template at all.
        logger.warning("Invitation of appointment %s not sent: %s", appointment_id, error.message)
        appointment.refresh_from_db(fields=["status"])
        return "failed" if appointment.status in SENDABLE_STATUSES else "skipped"
    return _outcome(result)


def _outcome(result: InvitationSendResult) -> str:
    failed = any(d.status == DeliveryStatus.FAILED for d in result.deliveries)
    return "failed" if failed else "sent"


# --- the letter for staff ------------------------------------------------------------------------


class InvitationLetterNotFoundError(ApplicationError):
    status_code = 404


@dataclass(frozen=True)
class InvitationLetter:
    filename: str
    content: bytes


def invitation_letter_get(
    *, ctx: AuditContext, appointment_id: int, delivery_id: int
) -> InvitationLetter:
    """The letter PDF kept on a delivery row, for a caseworker or team lead of the case's team
    (an EXPORT audit row). Anything else, another team's case included, is "not found"."""
    delivery = (
        InvitationDelivery.objects.filter(
            pk=delivery_id,
            appointment_id=appointment_id,
            channel=InvitationChannel.LETTER,
            document__isnull=False,
            appointment__case__in=case_visible_to(user=ctx.actor),
        )
        .select_related("appointment__case__customer")
        .first()
    )
    if delivery is None:
        raise InvitationLetterNotFoundError(_("There is no such letter for you."))
    appointment = delivery.appointment
    customer = appointment.case.customer
    audit_record(
        ctx=ctx,
        action=AuditAction.EXPORT,
        object_type="invitation_letter",
        object_id=delivery.pk,
        customer_id=customer.pk,
        detail={"appointment_id": appointment.pk, "sequence": delivery.ics_sequence},
    )
    return InvitationLetter(
        filename=(
            f"brief-{customer.customer_number}-{appointment.pk}-{delivery.ics_sequence}-"
            f"{delivery.pk}.pdf"
        ),
        content=bytes(delivery.document),
    )
