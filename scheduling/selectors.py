"""Reads of the scheduling app. The planner asks `staff_busy_intervals` when a staff member is busy."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings

from organisation.models import User
from scheduling.models import Absence, BusyTime, StaffCalendar, parse_hhmm
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


def staff_feed_events(*, user: User) -> list[dict]:
    """The appointments for a staff member's private feed: {uid, start, end, summary, location,
    sequence, status}. Appointments arrive with the invitation issue; until then the feed is empty."""
    return []


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
    return (
        dt.datetime.combine(day, dt.time.min, tzinfo=tz),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


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
