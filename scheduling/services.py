"""Writes of the scheduling app: calendar settings, consent, absences, syncing busy times.

Who may do what: a staff member changes their own calendar; an admin may change anyone's settings
(not the consent). Absences: the staff member, their team lead, or an admin. Consent to share the
calendar is given or withdrawn only by the staff member; withdrawing deletes the synced busy times.

Sync semantics: busy times of one source (CalDAV, ICS feed, upload) are REPLACED in one transaction
only after the fetch of that source succeeded completely; on any failure the previous busy times
stay, the calendar records last_sync_status="error" with a readable message, and the error is raised.
CalDAV is asked for free/busy first and read as events only where the server has no free/busy
query. Every address staff enter is checked by scheduling.urlguard when saved and when fetched.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import holidays as holidays_lib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
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
    Absence,
    AbsenceKind,
    BusySource,
    BusyTime,
    StaffCalendar,
    SyncStatus,
    feed_token_new,
)
from scheduling.urlguard import (
    ResponseTooBigError,
    UrlRefusedError,
    guarded_session,
    url_check,
    url_normalize,
)

logger = logging.getLogger(__name__)

SYNC_WEEKS = 8
FETCH_TIMEOUT_SECONDS = 15
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
        # Field names only: the password (and any value) never goes into the log.
        audit_record(
            ctx=ctx,
            action=AuditAction.UPDATE,
            object_type="staff_calendar",
            object_id=calendar.pk,
            detail={"user_id": user_id, "fields": sorted(changed)},
        )
    return calendar


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
    calendar.save(
        update_fields=["consent_given_at", "last_sync_status", "last_sync_message", "updated_at"]
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
    user = User.objects.get(pk=user_id)
    _require_absence_rights(ctx, user)
    if kind not in AbsenceKind.values:
        raise ApplicationError(_("Unknown kind of absence."))
    if end <= start:
        raise ApplicationError(_("An absence must end after it starts."))
    if end - start > dt.timedelta(days=366):
        raise ApplicationError(
            _("An absence can last at most a year; record longer ones in parts.")
        )
    absence = Absence(
        user=user, start=start, end=end, kind=kind, note=note.strip(), created_by=_actor(ctx)
    )
    absence.full_clean()
    absence.save()
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
    # addresses the server names, redirects) goes through the guard, with a size limit.
    client.session.close()
    client.session = guarded_session(
        max_redirects=FETCH_MAX_REDIRECTS, max_bytes=CALDAV_MAX_RESPONSE_BYTES
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
        if "forbidden" in str(error.reason).lower():
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
        raise CalendarSyncError(
            _("The CalDAV server could not be read: %(error)s") % {"error": _short(error)}
        ) from error
    finally:
        client.close()
    intervals.sort(key=lambda item: (item.start, item.end))
    method = CaldavMethod.EVENTS if CaldavMethod.EVENTS in methods else CaldavMethod.FREE_BUSY
    return intervals, method


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

    Redirects: at most FETCH_MAX_REDIRECTS, each checked by the guard before it is followed.
    """
    import requests

    url = _fetch_url_checked(url, _("ICS feed address"))
    session = guarded_session(max_redirects=FETCH_MAX_REDIRECTS)
    try:
        response = session.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True)
        if response.status_code in (401, 403):
            raise CalendarSyncError(
                _("The ICS feed refused access (HTTP %(status)s).")
                % {"status": response.status_code}
            )
        if response.status_code != 200:
            raise CalendarSyncError(
                _("The ICS feed answered with HTTP %(status)s.") % {"status": response.status_code}
            )
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > calendars.MAX_ICS_BYTES:
                break
            chunks.append(chunk)
        response.close()
    except CalendarSyncError:
        raise
    except UrlRefusedError as error:
        raise CalendarSyncError(
            _("The ICS feed led to an address that is not allowed: %(reason)s")
            % {"reason": error.message}
        ) from error
    except requests.TooManyRedirects as error:
        raise CalendarSyncError(
            _("The ICS feed redirected more than %(count)s times; it was not read.")
            % {"count": FETCH_MAX_REDIRECTS}
        ) from error
    except Exception as error:  # connection refused, timeouts, TLS errors
        raise CalendarSyncError(
            _("The ICS feed could not be read: %(error)s") % {"error": _short(error)}
        ) from error
    finally:
        session.close()
    if size > calendars.MAX_ICS_BYTES:
        raise ics_too_big()
    return ics_parse_busy(b"".join(chunks), window_start=start, window_end=end)


def _short(error: Exception) -> str:
    text = str(error).strip() or error.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."


@transaction.atomic
def _busy_replace(
    *, user_id: int, source: str, intervals: list[BusyInterval], now: dt.datetime
) -> int:
    # Lock the calendar row: two syncs of one user (the periodic task and "sync now") would
    # otherwise both delete the old rows and both insert, doubling the busy times; and consent
    # withdrawn while the server was being read must win over the rows read before.
    calendar = StaffCalendar.objects.select_for_update().get(user_id=user_id)
    _require_consent(calendar)
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
        raise CalendarSyncError(_("No CalDAV or ICS feed address is set up."))
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
