"""Planning runs: the database around the optimisation core (scheduling.planning).

A run plans one team over the horizon (tomorrow .. today + PlanningSettings.horizon_days):

- `planning_run_start` opens it (status running; a team lead on demand, the nightly task for
  every team); a proposed run of the team is superseded in the same transaction.
- `planning_run_execute` reads the input, solves it and writes the proposal in one transaction
  (status proposed, or failed with the error and nothing else written).
- A team lead approves the whole run or discards it; a caseworker or team lead of the team
  approves or rejects single invitations. Approving re-checks each proposal against the calendar
  as it is now (`planning_proposal_conflicts`): one that no longer fits is refused (a single
  approval: ConflictError naming why) or left out (a run approval approves the rest). Approved
  appointments are sent after commit, in batches (scheduling.tasks.invitations_send_on_commit).
- Proposals never approved are withdrawn (their appointments deleted, the run item keeps the
  proposal) when their run is superseded or discarded, when they are rejected or left out.
  Rejecting holds the case back (ContactAgreement.hold_*) until a date or until a person lifts it.

Planner input, read from the database (`planning_input`):

- Staff: the active caseworkers and team leads of the team with a staff calendar (plus hosts of
  the team's open group sessions, so their sessions can be filled). The daily cap is the
  calendar's (empty: 48, i.e. no limit beyond the working hours), scaled by the part-time share;
  the active individual appointments a staff member already has on a day count against it.
- Free time per staff member and local day: the working hours minus `staff_busy_intervals_many`
  (busy times, absences, holidays, no consent), minus their active individual appointments and the
  open group sessions they host. Walk-in reserve: the last `walk_in_reserve_minutes` of each day's
  free time stay free (taken from the end of the day), so walk-ins can be seen in the afternoon.
- Slots: the free time cut on the local 30-minute grid (TIME_ZONE) into back-to-back slots, the
  slot's channels are the calendar's channels, local wall-clock times as planning.py requires.
- Lengths: dues are grouped by their length rounded up to the grid (30, 60, 90 ... minutes) and
  planned in one pass per length, the longest first, each pass on slots of exactly its length cut
  from the time the earlier passes left free (and with their appointments counted against the
  daily caps). Nothing long is silently squeezed into a short slot; a pass's own optimum is
  exact, the passes together are a (documented) greedy order over lengths. Almost every due is
  30 minutes, which is a single pass.
- Group sessions: the team's open sessions in the horizon with free places (capacity minus
  active participants) become group slots for dues that allow group sessions.
- Fixed caseworker: `case.caseworker_id` when the effective agreement says fixed_caseworker.

Visibility (`planning_run_list_for_user`, `planning_run_get_for_user`): caseworkers and team
leads see their own team's runs; admins and other teams do not (404).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record, audit_record_many
from cases.models import CustomerGroup
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role, Team, User
from scheduling import planning
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    CALENDAR_CHANNELS,
    Absence,
    AbsenceKind,
    Appointment,
    AppointmentStatus,
    BusyTime,
    ContactAgreement,
    GroupSession,
    GroupSessionStatus,
    InvitationDelivery,
    PlanningDecision,
    PlanningOutcome,
    PlanningRun,
    PlanningRunItem,
    PlanningRunStatus,
    PlanningSettings,
    PlanningTrigger,
    StaffCalendar,
)
from scheduling.selectors import (
    CaseDue,
    Interval,
    _outside_working_hours,
    case_dues_list,
    merge_intervals,
    staff_busy_intervals_many,
)
from scheduling.services import federal_state_for, holidays_for
from scheduling.services_agreements import contact_agreement_hold, contact_agreement_hold_validate

logger = logging.getLogger(__name__)

GRID_MINUTES = 30
NO_CAP = 48  # an empty daily cap: no limit beyond the working hours (48 half hours a day)
MAX_REASON_LENGTH = 1000
MAX_ERROR_LENGTH = 2000


class PlanningPermissionError(ApplicationError):
    """The actor's role may not do this (a caseworker starting a run, say)."""

    status_code = 403


# --- reason texts ------------------------------------------------------------------------------


def planning_reason_label(code: str) -> str:
    """The text for people of a planning reason code (unplaced or fallback); the code if unknown."""
    labels = {
        planning.REASON_INVALID_WINDOW: _("The window of this invitation ends before it starts."),
        planning.REASON_NO_SLOT_IN_WINDOW: _("Nobody in the team has free time inside the window."),
        planning.REASON_NO_CHANNEL_MATCH: _(
            "No free time inside the window over a channel agreed with the customer."
        ),
        planning.REASON_NO_SLOT_LONG_ENOUGH: _(
            "No free time inside the window is long enough for this appointment."
        ),
        planning.REASON_CAPACITY_EXHAUSTED: _(
            "All fitting times inside the window are taken (daily caps or other invitations)."
        ),
        planning.FALLBACK_OWN_FULL: _(
            "With a colleague: the own caseworker has no fitting time left inside the window."
        ),
        planning.FALLBACK_OWN_UNAVAILABLE: _(
            "With a colleague: the own caseworker is absent or offers no fitting time inside "
            "the window."
        ),
        planning.REASON_SLOT_TAKEN: _("The proposed time was taken while the plan was saved."),
        planning.REASON_HELD: _("Held back after a rejected invitation."),
    }
    return labels.get(code, code)


# Reasons about free time inside the window: where the window reaches past the run's horizon,
# only its part inside the horizon was searched, and the text says so.
_WINDOW_REASONS = (
    planning.REASON_NO_SLOT_IN_WINDOW,
    planning.REASON_NO_CHANNEL_MATCH,
    planning.REASON_NO_SLOT_LONG_ENOUGH,
    planning.REASON_CAPACITY_EXHAUSTED,
)


def _short_date(value: dt.date | str | None) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return date_format(value, "SHORT_DATE_FORMAT") if value else ""


def planning_hold_text(hold: dict) -> str:
    """ "held back until … (rejected on … by …: reason)" from a hold as stored on a run item
    (DueHold.as_dict)."""
    set_at = hold.get("set_at")
    values = {
        "until": _short_date(hold.get("until")),
        "date": _short_date(
            timezone.localtime(dt.datetime.fromisoformat(set_at)).date() if set_at else None
        ),
        "person": hold.get("set_by") or "–",
        "reason": hold.get("reason") or "–",
    }
    if hold.get("until"):
        return _("held back until %(until)s (rejected on %(date)s by %(person)s: %(reason)s)") % (
            values
        )
    return _("held back until further notice (rejected on %(date)s by %(person)s: %(reason)s)") % (
        values
    )


def planning_item_reason_text(item: PlanningRunItem, run: PlanningRun | None = None) -> str:
    """What the run page and the API say about an item: why it is not placed (or with a
    colleague), why it was held back or left out at approval."""
    run = run or item.run
    detail = item.detail or {}
    parts = []
    if item.reason == planning.REASON_HELD and detail.get("hold"):
        parts.append(planning_hold_text(detail["hold"]))
    elif item.reason:
        parts.append(planning_reason_label(item.reason))
        if (
            item.outcome == PlanningOutcome.UNPLACED
            and item.reason in _WINDOW_REASONS
            and item.window_end > run.horizon_end
        ):
            parts.append(
                _(
                    "Only the part of the window up to %(end)s lies in this run; the next run "
                    "looks at the rest."
                )
                % {"end": _short_date(run.horizon_end)}
            )
    if item.decision == PlanningDecision.LEFT_OUT and detail.get("left_out"):
        parts.append(
            _("Not approved: %(why)s") % {"why": planning_conflict_text(detail["left_out"])}
        )
    if item.decision == PlanningDecision.REJECTED and detail.get("rejected"):
        parts.append(_("Rejected: %(reason)s") % {"reason": detail["rejected"].get("reason", "")})
    return " ".join(str(part) for part in parts)


