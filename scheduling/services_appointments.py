"""Appointments and the customer's rebooking link.

Two customers can never get the same slot: every write of an appointment's time goes through
`_save_guarded`, which turns the database's refusal (unique (staff, start) among active appointments
everywhere; on PostgreSQL also an exclusion constraint on overlapping times) into a ConflictError.
The checks before the write give a readable message in the common case; the constraint decides races.

The rebooking link is signed (TimestampSigner, salt "scheduling.rebook") and carries the
appointment's id and `sequence`: it expires after the policy's lifetime and dies as soon as the
appointment is changed (moved, rebooked, cancelled).
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.models import Case
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role, User
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    CALENDAR_CHANNELS,
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    RebookingPolicy,
    StaffCalendar,
)
from scheduling.selectors import Interval, merge_intervals, staff_busy_intervals_many

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
    return _("This time has just been taken. Please choose another one.")


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
    return others.exists()


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
) -> Appointment:
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
    _save_guarded(appointment)
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=case.customer_id,
        detail={"staff_id": staff_id, "start": start.isoformat(), "end": end.isoformat()},
    )
    return appointment


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
    detail = _move(appointment, start=new_start, end=new_end, staff=staff)
    _save_guarded(appointment)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={"rebooked": detail},
    )
    return appointment


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
            _("This link has expired. Please contact your jobcenter to change the appointment.")
        ) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise RebookingLinkError(
            _("This link is not valid. Please check that you copied it completely.")
        ) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        raise RebookingLinkError(
            _("This link is not valid. Please check that you copied it completely.")
        )
    return payload["a"], payload.get("s")


def _outdated() -> RebookingLinkOutdatedError:
    return RebookingLinkOutdatedError(
        _(
            "This appointment has changed since the link was sent. Please use the link of the "
            "latest letter or e-mail, or contact your jobcenter."
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
    """Why the customer may not rebook this appointment themselves any more (None: they may)."""
    now = now or timezone.now()
    if appointment.rebook_count >= policy.max_rebookings:
        return _(
            "This appointment has already been moved as often as possible online. Please ask "
            "for a call-back."
        )
    if appointment.start - now < dt.timedelta(hours=policy.latest_hours_before):
        return _("The appointment is too close to be moved online. Please ask for a call-back.")
    return None


# --- alternatives ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    staff_id: int
    start: dt.datetime
    end: dt.datetime
    same_caseworker: bool

    @property
    def key(self) -> str:
        """The value of the slot's radio button: staff id and start as a UNIX timestamp."""
        return f"{self.staff_id}_{int(self.start.timestamp())}"


def slot_key_parse(value: str) -> tuple[int, dt.datetime] | None:
    staff_id, _sep, stamp = (value or "").partition("_")
    if not (staff_id.isdigit() and stamp.isdigit()):
        return None
    return int(staff_id), dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)


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


def _candidate_staff(appointment: Appointment) -> list[User]:
    """The appointment's caseworker first, then staff of the case's team offering its channel."""
    others = list(
        User.objects.filter(
            team_id=appointment.case.team_id,
            is_active=True,
            role__in=(Role.CASEWORKER, Role.TEAM_LEAD),
        )
        .exclude(pk=appointment.staff_id)
        .select_related("team__jobcenter")
        .order_by("id")
    )
    offers = {
        user_id
        for user_id, channels in StaffCalendar.objects.filter(user__in=others).values_list(
            "user_id", "channels"
        )
        if isinstance(channels, list) and appointment.channel in channels
    }
    return [appointment.staff, *[user for user in others if user.pk in offers]]


def _free_slots(
    *, appointment: Appointment, staff: list[User], start: dt.datetime, end: dt.datetime
) -> list[Slot]:
    if start >= end or not staff:
        return []
    busy = staff_busy_intervals_many(users=staff, start=start, end=end)
    for staff_id, slot_start, slot_end in (
        Appointment.objects.filter(
            staff__in=staff,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
            start__lt=end,
            end__gt=start,
        )
        .exclude(pk=appointment.pk)
        .values_list("staff_id", "start", "end")
    ):
        busy[staff_id] = [*busy[staff_id], (slot_start, slot_end)]
    duration = appointment.duration
    tz = ZoneInfo(settings.TIME_ZONE)
    slots: list[Slot] = []
    for user in staff:
        cursor = start
        for busy_start, busy_end in [*merge_intervals(busy[user.pk]), (end, end)]:
            slots.extend(_slots_between(appointment, user, cursor, busy_start, duration, tz))
            cursor = max(cursor, busy_end)
    return slots


