"""Appointments and the customer's rebooking link.

Two customers can never get the same slot: every write of an appointment's time goes through
`_save_guarded`, which turns the database's refusal (unique (staff, start) among active appointments
everywhere; on PostgreSQL also an exclusion constraint on overlapping times) into a ConflictError.
The checks before the write give a readable message in the common case; the constraint decides races.

The rebooking link is signed (TimestampSigner, salt "scheduling.rebook") and carries the
appointment's id and `sequence`: it expires after the policy's lifetime and dies as soon as the
appointment is changed (moved, rebooked, cancelled).

Every move (staff: `appointment_rebook`, customer: `rebooking_choose`) reschedules the reminders
(`services_reminders.reminders_reschedule`). If the invitation had gone out (sent or confirmed),
the appointment goes back to "sent" and the invitation task is enqueued after commit, so the new
invitation with the raised SEQUENCE goes out (invitation_send re-sends "sent" after a change; it
does not send "confirmed"). The customer can confirm the new time with that invitation's link.
Before the invitation (planned, approved) the status stays (a customer's own choice: confirmed).

By hand, staff use `appointment_book` and `appointment_move` (checked against the staff member's
calendar; a booking by hand is approved by the person making it). Staff moves, the customer's
move, confirmation and call-back request each leave a timeline entry (CaseEvent) on the case; a
call-back request stays open in the work queue until `callback_request_handle`.
"""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent, Phase
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role, User
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    CALENDAR_CHANNELS,
    CALLBACK_NOTE_MAX_LENGTH,
    CALLBACK_PHONE_PATTERN,
    Absence,
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    DeliveryStatus,
    GroupSession,
    GroupSessionStatus,
    InvitationDelivery,
    MissedAppointmentReview,
    MissedReviewOutcome,
    RebookingPolicy,
    Reminder,
    ReminderStatus,
    StaffCalendar,
)
from scheduling.selectors import (
    Interval,
    contact_agreement_effective,
    staff_busy_intervals,
)
from scheduling.services_agreements import require_case_staff
from scheduling.services_group_sessions import (
    group_session_annotate_places,
    group_session_free_places,
)
from scheduling.services_planning import planning_staff, staff_free_by_day

REBOOK_SALT = "scheduling.rebook"
MAX_DURATION = dt.timedelta(hours=8)
SLOT_STEP = dt.timedelta(minutes=30)
MAX_REASON_LENGTH = 1000


class RebookingLinkError(ApplicationError):
    """The link is not a valid rebooking link (tampered, cut off)."""

    status_code = 400


class RebookingLinkExpiredError(RebookingLinkError):
    """The link was valid once but its lifetime is over."""

    status_code = 410


class RebookingLinkOutdatedError(RebookingLinkError):
    """The appointment changed (or was cancelled) after the link was sent."""

    status_code = 410


def _taken_message() -> str:
    # Shown to the customer on the rebooking page (and to staff): the "customer" context.
    return pgettext("customer", "This time has just been taken. Please choose another one.")


# --- appointments ----------------------------------------------------------------------------------


def _check_times(start: dt.datetime, end: dt.datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ApplicationError(_("Start and end need a time zone."))
    if end <= start:
        raise ApplicationError(_("An appointment must end after it starts."))
    if end - start > MAX_DURATION:
        raise ApplicationError(_("An appointment can last at most eight hours."))


def _require_case_rights(ctx: AuditContext, case: Case) -> None:
    """The planner (no actor) or a caseworker / team lead of the case's team."""
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    if actor is None:
        return
    if not (actor.reads_cases and actor.team_id == case.team_id):
        raise ApplicationError(_("You may only plan appointments for cases of your own team."))


def _check_staff(staff: User, case: Case) -> None:
    if (
        not staff.is_active
        or staff.role not in (Role.CASEWORKER, Role.TEAM_LEAD)
        or staff.team_id != case.team_id
    ):
        raise ApplicationError(_("Appointments are only made with staff of the case's team."))


def _overlaps_active(
    *, staff_id: int, start: dt.datetime, end: dt.datetime, exclude_id: int | None = None
) -> bool:
    others = Appointment.objects.filter(
        staff_id=staff_id,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        start__lt=end,
        end__gt=start,
    )
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    # A group session the staff member hosts holds their time too (even before anyone joined).
    hosting = GroupSession.objects.filter(
        host_id=staff_id, status=GroupSessionStatus.OPEN, start__lt=end, end__gt=start
    )
    return others.exists() or hosting.exists()


def _save_guarded(appointment: Appointment, **kwargs) -> None:
    """Save in a savepoint; the database's refusal of a double booking becomes a ConflictError."""
    try:
        with transaction.atomic():
            appointment.save(**kwargs)
    except IntegrityError as error:
        raise ConflictError(_taken_message()) from error


@transaction.atomic
def appointment_create(
    *,
    ctx: AuditContext,
    case_id: int,
    staff_id: int,
    start: dt.datetime,
    end: dt.datetime,
    channel: str,
    purpose: str,
    location: str = "",
    video_link: str = "",
    approved_by: User | None = None,
) -> Appointment:
    """A new appointment: "planned" (a proposal a person still has to approve), or "approved" by
    `approved_by`, in which case the invitation task is enqueued after commit (the normal
    sending path). Overlaps with the staff member's active appointments are refused."""
    case = Case.objects.select_related("team").get(pk=case_id)
    _require_case_rights(ctx, case)
    staff = User.objects.get(pk=staff_id)
    _check_staff(staff, case)
    _check_times(start, end)
    if channel not in {c.value for c in CALENDAR_CHANNELS}:
        raise ApplicationError(_("Appointments are in person, by phone, by video or outreach."))
    purpose = purpose.strip()
    if not purpose:
        raise ApplicationError(_("An appointment needs a purpose."))
    if _overlaps_active(staff_id=staff_id, start=start, end=end):
        raise ConflictError(_taken_message())
    appointment = Appointment(
        case=case,
        staff=staff,
        start=start,
        end=end,
        channel=channel,
        purpose=purpose[:300],
        location=location.strip()[:200],
        video_link=video_link.strip(),
    )
    if approved_by is not None:
        appointment.status = AppointmentStatus.APPROVED
        appointment.approved_by = approved_by
        appointment.approved_at = timezone.now()
    _save_guarded(appointment)
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=case.customer_id,
        detail={
            "staff_id": staff_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "status": appointment.status,
        },
    )
    if approved_by is not None:
        _send_invitation_on_commit(appointment.pk)
    return appointment


# The invitation has gone out to the customer (they know the appointment and got a link).
INVITED_STATUSES = (AppointmentStatus.SENT, AppointmentStatus.CONFIRMED)


def _send_invitation_on_commit(appointment_id: int) -> None:
    """The invitation task after commit: the updated invitation (or the cancellation) goes out
    only if the change is saved."""
    from scheduling.tasks import scheduling_invitation_send

    transaction.on_commit(lambda: scheduling_invitation_send.delay(appointment_id))


def _invitation_went_out(appointment: Appointment) -> bool:
    """The customer has an invitation of this appointment: it was sent (or confirmed), or a
    delivery went out while the status stayed "approved" (the letter went, the e-mail failed)."""
    return (
        appointment.status in INVITED_STATUSES
        or appointment.invitation_deliveries.filter(status=DeliveryStatus.SENT).exists()
    )


