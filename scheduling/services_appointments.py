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
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role, User
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    CALENDAR_CHANNELS,
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    DeliveryStatus,
    GroupSession,
    GroupSessionStatus,
    MissedAppointmentReview,
    MissedReviewOutcome,
    RebookingPolicy,
    StaffCalendar,
)
from scheduling.selectors import Interval, merge_intervals, staff_busy_intervals_many
from scheduling.services_agreements import require_case_staff

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
    _after_move(appointment, invited=invited)
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
    """Why the customer may not rebook this appointment themselves any more (None: they may)."""
    now = now or timezone.now()
    if appointment.rebook_count >= policy.max_rebookings:
        return pgettext(
            "customer",
            "This appointment has already been moved as often as possible online. Please ask "
            "for a call-back.",
        )
    if appointment.start - now < dt.timedelta(hours=policy.latest_hours_before):
        return pgettext(
            "customer",
            "The appointment is too close to be moved online. Please ask for a call-back.",
        )
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
    for staff_id, slot_start, slot_end in GroupSession.objects.filter(
        host__in=staff, status=GroupSessionStatus.OPEN, start__lt=end, end__gt=start
    ).values_list("host_id", "start", "end"):
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
    return AuditContext.customer(ip_address=ip_address)


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
    invited = _invitation_went_out(appointment)
    detail = _move(appointment, start=start, end=start + appointment.duration, staff=staff)
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
    _after_move(appointment, invited=invited)
    return appointment


@transaction.atomic
def rebooking_callback(
    *, token: str, reason: str, ip_address: str | None = None
) -> CallbackRequest:
    """The customer asks to be called back about the appointment, with a reason."""
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
    return appointment


# --- reads for the case page and the API ------------------------------------------------------------


def appointment_list_for_case(*, case: Case):
    """The case's appointments, newest first, with the number of invitation deliveries and the
    missed-appointment review (one query)."""
    return (
        Appointment.objects.filter(case=case)
        .select_related("staff", "missed_review", "missed_review__decided_by")
        .annotate(
            deliveries_sent=Count(
                "invitation_deliveries",
                filter=Q(invitation_deliveries__status=DeliveryStatus.SENT),
            ),
            deliveries_total=Count("invitation_deliveries"),
        )
        .order_by("-start", "-id")
    )


def missed_review_list_open(*, case: Case):
    return (
        MissedAppointmentReview.objects.filter(case=case, outcome="")
        .select_related("appointment", "appointment__staff")
        .order_by("created_at", "id")
    )
