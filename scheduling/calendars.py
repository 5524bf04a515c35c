"""Reading and writing iCalendar data (RFC 5545): pure functions, no database, no network.

Reading turns a staff member's calendar (an ICS file, a feed, the free/busy answer or the events of a CalDAV server) into
busy intervals: only the times, never what the event is about. Writing builds the private feed of a
staff member's appointments (METHOD:PUBLISH) and the ICS file of a single invitation
(METHOD:REQUEST, stable UID, SEQUENCE raised by the caller on every change).
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.utils.translation import gettext as _

from jobcenter.exceptions import ApplicationError

logger = logging.getLogger(__name__)

MAX_ICS_BYTES = 5 * 1024 * 1024
# Components in one file and occurrences inside the sync window: a working calendar has a few hundred.
MAX_COMPONENTS = 10_000
MAX_OCCURRENCES = 10_000
PRODID = "-//Jobcenter//Kalender//DE"


class CalendarDataError(ApplicationError):
    """Calendar data that cannot be used: malformed, too big or with too many events."""


@dataclass(frozen=True)
class BusyInterval:
    """A time in which a staff member is busy; `uid` only to recognise the event, no summary."""

    start: dt.datetime
    end: dt.datetime
    uid: str = ""


# --- reading ---------------------------------------------------------------------------------------


def _as_aware(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A DATE becomes midnight in `tz` (all-day events block whole local days); floating times too."""
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.min, tzinfo=tz)
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _occurrence_interval(event, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime] | None:
    start_prop = event.get("DTSTART")
    if start_prop is None:
        return None
    start_value = start_prop.dt
    end_prop = event.get("DTEND")
    if end_prop is not None:
        end_value = end_prop.dt
    elif event.get("DURATION") is not None:
        end_value = start_value + event["DURATION"].dt
    elif isinstance(start_value, dt.datetime):
        # RFC 5545 3.6.1: a DATE-TIME start without end or duration takes no time.
        return None
    else:
        end_value = start_value + dt.timedelta(days=1)
    start, end = _as_aware(start_value, tz), _as_aware(end_value, tz)
    if end <= start:
        return None
    return start, end