# --- does a proposal still fit? ----------------------------------------------------------------------

CONFLICT_PAST = "past"
CONFLICT_STAFF_GONE = "staff_gone"
CONFLICT_NO_CONSENT = "no_consent"
CONFLICT_ABSENT = "absent"
CONFLICT_HOLIDAY = "holiday"
CONFLICT_OFF_HOURS = "outside_working_hours"
CONFLICT_BUSY = "busy"
CONFLICT_APPOINTMENT = "other_appointment"
CONFLICT_GROUP_SESSION = "group_session"
CONFLICT_DAILY_CAP = "daily_cap"
CONFLICT_SESSION_GONE = "session_not_open"


def planning_conflict_text(conflict: dict) -> str:
    """The sentence for a conflict found by planning_proposal_conflicts ({"code", "staff",
    "start", ...})."""
    start = conflict.get("start")
    when = ""
    if start:
        local = timezone.localtime(dt.datetime.fromisoformat(start))
        when = f"{date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M}"
    values = {
        "staff": conflict.get("staff") or "–",
        "when": when,
        "kind": conflict.get("kind") or "",
        "holiday": conflict.get("holiday") or "",
        "cap": conflict.get("cap", ""),
    }
    texts = {
        CONFLICT_PAST: _("the proposed time (%(when)s) has passed."),
        CONFLICT_STAFF_GONE: _("%(staff)s no longer works in this team."),
        CONFLICT_NO_CONSENT: _("%(staff)s no longer shares their calendar."),
        CONFLICT_ABSENT: _("%(staff)s is absent at %(when)s (%(kind)s)."),
        CONFLICT_HOLIDAY: _("%(when)s is a public holiday (%(holiday)s)."),
        CONFLICT_OFF_HOURS: _("%(when)s is outside the working hours of %(staff)s."),
        CONFLICT_BUSY: _("%(staff)s is busy at %(when)s according to their calendar."),
        CONFLICT_APPOINTMENT: _("%(staff)s has another appointment at %(when)s."),
        CONFLICT_GROUP_SESSION: _("%(staff)s hosts a group session at %(when)s."),
        CONFLICT_DAILY_CAP: _(
            "%(staff)s has reached the daily cap of %(cap)s appointments on that day."
        ),
        CONFLICT_SESSION_GONE: _("the group session is no longer open at this time."),
    }
    text = texts.get(conflict.get("code", ""))
    return text % values if text else str(conflict.get("code", ""))


def _overlaps_any(intervals: list[tuple], start: dt.datetime, end: dt.datetime) -> tuple | None:
    return next((row for row in intervals if row[0] < end and row[1] > start), None)


def planning_proposal_conflicts(
    *, appointments: list[Appointment], now: dt.datetime
) -> dict[int, dict]:
    """Which of these proposed (planned) appointments no longer fit the calendar as it is now,
    each with the first reason found: {appointment id: {"code", "staff", "start", ...}}.

    Checked in start order: the time has passed; the staff member left the team or stopped
    sharing their calendar; an absence, a public holiday, time outside the working hours, a busy
    time; another active individual appointment or a group session they host overlapping it; the
    daily cap (scaled by the part-time share) reached by the appointments already approved or sent
    that day plus those of this list accepted before it. A place in a group session needs the
    session still open at that time and its host not absent. A bounded number of queries
    whatever the number of appointments."""
    if not appointments:
        return {}
    tz = _tz()
    appointments = sorted(appointments, key=lambda a: (a.start, a.pk))
    ids = [a.pk for a in appointments]
    staff_ids = sorted({a.staff_id for a in appointments})
    first = min(a.start for a in appointments)
    last = max(a.end for a in appointments)
    staff = {
        u.pk: u for u in User.objects.filter(pk__in=staff_ids).select_related("team__jobcenter")
    }
    calendars = {c.user_id: c for c in StaffCalendar.objects.filter(user_id__in=staff_ids)}
    absences: dict[int, list[tuple]] = defaultdict(list)
    for user_id, start, end, kind in (
        Absence.objects.filter(user_id__in=staff_ids)
        .overlapping(first, last)
        .values_list("user_id", "start", "end", "kind")
    ):
        absences[user_id].append((start, end, kind))
    busy: dict[int, list[tuple]] = defaultdict(list)
    for user_id, start, end in (
        BusyTime.objects.filter(user_id__in=staff_ids)
        .overlapping(first, last)
        .values_list("user_id", "start", "end")
    ):
        busy[user_id].append((start, end))
    others: dict[int, list[tuple]] = defaultdict(list)
    for staff_id, start, end in (
        Appointment.objects.filter(
            staff_id__in=staff_ids,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
            group_session__isnull=True,
            start__lt=last,
            end__gt=first,
        )
        .exclude(pk__in=ids)
        .values_list("staff_id", "start", "end")
    ):
        others[staff_id].append((start, end))
    hosted: dict[int, list[tuple]] = defaultdict(list)
    for host_id, start, end in GroupSession.objects.filter(
        host_id__in=staff_ids, status=GroupSessionStatus.OPEN, start__lt=last, end__gt=first
    ).values_list("host_id", "start", "end"):
        hosted[host_id].append((start, end))
    # The day's committed appointments (approved, sent, confirmed; not other proposals).
    committed: dict[tuple[int, dt.date], int] = defaultdict(int)
    first_day = _local_midnight(first.astimezone(tz).date(), tz)
    last_day = _local_midnight(last.astimezone(tz).date() + dt.timedelta(days=1), tz)
    for staff_id, start in (
        Appointment.objects.filter(
            staff_id__in=staff_ids,
            status__in=(
                AppointmentStatus.APPROVED,
                AppointmentStatus.SENT,
                AppointmentStatus.CONFIRMED,
            ),
            group_session__isnull=True,
            start__gte=first_day,
            start__lt=last_day,
        )
        .exclude(pk__in=ids)
        .values_list("staff_id", "start")
    ):
        committed[(staff_id, start.astimezone(tz).date())] += 1
    sessions = {
        s.pk: s
        for s in GroupSession.objects.filter(
            pk__in={a.group_session_id for a in appointments if a.group_session_id}
        )
    }
    holiday_names: dict[tuple[str, int], dict[dt.date, str]] = {}

    def holiday(user: User, day: dt.date) -> str:
        key = (federal_state_for(user=user), day.year)
        if key not in holiday_names:
            holiday_names[key] = holidays_for(year=day.year, state=key[0])
        return holiday_names[key].get(day, "")

    conflicts: dict[int, dict] = {}
    for appointment in appointments:
        user = staff.get(appointment.staff_id)
        name = (user.get_full_name() or user.get_username()) if user else ""
        base = {"staff": name, "start": appointment.start.isoformat()}
        start, end = appointment.start, appointment.end
        day = start.astimezone(tz).date()
        calendar = calendars.get(appointment.staff_id)

        def found(code: str, **extra) -> None:
            conflicts[appointment.pk] = {"code": code, **base, **extra}  # noqa: B023

        if start <= now:
            found(CONFLICT_PAST)
            continue
        if user is None or not user.is_active:
            found(CONFLICT_STAFF_GONE)
            continue
        absence = _overlaps_any(absences.get(user.pk, []), start, end)
        if absence is not None:
            found(CONFLICT_ABSENT, kind=str(AbsenceKind(absence[2]).label))
            continue
        if appointment.group_session_id:
            session = sessions.get(appointment.group_session_id)
            if (
                session is None
                or session.status != GroupSessionStatus.OPEN
                or session.start != start
                or session.host_id != appointment.staff_id
            ):
                found(CONFLICT_SESSION_GONE)
            continue
        if calendar is None or not calendar.has_consent:
            found(CONFLICT_NO_CONSENT)
            continue
        holiday_name = holiday(user, day)
        if holiday_name:
            found(CONFLICT_HOLIDAY, holiday=holiday_name)
            continue
        if _overlaps_any(_outside_working_hours(calendar, day, tz), start, end):
            found(CONFLICT_OFF_HOURS)
            continue
        if _overlaps_any(busy.get(user.pk, []), start, end):
            found(CONFLICT_BUSY)
            continue
        if _overlaps_any(others.get(user.pk, []), start, end):
            found(CONFLICT_APPOINTMENT)
            continue
        if _overlaps_any(hosted.get(user.pk, []), start, end):
            found(CONFLICT_GROUP_SESSION)
            continue
        daily_cap = NO_CAP if calendar.daily_cap is None else int(calendar.daily_cap)
        cap = max(0, int(daily_cap * float(calendar.part_time_share) + 0.5))
        if committed[(user.pk, day)] >= cap:
            found(CONFLICT_DAILY_CAP, cap=cap)
            continue
        committed[(user.pk, day)] += 1
        others[user.pk].append((start, end))
    return conflicts