def _after_move(appointment: Appointment, *, invited: bool) -> None:
    """After every move: the reminders follow the new time; an invitation that went out is sent
    again with the raised SEQUENCE (the appointment is at "sent" or "approved" for that)."""
    from scheduling.services_reminders import reminders_reschedule

    reminders_reschedule(appointment=appointment)
    if invited:
        _send_invitation_on_commit(appointment.pk)


def _move(appointment: Appointment, *, start: dt.datetime, end: dt.datetime, staff: User) -> dict:
    """Set new time and staff (not saved yet); returns the audit detail of the change."""
    detail = {
        "from": {"staff_id": appointment.staff_id, "start": appointment.start.isoformat()},
        "to": {"staff_id": staff.pk, "start": start.isoformat()},
    }
    if staff.pk != appointment.staff_id:
        calendar = StaffCalendar.objects.filter(user=staff).first()
        if calendar is not None and calendar.location:
            appointment.location = calendar.location
    appointment.staff = staff
    appointment.start = start
    appointment.end = end
    appointment.sequence += 1
    return detail


@transaction.atomic
def appointment_rebook(
    *,
    ctx: AuditContext,
    appointment_id: int,
    new_start: dt.datetime,
    new_end: dt.datetime | None = None,
    staff_id: int | None = None,
) -> Appointment:
    """Staff move an active appointment (keeps its length unless `new_end` is given)."""
    appointment = (
        Appointment.objects.select_for_update().select_related("case").get(pk=appointment_id)
    )
    _require_case_rights(ctx, appointment.case)
    if not appointment.is_active:
        raise ApplicationError(_("Only planned or confirmed appointments can be moved."))
    new_end = new_end or new_start + appointment.duration
    _check_times(new_start, new_end)
    staff = User.objects.get(pk=staff_id or appointment.staff_id)
    _check_staff(staff, appointment.case)
    if _overlaps_active(staff_id=staff.pk, start=new_start, end=new_end, exclude_id=appointment.pk):
        raise ConflictError(_taken_message())
    invited = _invitation_went_out(appointment)
    detail = _move(appointment, start=new_start, end=new_end, staff=staff)
    previous_status = appointment.status
    if previous_status in INVITED_STATUSES:
        appointment.status = AppointmentStatus.SENT
    _save_guarded(appointment)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={"rebooked": detail, "status": {"from": previous_status, "to": appointment.status}},
    )
    _case_event(
        ctx,
        appointment.case,
        _("Appointment moved from %(from)s to %(to)s (with %(staff)s)")
        % {
            "from": _when(dt.datetime.fromisoformat(detail["from"]["start"])),
            "to": _when(appointment.start),
            "staff": staff,
        },
        {"appointment_id": appointment.pk, "moved": detail, "invitation_again": invited},
    )
    _after_move(appointment, invited=invited)
    return appointment


# --- by hand: a caseworker or team lead books or moves an appointment on the case page / API -------
#
# The rules on top of appointment_create / appointment_rebook: a person of the case's team does it
# (the planner never calls these), the time lies ahead, and the staff member's calendar allows it:
# calendar shared, the channel offered, not absent, inside the working hours, no public holiday,
# no synced busy time (scheduling.selectors.staff_busy_intervals). The daily cap and the walk-in
# reserve are the planner's capacities and do not bind a person who agreed a time with the
# customer. A booking by hand is approved by the person making it ("nothing goes to a customer
# before a person approved it": that person is the one), so its invitation goes out through the
# normal sending path. A move of an invitation that went out sends it again with the new time.

MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 240


def _field_error(field: str, message: str, error_class=ApplicationError) -> ApplicationError:
    return error_class(message, extra={"fields": {field: [message]}})


def _check_calendar(*, staff: User, start: dt.datetime, end: dt.datetime, channel: str) -> None:
    """Refuse a time the staff member's calendar does not allow, saying why."""
    name = staff.get_full_name() or staff.username
    calendar = StaffCalendar.objects.filter(user=staff).first()
    if calendar is None or not calendar.has_consent:
        raise _field_error(
            "staff",
            _(
                "%(name)s has not agreed to share their calendar, so no appointments can be made "
                "with them."
            )
            % {"name": name},
        )
    offered = calendar.channels if isinstance(calendar.channels, list) else []
    if offered and channel not in offered:
        raise _field_error(
            "channel",
            _("%(name)s does not offer appointments by %(channel)s.")
            % {"name": name, "channel": _channel_label(channel)},
        )
    if Absence.objects.filter(user=staff).overlapping(start, end).exists():
        raise _field_error("start", _("%(name)s is absent then.") % {"name": name})
    if staff_busy_intervals(user=staff, start=start, end=end):
        raise _field_error(
            "start",
            _(
                "%(name)s is not available then: outside their working hours, on a public "
                "holiday or busy in their calendar."
            )
            % {"name": name},
        )


def _channel_label(channel: str) -> str:
    return next((str(c.label) for c in CALENDAR_CHANNELS if c.value == channel), channel)


# A booking by hand lies at most this far ahead: no agreed cadence is longer (at most 365 days),
# and an appointment far ahead would silence the case's cadence until then.
MAX_DAYS_AHEAD_BY_HAND = 365


