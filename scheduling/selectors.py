"""Reads of the scheduling app. The planner asks `staff_busy_intervals` when a staff member is busy."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from cases.models import Case, Channel, CustomerGroup
from organisation.models import User
from profiling.services.segments import segment_config_list
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    CALENDAR_CHANNELS,
    MAX_WINDOW_OFFSET_DAYS,
    Absence,
    Appointment,
    AppointmentStatus,
    BusyTime,
    ContactAgreement,
    GroupSession,
    GroupSessionStatus,
    StaffCalendar,
    parse_hhmm,
)
from scheduling.services import federal_state_for, holidays_for

Interval = tuple[dt.datetime, dt.datetime]


def staff_calendar_get_for_user(*, user: User) -> StaffCalendar | None:
    return StaffCalendar.objects.filter(user=user).first()


def staff_calendar_get_by_feed_token(*, token: str) -> StaffCalendar | None:
    if not token:
        return None
    return StaffCalendar.objects.select_related("user").filter(feed_token=token).first()


def absence_list_for_user(*, user: User, since: dt.datetime | None = None) -> list[Absence]:
    absences = Absence.objects.filter(user=user)
    if since is not None:
        absences = absences.filter(end__gt=since)
    return list(absences.order_by("start"))


FEED_PAST_DAYS = 30
# Feed STATUS per appointment status: proposals not yet approved are tentative; an appointment
# that no longer holds its time is CANCELLED, so subscribed calendars drop it.
_FEED_STATUS = {
    AppointmentStatus.PLANNED: "TENTATIVE",
    AppointmentStatus.CANCELLED: "CANCELLED",
    AppointmentStatus.REBOOKED: "CANCELLED",
}


def staff_feed_events(*, user: User) -> list[dict]:
    """The events of a staff member's private ICS feed: {uid, start, end, summary, location,
    sequence, status}, by start.

    Their individual appointments (ending in the last 30 days or later; cancelled ones stay in
    with STATUS:CANCELLED so subscribed calendars remove them) and the group sessions they host
    (once each, however many places are taken; the participants' own appointments are not
    listed).

    Privacy: the feed address is a secret, but the events end up in Outlook or Thunderbird, on
    phones and in the calendar servers behind them. So an event carries only the purpose (or the
    session's topic), the customer number (never the name or other customer data) and the
    channel or place; the description stays empty.
    """
    since = timezone.now() - dt.timedelta(days=FEED_PAST_DAYS)
    events = [
        _feed_appointment_event(appointment)
        for appointment in Appointment.objects.filter(
            staff=user, group_session__isnull=True, end__gte=since
        )
        .select_related("case__customer")
        .only(
            "uid",
            "start",
            "end",
            "purpose",
            "channel",
            "location",
            "video_link",
            "sequence",
            "status",
            "case__customer__customer_number",
        )
    ]
    events.extend(
        _feed_group_session_event(session)
        for session in GroupSession.objects.filter(host=user, end__gte=since)
    )
    events.sort(key=lambda event: (event["start"], event["uid"]))
    return events


def _channel_label(channel: str) -> str:
    return str(dict(Channel.choices).get(channel, channel))


def _feed_appointment_event(appointment: Appointment) -> dict:
    customer_number = appointment.case.customer.customer_number
    channel = _channel_label(appointment.channel)
    return {
        "uid": appointment.uid,
        "start": appointment.start,
        "end": appointment.end,
        "summary": f"{appointment.purpose} · {customer_number} · {channel}",
        "location": appointment.location or appointment.video_link,
        "sequence": appointment.sequence,
        "status": _FEED_STATUS.get(appointment.status, "CONFIRMED"),
    }


def _feed_group_session_event(session: GroupSession) -> dict:
    label = gettext("Group session")
    return {
        "uid": session.uid,
        "start": session.start,
        "end": session.end,
        "summary": f"{label}: {session.topic} · {_channel_label(session.channel)}",
        "location": session.location or session.video_link,
        "sequence": session.sequence,
        "status": "CANCELLED" if session.status == GroupSessionStatus.CANCELLED else "CONFIRMED",
    }


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _days(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[dt.date]:
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _day_bounds(day: dt.date, tz: ZoneInfo) -> Interval:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    if day >= dt.date.max:  # no next day to end at (inputs are refused long before this)
        return start, dt.datetime.combine(day, dt.time.max, tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def _outside_working_hours(calendar: StaffCalendar, day: dt.date, tz: ZoneInfo) -> list[Interval]:
    """The parts of a local day outside the working hours (all of it on a day without blocks)."""
    day_start, day_end = _day_bounds(day, tz)
    blocks = sorted(
        (block for block in calendar.working_hours if block["weekday"] == day.weekday()),
        key=lambda block: block["start"],
    )
    free: list[Interval] = []
    cursor = day_start
    for block in blocks:
        start = dt.datetime.combine(day, parse_hhmm(block["start"]), tzinfo=tz)
        end_time = parse_hhmm(block["end"])
        end = day_end if end_time is None else dt.datetime.combine(day, end_time, tzinfo=tz)
        if start > cursor:
            free.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < day_end:
        free.append((cursor, day_end))
    return free


def staff_busy_intervals_many(
    *, users: Iterable[User], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Interval]]:
    """For each user: the merged, sorted intervals inside [start, end) in which they are not available.

    Busy means any of: a synced busy time, an absence, a public holiday of the jobcenter's federal
    state (the whole local day), time outside the working hours. A staff member without calendar
    sharing consent (or without a calendar) is busy for the whole window: no appointments are
    planned with them. The walk-in reserve and the daily cap are capacities for the planner, not
    busy times. Three queries whatever the number of users.
    """
    users = list(users)
    tz = ZoneInfo(settings.TIME_ZONE)
    ids = [user.pk for user in users]
    calendars = {c.user_id: c for c in StaffCalendar.objects.filter(user_id__in=ids)}
    raw: dict[int, list[Interval]] = defaultdict(list)
    for row in (
        BusyTime.objects.filter(user_id__in=ids)
        .overlapping(start, end)
        .values_list("user_id", "start", "end")
    ):
        raw[row[0]].append((row[1], row[2]))
    for row in (
        Absence.objects.filter(user_id__in=ids)
        .overlapping(start, end)
        .values_list("user_id", "start", "end")
    ):
        raw[row[0]].append((row[1], row[2]))
    days = _days(start, end, tz)
    holiday_cache: dict[str, set[dt.date]] = {}
    result: dict[int, list[Interval]] = {}
    for user in users:
        calendar = calendars.get(user.pk)
        if calendar is None or not calendar.has_consent:
            result[user.pk] = [(start, end)]
            continue
        state = federal_state_for(user=user)
        if state not in holiday_cache:
            holiday_cache[state] = {
                day
                for year in {d.year for d in days}
                for day in holidays_for(year=year, state=state)
            }
        intervals = list(raw.get(user.pk, []))
        for day in days:
            if day in holiday_cache[state]:
                intervals.append(_day_bounds(day, tz))
            else:
                intervals.extend(_outside_working_hours(calendar, day, tz))
        clipped = [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]
        result[user.pk] = merge_intervals(clipped)
    return result


def staff_busy_intervals(*, user: User, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The merged intervals inside [start, end) in which `user` is not available (see the _many)."""
    return staff_busy_intervals_many(users=[user], start=start, end=end)[user.pk]


# --- contact agreements and due invitations ------------------------------------------------------------

# How far ahead a person may set a scheduling date (a group session, a next due date, a hold):
# two years is beyond any cadence (at most 365 days) and any planning horizon (at most 90 days),
# and keeps date arithmetic (working days, day bounds) far from the end of the calendar.
MAX_DAYS_AHEAD = 730


def date_beyond_reach(value: dt.date | dt.datetime, *, today: dt.date | None = None) -> bool:
    """Whether `value` (a date, or an aware datetime taken in local time) lies more than
    MAX_DAYS_AHEAD days after today."""
    today = today or timezone.localdate()
    if isinstance(value, dt.datetime):
        if value.year >= dt.MAXYEAR:  # converting it to local time could overflow
            return True
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return (value - today).days > MAX_DAYS_AHEAD


# Appointments that count as the last contact of a case (the next one is due a cadence later).
CONTACT_STATUSES = (
    *ACTIVE_APPOINTMENT_STATUSES,
    AppointmentStatus.ATTENDED,
    AppointmentStatus.MISSED,
    AppointmentStatus.EXCUSED,
)
DEFAULT_PURPOSE = "Beratungsgespräch zu Ihrer beruflichen Situation"


@dataclass(frozen=True)
class EffectiveAgreement:
    """A case's contact agreement with the customer group's defaults filled in."""

    cadence_days: int | None  # None: neither the case nor its group has a cadence (no invitations)
    window_start_days: int
    window_end_days: int
    channels: tuple[str, ...]
    duration_minutes: int
    purpose: str
    fixed_caseworker: bool
    allow_group_session: bool
    next_due: dt.date | None
    cadence_from_group: bool


@dataclass(frozen=True)
class DueHold:
    """Why a case is held back: a person rejected its planned invitation (ContactAgreement.hold_*)."""

    until: dt.date | None  # None: until a person lifts it or changes the agreement
    set_at: dt.datetime
    set_by: str
    reason: str

    def as_dict(self) -> dict:
        return {
            "until": self.until.isoformat() if self.until else None,
            "set_at": self.set_at.isoformat(),
            "set_by": self.set_by,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CaseDue:
    """The next invitation a case is due for, inside the planning horizon."""

    case_id: int
    team_id: int
    customer_group: str
    caseworker_id: int | None
    due: dt.date
    window_start: dt.date
    window_end: dt.date
    agreement: EffectiveAgreement
    # Set only by case_dues_list(include_held=True): the case would be due, but is held back.
    hold: DueHold | None = None


def segment_configs_by_group() -> dict:
    """The customer groups' settings (profiling.SegmentConfig rows) by group."""
    return {config.group: config for config in segment_config_list()}


_LOOK_UP = object()


def contact_agreement_effective(
    *,
    case: Case,
    agreement: "ContactAgreement | None | object" = _LOOK_UP,
    configs: dict | None = None,
) -> EffectiveAgreement:
    """The agreement a case is invited by: its own values where set, else its group's settings.

    `agreement`: the case's ContactAgreement or None when the caller knows it has none (read
    from the database when not given); `configs`: the groups' settings by group (read when not
    given), so list callers make no query per case."""
    if agreement is _LOOK_UP:
        agreement = ContactAgreement.objects.filter(case_id=case.pk).first()
    configs = segment_configs_by_group() if configs is None else configs
    config = configs.get(case.customer_group or "")
    offered = {channel.value for channel in CALENDAR_CHANNELS}
    own_channels = list(agreement.channels) if agreement and agreement.channels else []
    group_channels = list(config.channels) if config and config.channels else []
    channels = tuple(c for c in (own_channels or group_channels) if c in offered) or (
        Channel.IN_PERSON.value,
    )
    cadence = agreement.cadence_days if agreement else None
    return EffectiveAgreement(
        cadence_days=cadence or (config.contact_cadence_days if config else None),
        window_start_days=agreement.window_start_days if agreement else -3,
        window_end_days=agreement.window_end_days if agreement else 5,
        channels=channels,
        duration_minutes=agreement.duration_minutes if agreement else 30,
        purpose=(agreement.purpose if agreement and agreement.purpose else DEFAULT_PURPOSE),
        fixed_caseworker=bool(config and config.fixed_caseworker),
        allow_group_session=case.customer_group == CustomerGroup.ADMINISTRATIVE,
        next_due=agreement.next_due if agreement else None,
        cadence_from_group=cadence is None,
    )


def add_working_days(day: dt.date, count: int) -> dt.date:
    """`day` moved by `count` working days (Monday to Friday; holidays are the planner's)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        if day.weekday() < 5:
            remaining -= 1
    return day


def _case_due(
    *,
    case: Case,
    agreement: EffectiveAgreement,
    last_contact: dt.date | None,
    today: dt.date,
    not_before: dt.date | None = None,
) -> tuple[dt.date, dt.date, dt.date] | None:
    """(due, window start, window end) or None without a cadence. Overdue dues count from
    tomorrow (the first day a planned invitation can be); the window never starts before then,
    nor before `not_before` (the day a hold ends)."""
    if agreement.next_due is not None:
        due = agreement.next_due
    elif agreement.cadence_days is None:
        return None
    elif last_contact is not None:
        due = last_contact + dt.timedelta(days=agreement.cadence_days)
    else:
        due = timezone.localtime(case.opened_at).date()  # no contact yet: due at once
    earliest = today + dt.timedelta(days=1)
    if not_before is not None:
        earliest = max(earliest, not_before)
    due = max(due, earliest)
    if (dt.date.max - due).days < 2 * MAX_WINDOW_OFFSET_DAYS:
        return None  # a date saved before such dates were refused: no window fits after it
    start = max(add_working_days(due, agreement.window_start_days), earliest)
    end = max(add_working_days(due, agreement.window_end_days), start)
    return due, start, end


def _hold_of(agreement: ContactAgreement | None, today: dt.date) -> DueHold | None:
    if agreement is None or not agreement.is_held(today):
        return None
    by = agreement.hold_set_by
    return DueHold(
        until=agreement.hold_until,
        set_at=agreement.hold_set_at,
        set_by=(by.get_full_name() or by.get_username()) if by else "",
        reason=agreement.hold_reason,
    )


def case_dues_list(
    *,
    team_id: int | None = None,
    case_ids: Iterable[int] | None = None,
    today: dt.date,
    until: dt.date,
    include_held: bool = False,
) -> list[CaseDue]:
    """The open cases (of a team, or the given ones) due for an invitation by `until`: no active
    appointment ahead, a cadence (own or the group's). Sorted by case id. Four queries whatever
    the number of cases.

    A due counts when its due date lies by `until`, not merely the start of its window: a due
    whose window starts inside a planning horizon but whose due date lies beyond it is left to a
    later run, which sees the whole window around the due date. (Placing it now could only use
    the head of the window, days before the due date, and would pull the whole cadence forward.)

    A held case (ContactAgreement.is_held: a person rejected its invitation) is not due while the
    hold lasts; a hold with a date moves the due date and the window to that date at the
    earliest. With `include_held` such cases come back too, with their dates as if not held and
    `hold` set, so a run can list them as not placed with the reason."""
    cases = Case.objects.open()
    if team_id is not None:
        cases = cases.for_team(team_id)
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    now = timezone.now()
    invited = Appointment.objects.filter(
        case=OuterRef("pk"), status__in=ACTIVE_APPOINTMENT_STATUSES, end__gt=now
    )
    cases = cases.annotate(
        has_upcoming=Exists(invited),
        last_contact=Max(
            "appointments__start",
            filter=Q(appointments__status__in=CONTACT_STATUSES, appointments__start__lte=now),
        ),
    ).filter(has_upcoming=False)
    cases = list(cases.order_by("pk"))
    agreements = {
        agreement.case_id: agreement
        for agreement in ContactAgreement.objects.filter(
            case_id__in=[c.pk for c in cases]
        ).select_related("hold_set_by")
    }
    configs = segment_configs_by_group()
    dues = []
    for case in cases:
        agreement = agreements.get(case.pk)
        effective = contact_agreement_effective(case=case, agreement=agreement, configs=configs)
        last = timezone.localtime(case.last_contact).date() if case.last_contact else None
        dates = _case_due(case=case, agreement=effective, last_contact=last, today=today)
        if dates is None or dates[0] > until or dates[1] > until:
            continue
        hold = _hold_of(agreement, today)
        if hold is not None and hold.until is not None:
            held_dates = _case_due(
                case=case,
                agreement=effective,
                last_contact=last,
                today=today,
                not_before=hold.until,
            )
            if held_dates is not None and max(held_dates[0], held_dates[1]) <= until:
                dates, hold = held_dates, None  # the hold ends inside the horizon: plan after it
        if hold is not None and not include_held:
            continue
        dues.append(
            CaseDue(
                case_id=case.pk,
                team_id=case.team_id,
                customer_group=case.customer_group or "",
                caseworker_id=case.caseworker_id,
                due=dates[0],
                window_start=dates[1],
                window_end=dates[2],
                agreement=effective,
                hold=hold,
            )
        )
    return dues


def case_next_due(*, case: Case, today: dt.date | None = None) -> CaseDue | None:
    """The next invitation the case is due for (whatever the horizon), or None: closed, an
    appointment already ahead, or no cadence."""
    today = today or timezone.localdate()
    found = case_dues_list(case_ids=[case.pk], today=today, until=dt.date.max)
    return found[0] if found else None