def _slots_between(
    appointment: Appointment,
    user: User,
    free_start: dt.datetime,
    free_end: dt.datetime,
    duration: dt.timedelta,
    tz: ZoneInfo,
) -> list[Slot]:
    """Slots on the local half-hour grid inside one free interval (not the appointment's own)."""
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
                    same_caseworker=user.pk == appointment.staff_id,
                )
            )
        start += SLOT_STEP
    return slots


def rebooking_alternatives(
    *, appointment: Appointment, limit: int = 10, now: dt.datetime | None = None
) -> list[Slot]:
    """Free slots for the customer: with the same caseworker first (by time), then with others
    of the case's team who offer the channel (by time, then staff). Deterministic."""
    now = now or timezone.now()
    policy = RebookingPolicy.load()
    start, end = rebooking_window(appointment=appointment, policy=policy, now=now)
    candidates = _candidate_staff(appointment)
    own = _free_slots(appointment=appointment, staff=candidates[:1], start=start, end=end)
    if len(own) >= limit:
        return own[:limit]
    others = _free_slots(appointment=appointment, staff=candidates[1:], start=start, end=end)
    others.sort(key=lambda slot: (slot.start, slot.staff_id))
    return (own + others)[:limit]


def _slot_is_offered(
    *, appointment: Appointment, staff: User, start: dt.datetime, now: dt.datetime
) -> bool:
    policy = RebookingPolicy.load()
    window_start, window_end = rebooking_window(appointment=appointment, policy=policy, now=now)
    end = start + appointment.duration
    if start < window_start or end > window_end:
        return False
    if staff.pk not in {user.pk for user in _candidate_staff(appointment)}:
        return False
    slots = _free_slots(appointment=appointment, staff=[staff], start=start, end=end)
    return any(slot.start == start for slot in slots)


# --- the customer's choices ------------------------------------------------------------------------


def _customer_ctx(ip_address: str | None) -> AuditContext:
    # The customer has no account; "ui" with no actor marks a write through the public page.
    return AuditContext(actor=None, channel=AuditChannel.UI, ip_address=ip_address)


@transaction.atomic
def rebooking_choose(
    *,
    token: str,
    start: dt.datetime,
    staff_id: int,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The customer moves their appointment to an offered slot. Of several customers choosing the
    same slot at once exactly one wins; the others get a ConflictError."""
    now = now or timezone.now()
    appointment = rebooking_token_read(token, for_update=True)
    refusal = rebooking_refusal(appointment=appointment, policy=RebookingPolicy.load(), now=now)
    if refusal:
        raise ApplicationError(refusal)
    staff = User.objects.filter(pk=staff_id).select_related("team__jobcenter").first()
    if staff is None or not _slot_is_offered(
        appointment=appointment, staff=staff, start=start, now=now
    ):
        raise ConflictError(_taken_message())
    detail = _move(appointment, start=start, end=start + appointment.duration, staff=staff)
    appointment.status = AppointmentStatus.CONFIRMED
    appointment.rebook_count += 1
    _save_guarded(appointment)
    audit_record(
        ctx=_customer_ctx(ip_address),
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.pk,
        customer_id=appointment.case.customer_id,
        detail={"rebooked_by_customer": detail},
    )
    return appointment


@transaction.atomic
def rebooking_callback(
    *, token: str, reason: str, ip_address: str | None = None
) -> CallbackRequest:
    """The customer asks to be called back about the appointment, with a reason."""
    appointment = rebooking_token_read(token, for_update=True)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Please tell us briefly why you would like a call-back."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ApplicationError(
            _("Please keep the reason under %(count)s characters.") % {"count": MAX_REASON_LENGTH}
        )
    request = CallbackRequest.objects.create(appointment=appointment, reason=reason)
    audit_record(
        ctx=_customer_ctx(ip_address),
        action=AuditAction.CREATE,
        object_type="callback_request",
        object_id=request.pk,
        customer_id=appointment.case.customer_id,
        detail={"appointment_id": appointment.pk},
    )
    return request
