"""Writes of the scheduling app: calendar settings, consent, absences, syncing busy times.

Who may do what: a staff member changes their own calendar; an admin may change anyone's settings
(not the consent). Absences: the staff member, their team lead, or an admin. Consent to share the
calendar is given or withdrawn only by the staff member; withdrawing deletes the synced busy times.

Sync semantics: busy times of one source (CalDAV, ICS feed, upload) are REPLACED in one transaction
only after the fetch of that source succeeded completely; on any failure the previous busy times
stay, the calendar records last_sync_status="error" with a readable message, and the error is raised.
CalDAV is asked for free/busy first and read as events only where the server has no free/busy
query. Every address staff enter is checked by scheduling.urlguard when saved and when fetched, and
the fetch of one source has a total deadline (settings.CALENDAR_FETCH_DEADLINE_SECONDS). Messages
say in words what went wrong (connection refused, name not found, timeout, certificate, HTTP
status, not a CalDAV server); the technical detail goes to the server log only. Clearing an address
deletes the busy times read from it.

Absences: within a sane range (a year back, two years ahead), never overlapping another absence of
the same person; recording one returns the person's active appointments inside it, to be moved.
"""

import datetime as dt
import logging
import socket
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import partial

import holidays as holidays_lib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from jobcenter.exceptions import ApplicationError
from organisation.models import Role, User
from scheduling import calendars
from scheduling.calendars import BusyInterval, CalendarDataError, ics_parse_busy, ics_too_big
from scheduling.credentials import SecretUnreadableError, secret_encrypt, secret_needs_rotation
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Absence,
    AbsenceKind,
    Appointment,
    BusySource,
    BusyTime,
    StaffCalendar,
    SyncStatus,
    feed_token_new,
)
from scheduling.urlguard import (
    FetchDeadlineExceededError,
    ResponseTooBigError,
    UrlRefusedError,
    guarded_session,
    session_last_status,
    url_check,
    url_normalize,
)

logger = logging.getLogger(__name__)

SYNC_WEEKS = 8
# Each socket operation (connect, one read); the whole fetch of one source has a total deadline too.
FETCH_TIMEOUT_SECONDS = 15
DEFAULT_FETCH_DEADLINE_SECONDS = 20
# Absences are recorded from a year back to two years ahead: anything outside is a typing error.
ABSENCE_PAST_YEARS = 1
ABSENCE_FUTURE_YEARS = 2
SETTINGS_FIELDS = (
    "working_hours",
    "part_time_share",
    "channels",
    "location",
    "rooms",
    "walk_in_reserve_minutes",
    "daily_cap",
    "caldav_url",
    "caldav_username",
    "ics_url",
)
# Addresses the worker fetches: checked against scheduling.urlguard when saved and when fetched.
URL_FIELDS = ("caldav_url", "ics_url")
CONSENT_TEXT = gettext_lazy(
    "I agree that the jobcenter reads the busy times (start and end only, no titles or details) "
    "from the calendars I enter here, and plans appointments with customers in my free working "
    "time. I can withdraw this at any time; the busy times read so far are then deleted."
)


class CalendarAccessError(ApplicationError):
    status_code = 403


class CalendarConsentError(ApplicationError):
    """The staff member has not agreed to share their calendar."""


class CalendarSyncError(ApplicationError):
    """A calendar could not be read; the previous busy times were kept."""


# --- helpers ---------------------------------------------------------------------------------------


def _actor(ctx: AuditContext) -> User | None:
    actor = ctx.actor
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_self_or_admin(ctx: AuditContext, user: User) -> None:
    actor = _actor(ctx)
    if actor is None or (actor.pk != user.pk and actor.role != Role.ADMIN):
        raise CalendarAccessError(
            _("Only the staff member or an administrator changes this calendar.")
        )


def _require_self(ctx: AuditContext, user: User) -> None:
    actor = _actor(ctx)
    if actor is None or actor.pk != user.pk:
        raise CalendarAccessError(_("Only the staff member can do this for their own calendar."))


def _require_absence_rights(ctx: AuditContext, user: User) -> None:
    actor = _actor(ctx)
    allowed = actor is not None and (
        actor.pk == user.pk
        or actor.role == Role.ADMIN
        or (
            actor.role == Role.TEAM_LEAD
            and actor.team_id is not None
            and actor.team_id == user.team_id
        )
    )
    if not allowed:
        raise CalendarAccessError(
            _("Absences are recorded by the staff member, their team lead or an administrator.")
        )