def _check_ahead(start: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(start):
        raise _field_error("start", _("Start and end need a time zone."))
    if start <= now:
        raise _field_error("start", _("Please choose a time in the future."))
    if start.year >= dt.MAXYEAR or start - now > dt.timedelta(days=MAX_DAYS_AHEAD_BY_HAND):
        raise _field_error(
            "start",
            _(
                "Please choose a time at most %(days)s days ahead: no cadence is longer, and an "
                "appointment further ahead would stop the case's invitations until then."
            )
            % {"days": MAX_DAYS_AHEAD_BY_HAND},
        )


@transaction.atomic
def appointment_book(
    *,
    ctx: AuditContext,
    case_id: int,
    staff_id: int,
    start: dt.datetime,
    duration_minutes: int,
    channel: str,
    purpose: str,
    location: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """A caseworker or team lead makes an appointment for the case by hand (say, agreed on the
    phone): checked against the staff member's calendar, approved by the person making it, and
    invited through the normal sending path (letter, e-mail with ICS, reminders). A timeline
    entry and one audit row."""
    now = now or timezone.now()
    case = Case.objects.select_related("team").get(pk=case_id)
    _require_case_staff(ctx, case)
    if case.phase == Phase.CLOSED:
        raise ApplicationError(_("The case is closed: no new appointments can be made."))
    if not isinstance(duration_minutes, int) or not (
        MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES
    ):
        raise _field_error(
            "duration_minutes",
            _("An appointment lasts between %(low)s and %(high)s minutes.")
            % {"low": MIN_DURATION_MINUTES, "high": MAX_DURATION_MINUTES},
        )
    if channel not in {c.value for c in CALENDAR_CHANNELS}:
        raise _field_error(
            "channel", _("Appointments are in person, by phone, by video or outreach.")
        )
    if not (purpose or "").strip():
        raise _field_error("purpose", _("An appointment needs a purpose."))
    _check_ahead(start, now)
    staff = User.objects.filter(pk=staff_id).first()
    if staff is None:
        raise _field_error("staff", _("Appointments are only made with staff of the case's team."))
    try:
        _check_staff(staff, case)
    except ApplicationError as error:
        raise _field_error("staff", error.message) from None
    end = start + dt.timedelta(minutes=duration_minutes)
    _check_calendar(staff=staff, start=start, end=end, channel=channel)
    appointment = appointment_create(
        ctx=ctx,
        case_id=case.pk,
        staff_id=staff.pk,
        start=start,
        end=end,
        channel=channel,
        purpose=purpose,
        location=location
        or getattr(StaffCalendar.objects.filter(user=staff).first(), "location", ""),
        approved_by=ctx.actor,
    )
    _case_event(
        ctx,
        case,
        _("Appointment on %(when)s made by hand with %(staff)s; the invitation goes out")
        % {"when": _when(appointment.start), "staff": staff},
        {"appointment_id": appointment.pk, "status": appointment.status},
    )
    return appointment


@transaction.atomic
def appointment_move(
    *,
    ctx: AuditContext,
    appointment_id: int,
    start: dt.datetime,
    staff_id: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """A caseworker or team lead moves an active appointment by hand (to one of the free times
    offered, or a time and staff member entered), checked against the calendar. The length stays.
    An invitation that went out is sent again with the new time (and the raised SEQUENCE); the
    reminders follow; the old rebooking link dies."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment_id)
    _require_case_staff(ctx, appointment.case)
    if not appointment.is_active:
        raise ApplicationError(
            _("Only a planned, approved, sent or confirmed appointment can be moved.")
        )
    if appointment.group_session_id is not None:
        raise ApplicationError(
            _(
                "This is a place in a group session, whose time is the session's: cancel the "
                "place and make an individual appointment instead."
            )
        )
    _check_ahead(start, now)
    staff = User.objects.filter(pk=staff_id or appointment.staff_id).first()
    if staff is None:
        raise _field_error("staff", _("Appointments are only made with staff of the case's team."))
    try:
        _check_staff(staff, appointment.case)
    except ApplicationError as error:
        raise _field_error("staff", error.message) from None
    if staff.pk == appointment.staff_id and start == appointment.start:
        raise _field_error("start", _("The appointment is at this time already."))
    end = start + appointment.duration
    _check_calendar(staff=staff, start=start, end=end, channel=appointment.channel)
    return appointment_rebook(
        ctx=ctx, appointment_id=appointment.pk, new_start=start, new_end=end, staff_id=staff.pk
    )


# --- the rebooking link ----------------------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=REBOOK_SALT)


def rebooking_token_make(appointment: Appointment) -> str:
    return _signer().sign_object({"a": appointment.pk, "s": appointment.sequence})


def _token_payload(token: str, max_age: dt.timedelta) -> tuple[int, int]:
    try:
        payload = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as error:
        raise RebookingLinkExpiredError(
            pgettext(
                "customer",
                "This link has expired. Please contact your jobcenter to change the appointment.",
            )
        ) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise RebookingLinkError(
            pgettext(
                "customer", "This link is not valid. Please check that you copied it completely."
            )
        ) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        raise RebookingLinkError(
            pgettext(
                "customer", "This link is not valid. Please check that you copied it completely."
            )
        )
    return payload["a"], payload.get("s")


def _outdated() -> RebookingLinkOutdatedError:
    return RebookingLinkOutdatedError(
        pgettext(
            "customer",
            "This appointment has changed since the link was sent. Please use the link of the "
            "latest letter or e-mail, or contact your jobcenter.",
        )
    )


def rebooking_token_read(
    token: str, max_age: dt.timedelta | None = None, *, for_update: bool = False
) -> Appointment:
    """The appointment of a valid, current link; raises RebookingLink*Error otherwise."""
    if max_age is None:
        max_age = dt.timedelta(days=RebookingPolicy.load().link_lifetime_days)
    appointment_id, sequence = _token_payload(token, max_age)
    appointments = Appointment.objects.select_related("case__customer", "staff")
    if for_update:
        appointments = appointments.select_for_update(of=("self",))
    appointment = appointments.filter(pk=appointment_id).first()
    if appointment is None or appointment.sequence != sequence or not appointment.is_active:
        raise _outdated()
    return appointment


def rebooking_refusal(
    *, appointment: Appointment, policy: RebookingPolicy, now: dt.datetime | None = None
) -> str | None:
    """Why the customer may not rebook this appointment themselves any more (None: they may).
    Shown on the rebooking page above its call-back form, hence "below"; each message is one
    whole sentence pair in every language (no "Please" + "ask ..." put together)."""
    now = now or timezone.now()
    if appointment.rebook_count >= policy.max_rebookings:
        return pgettext(
            "customer",
            "This appointment has already been moved online as often as possible. You can ask "
            "for a call-back below.",
        )
    if appointment.start - now < dt.timedelta(hours=policy.latest_hours_before):
        return pgettext(
            "customer",
            "The appointment is too close to be moved online. You can ask for a call-back below.",
        )
    return None


# --- alternatives ----------------------------------------------------------------------------------
#
# The customer is offered exactly the times the planner would offer (services_planning.
# staff_free_by_day and planning_staff, one function for both): working hours minus busy times,
# absences, public holidays, active appointments and group sessions hosted; the walk-in reserve at
# the end of each day; the daily cap scaled by the part-time share, counting the active
# appointments of that day; only staff of the case's team who offer the appointment's channel.
# `rebooking_choose` accepts a time only if those rules offer it at that moment (re-checked with
# the appointment and the staff member or group session locked).
#
# A place in a group session is offered another group session of the same kind (same team, topic
# and channel, open, with a free place, inside the window) and individual times of the case's
# usual length (its contact agreement) with a suitable caseworker of the team, the case's own
# caseworker first; a move out of the session detaches the place from it.

# The page offers at most this many times, at most ALTERNATIVES_PER_DAY a day (spread over the
# day), the earliest days first, so the customer sees several days of the window.
ALTERNATIVES_LIMIT = 15
ALTERNATIVES_PER_DAY = 3
# A slot key is "<staff id>_<UNIX seconds>" or "g<group session id>_<UNIX seconds>"; ids and
# times outside these bounds are no time we offer (and would overflow the database or datetime).
_SLOT_KEY = re.compile(r"(g?)([0-9]{1,10})_([0-9]{1,11})", re.ASCII)
MAX_SLOT_ID = 2**31 - 1
SLOT_STAMP_RANGE = (
    int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()),
    int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp()),
)


@dataclass(frozen=True)
class Slot:
    staff_id: int
    start: dt.datetime
    end: dt.datetime
    same_caseworker: bool
    # A place in this group session (its topic for the label) instead of an individual time.
    group_session_id: int | None = None
    topic: str = ""

    @property
    def key(self) -> str:
        """The value of the slot's radio button: staff id (a group session: "g" and its id) and
        start as a UNIX timestamp."""
        stamp = int(self.start.timestamp())
        if self.group_session_id is not None:
            return f"g{self.group_session_id}_{stamp}"
        return f"{self.staff_id}_{stamp}"


@dataclass(frozen=True)
class SlotChoice:
    """A parsed slot key: an individual time with `staff_id`, or a place in `group_session_id`."""

    start: dt.datetime
    staff_id: int | None = None
    group_session_id: int | None = None


def slot_key_parse(value: str) -> SlotChoice | None:
    """The choice a slot key stands for; None for anything that is no key of a time we could
    offer (empty, malformed, negative, non-ASCII digits, ids or times out of range)."""
    match = _SLOT_KEY.fullmatch(value or "")
    if match is None:
        return None
    number, stamp = int(match.group(2)), int(match.group(3))
    if not (0 < number <= MAX_SLOT_ID and SLOT_STAMP_RANGE[0] <= stamp < SLOT_STAMP_RANGE[1]):
        return None
    start = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
    if match.group(1):
        return SlotChoice(start=start, group_session_id=number)
    return SlotChoice(start=start, staff_id=number)


def _add_working_days(day: dt.date, count: int) -> dt.date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        if day.weekday() < 5:
            remaining -= 1
    return day


def rebooking_window(
    *, appointment: Appointment, policy: RebookingPolicy, now: dt.datetime
) -> Interval:
    """From the later of (N working days before the original day, now + the lead time) to the
    end of the day N working days after it."""
    tz = ZoneInfo(settings.TIME_ZONE)
    day = appointment.start.astimezone(tz).date()
    first = _add_working_days(day, -policy.window_working_days)
    last = _add_working_days(day, policy.window_working_days)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return max(start, now + dt.timedelta(hours=policy.latest_hours_before)), end


@dataclass(frozen=True)
class _Terms:
    """What a rebooking of one appointment may offer."""

    duration: dt.timedelta
    # "Your usual contact person": the appointment's staff member; for a group place the case's
    # caseworker (not the session's host), if any.
    preferred_staff_id: int | None
    # The group session the appointment is a place in (None: an individual appointment).
    group_session: GroupSession | None


def _terms(appointment: Appointment) -> _Terms:
    if appointment.group_session_id is None:
        return _Terms(
            duration=appointment.duration,
            preferred_staff_id=appointment.staff_id,
            group_session=None,
        )
    agreement = contact_agreement_effective(case=appointment.case)
    return _Terms(
        duration=dt.timedelta(minutes=agreement.duration_minutes),
        preferred_staff_id=appointment.case.caseworker_id,
        group_session=appointment.group_session,
    )


def _candidate_staff(
    appointment: Appointment, terms: _Terms
) -> tuple[list[User], dict[int, StaffCalendar]]:
    """Staff of the case's team (caseworkers and team leads, as the planner) with a calendar
    offering the appointment's channel, the usual contact person first; and their calendars."""
    members = list(
        User.objects.filter(
            team_id=appointment.case.team_id,
            is_active=True,
            role__in=(Role.CASEWORKER, Role.TEAM_LEAD),
        )
        .select_related("team__jobcenter")
        .order_by("id")
    )
    calendars = {c.user_id: c for c in StaffCalendar.objects.filter(user__in=members)}
    offering = [
        member
        for member in members
        if member.pk in calendars
        and isinstance(calendars[member.pk].channels, list)
        and appointment.channel in calendars[member.pk].channels
    ]
    offering.sort(key=lambda member: (member.pk != terms.preferred_staff_id, member.pk))
    return offering, calendars


def _local_days(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[dt.date]:
    first = start.astimezone(tz).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _individual_slots(
    *,
    appointment: Appointment,
    terms: _Terms,
    staff: list[User],
    calendars: dict[int, StaffCalendar],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Slot]:
    """Every individual time the planner's rules offer inside [start, end): the free time of
    `staff_free_by_day` (the appointment itself left out), on days whose daily cap is not
    reached, cut on the local half-hour grid."""
    if start >= end or not staff:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    days = _local_days(start, end, tz)
    free, booked = staff_free_by_day(
        members=staff, calendars=calendars, days=days, exclude_appointment_ids=(appointment.pk,)
    )
    slots: list[Slot] = []
    for member in staff:
        capacity = planning_staff(
            member=member, calendar=calendars[member.pk], team_id=member.team_id, booked=booked
        )
        for day in days:
            intervals = free.get((member.pk, day))
            if not intervals or capacity.day_capacity(day) <= 0:
                continue
            for free_start, free_end in intervals:
                slots.extend(
                    _slots_between(
                        appointment,
                        terms,
                        member,
                        max(free_start, start),
                        min(free_end, end),
                        tz,
                    )
                )
    return slots


def _slots_between(
    appointment: Appointment,
    terms: _Terms,
    user: User,
    free_start: dt.datetime,
    free_end: dt.datetime,
    tz: ZoneInfo,
) -> list[Slot]:
    """Slots on the local half-hour grid inside one free interval (not the appointment's own)."""
    duration = terms.duration
    local = free_start.astimezone(tz)
    grid = local.replace(minute=0, second=0, microsecond=0)
    while grid < local:
        grid += SLOT_STEP
    slots = []
    start = grid.astimezone(dt.UTC)
    while start + duration <= free_end:
        if not (user.pk == appointment.staff_id and start == appointment.start):
            slots.append(
                Slot(
                    staff_id=user.pk,
                    start=start,
                    end=start + duration,
                    same_caseworker=user.pk == terms.preferred_staff_id,
                )
            )
        start += SLOT_STEP
    return slots


def _group_session_slots(
    *,
    appointment: Appointment,
    terms: _Terms,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Slot]:
    """For a group place: the other open sessions of the same kind (team, topic, channel) inside
    [start, end) with a free place that the case has no place in yet, by time."""
    session = terms.group_session
    if session is None or start >= end:
        return []
    sessions = GroupSession.objects.filter(
        team_id=session.team_id,
        topic=session.topic,
        channel=session.channel,
        status=GroupSessionStatus.OPEN,
        start__gte=start,
        end__lte=end,
    ).exclude(pk=session.pk)
    own_places = Appointment.objects.filter(
        case_id=appointment.case_id,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        group_session__isnull=False,
    ).values_list("group_session_id", "start")
    taken_by_case = set(own_places)
    return [
        Slot(
            staff_id=other.host_id,
            start=other.start,
            end=other.end,
            same_caseworker=False,
            group_session_id=other.pk,
            topic=other.topic,
        )
        for other in group_session_annotate_places(sessions).order_by("start", "id")
        if group_session_free_places(other) > 0 and (other.pk, other.start) not in taken_by_case
    ]


def _spread(
    slots: list[Slot],
    *,
    limit: int,
    per_day: int | None,
    taken: dict[dt.date, int],
    tz: ZoneInfo,
) -> list[Slot]:
    """At most `limit` of `slots` (sorted), at most `per_day` a local day counting `taken`
    (updated), spread over each day (the first, then evenly further on), the earliest days
    first; in time order."""
    if limit <= 0:
        return []
    by_day: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    chosen: list[Slot] = []
    for day in sorted(by_day):
        day_slots = by_day[day]
        room = len(day_slots) if per_day is None else per_day - taken.get(day, 0)
        room = min(room, limit - len(chosen))
        if room <= 0:
            continue
        if len(day_slots) > room:
            day_slots = [day_slots[index * len(day_slots) // room] for index in range(room)]
        chosen.extend(day_slots)
        taken[day] = taken.get(day, 0) + len(day_slots)
        if len(chosen) >= limit:
            break
    return chosen


def rebooking_alternatives(
    *,
    appointment: Appointment,
    limit: int = ALTERNATIVES_LIMIT,
    per_day: int | None = ALTERNATIVES_PER_DAY,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The times offered to the customer (see the rules above), deterministic: for a group place
    first the other sessions of the same kind, then the usual contact person's times, then the
    colleagues' (each by time); at most `per_day` a day (None: no limit) and `limit` in all."""
    now = now or timezone.now()
    policy = RebookingPolicy.load()
    start, end = rebooking_window(appointment=appointment, policy=policy, now=now)
    if start >= end:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    terms = _terms(appointment)
    taken: dict[dt.date, int] = {}
    chosen = _spread(
        _group_session_slots(appointment=appointment, terms=terms, start=start, end=end),
        limit=limit,
        per_day=per_day,
        taken=taken,
        tz=tz,
    )
    staff, calendars = _candidate_staff(appointment, terms)
    own_staff = [user for user in staff if user.pk == terms.preferred_staff_id]
    other_staff = [user for user in staff if user.pk != terms.preferred_staff_id]
    # The usual contact person's times first; the colleagues' are read only if the page has room
    # left (each staff member's times are independent, so the result is the same).
    for group in (own_staff, other_staff):
        if len(chosen) >= limit:
            break
        slots = _individual_slots(
            appointment=appointment,
            terms=terms,
            staff=group,
            calendars=calendars,
            start=start,
            end=end,
        )
        slots.sort(key=lambda slot: (slot.start, slot.staff_id))
        chosen += _spread(slots, limit=limit - len(chosen), per_day=per_day, taken=taken, tz=tz)
    return chosen


def _slot_is_offered(
    *, appointment: Appointment, staff: User, start: dt.datetime, now: dt.datetime
) -> bool:
    """Whether the rules offer the customer `start` with `staff` now (any time they offer, not
    only the ones on the page)."""
    policy = RebookingPolicy.load()
    window_start, window_end = rebooking_window(appointment=appointment, policy=policy, now=now)
    terms = _terms(appointment)
    if start < window_start or start + terms.duration > window_end:
        return False
    candidates, calendars = _candidate_staff(appointment, terms)
    member = next((user for user in candidates if user.pk == staff.pk), None)
    if member is None:
        return False
    # Only the chosen day: the free time and the cap are per local day.
    tz = ZoneInfo(settings.TIME_ZONE)
    day_start = dt.datetime.combine(start.astimezone(tz).date(), dt.time.min, tzinfo=tz)
    slots = _individual_slots(
        appointment=appointment,
        terms=terms,
        staff=[member],
        calendars=calendars,
        start=max(window_start, day_start),
        end=min(window_end, day_start + dt.timedelta(days=1)),
    )
    return any(slot.start == start for slot in slots)


def _group_session_offered(
    *, appointment: Appointment, session_id: int, start: dt.datetime, now: dt.datetime
) -> GroupSession | None:
    """The group session if the rules offer a place in it at `start` now. Its row is locked
    first and its places counted after, so two customers taking the last place are decided one
    after the other (the planner locks the sessions it fills the same way)."""
    terms = _terms(appointment)
    if terms.group_session is None:
        return None
    session = (
        GroupSession.objects.select_for_update(of=("self",))
        .select_related("host")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return None
    policy = RebookingPolicy.load()
    window_start, window_end = rebooking_window(appointment=appointment, policy=policy, now=now)
    slots = _group_session_slots(
        appointment=appointment, terms=terms, start=window_start, end=window_end
    )
    if not any(s.group_session_id == session_id and s.start == start for s in slots):
        return None
    return session


def _leave_group_session(appointment: Appointment) -> None:
    """A group place moved to an individual time: detached from its session, with the place of
    the staff member's calendar (in person, outreach) or none (phone, video), as the planner
    sets it. Not saved."""
    appointment.group_session = None
    calendar = StaffCalendar.objects.filter(user_id=appointment.staff_id).first()
    location = calendar.location if calendar is not None else ""
    appointment.location = (location if appointment.channel in ("in_person", "outreach") else "")[
        :200
    ]
    appointment.video_link = ""


def _join_group_session(appointment: Appointment, session: GroupSession) -> None:
    """A group place moved into another session: its host, time, channel, room or link. Not
    saved."""
    appointment.group_session = session
    appointment.staff_id = session.host_id
    appointment.start = session.start
    appointment.end = session.end
    appointment.channel = session.channel
    appointment.location = session.location
    appointment.video_link = session.video_link


# --- the customer's choices ------------------------------------------------------------------------


def _customer_ctx(ip_address: str | None) -> AuditContext:
    return AuditContext.customer(ip_address=ip_address)


@transaction.atomic
def rebooking_choose(
    *,
    token: str,
    start: dt.datetime,
    staff_id: int | None = None,
    group_session_id: int | None = None,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The customer moves their appointment to a time the rules offer now (an individual time
    with `staff_id`, or for a group place a place in `group_session_id`), re-checked under the
    locks: the appointment, and the staff member (their daily cap) or the session (its places).
    Of several customers choosing the same slot (or the last place) at once exactly one wins;
    the others get a ConflictError. A group place that moves is taken out of its session."""
    now = now or timezone.now()
    appointment = rebooking_token_read(token, for_update=True)
    refusal = rebooking_refusal(appointment=appointment, policy=RebookingPolicy.load(), now=now)
    if refusal:
        raise ApplicationError(refusal)
    previous_session_id = appointment.group_session_id
    session = None
    if group_session_id is not None:
        session = _group_session_offered(
            appointment=appointment, session_id=group_session_id, start=start, now=now
        )
        if session is None:
            raise ConflictError(_taken_message())
        staff = session.host
    else:
        # The staff row is locked so that two customers taking that person's last place of a
        # day (the daily cap) are decided one after the other.
        staff = (
            User.objects.select_for_update(of=("self",))
            .filter(pk=staff_id)
            .select_related("team__jobcenter")
            .first()
        )
        if staff is None or not _slot_is_offered(
            appointment=appointment, staff=staff, start=start, now=now
        ):
            raise ConflictError(_taken_message())
    invited = _invitation_went_out(appointment)
    duration = _terms(appointment).duration
    if session is not None:
        detail = _move(appointment, start=session.start, end=session.end, staff=staff)
        _join_group_session(appointment, session)
    else:
        detail = _move(appointment, start=start, end=start + duration, staff=staff)
        if previous_session_id is not None:
            _leave_group_session(appointment)
    if previous_session_id is not None or session is not None:
        detail["group_session"] = {"from": previous_session_id, "to": appointment.group_session_id}
    previous_status = appointment.status
    # Chosen by the customer: confirmed, unless an invitation had gone out already. Then the new
    # invitation (with the raised SEQUENCE) must go out, which invitation_send does from "sent"
    # (or "approved": the letter went out but the e-mail failed); the customer can confirm the
    # new time with the link of that invitation.
    if previous_status in INVITED_STATUSES:
        appointment.status = AppointmentStatus.SENT
    elif not invited:
        appointment.status = AppointmentStatus.CONFIRMED
    appointment.rebook_count += 1
    _save_guarded(appointment)
    audit_record(
        ctx=_customer_ctx(ip_address),
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={
            "rebooked_by_customer": detail,
            "status": {"from": previous_status, "to": appointment.status},
        },
    )
    _customer_moved_event(appointment, detail)
    _after_move(appointment, invited=invited)
    return appointment


# Open call-back requests one appointment may have: enough to add a forgotten detail, not a way
# to fill the caseworker's queue through a link.
MAX_OPEN_CALLBACKS_PER_APPOINTMENT = 3


def _customer_case_event(appointment: Appointment, summary, values: dict, data: dict) -> None:
    """A timeline entry for something the customer did through their link. The staff read the
    timeline, so it is written in the staff's default language, not the customer's page language;
    `summary` is a lazy message, rendered here with `values` (times included)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(summary) % {
            key: _when(value) if isinstance(value, dt.datetime) else value
            for key, value in values.items()
        }
        CaseEvent.objects.create(
            case=appointment.case,
            kind=CaseEvent.Kind.CONTACT,
            actor=None,
            summary=text[:300],
            data={"appointment_id": appointment.pk, "by": "customer", **data},
        )


def _customer_moved_event(appointment: Appointment, detail: dict) -> None:
    """The timeline entry of a customer's move through the link (called by rebooking_choose)."""
    _customer_case_event(
        appointment,
        gettext_lazy("The customer moved the appointment from %(from)s to %(to)s (link)"),
        {"from": dt.datetime.fromisoformat(detail["from"]["start"]), "to": appointment.start},
        {"moved": detail, "status": appointment.status},
    )


def callback_phone_clean(phone: str) -> str:
    """The customer's phone number for the call-back, trimmed; "" when none was given. Loose on
    purpose (digits, spaces, + / - ( ), 6 to 30 characters, at least one digit): a person dials
    it."""
    phone = " ".join((phone or "").split())
    if not phone:
        return ""
    if not CALLBACK_PHONE_PATTERN.match(phone) or not any(c.isdigit() for c in phone):
        raise ApplicationError(
            pgettext(
                "customer",
                "Please enter a phone number of 6 to 30 characters: digits, spaces and "
                "+ / - ( ) only.",
            ),
            extra={"fields": {"phone": ["invalid"]}},
        )
    return phone


@transaction.atomic
def rebooking_callback(
    *, token: str, reason: str, phone: str = "", ip_address: str | None = None
) -> CallbackRequest:
    """The customer asks to be called back about the appointment, with a reason and, if they
    like, the number to call (else staff call the number on file). It goes to the case's
    appointments card and the work queue ("Rückruf erbeten") until a person handles it."""
    appointment = rebooking_token_read(token, for_update=True)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            pgettext("customer", "Please tell us briefly why you would like a call-back.")
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise ApplicationError(
            pgettext("customer", "Please keep the reason under %(count)s characters.")
            % {"count": MAX_REASON_LENGTH}
        )
    phone = callback_phone_clean(phone)
    # The appointment row is locked (above), so two requests at once count one after the other.
    if (
        CallbackRequest.objects.open().filter(appointment=appointment).count()
        >= MAX_OPEN_CALLBACKS_PER_APPOINTMENT
    ):
        raise ConflictError(
            pgettext(
                "customer",
                "We already have your requests for a call-back and will call you as soon as "
                "possible.",
            )
        )
    request = CallbackRequest.objects.create(
        appointment=appointment, case=appointment.case, reason=reason, phone=phone
    )
    audit_record(
        ctx=_customer_ctx(ip_address),
        action=AuditAction.CREATE,
        object_type="callback_request",
        object_id=request.pk,
        customer_id=appointment.case.customer_id,
        detail={"appointment_id": appointment.pk, "phone_given": bool(phone)},
    )
    _customer_case_event(
        appointment,
        gettext_lazy(
            "The customer asked for a call-back about the appointment on %(when)s: %(reason)s"
        ),
        {"when": appointment.start, "reason": reason},
        {"callback_id": request.pk},
    )
    return request


def callback_request_list_open(*, case: Case):
    """The case's open call-back requests, oldest first, with their appointment."""
    return (
        CallbackRequest.objects.open()
        .filter(case=case)
        .select_related("appointment", "appointment__staff")
        .order_by("created_at", "id")
    )


@transaction.atomic
def callback_request_handle(*, ctx: AuditContext, callback_id: int, note: str) -> CallbackRequest:
    """A caseworker or team lead of the case's team marks a call-back request done, with a short
    note of what came of it (called, moved the appointment, not reached ...). Once: a second
    attempt is a ConflictError."""
    # Locked until commit: two people handling it at once write one after the other.
    request = (
        CallbackRequest.objects.select_for_update(of=("self",))
        .select_related("case", "appointment")
        .get(pk=callback_id)
    )
    _require_case_staff(ctx, request.case)
    note = (note or "").strip()
    if not note:
        raise _field_error("note", _("Please add a short note: what came of the call-back?"))
    if len(note) > CALLBACK_NOTE_MAX_LENGTH:
        raise _field_error(
            "note",
            _("Please keep the note under %(count)s characters.")
            % {"count": CALLBACK_NOTE_MAX_LENGTH},
        )
    if not request.is_open:
        raise ConflictError(_("This call-back request has already been handled."))
    request.handled_at = timezone.now()
    request.handled_by = ctx.actor
    request.handled_note = note
    request.full_clean()
    request.save(update_fields=["handled_at", "handled_by", "handled_note"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="callback_request",
        object_id=request.pk,
        customer_id=request.case.customer_id,
        detail={"handled": True, "note": note, "appointment_id": request.appointment_id},
    )
    _case_event(
        ctx,
        request.case,
        _("Call-back request of %(when)s handled: %(note)s")
        % {"when": _when(request.created_at), "note": note},
        {"callback_id": request.pk, "appointment_id": request.appointment_id},
    )
    return request


# --- cancelling, outcomes and missed appointments ---------------------------------------------------
#
# The rules (issue 5, "the system never reduces benefits or sanctions on its own"):
# - An outcome (attended, missed, excused) is recorded by a person of the case's team, only once
#   the appointment has begun, and only for an appointment that was approved (the invitation went
#   or was to go out): approved, sent or confirmed. A recorded outcome can be corrected to another
#   one (audited with both values).
# - "missed" opens one MissedAppointmentReview for the caseworker (once per appointment, even if
#   the outcome is corrected back and forth) and sets Case.missed_appointment_pending, which puts
#   the case into the work queue's "missed appointment to review" category.
# - Correcting a missed appointment to attended or excused closes nothing by itself: an open
#   review stays open until a person decides it (e.g. "no further action: recorded by mistake"),
#   so no judgement is ever made by the system.
# - Deciding a review records the person's decision (good reason, hearing started, no further
#   action) and clears the case's flag when no open review remains. Nothing here reduces benefits
#   or starts a sanction: a hearing is something the caseworker starts outside this system.
# - "Hearing" needs a recorded invitation: a sent delivery (letter or e-mail, with its template
#   version and so its notice of legal consequences) of the appointment's current version. Without
#   one there is no Meldeversäumnis (§ 32 SGB II) to hear about; good reason and no further action
#   stay possible. The card and the API show that record (invitation_proof) beside the review.

OUTCOME_STATUSES = (AppointmentStatus.ATTENDED, AppointmentStatus.MISSED, AppointmentStatus.EXCUSED)
# An appointment whose outcome can be recorded (besides correcting a recorded one).
AWAITING_OUTCOME_STATUSES = (
    AppointmentStatus.APPROVED,
    AppointmentStatus.SENT,
    AppointmentStatus.CONFIRMED,
)
MAX_NOTE_LENGTH = 2000


def _require_case_staff(ctx: AuditContext, case: Case) -> None:
    require_case_staff(ctx, case)


def _when(value: dt.datetime) -> str:
    """Date and time for a timeline entry, local and in the active language's format."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _case_event(ctx: AuditContext, case: Case, summary: str, data: dict) -> None:
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    CaseEvent.objects.create(
        case=case,
        # No kind of its own in cases.models.CaseEvent.Kind: appointments are contacts.
        kind=CaseEvent.Kind.CONTACT,
        actor=actor,
        summary=summary[:300],
        data=data,
    )


def _lock_appointment(appointment_id: int) -> Appointment:
    # Locked until commit: two people recording at once write one after the other.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("case", "staff")
        .get(pk=appointment_id)
    )


def _case_flag_refresh(case: Case) -> None:
    """Case.missed_appointment_pending is true exactly while the case has an open review."""
    pending = MissedAppointmentReview.objects.filter(case=case, outcome="").exists()
    if case.missed_appointment_pending != pending:
        case.missed_appointment_pending = pending
        case.save(update_fields=["missed_appointment_pending", "updated_at"])


@transaction.atomic
def appointment_cancel(*, ctx: AuditContext, appointment_id: int, reason: str) -> Appointment:
    """Cancel an active appointment with a reason. Its links die (the sequence rises), its
    reminders are cancelled, and a customer who had the invitation gets the cancellation."""
    appointment = _lock_appointment(appointment_id)
    _require_case_staff(ctx, appointment.case)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Please give a reason for the cancellation."),
            extra={"fields": {"reason": [_("Please give a reason for the cancellation.")]}},
        )
    if len(reason) > MAX_REASON_LENGTH:
        message = _("Please keep the reason under %(count)s characters.") % {
            "count": MAX_REASON_LENGTH
        }
        raise ApplicationError(message, extra={"fields": {"reason": [message]}})
    if not appointment.is_active:
        raise ApplicationError(
            _("Only a planned, approved, sent or confirmed appointment can be cancelled.")
        )
    previous_status = appointment.status
    invited = _invitation_went_out(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.sequence += 1
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    from scheduling.services_reminders import reminders_cancel_for

    reminders_cancel_for(appointment=appointment)
    if invited:
        # The customer had the invitation: the cancellation (METHOD:CANCEL) goes out after commit.
        _send_invitation_on_commit(appointment.pk)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={
            "status": {"from": previous_status, "to": appointment.status},
            "reason": reason,
            "sequence": appointment.sequence,
        },
    )
    _case_event(
        ctx,
        appointment.case,
        _("Appointment on %(when)s cancelled: %(reason)s")
        % {"when": _when(appointment.start), "reason": reason},
        {"appointment_id": appointment.pk, "status": appointment.status},
    )
    return appointment


@transaction.atomic
def appointment_outcome_set(
    *,
    ctx: AuditContext,
    appointment_id: int,
    outcome: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Record whether the customer came (attended), did not come (missed) or had excused
    themselves (excused). See the rules above; never a sanction."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment_id)
    case = appointment.case
    _require_case_staff(ctx, case)
    if outcome not in OUTCOME_STATUSES:
        message = _("Choose attended, missed or excused.")
        raise ApplicationError(message, extra={"fields": {"outcome": [message]}})
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        message = _("Please keep the note under %(count)s characters.") % {"count": MAX_NOTE_LENGTH}
        raise ApplicationError(message, extra={"fields": {"note": [message]}})
    previous_status = appointment.status
    if previous_status == outcome:
        return appointment  # recorded already (a double click): nothing to do
    if previous_status not in (*AWAITING_OUTCOME_STATUSES, *OUTCOME_STATUSES):
        if previous_status == AppointmentStatus.PLANNED:
            raise ApplicationError(
                _(
                    "This appointment was never approved, so the customer was not invited: "
                    "there is no outcome to record."
                )
            )
        raise ApplicationError(
            _("A cancelled or rebooked appointment has no outcome (status now: %(status)s).")
            % {"status": appointment.get_status_display()}
        )
    if now < appointment.start:
        raise ApplicationError(
            _("The outcome can only be recorded once the appointment has begun.")
        )
    withdrawn_review_id = None
    if previous_status == AppointmentStatus.MISSED:
        # A correction away from "missed": the review of the missed appointment goes with it,
        # unless the caseworker has already decided it (a hearing may be under way).
        open_review = MissedAppointmentReview.objects.filter(appointment=appointment).first()
        if open_review is not None and not open_review.is_open:
            raise ConflictError(
                _(
                    "The missed appointment was already reviewed (%(decision)s, %(when)s): its "
                    "outcome can no longer be changed. Note the correction in the case instead."
                )
                % {
                    "decision": open_review.get_outcome_display(),
                    "when": _when(open_review.decided_at),
                }
            )
        if open_review is not None:
            withdrawn_review_id = open_review.pk
            open_review.delete()
    appointment.status = outcome
    appointment.save(update_fields=["status", "updated_at"])
    review = None
    if outcome == AppointmentStatus.MISSED:
        review, _created = MissedAppointmentReview.objects.get_or_create(
            appointment=appointment, defaults={"case": case}
        )
    # Lock the case row for its flag (another review may be decided at the same moment).
    case = Case.objects.select_for_update().get(pk=case.pk)
    _case_flag_refresh(case)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=case.customer_id,
        detail={
            "status": {"from": previous_status, "to": outcome},
            "note": note,
            "correction": previous_status in OUTCOME_STATUSES,
            "missed_review_id": review.pk if review else None,
            "missed_review_withdrawn": withdrawn_review_id,
        },
    )
    when = _when(appointment.start)
    if outcome == AppointmentStatus.MISSED:
        summary = _("Appointment on %(when)s missed: to review (good reason? hearing?)")
    elif outcome == AppointmentStatus.ATTENDED:
        summary = _("Appointment on %(when)s attended")
    else:
        summary = _("Appointment on %(when)s excused")
    _case_event(
        ctx,
        case,
        summary % {"when": when},
        {"appointment_id": appointment.pk, "status": outcome, "note": note},
    )
    return appointment


def _invitation_recorded(appointment: Appointment) -> bool:
    """A sent delivery of the appointment's current version exists (see invitation_proof)."""
    return appointment.invitation_deliveries.filter(
        status=DeliveryStatus.SENT, ics_sequence__gte=appointment.sequence
    ).exists()


@transaction.atomic
def missed_review_decide(
    *, ctx: AuditContext, review_id: int, outcome: str, note: str = ""
) -> MissedAppointmentReview:
    """The caseworker's decision on a missed appointment: a good reason, a hearing started, or no
    further action. Recorded once; the system itself never sanctions."""
    review = (
        MissedAppointmentReview.objects.select_for_update(of=("self",))
        .select_related("appointment", "case")
        .get(pk=review_id)
    )
    _require_case_staff(ctx, review.case)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in MissedReviewOutcome.values:
        errors["outcome"] = [_("Choose a decision: good reason, hearing or no further action.")]
    elif outcome in (MissedReviewOutcome.HEARING, MissedReviewOutcome.NO_ACTION) and not note:
        errors["note"] = [_("Please add a note: why a hearing, or why no further action.")]
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = [
            _("Please keep the note under %(count)s characters.") % {"count": MAX_NOTE_LENGTH}
        ]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], extra={"fields": errors})
    if not review.is_open:
        raise ConflictError(_("This missed appointment has already been decided."))
    if review.appointment.status != AppointmentStatus.MISSED:
        raise ConflictError(
            _(
                "The appointment is no longer recorded as missed (now: %(status)s): nothing to decide."
            )
            % {"status": review.appointment.get_status_display()}
        )
    if outcome == MissedReviewOutcome.HEARING and not _invitation_recorded(review.appointment):
        message = _(
            "A hearing is not possible: no invitation with the notice of legal consequences is "
            "recorded as delivered for this appointment at this time. A missed appointment "
            "(Meldeversäumnis, § 32 SGB II) needs a proper invitation. Choose good reason or no "
            "further action."
        )
        raise ApplicationError(message, extra={"fields": {"outcome": [message]}})
    review.outcome = outcome
    review.note = note
    review.decided_by = ctx.actor
    review.decided_at = timezone.now()
    review.full_clean()
    review.save()
    case = Case.objects.select_for_update().get(pk=review.case_id)
    _case_flag_refresh(case)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="missed_appointment_review",
        object_id=review.pk,
        customer_id=case.customer_id,
        detail={"outcome": outcome, "note": note, "appointment_id": review.appointment_id},
    )
    _case_event(
        ctx,
        case,
        _("Missed appointment on %(when)s decided: %(outcome)s")
        % {
            "when": _when(review.appointment.start),
            "outcome": MissedReviewOutcome(outcome).label,
        },
        {"missed_review_id": review.pk, "outcome": outcome},
    )
    return review


@transaction.atomic
def appointment_confirm_by_customer(*, token: str, ip_address: str | None = None) -> Appointment:
    """The customer confirms the appointment of their invitation through its link (sent →
    confirmed). Confirming again changes nothing."""
    appointment = rebooking_token_read(token, for_update=True)
    if appointment.status == AppointmentStatus.CONFIRMED:
        return appointment
    if appointment.status != AppointmentStatus.SENT:
        raise ApplicationError(
            pgettext(
                "customer",
                "This appointment cannot be confirmed online. Please contact your jobcenter.",
            )
        )
    appointment.status = AppointmentStatus.CONFIRMED
    appointment.save(update_fields=["status", "updated_at"])
    audit_record(
        ctx=_customer_ctx(ip_address),
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={"confirmed_by_customer": True, "sequence": appointment.sequence},
    )
    _customer_case_event(
        appointment,
        gettext_lazy("The customer confirmed the appointment on %(when)s (link)"),
        {"when": appointment.start},
        {"status": appointment.status, "sequence": appointment.sequence},
    )
    return appointment


# --- reads for the case page and the API ------------------------------------------------------------


def _deliveries_prefetch() -> Prefetch:
    """The invitation deliveries without the PDF itself (only whether there is one), with their
    template version, oldest first."""
    return Prefetch(
        "invitation_deliveries",
        queryset=InvitationDelivery.objects.defer("document")
        .annotate(
            has_letter=ExpressionWrapper(Q(document__isnull=False), output_field=BooleanField())
        )
        .select_related("template")
        .order_by("sent_at", "id"),
    )


def appointment_list_for_case(*, case: Case):
    """The case's appointments, newest first, with their invitation deliveries (letter and
    e-mail, with template version and whether a letter PDF is kept), the reminders sent or
    failed, the call-back requests and the missed-appointment review: a fixed number of queries
    whatever the number of appointments."""
    return (
        Appointment.objects.filter(case=case)
        .select_related("staff", "missed_review", "missed_review__decided_by")
        .annotate(
            deliveries_sent=Count(
                "invitation_deliveries",
                filter=Q(invitation_deliveries__status=DeliveryStatus.SENT),
                distinct=True,
            ),
            deliveries_total=Count("invitation_deliveries", distinct=True),
        )
        .prefetch_related(
            _deliveries_prefetch(),
            Prefetch(
                "reminders",
                queryset=Reminder.objects.filter(
                    status__in=(ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.NOT_SENT)
                ).order_by("sent_at", "id"),
                to_attr="reminders_done",
            ),
            Prefetch(
                "callback_requests",
                queryset=CallbackRequest.objects.select_related("handled_by").order_by(
                    "created_at", "id"
                ),
            ),
        )
        .order_by("-start", "-id")
    )


def _deliveries_of(appointment: Appointment):
    """The appointment's deliveries: the prefetched ones, else read without the PDFs."""
    if "invitation_deliveries" in getattr(appointment, "_prefetched_objects_cache", {}):
        return appointment.invitation_deliveries.all()
    return (
        appointment.invitation_deliveries.defer("document")
        .annotate(
            has_letter=ExpressionWrapper(Q(document__isnull=False), output_field=BooleanField())
        )
        .select_related("template")
        .order_by("sent_at", "id")
    )


def appointment_delivery_records(appointment: Appointment) -> list[dict]:
    """What went to the customer about one appointment, oldest first, for staff (the card and
    the API): each invitation delivery (letter or e-mail; for a cancelled appointment the last
    version's rows are the cancellation) and each reminder sent or failed (e-mail or SMS). From
    the prefetches of appointment_list_for_case, so no query per appointment.

    The recipient is shown in full: the record is the evidence of where the invitation went (an
    old address, a mistyped e-mail), and the caseworker sees the customer's contact data on the
    case page anyway. The letter PDF is linked, never inlined."""
    records = []
    for delivery in _deliveries_of(appointment):
        cancellation = (
            appointment.status == AppointmentStatus.CANCELLED
            and delivery.ics_sequence is not None
            and delivery.ics_sequence >= appointment.sequence
        )
        has_letter = getattr(delivery, "has_letter", None)
        if has_letter is None:  # not from the prefetch: ask without loading the PDF
            has_letter = InvitationDelivery.objects.filter(
                pk=delivery.pk, document__isnull=False
            ).exists()
        records.append(
            {
                "id": delivery.pk,
                "kind": "cancellation" if cancellation else "invitation",
                "channel": delivery.channel,
                "at": delivery.sent_at,
                "status": delivery.status,
                "error": delivery.error,
                "recipient": ", ".join(
                    line.strip() for line in delivery.recipient.splitlines() if line.strip()
                ),
                "template_language": delivery.template.language,
                "template_version": delivery.template.version,
                "language": delivery.language,
                "sequence": delivery.ics_sequence,
                "letter_url": (
                    reverse(
                        "scheduling:invitation_letter",
                        kwargs={"appointment_id": appointment.pk, "delivery_id": delivery.pk},
                    )
                    if has_letter
                    else None
                ),
            }
        )
    reminders = getattr(appointment, "reminders_done", None)
    if reminders is None:
        reminders = appointment.reminders.filter(
            status__in=(ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.NOT_SENT)
        ).order_by("sent_at", "id")
    for reminder in reminders:
        records.append(
            {
                "id": reminder.pk,
                "kind": "reminder",
                "channel": reminder.channel,
                "at": reminder.sent_at or reminder.due_at,
                "status": reminder.status,
                "error": reminder.error,
                "recipient": reminder.recipient,
                "template_language": None,
                "template_version": None,
                "language": None,
                "sequence": reminder.appointment_sequence,
                "letter_url": None,
            }
        )
    records.sort(key=lambda record: (record["at"], record["kind"] == "reminder", record["id"]))
    return records


def invitation_proof(appointment: Appointment) -> list[InvitationDelivery]:
    """The deliveries that show the customer was invited to the appointment as it stood (the
    time they missed): sent, of its current version (or later), each with its template version,
    and so with the notice of legal consequences every template carries. Empty: no recorded
    invitation, so no Meldeversäumnis (§ 32 SGB II) can rest on it. Uses prefetched deliveries
    where there are some."""
    return [
        delivery
        for delivery in _deliveries_of(appointment)
        if delivery.status == DeliveryStatus.SENT
        and delivery.ics_sequence is not None
        and delivery.ics_sequence >= appointment.sequence
    ]


def missed_review_list_open(*, case: Case):
    return (
        MissedAppointmentReview.objects.filter(case=case, outcome="")
        .select_related("appointment", "appointment__staff")
        .prefetch_related(
            Prefetch(
                "appointment__invitation_deliveries",
                queryset=InvitationDelivery.objects.defer("document")
                .select_related("template")
                .order_by("sent_at", "id"),
            )
        )
        .order_by("created_at", "id")
    )