# --- who may see and do what -------------------------------------------------------------------------


def _actor(ctx: AuditContext) -> User | None:
    return ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None


def _require_team_lead(ctx: AuditContext, team_id: int) -> User:
    actor = _actor(ctx)
    if (
        actor is None
        or not actor.is_active
        or actor.role != Role.TEAM_LEAD
        or actor.team_id != team_id
    ):
        raise PlanningPermissionError(_("Only the team lead of this team may do this."))
    return actor


def _require_team_member(ctx: AuditContext, team_id: int) -> User:
    actor = _actor(ctx)
    if actor is None or not actor.reads_cases or actor.team_id != team_id:
        raise PlanningPermissionError(
            _("Only caseworkers and the team lead of this team may decide its invitations.")
        )
    return actor


def planning_run_list_for_user(*, user: User) -> QuerySet[PlanningRun]:
    """The runs the user may see: their own team's, newest first (none for admins)."""
    if not getattr(user, "reads_cases", False) or user.team_id is None:
        return PlanningRun.objects.none()
    return PlanningRun.objects.filter(team_id=user.team_id).select_related(
        "team", "requested_by", "approved_by", "discarded_by"
    )


def planning_run_get_for_user(*, user: User, run_id: int) -> PlanningRun:
    run = planning_run_list_for_user(user=user).filter(pk=run_id).first()
    if run is None:
        raise Http404(_("No planning run with this number."))
    return run


def planning_item_get_for_user(*, user: User, item_id: int) -> PlanningRunItem:
    if not getattr(user, "reads_cases", False) or user.team_id is None:
        raise Http404(_("No planned invitation with this number."))
    item = (
        PlanningRunItem.objects.filter(pk=item_id, run__team_id=user.team_id)
        .select_related("run")
        .first()
    )
    if item is None:
        raise Http404(_("No planned invitation with this number."))
    return item


# The filters of a run's invitations on its page: everything, not placed, placed with a colleague
# instead of the own caseworker (a fallback reason), awaiting a decision, rejected.
ITEM_FILTER_ALL = "all"
ITEM_FILTER_UNPLACED = "unplaced"
ITEM_FILTER_FALLBACK = "fallback"
ITEM_FILTER_PENDING = "pending"
ITEM_FILTER_REJECTED = "rejected"
ITEM_FILTER_LEFT_OUT = "left_out"
ITEM_FILTERS = (
    ITEM_FILTER_ALL,
    ITEM_FILTER_UNPLACED,
    ITEM_FILTER_FALLBACK,
    ITEM_FILTER_PENDING,
    ITEM_FILTER_REJECTED,
    ITEM_FILTER_LEFT_OUT,
)


def _item_filter_q(name: str) -> Q:
    """The condition of one item filter (awaiting a decision: what can still be approved)."""
    if name == ITEM_FILTER_UNPLACED:
        return Q(outcome=PlanningOutcome.UNPLACED)
    if name == ITEM_FILTER_FALLBACK:
        return Q(
            outcome=PlanningOutcome.PLACED,
            reason__in=(planning.FALLBACK_OWN_FULL, planning.FALLBACK_OWN_UNAVAILABLE),
        )
    if name == ITEM_FILTER_PENDING:
        return Q(
            decision=PlanningDecision.PENDING,
            outcome=PlanningOutcome.PLACED,
            appointment__status=AppointmentStatus.PLANNED,
        )
    if name == ITEM_FILTER_REJECTED:
        return Q(decision=PlanningDecision.REJECTED)
    if name == ITEM_FILTER_LEFT_OUT:
        return Q(decision=PlanningDecision.LEFT_OUT)
    return Q()


def planning_run_item_query(
    *, run: PlanningRun, filter: str | None = None
) -> QuerySet[PlanningRunItem]:
    """The items of a run (optionally one of ITEM_FILTERS) with what the table needs, in the
    table's order; unknown filter names mean all."""
    return (
        PlanningRunItem.objects.filter(run=run)
        .filter(_item_filter_q(filter or ITEM_FILTER_ALL))
        .select_related(
            "run",
            "case__customer",
            "appointment__staff",
            "appointment__group_session",
            "proposed_staff",
            "proposed_group_session",
            "decided_by",
        )
        .order_by("outcome", "due_date", "id")
    )


def planning_run_items(*, run: PlanningRun, filter: str | None = None) -> list[PlanningRunItem]:
    """The items of a run with what the table needs (one query whatever their number)."""
    return list(planning_run_item_query(run=run, filter=filter))


def planning_run_item_counts(*, run: PlanningRun) -> dict[str, int]:
    """How many items of the run each of ITEM_FILTERS shows (one query)."""
    return PlanningRunItem.objects.filter(run=run).aggregate(
        **{name: Count("id", filter=_item_filter_q(name)) for name in ITEM_FILTERS}
    )


# --- the planner's input from the database ----------------------------------------------------------


@dataclass
class PlanningInput:
    """Everything a run solves, as read from the database (see the module docstring)."""

    today: dt.date
    horizon_end: dt.date
    dues: list[CaseDue]
    staff: list[planning.Staff]
    calendars: dict[int, StaffCalendar]
    free: dict[tuple[int, dt.date], list[Interval]]  # (staff, local day) -> free UTC intervals
    sessions: dict[int, GroupSession]
    session_free_places: dict[int, int]
    holidays: frozenset[dt.date]
    weights: planning.Weights
    team_id: int
    # Cases that would be due but are held back (a rejected invitation): not planned, listed.
    held: list[CaseDue] = field(default_factory=list)


@dataclass
class PlanOutcome:
    result: planning.PlanResult
    dues: list[planning.Due]
    slots: dict[str, planning.Slot] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _team_staff(team_id: int) -> list[User]:
    return list(
        User.objects.filter(
            team_id=team_id, is_active=True, role__in=(Role.CASEWORKER, Role.TEAM_LEAD)
        )
        .select_related("team__jobcenter")
        .order_by("id")
    )