def _locked_calendar(user_id: int) -> StaffCalendar:
    """The user's calendar row, created on first use, locked for this transaction."""
    StaffCalendar.objects.get_or_create(user_id=user_id)
    return StaffCalendar.objects.select_for_update().select_related("user").get(user_id=user_id)


def _validation_message(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- settings and consent --------------------------------------------------------------------------


def staff_calendar_get_or_create(*, user: User) -> StaffCalendar:
    calendar, _created = StaffCalendar.objects.get_or_create(user=user)
    return calendar


@transaction.atomic
def staff_calendar_update(
    *,
    ctx: AuditContext,
    user_id: int,
    data: dict,
    caldav_password: str | None = None,
) -> StaffCalendar:
    """Change the settings in `data` (keys from SETTINGS_FIELDS; others are refused).

    `caldav_password`: None keeps the stored one, "" removes it, any other text replaces it.
    """
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError(
            _("These settings cannot be changed here: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    user = User.objects.get(pk=user_id)
    _require_self_or_admin(ctx, user)
    calendar = _locked_calendar(user_id)
    changed = []
    for name, value in data.items():
        if name == "part_time_share" and value is not None:
            value = Decimal(str(value))
        if name in URL_FIELDS:
            value = url_normalize(value or "")
        if getattr(calendar, name) != value:
            setattr(calendar, name, value)
            changed.append(name)
    if caldav_password is not None and _password_differs(calendar, caldav_password):
        calendar.caldav_password = caldav_password  # encrypted by the model's property
        changed.append("caldav_password")
    try:
        calendar.full_clean()
    except ValidationError as error:
        raise ApplicationError(
            _("The calendar settings were not saved: %(reason)s")
            % {"reason": _validation_message(error)},
            extra={"fields": error.message_dict if hasattr(error, "error_dict") else {}},
        ) from error
    # After the cheap checks: this one resolves host names. The fetch checks again (DNS changes).
    for name in URL_FIELDS:
        if name in changed and getattr(calendar, name):
            setattr(calendar, name, _url_checked(name, getattr(calendar, name)))
    if changed:
        calendar.save()
        detail = {"user_id": user_id, "fields": sorted(changed)}
        # A source that was removed no longer tells when someone is busy: its busy times go too.
        deleted = _busy_delete_of_cleared_sources(calendar, changed)
        if deleted:
            detail["busy_times_deleted"] = deleted
        # Field names only: the password (and any value) never goes into the log.
        audit_record(
            ctx=ctx,
            action=AuditAction.UPDATE,
            object_type="staff_calendar",
            object_id=calendar.pk,
            detail=detail,
        )
    return calendar


def _busy_delete_of_cleared_sources(calendar: StaffCalendar, changed: list[str]) -> dict:
    """Delete the busy times of each source whose address was cleared: {source: rows deleted}."""
    deleted = {}
    for name, source in (("caldav_url", BusySource.CALDAV), ("ics_url", BusySource.ICS)):
        if name in changed and not getattr(calendar, name):
            count, _detail = BusyTime.objects.filter(
                user_id=calendar.user_id, source=source
            ).delete()
            if count:
                deleted[str(source)] = count
    return deleted


def _url_checked(name: str, url: str) -> str:
    """The address as it will be fetched (webcal:// becomes https://), or an error on the field."""
    try:
        return url_check(url)
    except UrlRefusedError as error:
        label = StaffCalendar._meta.get_field(name).verbose_name
        raise ApplicationError(
            _("%(field)s: %(reason)s") % {"field": label, "reason": error.message},
            extra={"fields": {name: [error.message]}},
        ) from error


def _password_differs(calendar: StaffCalendar, password: str) -> bool:
    if not calendar.has_caldav_password:
        return password != ""
    try:
        return calendar.caldav_password != password
    except SecretUnreadableError:
        return True  # the stored one is lost anyway: replacing or removing it is a change


@transaction.atomic
def staff_calendar_consent_set(*, ctx: AuditContext, user_id: int, given: bool) -> StaffCalendar:
    """Give or withdraw the consent to share one's calendar. Withdrawing deletes the busy times."""
    user = User.objects.get(pk=user_id)
    _require_self(ctx, user)
    calendar = _locked_calendar(user_id)
    if given == calendar.has_consent:
        return calendar
    deleted = 0
    if given:
        calendar.consent_given_at = timezone.now()
    else:
        calendar.consent_given_at = None
        deleted, _detail = BusyTime.objects.filter(user_id=user_id).delete()
        calendar.last_sync_status = SyncStatus.NEVER
        calendar.last_sync_message = ""
        calendar.sync_requested_at = None  # a sync still queued will find no consent
    calendar.save(
        update_fields=[
            "consent_given_at",
            "last_sync_status",
            "last_sync_message",
            "sync_requested_at",
            "updated_at",
        ]
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="staff_calendar",
        object_id=calendar.pk,
        detail={"user_id": user_id, "consent": given, "busy_times_deleted": deleted},
    )
    return calendar


@transaction.atomic
def staff_calendar_feed_token_regenerate(*, ctx: AuditContext, user_id: int) -> StaffCalendar:
    """A new private feed address; the old one stops working at once."""
    user = User.objects.get(pk=user_id)
    _require_self_or_admin(ctx, user)
    calendar = _locked_calendar(user_id)
    calendar.feed_token = feed_token_new()
    calendar.save(update_fields=["feed_token", "updated_at"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="staff_calendar",
        object_id=calendar.pk,
        detail={"user_id": user_id, "feed_token": "regenerated"},
    )
    return calendar


# --- absences --------------------------------------------------------------------------------------


def _local(value: dt.datetime, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    """A time as the page shows it (local time, the active language's format)."""
    return formats.date_format(timezone.localtime(value), format_name)


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def absence_range(*, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The first and the last day an absence may touch: a year back, two years ahead (local)."""
    today = timezone.localdate(now or timezone.now())
    return (
        _years_later(today, -ABSENCE_PAST_YEARS),
        _years_later(today, ABSENCE_FUTURE_YEARS),
    )


def _absence_check_range(start: dt.datetime, end: dt.datetime) -> None:
    first, last = absence_range()
    message = _("Absences can be recorded from %(earliest)s to %(latest)s.") % {
        "earliest": formats.date_format(first, "SHORT_DATE_FORMAT"),
        "latest": formats.date_format(last, "SHORT_DATE_FORMAT"),
    }
    tz = timezone.get_current_timezone()
    earliest = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    latest = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    try:
        # In UTC: comparing a time near year 1 or 9999 across time zones overflows otherwise.
        start_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ApplicationError(message) from None
    if start_utc < earliest or end_utc > latest:
        raise ApplicationError(message)


def appointments_to_move(
    *,
    user_id: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[Appointment]:
    """The staff member's active appointments (planned to confirmed) that have not ended and fall
    into [start, end), or, without them, into any of their absences: someone has to move them.

    With the case and customer (for the links and the customer number), by start.
    """
    now = now or timezone.now()
    appointments = Appointment.objects.filter(
        staff_id=user_id, status__in=ACTIVE_APPOINTMENT_STATUSES, end__gt=now
    )
    if start is not None and end is not None:
        appointments = appointments.filter(start__lt=end, end__gt=start)
    else:
        appointments = appointments.filter(
            Exists(
                Absence.objects.filter(
                    user_id=user_id, start__lt=OuterRef("end"), end__gt=OuterRef("start")
                )
            )
        )
    return list(appointments.select_related("case__customer").order_by("start", "pk"))


@transaction.atomic
def absence_add(
    *,
    ctx: AuditContext,
    user_id: int,
    start: dt.datetime,
    end: dt.datetime,
    kind: str,
    note: str = "",
) -> Absence:
    """Record an absence. The returned absence carries `appointments_to_move`: the person's active
    appointments inside it (they stay booked; whoever recorded it is told to move them).

    Refused: an unknown kind, an end not after the start, longer than a year, outside
    `absence_range`, or overlapping an absence of the same person (named in the message).
    """
    # Locked: two absences recorded at the same time must not both pass the overlap check.
    user = User.objects.select_for_update().get(pk=user_id)
    _require_absence_rights(ctx, user)
    if kind not in AbsenceKind.values:
        raise ApplicationError(_("Unknown kind of absence."))
    _absence_check_range(start, end)
    if end <= start:
        raise ApplicationError(_("An absence must end after it starts."))
    if end - start > dt.timedelta(days=366):
        raise ApplicationError(
            _("An absence can last at most a year; record longer ones in parts.")
        )
    existing = Absence.objects.filter(user_id=user_id).overlapping(start, end).first()
    if existing is not None:
        raise ApplicationError(
            _(
                "This absence overlaps one already recorded: %(kind)s from %(start)s until "
                "%(end)s. Change the times, or remove that absence first."
            )
            % {
                "kind": existing.get_kind_display(),
                "start": _local(existing.start),
                "end": _local(existing.end),
            },
            extra={"overlaps": existing.pk},
        )
    absence = Absence(
        user=user, start=start, end=end, kind=kind, note=note.strip(), created_by=_actor(ctx)
    )
    absence.full_clean()
    absence.save()
    absence.appointments_to_move = appointments_to_move(user_id=user_id, start=start, end=end)
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type="absence",
        object_id=absence.pk,
        detail={
            "user_id": user_id,
            "kind": kind,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "appointments_to_move": [item.pk for item in absence.appointments_to_move],
        },
    )
    return absence


@transaction.atomic
def absence_remove(*, ctx: AuditContext, absence_id: int) -> None:
    absence = Absence.objects.select_related("user").select_for_update().get(pk=absence_id)
    _require_absence_rights(ctx, absence.user)
    audit_record(
        ctx=ctx,
        action=AuditAction.DELETE,
        object_type="absence",
        object_id=absence.pk,
        detail={"user_id": absence.user_id, "kind": absence.kind},
    )
    absence.delete()


# --- holidays --------------------------------------------------------------------------------------


def federal_state_for(*, user: User) -> str:
    """The federal state whose public holidays apply: the user's jobcenter, else the installation's."""
    team = getattr(user, "team", None)
    if team is not None:
        return team.jobcenter.federal_state
    return settings.JOBCENTER_FEDERAL_STATE


def holidays_for(*, year: int, state: str) -> dict[dt.date, str]:
    """The public holidays of a German federal state in one year, with their German names."""
    return dict(holidays_lib.country_holidays("DE", subdiv=state, years=year, language="de"))


# --- syncing ---------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    user_id: int
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # How each source was read where there is a choice: {"caldav": "free-busy" or "events"}.
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _sync_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now, now + dt.timedelta(weeks=SYNC_WEEKS)


class CaldavMethod(StrEnum):
    """How the busy times of a CalDAV account were read (shown in the sync status)."""

    FREE_BUSY = "free-busy"
    EVENTS = "events"


# The most a CalDAV answer may carry: the calendar data plus its XML envelope (and escaping).
CALDAV_MAX_RESPONSE_BYTES = 2 * calendars.MAX_ICS_BYTES + 1024 * 1024
FETCH_MAX_REDIRECTS = 3


def fetch_deadline_seconds() -> int:
    """The most one source's whole fetch may take (DJANGO_CALENDAR_FETCH_DEADLINE_SECONDS)."""
    return int(getattr(settings, "CALENDAR_FETCH_DEADLINE_SECONDS", DEFAULT_FETCH_DEADLINE_SECONDS))


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what caused it (requests wraps urllib3, which wraps the socket error)."""
    found: list[BaseException] = []
    pending: list[object] = [error]
    while pending and len(found) < 20:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is seen for seen in found):
            continue
        found.append(current)
        # urllib3's MaxRetryError keeps the cause in `reason`; requests puts it into `args`.
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(getattr(current, "args", ()))
    return found


def _http_status_message(status: int) -> str | None:
    """What an HTTP error status means for a calendar address, in words (None: not an error)."""
    if status == 404:
        return _(
            "Nothing was found at this address (HTTP 404). Check the address, especially the "
            "part after the server name."
        )
    if status == 401:
        return _("The server asks for a login that it did not accept (HTTP 401).")
    if status == 403:
        return _("The server does not allow access to this address (HTTP 403).")
    if status >= 500:
        return _(
            "The server reported an error of its own (HTTP %(status)s). Try again later; if it "
            "keeps happening, tell the server's administrators."
        ) % {"status": status}
    if status >= 400:
        return _("The server refused the request (HTTP %(status)s).") % {"status": status}
    return None


def _network_error_message(error: BaseException, *, url: str) -> str | None:
    """A connection failure in words a caseworker understands, or None if it is none of these."""
    import requests
    from urllib3.exceptions import NameResolutionError

    causes = _causes(error)
    if any(isinstance(item, FetchDeadlineExceededError) for item in causes):
        return _(
            "The server did not send its answer within %(seconds)s seconds, so reading was "
            "stopped. Try again later; if it keeps happening, check the address."
        ) % {"seconds": fetch_deadline_seconds()}
    if any(isinstance(item, requests.exceptions.SSLError) for item in causes):
        return _(
            "The secure connection (TLS) to the server failed: the server offers none, or its "
            "certificate is not valid or not trusted here. Check the address, or ask your IT "
            "department."
        )
    if any(isinstance(item, NameResolutionError | socket.gaierror) for item in causes):
        from urllib.parse import urlsplit

        return _("The server name %(host)s was not found. Check the address for typing errors.") % {
            "host": urlsplit(url).hostname or "?"
        }
    if any(isinstance(item, requests.exceptions.Timeout | TimeoutError) for item in causes):
        return _(
            "The server did not answer in time. Try again later; if it keeps happening, check "
            "the address."
        )
    if any(isinstance(item, ConnectionRefusedError) for item in causes):
        return _(
            "The server refused the connection. Check the address and port; perhaps the server "
            "is not running."
        )
    if any(isinstance(item, requests.exceptions.ConnectionError) for item in causes):
        return _("The server could not be reached. Check the address; perhaps it is down.")
    return None


def _log_fetch_failure(source: str, url: str, error: BaseException, *, explained: bool) -> None:
    """The technical detail of a failed fetch, for the server log only (never the password): the
    error chain for a failure the message explains, the traceback for one it does not."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    logger.log(
        logging.INFO if explained else logging.WARNING,
        "Calendar fetch (%s) from %s://%s%s failed: %r",
        source,
        parts.scheme,
        parts.hostname,
        parts.path,
        error,
        exc_info=not explained,
    )


def _caldav_password(calendar: StaffCalendar) -> str:
    try:
        return calendar.caldav_password
    except SecretUnreadableError:
        raise CalendarSyncError(
            _(
                "The stored CalDAV password can no longer be read (the server's key was changed). "
                "Please enter the CalDAV password again."
            )
        ) from None


def _caldav_free_busy(remote, start: dt.datetime, end: dt.datetime) -> bytes | None:
    """The VFREEBUSY answer of a free-busy-query REPORT (RFC 4791 7.10), None if unsupported.

    Only the busy periods come back, never titles (data minimisation), and it works where the
    server lets the account see free/busy but not the events. Servers without it answer with
    403, 404, 501 or an XML error (caldav raises a DAVError), or with something not iCalendar.
    """
    from caldav.lib import error as caldav_error

    try:
        answer = remote.freebusy_request(start, end)
    except caldav_error.DAVError:
        return None
    data = answer.data if answer is not None else None
    data = data.encode() if isinstance(data, str) else (data or b"")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].upper()
    if not head.startswith(b"BEGIN:VCALENDAR") or b"VFREEBUSY" not in data.upper():
        return None
    return data


def _fetch_caldav(
    calendar: StaffCalendar, start: dt.datetime, end: dt.datetime
) -> tuple[list[BusyInterval], str]:
    """Busy times of every calendar of the CalDAV account, and the CaldavMethod used.

    Free/busy first, events where the server offers no free/busy query. Raises CalendarSyncError
    (server, login, refused address) or CalendarDataError (malformed or oversized data).
    """
    from caldav import DAVClient
    from caldav.lib import error as caldav_error

    url = _fetch_url_checked(calendar.caldav_url, _("CalDAV address"))
    client = DAVClient(
        url=url,
        username=calendar.caldav_username,
        password=_caldav_password(calendar),
        timeout=FETCH_TIMEOUT_SECONDS,
    )
    # Every request the client makes (the address typed in, the calendar home and calendar
    # addresses the server names, redirects) goes through the guard, with a size limit and one
    # deadline for the whole account.
    client.session.close()
    client.session = guarded_session(
        max_redirects=FETCH_MAX_REDIRECTS,
        max_bytes=CALDAV_MAX_RESPONSE_BYTES,
        deadline_seconds=fetch_deadline_seconds(),
    )
    intervals: list[BusyInterval] = []
    methods: set[str] = set()
    total = 0
    try:
        principal = client.principal()
        for remote in principal.calendars():
            data = _caldav_free_busy(remote, start, end)
            if data is not None:
                methods.add(CaldavMethod.FREE_BUSY)
                total += len(data)
                if total > calendars.MAX_ICS_BYTES:
                    raise ics_too_big()
                intervals.extend(ics_parse_busy(data, window_start=start, window_end=end))
                continue
            methods.add(CaldavMethod.EVENTS)
            for event in remote.search(start=start, end=end, event=True, expand=False):
                data = event.data
                data = data.encode() if isinstance(data, str) else data
                total += len(data)
                if total > calendars.MAX_ICS_BYTES:
                    raise ics_too_big()
                intervals.extend(ics_parse_busy(data, window_start=start, window_end=end))
    except (CalendarDataError, CalendarSyncError):
        raise
    except UrlRefusedError as error:
        raise CalendarSyncError(
            _("The CalDAV server led to an address that is not allowed: %(reason)s")
            % {"reason": error.message}
        ) from error
    except ResponseTooBigError as error:
        raise ics_too_big() from error
    except caldav_error.AuthorizationError as error:
        _log_fetch_failure("caldav", url, error, explained=True)
        status = session_last_status(client.session)
        if status == 403 or "forbidden" in str(error.reason).lower():
            raise CalendarSyncError(
                _(
                    "The CalDAV server does not let this account read the calendar (neither "
                    "free/busy times nor events)."
                )
            ) from error
        raise CalendarSyncError(
            _("The CalDAV server refused the login. Check the user name and password.")
        ) from error
    except Exception as error:  # network errors, HTTP errors, XML the client cannot read
        message, explained = _caldav_error_message(error, url, client.session)
        _log_fetch_failure("caldav", url, error, explained=explained)
        raise CalendarSyncError(message) from error
    finally:
        client.close()
    intervals.sort(key=lambda item: (item.start, item.end))
    method = CaldavMethod.EVENTS if CaldavMethod.EVENTS in methods else CaldavMethod.FREE_BUSY
    return intervals, method


def _caldav_error_message(error: BaseException, url: str, session) -> tuple[str, bool]:
    """Why a CalDAV account could not be read, in words: the network, the HTTP status of the last
    answer, or an answer that is no CalDAV at all (a web page, another kind of server). And
    whether that explains it (False: a guess, worth a traceback in the log)."""
    from caldav.lib import error as caldav_error

    message = _network_error_message(error, url=url)
    if message is not None:
        return message, True
    status = session_last_status(session)
    if status is not None:
        message = _http_status_message(status)
        if message is not None:
            return message, True
    explained = isinstance(error, caldav_error.DAVError) and status is not None
    return _(
        "The address does not lead to a CalDAV server: the answer was not CalDAV (perhaps a web "
        "page). Enter the CalDAV address of your calendar account, as your calendar program or "
        "IT department gives it."
    ), explained


def _fetch_url_checked(url: str, label: str) -> str:
    """The address checked again at fetch time (its DNS answer may have changed since saving)."""
    try:
        return url_check(url)
    except UrlRefusedError as error:
        raise CalendarSyncError(
            _("%(field)s: %(reason)s") % {"field": label, "reason": error.message}
        ) from error


def _fetch_ics_url(url: str, start: dt.datetime, end: dt.datetime) -> list[BusyInterval]:
    """The busy times of an ICS feed (events and/or VFREEBUSY, such as an Outlook .vfb file).

    Redirects: at most FETCH_MAX_REDIRECTS, each checked by the guard before it is followed. The
    body is read by the guard, at most MAX_ICS_BYTES of it and within the fetch deadline.
    """
    import requests

    url = _fetch_url_checked(url, _("ICS feed address"))
    session = guarded_session(
        max_redirects=FETCH_MAX_REDIRECTS,
        max_bytes=calendars.MAX_ICS_BYTES,
        deadline_seconds=fetch_deadline_seconds(),
    )
    try:
        response = session.get(url, timeout=FETCH_TIMEOUT_SECONDS)
        if response.status_code in (401, 403):
            raise CalendarSyncError(
                _("The ICS feed refused access (HTTP %(status)s).")
                % {"status": response.status_code}
            )
        if response.status_code != 200:
            raise CalendarSyncError(
                _http_status_message(response.status_code)
                or _("The ICS feed answered with HTTP %(status)s.")
                % {"status": response.status_code}
            )
        data = response.content
    except CalendarSyncError:
        raise
    except UrlRefusedError as error:
        raise CalendarSyncError(
            _("The ICS feed led to an address that is not allowed: %(reason)s")
            % {"reason": error.message}
        ) from error
    except ResponseTooBigError as error:
        raise ics_too_big() from error
    except requests.TooManyRedirects as error:
        raise CalendarSyncError(
            _("The ICS feed redirected more than %(count)s times; it was not read.")
            % {"count": FETCH_MAX_REDIRECTS}
        ) from error
    except Exception as error:  # connection refused, timeouts, TLS errors, the deadline
        message = _network_error_message(error, url=url)
        _log_fetch_failure("ics", url, error, explained=message is not None)
        raise CalendarSyncError(
            message or _("The ICS feed could not be read; the details are in the server log.")
        ) from error
    finally:
        session.close()
    return ics_parse_busy(data, window_start=start, window_end=end)


@transaction.atomic
def _busy_replace(
    *, user_id: int, source: str, intervals: list[BusyInterval], now: dt.datetime
) -> int:
    # Lock the calendar row: two syncs of one user (the periodic task and "sync now") would
    # otherwise both delete the old rows and both insert, doubling the busy times; and consent
    # withdrawn while the server was being read must win over the rows read before.
    calendar = StaffCalendar.objects.select_for_update().get(user_id=user_id)
    _require_consent(calendar)
    address = {BusySource.CALDAV: calendar.caldav_url, BusySource.ICS: calendar.ics_url}
    if source in address and not address[source]:
        return 0  # the address was cleared while it was read: its busy times stay deleted
    BusyTime.objects.filter(user_id=user_id, source=source).delete()
    BusyTime.objects.bulk_create(
        BusyTime(
            user_id=user_id,
            start=item.start,
            end=item.end,
            source=source,
            uid=item.uid[:255],
            synced_at=now,
        )
        for item in intervals
    )
    return len(intervals)


def _record_status(*, user_id: int, now: dt.datetime, status: str, message: str) -> None:
    StaffCalendar.objects.filter(user_id=user_id).update(
        last_sync_at=now, last_sync_status=status, last_sync_message=message[:500]
    )


def _require_consent(calendar: StaffCalendar) -> None:
    if not calendar.has_consent:
        raise CalendarConsentError(
            _("Calendar sharing is not agreed: no busy times are read and no appointments planned.")
        )


def calendar_sync(*, user_id: int, now: dt.datetime | None = None) -> SyncResult:
    """Read the busy times of one staff member from CalDAV and/or the ICS feed.

    The network is read outside any transaction; each source that was read completely replaces its
    busy times atomically. If a source fails, its previous busy times stay, the status is "error"
    with the message, and CalendarSyncError (or CalendarDataError) is raised at the end.
    """
    now = now or timezone.now()
    calendar = StaffCalendar.objects.get(user_id=user_id)
    _require_consent(calendar)
    start, end = _sync_window(now)
    result = SyncResult(user_id=user_id)
    sources = []

    def fetch_caldav() -> list[BusyInterval]:
        intervals, result.methods[BusySource.CALDAV] = _fetch_caldav(calendar, start, end)
        _password_rotate(calendar)
        return intervals

    if calendar.caldav_url:
        sources.append((BusySource.CALDAV, fetch_caldav))
    if calendar.ics_url:
        sources.append((BusySource.ICS, lambda: _fetch_ics_url(calendar.ics_url, start, end)))
    if not sources:
        message = _("No CalDAV or ICS feed address is set up.")
        _record_status(user_id=user_id, now=now, status=SyncStatus.ERROR, message=message)
        raise CalendarSyncError(message)
    first_error: ApplicationError | None = None
    for source, fetch in sources:
        try:
            intervals = fetch()
        except ApplicationError as error:
            result.errors[source] = error.message
            first_error = first_error or error
            logger.info("Calendar sync of user %s, %s failed: %s", user_id, source, error.message)
            continue
        result.counts[source] = _busy_replace(
            user_id=user_id, source=source, intervals=intervals, now=now
        )
    if result.errors:
        labels = dict(BusySource.choices)
        message = " ".join(f"{labels[source]}: {text}" for source, text in result.errors.items())
        _record_status(user_id=user_id, now=now, status=SyncStatus.ERROR, message=message)
        raise CalendarSyncError(
            _("The calendar could not be synced; the previous busy times are kept. %(reason)s")
            % {"reason": message},
            extra={"counts": result.counts, "errors": result.errors},
        ) from first_error
    total = sum(result.counts.values())
    message = ngettext("%(count)s busy time read.", "%(count)s busy times read.", total) % {
        "count": total
    }
    method = result.methods.get(BusySource.CALDAV)
    if method == CaldavMethod.FREE_BUSY:
        message += " " + _("CalDAV: free/busy times only, no appointment details.")
    elif method == CaldavMethod.EVENTS:
        message += " " + _("CalDAV: read from the events (the server offers no free/busy query).")
    _record_status(user_id=user_id, now=now, status=SyncStatus.OK, message=message)
    return result


def calendar_sync_start(*, ctx: AuditContext, user_id: int) -> SyncResult | None:
    """*Jetzt abgleichen*: a sync the staff member asked for (audit row).

    With a worker (a broker is set up) the sync task is sent once this commits and None comes
    back: `sync_requested_at` marks the calendar as waiting for it (`StaffCalendar.sync_pending`)
    until the task records its outcome, so the page can poll. With in-process tasks (no broker:
    the demo, tests) the sync runs here and its result comes back (CalendarSyncError on failure,
    as `calendar_sync`). Refused at once without consent or without any address.
    """
    user = User.objects.get(pk=user_id)
    _require_self(ctx, user)
    queued = not settings.CELERY_TASK_ALWAYS_EAGER
    with transaction.atomic():
        calendar = _locked_calendar(user_id)
        _require_consent(calendar)
        if not calendar.has_source:
            raise CalendarSyncError(_("No CalDAV or ICS feed address is set up."))
        if queued:
            calendar.sync_requested_at = timezone.now()
            calendar.save(update_fields=["sync_requested_at", "updated_at"])
            from scheduling import tasks

            transaction.on_commit(partial(tasks.scheduling_calendar_sync.delay, user_id))
        audit_record(
            ctx=ctx,
            action=AuditAction.UPDATE,
            object_type="staff_calendar",
            object_id=calendar.pk,
            detail={"user_id": user_id, "sync": "queued" if queued else "in_request"},
        )
    if queued:
        return None
    # Outside the transaction: the servers are read without holding any lock.
    return calendar_sync(user_id=user_id)


def calendar_sync_failed(*, user_id: int, message: str, now: dt.datetime | None = None) -> None:
    """Record a sync that stopped outside the fetch's own error handling (the task's time limit,
    an unexpected error): the previous busy times stay, the status says why, a waiting page stops
    waiting."""
    _record_status(
        user_id=user_id, now=now or timezone.now(), status=SyncStatus.ERROR, message=message
    )


def _password_rotate(calendar: StaffCalendar) -> None:
    """Re-encrypt a password that only an old key decrypts with the current key (key rotation).

    Compare-and-set on the stored token: a password changed meanwhile is left alone.
    """
    token = calendar.caldav_password_encrypted
    if secret_needs_rotation(token):
        StaffCalendar.objects.filter(pk=calendar.pk, caldav_password_encrypted=token).update(
            caldav_password_encrypted=secret_encrypt(calendar.caldav_password)
        )


def calendar_upload_ics(
    *, ctx: AuditContext, user_id: int, data: bytes, now: dt.datetime | None = None
) -> int:
    """Replace the uploaded busy times of the staff member with those of an ICS file."""
    now = now or timezone.now()
    user = User.objects.get(pk=user_id)
    _require_self(ctx, user)
    calendar = staff_calendar_get_or_create(user=user)
    _require_consent(calendar)
    start, end = _sync_window(now)
    try:
        intervals = ics_parse_busy(data, window_start=start, window_end=end)
    except CalendarDataError as error:
        _record_status(user_id=user_id, now=now, status=SyncStatus.ERROR, message=error.message)
        raise
    with transaction.atomic():
        count = _busy_replace(
            user_id=user_id, source=BusySource.UPLOAD, intervals=intervals, now=now
        )
        _record_status(
            user_id=user_id,
            now=now,
            status=SyncStatus.OK,
            message=ngettext("%(count)s busy time read.", "%(count)s busy times read.", count)
            % {"count": count},
        )
        audit_record(
            ctx=ctx,
            action=AuditAction.UPDATE,
            object_type="staff_calendar",
            object_id=calendar.pk,
            detail={"user_id": user_id, "upload_busy_times": count},
        )
    return count


@transaction.atomic
def calendar_upload_remove(*, ctx: AuditContext, user_id: int) -> int:
    """Delete the busy times read from uploaded files ("Hochgeladene Termine entfernen")."""
    user = User.objects.get(pk=user_id)
    _require_self(ctx, user)
    calendar = _locked_calendar(user_id)  # waits for an upload being saved right now
    deleted, _detail = BusyTime.objects.filter(user_id=user_id, source=BusySource.UPLOAD).delete()
    if deleted:
        audit_record(
            ctx=ctx,
            action=AuditAction.DELETE,
            object_type="staff_calendar",
            object_id=calendar.pk,
            detail={"user_id": user_id, "upload_busy_times_deleted": deleted},
        )
    return deleted


def staff_calendar_sync_due_user_ids() -> list[int]:
    """The staff members whose calendars the periodic sync reads: active, consenting, with a source."""
    return list(
        StaffCalendar.objects.filter(consent_given_at__isnull=False, user__is_active=True)
        .exclude(caldav_url="", ics_url="")
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def calendars_sync_all(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Sync every consenting staff member with a calendar source; one failure stops no other."""
    user_ids = staff_calendar_sync_due_user_ids()
    summary = {"ok": 0, "error": 0}
    for user_id in user_ids:
        try:
            calendar_sync(user_id=user_id, now=now)
        except ApplicationError:
            summary["error"] += 1
        except Exception:  # a bug for one user must not stop the others; it goes to the log
            logger.exception("Calendar sync of user %s failed unexpectedly.", user_id)
            summary["error"] += 1
        else:
            summary["ok"] += 1
    return summary