def _blocks_time(event) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    # Outlook/Exchange write the shown status here (FREE, TENTATIVE, BUSY, OOF, ...); when present it
    # decides, because Outlook's "free" events do not always carry TRANSP:TRANSPARENT. Anything but
    # FREE blocks (unknown values too: better no appointment than one in a busy time).
    busy_status = event.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if busy_status is not None and str(busy_status).strip():
        return str(busy_status).strip().upper() != "FREE"
    return str(event.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"


def _freebusy_intervals(
    calendar, tz: dt.tzinfo, window_start: dt.datetime, window_end: dt.datetime
) -> list[BusyInterval]:
    """The busy periods of the VFREEBUSY components (RFC 5545 3.6.4, 3.8.2.6).

    FREEBUSY holds one or more periods, each start/end or start/duration; FBTYPE BUSY (the
    default), BUSY-TENTATIVE, BUSY-UNAVAILABLE and unknown types block, FREE does not. This is
    what a CalDAV free-busy-query answers and what Outlook publishes as a .vfb file.
    """
    intervals = []
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY")
        if values is None:
            continue
        for period in values if isinstance(values, list) else [values]:
            if str(period.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            start = _as_aware(period.start, tz)
            end = start + period.duration if period.by_duration else _as_aware(period.end, tz)
            if end <= start or start >= window_end or end <= window_start:
                continue
            intervals.append(BusyInterval(start, end))
    return intervals


def ics_too_big() -> CalendarDataError:
    return CalendarDataError(
        _("The calendar file is too big: at most %(mb)s MB are allowed.")
        % {"mb": max(1, MAX_ICS_BYTES // (1024 * 1024))}
    )


def ics_check_size(data: bytes) -> None:
    if len(data) > MAX_ICS_BYTES:
        raise ics_too_big()


def ics_parse_busy(
    data: bytes,
    *,
    window_start: dt.datetime,
    window_end: dt.datetime,
    default_tz: str = "Europe/Berlin",
) -> list[BusyInterval]:
    """The busy intervals of an ICS file that overlap [window_start, window_end), sorted by start.

    Recurring events are expanded inside the window (with their exceptions and EXDATEs), all-day
    events block whole days in `default_tz`, floating times are read in X-WR-TIMEZONE or else
    `default_tz`, TZID times in their time zone: an own VTIMEZONE, an IANA name, or a Windows name
    such as "W. Europe Standard Time" (icalendar maps those; an unknown TZID without VTIMEZONE
    is read as floating). Transparent ("free"), Outlook-"free" (X-MICROSOFT-CDO-BUSYSTATUS:FREE)
    and cancelled events block nothing. VFREEBUSY periods (free/busy data, Outlook .vfb files)
    block unless FBTYPE=FREE. Raises CalendarDataError for malformed, oversized or overfull data;
    nothing is half-read.
    """
    ics_check_size(data)
    data = _utf8(data)
    # Not even the start of an iCalendar file (a PDF, an image, an HTML page, an empty file): say
    # so rather than quoting what the parser choked on (it would echo the bytes).
    if not data.lstrip(b" \t\r\n")[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        raise _not_icalendar()
    tz = ZoneInfo(default_tz)
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as error:  # icalendar raises ValueError, KeyError, TypeError... on bad input
        logger.info("Calendar data not readable: %r", error)
        line = _bad_line_number(data)
        if line is None:
            raise CalendarDataError(
                _("The calendar file could not be read: it is not valid iCalendar data.")
            ) from error
        raise CalendarDataError(
            _("The calendar file could not be read: line %(line)s is not valid iCalendar.")
            % {"line": line}
        ) from error
    if not calendars:
        # It began as a calendar but no component was closed: the download or export was cut off.
        raise CalendarDataError(
            _(
                "The calendar file is incomplete: it ends before END:VCALENDAR. Export or "
                "download it again."
            )
        )
    if any(cal.name != "VCALENDAR" for cal in calendars):
        raise _not_icalendar()
    intervals: list[BusyInterval] = []
    for calendar in calendars:
        if sum(1 for _component in calendar.walk("VEVENT")) > MAX_COMPONENTS:
            raise CalendarDataError(
                _("The calendar has too many events: at most %(limit)s are allowed.")
                % {"limit": MAX_COMPONENTS}
            )
        _check_broken_times(calendar)
        _check_recurrences(calendar)
        try:
            intervals.extend(_freebusy_intervals(calendar, tz, window_start, window_end))
            # between() rather than after(): after() walks long series slowly from their start.
            occurrences = recurring_ical_events.of(calendar).between(window_start, window_end)
            for event in occurrences:
                interval = _occurrence_interval(event, tz)
                if interval is None or not _blocks_time(event):
                    continue
                if interval[0] >= window_end or interval[1] <= window_start:
                    continue
                intervals.append(BusyInterval(*interval, uid=str(event.get("UID", ""))[:255]))
                if len(intervals) > MAX_OCCURRENCES:
                    raise CalendarDataError(
                        _(
                            "The calendar has too many appointments in the next weeks: at most "
                            "%(limit)s are allowed."
                        )
                        % {"limit": MAX_OCCURRENCES}
                    )
        except CalendarDataError:
            raise
        except Exception as error:  # bad RRULEs, unknown time zones, broken dates
            logger.info("Calendar data not expandable: %r", error)
            raise CalendarDataError(
                _(
                    "The calendar file could not be read: a repeating event or a time zone in it "
                    "is not valid iCalendar. Correct or delete it in your calendar program."
                )
            ) from error
    if len(intervals) > MAX_OCCURRENCES:
        raise CalendarDataError(
            _(
                "The calendar has too many appointments in the next weeks: at most "
                "%(limit)s are allowed."
            )
            % {"limit": MAX_OCCURRENCES}
        )
    intervals.sort(key=lambda item: (item.start, item.end))
    return intervals


def _not_icalendar() -> CalendarDataError:
    return CalendarDataError(
        _(
            "This is not iCalendar data (it does not begin with BEGIN:VCALENDAR; perhaps it is a "
            "web page or another kind of file). Use a calendar export (.ics) or the calendar's "
            "subscription address."
        )
    )


def _printable(text: str, limit: int = 80) -> str:
    """Text from a calendar file as it may appear in a message: printable, short."""
    text = "".join(char if char.isprintable() else "?" for char in text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bad_line_number(data: bytes) -> int | None:
    """The number of the first line (as the file counts them) that is no iCalendar content line."""
    from icalendar.parser import Contentline

    text = data.decode("utf-8", errors="replace")
    logical, first = "", 0
    lines = [*text.splitlines(), ""]
    for number, line in enumerate(lines, start=1):
        if line[:1] in (" ", "\t"):  # folded: continues the line before (RFC 5545 3.1)
            logical += line[1:]
            continue
        if logical.strip():
            try:
                Contentline(logical).parts()
            except Exception:  # noqa: BLE001 - any failure marks the line
                return first
        logical, first = line, number
    return None


# Properties whose values decide when someone is busy: if one cannot be read, the calendar is not
# read at all (an event silently dropped would let the planner put an appointment on top of it).
_TIME_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}


def _check_broken_times(calendar) -> None:
    for component in calendar.walk():
        if component.name not in ("VEVENT", "VFREEBUSY", "VTIMEZONE", "STANDARD", "DAYLIGHT"):
            continue
        for name, detail in getattr(component, "errors", []):
            if str(name).upper() not in _TIME_PROPERTIES | {"FREEBUSY", "TZOFFSETFROM"}:
                continue
            logger.info("Calendar entry with a broken %s: %s", name, detail)
            uid = _printable(str(component.get("UID", "")))
            if uid:
                raise CalendarDataError(
                    _(
                        "The calendar could not be read: the entry with the UID %(uid)s has a "
                        "date or time that cannot be read (%(property)s). Correct or delete it "
                        "in your calendar program."
                    )
                    % {"uid": uid, "property": _printable(str(name), 40)}
                )
            raise CalendarDataError(
                _(
                    "The calendar could not be read: an entry has a date or time that cannot be "
                    "read (%(property)s). Correct or delete it in your calendar program."
                )
                % {"property": _printable(str(name), 40)}
            )


def _utf8(data: bytes) -> bytes:
    """The data as UTF-8 without byte order mark (Windows tools write one, some even UTF-16)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as error:
            raise _not_icalendar() from error
    return data.removeprefix(b"\xef\xbb\xbf")


# Rules that repeat more often than hourly make the expansion run for minutes (FREQ=SECONDLY from
# 1900 never ends): no working calendar needs them, so they are refused before expanding anything.
_TOO_FREQUENT = {"SECONDLY", "MINUTELY", "HOURLY"}


def _check_recurrences(calendar) -> None:
    for component in calendar.walk("VEVENT"):
        rules = component.get("RRULE")
        if rules is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            frequencies = {str(value).upper() for value in rule.get("FREQ", [])}
            if frequencies & _TOO_FREQUENT or "BYSECOND" in rule or "BYMINUTE" in rule:
                raise CalendarDataError(
                    _(
                        "The calendar has an event that repeats more often than daily "
                        "(%(uid)s); such series are not supported."
                    )
                    % {"uid": _printable(str(component.get("UID", "?")))}
                )


# --- writing ---------------------------------------------------------------------------------------

STATUSES = {"CONFIRMED", "TENTATIVE", "CANCELLED"}


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("Appointment times must be timezone-aware.")
    return value.astimezone(dt.UTC)


def _vevent(item: dict, *, stamp: dt.datetime) -> icalendar.Event:
    """One appointment as VEVENT. `item`: uid, start, end, summary, location, sequence, status."""
    event = icalendar.Event()
    event.add("UID", item["uid"])
    event.add("DTSTAMP", stamp)
    event.add("DTSTART", _utc(item["start"]))
    event.add("DTEND", _utc(item["end"]))
    event.add("SEQUENCE", int(item.get("sequence") or 0))
    event.add("SUMMARY", item.get("summary") or "")
    if item.get("location"):
        event.add("LOCATION", item["location"])
    if item.get("description"):
        event.add("DESCRIPTION", item["description"])
    status = str(item.get("status") or "CONFIRMED").upper()
    event.add("STATUS", status if status in STATUSES else "CONFIRMED")
    return event


def _calendar(method: str, name: str = "") -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    if name:
        calendar.add("X-WR-CALNAME", name)
    return calendar


def ics_feed(*, events: Iterable[dict], name: str = "", now: dt.datetime | None = None) -> bytes:
    """A subscribable VCALENDAR (METHOD:PUBLISH) of a staff member's appointments."""
    stamp = _utc(now or dt.datetime.now(dt.UTC))
    calendar = _calendar("PUBLISH", name)
    for item in events:
        calendar.add_component(_vevent(item, stamp=stamp))
    return calendar.to_ical()


def ics_invitation(
    *,
    event: dict,
    organizer_email: str = "",
    organizer_name: str = "",
    attendee_emails: Iterable[str] = (),
    method: str = "REQUEST",
    now: dt.datetime | None = None,
) -> bytes:
    """The ICS file of one invitation (RFC 5545/5546): METHOD:REQUEST, or CANCEL to withdraw it.

    The caller keeps the UID stable over the appointment's life and raises `sequence` on every
    change of time or place, so calendar programs update the entry instead of adding a second.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError("method must be REQUEST or CANCEL")
    stamp = _utc(now or dt.datetime.now(dt.UTC))
    calendar = _calendar(method)
    item = dict(event)
    if method == "CANCEL":
        item["status"] = "CANCELLED"
    vevent = _vevent(item, stamp=stamp)
    if organizer_email:
        organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
        if organizer_name:
            organizer.params["CN"] = icalendar.vText(organizer_name)
        vevent.add("ORGANIZER", organizer)
    for email in attendee_emails:
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["RSVP"] = icalendar.vText("FALSE")
        vevent.add("ATTENDEE", attendee)
    calendar.add_component(vevent)
    return calendar.to_ical()