def _subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """`free` minus `busy` (both sorted, merged)."""
    result: list[Interval] = []
    for start, end in free:
        cursor = start
        for busy_start, busy_end in busy:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                result.append((cursor, busy_start))
            cursor = max(cursor, busy_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def _keep_reserve(free: list[Interval], minutes: int) -> list[Interval]:
    """Drop the last `minutes` of the day's free time (the walk-in reserve)."""
    remaining = dt.timedelta(minutes=minutes)
    kept = list(free)
    while remaining > dt.timedelta(0) and kept:
        start, end = kept[-1]
        length = end - start
        if length <= remaining:
            kept.pop()
            remaining -= length
        else:
            kept[-1] = (start, end - remaining)
            remaining = dt.timedelta(0)
    return kept


def staff_free_by_day(
    *,
    members: list[User],
    calendars: dict[int, StaffCalendar],
    days: list[dt.date],
    exclude_appointment_ids: tuple[int, ...] = (),
) -> tuple[dict[tuple[int, dt.date], list[Interval]], dict[int, dict[dt.date, int]]]:
    """The free time per (staff member, local day) that the planner offers, and the active
    individual appointments per staff member and day (they count against the daily cap).

    Free: the whole local day minus `staff_busy_intervals_many` (working hours, busy times,
    absences, holidays, no consent), the active individual appointments and the open group
    sessions hosted; then the last `walk_in_reserve_minutes` of the day's free time stay free.
    A member whose calendar offers no channel has none. `exclude_appointment_ids`: appointments
    to leave out (the one a customer is moving). The customer's rebooking alternatives
    (services_appointments) use it too, so both offer the same times. Every member needs an
    entry in `calendars`."""
    tz = _tz()
    free: dict[tuple[int, dt.date], list[Interval]] = {}
    booked: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    if not members or not days:
        return free, booked
    window_start = _local_midnight(min(days), tz)
    window_end = _local_midnight(max(days) + dt.timedelta(days=1), tz)
    busy = staff_busy_intervals_many(users=members, start=window_start, end=window_end)
    appointments = Appointment.objects.filter(
        staff__in=members,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        group_session__isnull=True,
        start__lt=window_end,
        end__gt=window_start,
    )
    if exclude_appointment_ids:
        appointments = appointments.exclude(pk__in=list(exclude_appointment_ids))
    for staff_id, start, end in appointments.values_list("staff_id", "start", "end"):
        busy.setdefault(staff_id, []).append((start, end))
        booked[staff_id][start.astimezone(tz).date()] += 1
    for host_id, start, end in GroupSession.objects.filter(
        host__in=members,
        status=GroupSessionStatus.OPEN,
        start__lt=window_end,
        end__gt=window_start,
    ).values_list("host_id", "start", "end"):
        busy.setdefault(host_id, []).append((start, end))
    offered = {c.value for c in CALENDAR_CHANNELS}
    for member in members:
        calendar = calendars[member.pk]
        if not (set(calendar.channels or []) & offered):
            continue
        member_busy = merge_intervals(busy.get(member.pk, []))
        for day in days:
            day_window = [
                (_local_midnight(day, tz), _local_midnight(day + dt.timedelta(days=1), tz))
            ]
            day_free = _subtract(day_window, member_busy)
            day_free = _keep_reserve(day_free, calendar.walk_in_reserve_minutes)
            if day_free:
                free[(member.pk, day)] = day_free
    return free, booked


def planning_staff(
    *, member: User, calendar: StaffCalendar, team_id: int, booked: dict[int, dict[dt.date, int]]
) -> planning.Staff:
    """A staff member as the planner sees them: the daily cap (empty: NO_CAP) scaled by the
    part-time share, minus the appointments `booked` per day (`planning.Staff.day_capacity`)."""
    return planning.Staff(
        id=member.pk,
        team_id=team_id,
        part_time_share=float(calendar.part_time_share),
        daily_cap=NO_CAP if calendar.daily_cap is None else int(calendar.daily_cap),
        booked=tuple(sorted(booked.get(member.pk, {}).items())),
    )


def planning_input(*, team_id: int, today: dt.date, horizon_end: dt.date) -> PlanningInput:
    """Read dues, staff, free time and group places of one team (a bounded number of queries)."""
    tz = _tz()
    window_start = _local_midnight(today + dt.timedelta(days=1), tz)
    window_end = _local_midnight(horizon_end + dt.timedelta(days=1), tz)
    members = _team_staff(team_id)
    sessions = {
        s.pk: s
        for s in GroupSession.objects.filter(
            team_id=team_id,
            status=GroupSessionStatus.OPEN,
            start__gte=window_start,
            start__lt=window_end,
        )
        .annotate(
            taken=Count(
                "appointments",
                filter=Q(appointments__status__in=ACTIVE_APPOINTMENT_STATUSES),
            )
        )
        .order_by("start", "id")
    }
    session_free_places = {pk: max(0, s.capacity - s.taken) for pk, s in sessions.items()}
    member_ids = {m.pk for m in members}
    extra_hosts = {s.host_id for s in sessions.values()} - member_ids
    if extra_hosts:
        members += list(
            User.objects.filter(pk__in=extra_hosts, team_id=team_id, is_active=True)
            .select_related("team__jobcenter")
            .order_by("id")
        )
    calendars = {c.user_id: c for c in StaffCalendar.objects.filter(user__in=members)}
    planners = [m for m in members if m.pk in calendars]
    days = [today + dt.timedelta(days=n) for n in range(1, (horizon_end - today).days + 1)]
    free, booked = staff_free_by_day(members=planners, calendars=calendars, days=days)
    staff = [
        planning_staff(member=member, calendar=calendars[member.pk], team_id=team_id, booked=booked)
        for member in planners
    ]

    states = {m.team.jobcenter.federal_state for m in members if m.team_id}
    if not states:
        states = {settings.JOBCENTER_FEDERAL_STATE}
    holidays = frozenset(
        day
        for state in states
        for year in range(today.year, horizon_end.year + 1)
        for day in holidays_for(year=year, state=state)
    )
    config = PlanningSettings.load()
    weights = planning.Weights(
        own_caseworker=config.own_caseworker,
        due_distance_per_day=config.due_distance_per_day,
        load_balance=config.load_balance,
        group_session=config.group_session,
    )
    all_dues = case_dues_list(team_id=team_id, today=today, until=horizon_end, include_held=True)
    return PlanningInput(
        today=today,
        horizon_end=horizon_end,
        dues=[due for due in all_dues if due.hold is None],
        held=[due for due in all_dues if due.hold is not None],
        staff=staff,
        calendars=calendars,
        free=free,
        sessions=sessions,
        session_free_places=session_free_places,
        holidays=holidays,
        weights=weights,
        team_id=team_id,
    )


def _grid_slots(
    staff_id: int, free: list[Interval], minutes: int, tz: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Back-to-back slots of `minutes` on the local half-hour grid inside the free intervals."""
    length = dt.timedelta(minutes=minutes)
    step = dt.timedelta(minutes=GRID_MINUTES)
    slots = []
    for free_start, free_end in free:
        local = free_start.astimezone(tz)
        grid = local.replace(minute=0, second=0, microsecond=0)
        while grid < local:
            grid += step
        start = grid.astimezone(dt.UTC)
        while start + length <= free_end:
            slots.append((start, start + length))
            start += length
    return slots


def _planner_due(case_due: CaseDue) -> planning.Due:
    agreement = case_due.agreement
    group = case_due.customer_group
    if group not in planning.GROUPS:
        group = CustomerGroup.MARKET_NEAR.value  # no group yet: only matters for the figures
    return planning.Due(
        id=case_due.case_id,
        case_id=case_due.case_id,
        team_id=case_due.team_id,
        group=group,
        fixed_staff_id=case_due.caseworker_id if agreement.fixed_caseworker else None,
        due=case_due.due,
        window_start=case_due.window_start,
        window_end=case_due.window_end,
        channels=frozenset(agreement.channels),
        duration_minutes=agreement.duration_minutes,
        allow_group_session=agreement.allow_group_session,
    )


def _rounded(minutes: int) -> int:
    return max(1, math.ceil(minutes / GRID_MINUTES)) * GRID_MINUTES


def planning_solve(data: PlanningInput) -> PlanOutcome:
    """Solve the input: one planner pass per appointment length, the longest first."""
    tz = _tz()
    dues = [_planner_due(d) for d in data.dues]
    by_length: dict[int, list[planning.Due]] = defaultdict(list)
    for due in dues:
        by_length[_rounded(due.duration_minutes)].append(due)
    free = {key: list(intervals) for key, intervals in data.free.items()}
    calendars = data.calendars
    booked: dict[int, dict[dt.date, int]] = {
        m.id: defaultdict(int, dict(m.booked)) for m in data.staff
    }
    places = dict(data.session_free_places)
    staff_ids = {m.id for m in data.staff}
    all_slots: dict[str, planning.Slot] = {}
    placements: list[planning.Placement] = []
    unplaced: list[planning.Unplaced] = []
    fallbacks: list[planning.Fallback] = []
    fingerprints: list[str] = []
    objective = bound = 0
    seconds = 0.0
    for length in sorted(by_length, reverse=True) or [GRID_MINUTES]:
        pass_dues = by_length.get(length, [])
        slots: list[planning.Slot] = []
        for (staff_id, _day), intervals in sorted(free.items()):
            channels = frozenset(calendars[staff_id].channels or [])
            for start, end in _grid_slots(staff_id, intervals, length, tz):
                slot_id = f"{staff_id}:{start:%Y%m%dT%H%M}:{length}"
                slots.append(
                    planning.Slot(
                        id=slot_id,
                        staff_id=staff_id,
                        team_id=data.team_id,
                        start=start.astimezone(tz),
                        end=end.astimezone(tz),
                        channels=channels,
                    )
                )
        for pk, session in data.sessions.items():
            if places.get(pk, 0) > 0 and session.host_id in staff_ids:
                slots.append(
                    planning.Slot(
                        id=f"g{pk}",
                        staff_id=session.host_id,
                        team_id=data.team_id,
                        start=session.start.astimezone(tz),
                        end=session.end.astimezone(tz),
                        channels=frozenset([session.channel]),
                        capacity=places[pk],
                        kind=planning.GROUP,
                    )
                )
        pass_staff = [
            planning.Staff(
                id=m.id,
                team_id=m.team_id,
                part_time_share=m.part_time_share,
                daily_cap=m.daily_cap,
                booked=tuple(sorted((d, n) for d, n in booked[m.id].items() if n)),
            )
            for m in data.staff
        ]
        result = planning.plan(
            dues=pass_dues,
            slots=slots,
            staff=pass_staff,
            weights=data.weights,
            today=data.today,
            holidays=data.holidays,
        )
        fingerprints.append(result.fingerprint)
        objective += result.objective
        bound += result.bound
        seconds += result.seconds
        placements += result.placements
        unplaced += result.unplaced
        fallbacks += result.fallbacks
        by_id = {s.id: s for s in slots}
        for slot in slots:
            all_slots.setdefault(slot.id, slot)
        for placement in result.placements:
            slot = by_id[placement.slot_id]
            if slot.kind == planning.GROUP:
                places[int(slot.id[1:])] -= 1
                continue
            key = (slot.staff_id, slot.day)
            free[key] = _subtract(
                free[key], [(slot.start.astimezone(dt.UTC), slot.end.astimezone(dt.UTC))]
            )
            booked[slot.staff_id][slot.day] += 1
    if len(fingerprints) == 1:
        print_ = fingerprints[0]
    else:
        print_ = hashlib.sha256("|".join(fingerprints).encode()).hexdigest()
    combined = planning.PlanResult(
        placements=sorted(placements, key=lambda p: p.due_id),
        unplaced=sorted(unplaced, key=lambda u: u.due_id),
        objective=objective,
        bound=bound,
        fingerprint=print_,
        weights=data.weights,
        seconds=seconds,
        fallbacks=sorted(fallbacks, key=lambda f: f.due_id),
    )
    slot_list = list(all_slots.values())
    metrics = planning.plan_metrics(
        combined,
        dues=dues,
        slots=slot_list,
        staff=data.staff,
        today=data.today,
        holidays=data.holidays,
    )
    utilisation = planning.utilisation_by_staff(
        combined, slots=slot_list, staff=data.staff, today=data.today
    )
    metrics["utilisation_by_staff"] = {str(k): round(v, 4) for k, v in utilisation.items()}
    metrics["utilisation_spread_by_team"] = {
        str(k): v for k, v in metrics.get("utilisation_spread_by_team", {}).items()
    }
    metrics["passes"] = sorted(by_length, reverse=True)
    return PlanOutcome(result=combined, dues=dues, slots=all_slots, metrics=metrics)


# --- starting a run ----------------------------------------------------------------------------------


def _withdraw_proposals(
    *, ctx: AuditContext, appointment_ids: list[int], why: str, detail: dict | None = None
) -> list[int]:
    """Withdraw proposals that no person approved and no customer heard of: delete their
    appointments (still planned, no delivery), one audit row each. Returns the ids deleted.

    Deleted rather than given a status of their own: before approval nothing refers to a proposal
    (no delivery, so no reminder, rebooking link, call-back or review), while a status would have
    to be filtered out of every appointment list, feed, count and group session place forever;
    "cancelled" would claim the customer was told. The run keeps the proposal on its item
    (proposed_*), the audit log the deletion."""
    if not appointment_ids:
        return []
    rows = list(
        Appointment.objects.filter(
            pk__in=appointment_ids,
            status=AppointmentStatus.PLANNED,
            approved_at__isnull=True,
        )
        .exclude(Exists(InvitationDelivery.objects.filter(appointment=OuterRef("pk"))))
        .values_list("pk", "case__customer_id")
    )
    if not rows:
        return []
    ids = [pk for pk, _customer in rows]
    Appointment.objects.filter(pk__in=ids).delete()
    audit_record_many(
        ctx=ctx,
        action=AuditAction.DELETE,
        object_type="appointment",
        items=rows,
        detail={"status": AppointmentStatus.PLANNED, "why": why, **(detail or {})},
    )
    return ids


def _supersede(*, ctx: AuditContext, run: PlanningRun) -> None:
    """A proposed run gives way to a newer one: its pending proposals are withdrawn, the
    decisions already taken (approved or rejected items) stay."""
    _withdraw_proposals(
        ctx=ctx,
        appointment_ids=list(
            Appointment.objects.filter(
                planning_run=run, status=AppointmentStatus.PLANNED
            ).values_list("pk", flat=True)
        ),
        why="planning_run_superseded",
        detail={"planning_run_id": run.pk},
    )
    run.status = PlanningRunStatus.SUPERSEDED
    run.finished_at = run.finished_at or timezone.now()
    run.save(update_fields=["status", "finished_at"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={"status": PlanningRunStatus.SUPERSEDED},
    )


@transaction.atomic
def planning_run_start(
    *,
    ctx: AuditContext,
    team_id: int,
    trigger: str = PlanningTrigger.ON_DEMAND,
    today: dt.date | None = None,
) -> PlanningRun:
    """Open a run for the team (status running); `planning_run_execute` computes it.

    On demand only the team's team lead; periodic runs come from the system (no actor). A
    proposed run of the team is superseded; a running one makes this a ConflictError.
    """
    actor = _actor(ctx)
    if trigger == PlanningTrigger.ON_DEMAND:
        _require_team_lead(ctx, team_id)
    elif trigger == PlanningTrigger.PERIODIC:
        if actor is not None:
            raise PlanningPermissionError(_("Nightly runs are started by the system only."))
    else:
        raise ApplicationError(_("Unknown way of starting a planning run."))
    # Lock the team row: two starts for one team wait for each other (the unique constraint
    # planning_run_one_open_per_team still decides races on databases without row locks).
    team = Team.objects.select_for_update().filter(pk=team_id).first()
    if team is None:
        raise ApplicationError(_("There is no such team."))
    open_runs = list(
        PlanningRun.objects.select_for_update().filter(
            team_id=team_id,
            status__in=(PlanningRunStatus.RUNNING, PlanningRunStatus.PROPOSED),
        )
    )
    if any(run.status == PlanningRunStatus.RUNNING for run in open_runs):
        raise ConflictError(
            _("A planning run of this team is still running. Please wait until it has finished.")
        )
    for run in open_runs:
        _supersede(ctx=ctx, run=run)
    today = today or timezone.localdate()
    config = PlanningSettings.load()
    try:
        with transaction.atomic():
            run = PlanningRun.objects.create(
                team=team,
                trigger=trigger,
                requested_by=actor,
                horizon_start=today + dt.timedelta(days=1),
                horizon_end=today + dt.timedelta(days=config.horizon_days),
                weights={
                    "own_caseworker": config.own_caseworker,
                    "due_distance_per_day": config.due_distance_per_day,
                    "load_balance": config.load_balance,
                    "group_session": config.group_session,
                },
            )
    except IntegrityError as error:
        raise ConflictError(
            _("A planning run of this team has just been started. Please reload the page.")
        ) from error
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={"team_id": team_id, "trigger": trigger},
    )
    return run


def planning_run_request(*, ctx: AuditContext, team_id: int) -> PlanningRun:
    """ "Plan now" (the page and the API): open a run on demand and have a worker compute it
    after the commit (scheduling.tasks.scheduling_planning_run_execute).

    Two starts at once: on PostgreSQL the second waits for the team row and gets the
    ConflictError of a running run. SQLite has no row locks; with immediate transactions (the
    settings' default) it queues the writers the same way, and should it still give up waiting
    ("database is locked") that is the same conflict, answered as such rather than as an error."""
    from scheduling import tasks

    try:
        with transaction.atomic():
            run = planning_run_start(ctx=ctx, team_id=team_id, trigger=PlanningTrigger.ON_DEMAND)
            transaction.on_commit(partial(tasks.scheduling_planning_run_execute.delay, run.pk))
    except OperationalError as error:
        if connection.vendor != "sqlite" or "locked" not in str(error):
            raise
        raise ConflictError(
            _("A planning run of this team has just been started. Please reload the page.")
        ) from error
    return run


def planning_runs_start_periodic(*, today: dt.date | None = None) -> list[int]:
    """The nightly start: one run per team with active staff and no open run (unless switched off
    in the planning settings). Returns the ids of the runs opened."""
    if not PlanningSettings.load().periodic_enabled:
        return []
    team_ids = (
        User.objects.filter(is_active=True, role__in=(Role.CASEWORKER, Role.TEAM_LEAD))
        .exclude(team_id__isnull=True)
        .values_list("team_id", flat=True)
        .distinct()
    )
    busy_teams = set(
        PlanningRun.objects.filter(
            status__in=(PlanningRunStatus.RUNNING, PlanningRunStatus.PROPOSED)
        ).values_list("team_id", flat=True)
    )
    ctx = AuditContext.system()
    run_ids = []
    for team_id in sorted(set(team_ids) - busy_teams):
        try:
            run = planning_run_start(
                ctx=ctx, team_id=team_id, trigger=PlanningTrigger.PERIODIC, today=today
            )
        except ConflictError:
            continue  # someone opened one in the meantime
        run_ids.append(run.pk)
    return run_ids


# --- executing a run -------------------------------------------------------------------------------


def planning_run_execute(*, run_id: int, today: dt.date | None = None) -> PlanningRun:
    """Compute a running run and store its proposal (status proposed) in one transaction.

    Idempotent: a run that is not running comes back unchanged. Any unexpected error leaves the
    run failed with the error text and nothing else written.
    """
    run = PlanningRun.objects.get(pk=run_id)
    if run.status != PlanningRunStatus.RUNNING:
        return run
    try:
        today = today or run.horizon_start - dt.timedelta(days=1)
        data = planning_input(team_id=run.team_id, today=today, horizon_end=run.horizon_end)
        outcome = planning_solve(data)
        return _write_proposal(run_id=run_id, data=data, outcome=outcome)
    except Exception as error:
        logger.exception("Planning run %s failed", run_id)
        return _fail(run_id=run_id, error=error)


@transaction.atomic
def _fail(*, run_id: int, error: Exception) -> PlanningRun:
    run = PlanningRun.objects.select_for_update().get(pk=run_id)
    if run.status != PlanningRunStatus.RUNNING:
        return run
    run.status = PlanningRunStatus.FAILED
    run.error = (f"{type(error).__name__}: {error}")[:MAX_ERROR_LENGTH]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    audit_record(
        ctx=AuditContext.system(),
        action=AuditAction.UPDATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={"status": PlanningRunStatus.FAILED},
    )
    return run


def _overlaps(intervals: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(s < end and e > start for s, e in intervals)


def _insert_appointments(appointments: list[Appointment]) -> list[Appointment]:
    """Insert the proposals; those the database refuses (a slot taken a moment ago) are left
    out. One bulk insert in a savepoint, one savepoint per appointment only after a refusal."""
    if not appointments:
        return []
    try:
        with transaction.atomic():
            return Appointment.objects.bulk_create(appointments)
    except IntegrityError:
        pass
    saved = []
    for appointment in appointments:
        appointment.pk = None
        try:
            with transaction.atomic():
                appointment.save(force_insert=True)
        except IntegrityError:
            continue
        saved.append(appointment)
    return saved


@transaction.atomic
def _write_proposal(*, run_id: int, data: PlanningInput, outcome: PlanOutcome) -> PlanningRun:
    # The row lock makes a second worker executing the same run wait and then return unchanged.
    run = PlanningRun.objects.select_for_update().get(pk=run_id)
    if run.status != PlanningRunStatus.RUNNING:
        return run
    tz = _tz()
    result = outcome.result
    placement_of = {p.due_id: p for p in result.placements}
    reason_of = {u.due_id: u.reason for u in result.unplaced}
    fallback_of = {f.due_id: f.reason for f in result.fallbacks}
    case_dues = {d.case_id: d for d in data.dues}

    # Re-read what is taken now (appointments and sessions made since the input was read).
    staff_ids = sorted({p.staff_id for p in result.placements})
    taken: dict[int, list[Interval]] = defaultdict(list)
    window_start = _local_midnight(data.today + dt.timedelta(days=1), tz)
    window_end = _local_midnight(data.horizon_end + dt.timedelta(days=1), tz)
    for staff_id, start, end in Appointment.objects.filter(
        staff_id__in=staff_ids,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        group_session__isnull=True,
        start__lt=window_end,
        end__gt=window_start,
    ).values_list("staff_id", "start", "end"):
        taken[staff_id].append((start, end))
    session_ids = sorted({int(p.slot_id[1:]) for p in result.placements if p.slot_id[0] == "g"})
    # Lock the sessions that get places (a second writer waits), then count their participants.
    sessions = {
        s.pk: s
        for s in GroupSession.objects.select_for_update().filter(
            pk__in=session_ids, status=GroupSessionStatus.OPEN
        )
    }
    taken_places = dict(
        Appointment.objects.filter(
            group_session_id__in=list(sessions), status__in=ACTIVE_APPOINTMENT_STATUSES
        )
        .values("group_session_id")
        .annotate(n=Count("id"))
        .values_list("group_session_id", "n")
    )
    places = {pk: s.capacity - taken_places.get(pk, 0) for pk, s in sessions.items()}
    customer_of = dict(
        run.team.cases.filter(pk__in=list(case_dues)).values_list("pk", "customer_id")
    )

    proposals: dict[int, Appointment] = {}
    for case_id in sorted(case_dues):
        placement = placement_of.get(case_id)
        if placement is None:
            continue
        case_due = case_dues[case_id]
        agreement = case_due.agreement
        slot = outcome.slots[placement.slot_id]
        if slot.kind == planning.GROUP:
            session = sessions.get(int(slot.id[1:]))
            if session is None or places.get(session.pk, 0) <= 0:
                reason_of[case_id] = planning.REASON_SLOT_TAKEN
                continue
            places[session.pk] -= 1
            proposals[case_id] = Appointment(
                case_id=case_id,
                staff_id=session.host_id,
                start=session.start,
                end=session.end,
                channel=session.channel,
                location=session.location,
                video_link=session.video_link,
                purpose=(agreement.purpose or session.topic)[:300],
                planning_run=run,
                group_session=session,
            )
            continue
        start = slot.start.astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=agreement.duration_minutes)
        if _overlaps(taken[slot.staff_id], start, end):
            reason_of[case_id] = planning.REASON_SLOT_TAKEN
            continue
        taken[slot.staff_id].append((start, end))
        channel = next(c for c in agreement.channels if c in slot.channels)
        calendar = data.calendars[slot.staff_id]
        location = calendar.location if channel in ("in_person", "outreach") else ""
        proposals[case_id] = Appointment(
            case_id=case_id,
            staff_id=slot.staff_id,
            start=start,
            end=end,
            channel=channel,
            location=location[:200],
            purpose=agreement.purpose[:300],
            planning_run=run,
        )
    saved = {a.case_id: a for a in _insert_appointments(list(proposals.values()))}
    for case_id in proposals:
        if case_id not in saved:
            reason_of[case_id] = planning.REASON_SLOT_TAKEN

    items = []
    for case_id in sorted(case_dues):
        case_due = case_dues[case_id]
        appointment = saved.get(case_id)
        if appointment is not None:
            outcome_value = PlanningOutcome.PLACED
            reason = fallback_of.get(case_id, "")
        else:
            outcome_value = PlanningOutcome.UNPLACED
            reason = reason_of.get(case_id, planning.REASON_CAPACITY_EXHAUSTED)
        items.append(
            PlanningRunItem(
                run=run,
                case_id=case_id,
                customer_group=case_due.customer_group,
                due_date=case_due.due,
                window_start=case_due.window_start,
                window_end=max(case_due.window_end, case_due.window_start),
                outcome=outcome_value,
                reason=reason,
                appointment=appointment,
                # The proposal, kept should its appointment be withdrawn later.
                proposed_staff_id=appointment.staff_id if appointment else None,
                proposed_start=appointment.start if appointment else None,
                proposed_end=appointment.end if appointment else None,
                proposed_channel=appointment.channel if appointment else "",
                proposed_group_session_id=appointment.group_session_id if appointment else None,
            )
        )
    # Held back after a rejection: listed among the not placed, with the hold as the reason.
    held = [due for due in data.held if due.case_id not in case_dues]
    for case_due in held:
        items.append(
            PlanningRunItem(
                run=run,
                case_id=case_due.case_id,
                customer_group=case_due.customer_group,
                due_date=case_due.due,
                window_start=case_due.window_start,
                window_end=max(case_due.window_end, case_due.window_start),
                outcome=PlanningOutcome.UNPLACED,
                reason=planning.REASON_HELD,
                detail={"hold": case_due.hold.as_dict()},
            )
        )
    PlanningRunItem.objects.bulk_create(items, batch_size=1000)

    placed = len(saved)
    metrics = dict(outcome.metrics)
    metrics["slot_taken"] = sum(1 for r in reason_of.values() if r == planning.REASON_SLOT_TAKEN)
    metrics["held"] = len(held)
    metrics["seconds"] = round(result.seconds, 3)
    run.status = PlanningRunStatus.PROPOSED
    run.finished_at = timezone.now()
    run.fingerprint = result.fingerprint
    run.weights = data.weights.as_dict()
    run.objective = result.objective
    run.bound = result.bound
    run.due_count = len(case_dues) + len(held)
    run.placed_count = placed
    run.unplaced_count = len(case_dues) + len(held) - placed
    run.metrics = metrics
    run.seconds = result.seconds
    run.error = ""
    run.save()
    audit_record_many(
        ctx=AuditContext.system(),
        action=AuditAction.CREATE,
        object_type="appointment",
        items=[(a.pk, customer_of.get(a.case_id)) for a in saved.values()],
        detail={"planning_run_id": run.pk, "status": AppointmentStatus.PLANNED},
    )
    audit_record(
        ctx=AuditContext.system(),
        action=AuditAction.UPDATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={
            "status": PlanningRunStatus.PROPOSED,
            "placed": placed,
            "unplaced": run.unplaced_count,
            "fingerprint": run.fingerprint,
        },
    )
    return run


# --- decisions -------------------------------------------------------------------------------------


def _not_open() -> ConflictError:
    return ConflictError(
        _("This planning run has already been decided or replaced. Please reload the page.")
    )


def _approve_items(
    *, ctx: AuditContext, actor: User, items: list[PlanningRunItem], now: dt.datetime
) -> list[int]:
    """Approve the items' planned appointments; they are sent after commit, in batches."""
    appointment_ids = [item.appointment_id for item in items]
    if not appointment_ids:
        return []
    Appointment.objects.filter(pk__in=appointment_ids).update(
        status=AppointmentStatus.APPROVED, approved_by=actor, approved_at=now, updated_at=now
    )
    PlanningRunItem.objects.filter(pk__in=[item.pk for item in items]).update(
        decision=PlanningDecision.APPROVED, decided_by=actor, decided_at=now
    )
    # The one-off due date is used up by this invitation.
    ContactAgreement.objects.filter(
        case_id__in=[item.case_id for item in items], next_due__isnull=False
    ).update(next_due=None, updated_at=now)
    rows = list(
        Appointment.objects.filter(pk__in=appointment_ids).values_list("pk", "case__customer_id")
    )
    audit_record_many(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="appointment",
        items=rows,
        detail={"status": AppointmentStatus.APPROVED},
    )
    from scheduling import tasks

    tasks.invitations_send_on_commit(sorted(appointment_ids))
    return appointment_ids


def _leave_out(
    *,
    ctx: AuditContext,
    actor: User,
    items: list[PlanningRunItem],
    conflicts: dict[int, dict],
    now: dt.datetime,
) -> None:
    """A run approval leaves these items out: each keeps why (detail["left_out"]), their
    proposals are withdrawn, so the cases are due again for the next run."""
    for item in items:
        item.decision = PlanningDecision.LEFT_OUT
        item.decided_by = actor
        item.decided_at = now
        item.detail = {**(item.detail or {}), "left_out": conflicts[item.appointment_id]}
    PlanningRunItem.objects.bulk_update(
        items, ["decision", "decided_by", "decided_at", "detail"], batch_size=500
    )
    _withdraw_proposals(
        ctx=ctx,
        appointment_ids=[item.appointment_id for item in items],
        why="no_longer_fits",
        detail={"planning_run_id": items[0].run_id} if items else None,
    )


def _pending_planned(run: PlanningRun) -> list[PlanningRunItem]:
    return list(
        PlanningRunItem.objects.select_for_update(of=("self",))
        .filter(
            run=run,
            decision=PlanningDecision.PENDING,
            outcome=PlanningOutcome.PLACED,
            appointment__status=AppointmentStatus.PLANNED,
        )
        .select_related("appointment")
        .order_by("id")
    )


@transaction.atomic
def planning_run_approve(*, ctx: AuditContext, run_id: int) -> PlanningRun:
    """The team lead approves every pending invitation of a proposed run that still fits the
    calendar (planning_proposal_conflicts); the others are left out with their reason (decision
    left_out, proposals withdrawn; `run.left_out` lists them). The approved ones are sent after
    commit. One short transaction: the sending is the workers' (batches, after commit). The row
    lock makes a double click approve once (the second gets a ConflictError)."""
    run = PlanningRun.objects.select_for_update().get(pk=run_id)
    actor = _require_team_lead(ctx, run.team_id)
    if run.status != PlanningRunStatus.PROPOSED:
        raise _not_open()
    now = timezone.now()
    items = _pending_planned(run)
    conflicts = planning_proposal_conflicts(
        appointments=[item.appointment for item in items], now=now
    )
    fitting = [item for item in items if item.appointment_id not in conflicts]
    left_out = [item for item in items if item.appointment_id in conflicts]
    _leave_out(ctx=ctx, actor=actor, items=left_out, conflicts=conflicts, now=now)
    _approve_items(ctx=ctx, actor=actor, items=fitting, now=now)
    run.status = PlanningRunStatus.APPROVED
    run.approved_by = actor
    run.approved_at = now
    run.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={
            "status": PlanningRunStatus.APPROVED,
            "approved": len(fitting),
            "left_out": {str(item.pk): conflicts[item.appointment_id]["code"] for item in left_out},
        },
    )
    run.left_out = left_out
    return run


@transaction.atomic
def planning_run_discard(*, ctx: AuditContext, run_id: int) -> PlanningRun:
    """The team lead throws a proposed run away: its pending proposals are withdrawn (single
    invitations approved before stay)."""
    run = PlanningRun.objects.select_for_update().get(pk=run_id)
    actor = _require_team_lead(ctx, run.team_id)
    if run.status != PlanningRunStatus.PROPOSED:
        raise _not_open()
    items = _pending_planned(run)
    withdrawn = _withdraw_proposals(
        ctx=ctx,
        appointment_ids=[item.appointment_id for item in items],
        why="planning_run_discarded",
        detail={"planning_run_id": run.pk},
    )
    run.status = PlanningRunStatus.DISCARDED
    run.discarded_by = actor
    run.save(update_fields=["status", "discarded_by"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="planning_run",
        object_id=run.pk,
        detail={"status": PlanningRunStatus.DISCARDED, "withdrawn": len(withdrawn)},
    )
    return run


def _item_for_decision(ctx: AuditContext, item_id: int) -> tuple[PlanningRunItem, User]:
    item = (
        PlanningRunItem.objects.select_for_update(of=("self",))
        .select_related("run", "appointment", "case")
        .get(pk=item_id)
    )
    actor = _require_team_member(ctx, item.run.team_id)
    # Lock the run too: a whole-run decision and a single one must not cross.
    run = PlanningRun.objects.select_for_update().get(pk=item.run_id)
    if run.status != PlanningRunStatus.PROPOSED:
        raise _not_open()
    if (
        item.decision != PlanningDecision.PENDING
        or item.appointment is None
        or item.appointment.status != AppointmentStatus.PLANNED
    ):
        raise ConflictError(_("This invitation has already been decided. Please reload the page."))
    return item, actor


class ProposalConflictError(ConflictError):
    """The proposal no longer fits the calendar (409); `extra["conflict"]` says why."""


@transaction.atomic
def planning_item_approve(*, ctx: AuditContext, item_id: int) -> PlanningRunItem:
    """A caseworker or the team lead approves one invitation of a proposed run (sent after
    commit); the run stays proposed. A proposal that no longer fits the calendar is refused
    with the reason (ProposalConflictError); it stays pending, to be rejected."""
    item, actor = _item_for_decision(ctx, item_id)
    now = timezone.now()
    conflict = planning_proposal_conflicts(appointments=[item.appointment], now=now).get(
        item.appointment_id
    )
    if conflict is not None:
        raise ProposalConflictError(
            _(
                "This invitation can no longer be approved: %(why)s Please reject it; the next "
                "run plans the case again."
            )
            % {"why": planning_conflict_text(conflict)},
            extra={"conflict": conflict},
        )
    _approve_items(ctx=ctx, actor=actor, items=[item], now=now)
    item.refresh_from_db()
    return item


@transaction.atomic
def planning_item_reject(
    *, ctx: AuditContext, item_id: int, reason: str, hold_until: dt.date | None = None
) -> PlanningRunItem:
    """A caseworker or the team lead rejects one invitation with a reason: its proposal is
    withdrawn (the customer never heard of it) and the case is held back from invitations until
    `hold_until`, or without a date until a person lifts the hold or changes the contact
    agreement (ContactAgreement.hold_*). The reason is kept in the audit rows and the hold."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Please give a reason for rejecting the invitation."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ApplicationError(
            _("Please keep the reason under %(count)s characters.") % {"count": MAX_REASON_LENGTH}
        )
    contact_agreement_hold_validate(until=hold_until, today=timezone.localdate())
    item, actor = _item_for_decision(ctx, item_id)
    now = timezone.now()
    rejected = {"reason": reason, "hold_until": hold_until.isoformat() if hold_until else None}
    PlanningRunItem.objects.filter(pk=item.pk).update(
        decision=PlanningDecision.REJECTED,
        decided_by=actor,
        decided_at=now,
        detail={**(item.detail or {}), "rejected": rejected},
    )
    _withdraw_proposals(
        ctx=ctx,
        appointment_ids=[item.appointment_id],
        why="rejected",
        detail={
            "planning_item_id": item.pk,
            "rejected": reason,
            "hold_until": hold_until.isoformat() if hold_until else None,
        },
    )
    contact_agreement_hold(ctx=ctx, case=item.case, until=hold_until, reason=reason)
    item.refresh_from_db()
    return item


# --- sending progress --------------------------------------------------------------------------------


def planning_run_sending(*, run: PlanningRun) -> dict[str, int]:
    """How far the sending of a run's approved invitations is (one query): `total` approved
    invitations still holding their appointment, `sent` those with a delivery recorded (or no
    longer waiting: sent, confirmed, moved on), `waiting` the rest."""
    delivered = InvitationDelivery.objects.filter(appointment=OuterRef("pk"))
    counts = (
        Appointment.objects.filter(
            planning_item__run=run, planning_item__decision=PlanningDecision.APPROVED
        )
        .annotate(delivered=Exists(delivered))
        .aggregate(
            total=Count("id"),
            waiting=Count("id", filter=Q(status=AppointmentStatus.APPROVED, delivered=False)),
        )
    )
    total, waiting = counts["total"] or 0, counts["waiting"] or 0
    return {"total": total, "sent": total - waiting, "waiting": waiting}
