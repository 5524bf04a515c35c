"""Group sessions: set up by a team lead against a host's shared calendar, cancelled, marked held.

The host's time is held like an appointment. The checks before the write give a readable message
(another open session, an individual appointment, the host's calendar says busy); the database
decides races: unique (host, start) among open sessions everywhere and, on PostgreSQL, an
exclusion constraint on overlapping open sessions of one host (`_save_guarded` turns the refusal
into a ConflictError). Creating locks the host's user row, so two team leads planning the same
host at once are served one after the other.

Participants are Appointments with `group_session` set (the planning runs place them) at the
session's start (`group_session_places`). A customer who moves their place through the rebooking
link (another session of the same kind, or an individual time) takes it out of the session: it no
longer counts as taken, and cancelling the session does not touch it. Cancelling a session cancels
every active place still in it and its pending reminders.

The reads at the end start from what the user may see: caseworkers and team leads see the
sessions of their own team; everyone else sees none (a 404 for a single one).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role, Team, User
from scheduling.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    GROUP_SESSION_CHANNELS,
    Absence,
    Appointment,
    AppointmentStatus,
    BusyTime,
    GroupSession,
    GroupSessionStatus,
    StaffCalendar,
)
from scheduling.selectors import staff_busy_intervals

OBJECT_TYPE = "group_session"
MAX_DURATION = dt.timedelta(hours=8)
MAX_REASON_LENGTH = 1000
# A participant whose appointment is in one of these statuses does not take a place.
FREED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.REBOOKED)


class GroupSessionPermissionError(ApplicationError):
    """The actor's role or team may not do this (403 in the API, PermissionDenied in the views)."""

    status_code = 403


# --- checks ----------------------------------------------------------------------------------------


def _actor(ctx: AuditContext) -> User | None:
    return ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None


def _require_team_lead(ctx: AuditContext, team_id: int) -> User:
    actor = _actor(ctx)
    if actor is None or not (
        actor.reads_cases and actor.role == Role.TEAM_LEAD and actor.team_id == team_id
    ):
        raise GroupSessionPermissionError(
            _("Only the team lead of the team sets up and cancels its group sessions.")
        )
    return actor


def _check_times(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ApplicationError(_("Start and end need a time zone."))
    if end <= start:
        raise ApplicationError(_("A group session must end after it starts."))
    if end - start > MAX_DURATION:
        raise ApplicationError(_("A group session can last at most eight hours."))
    if start <= now:
        raise ApplicationError(_("A group session can only be set up for a time in the future."))


def _check_host(host: User | None, team_id: int) -> User:
    if (
        host is None
        or not host.is_active
        or host.role not in (Role.CASEWORKER, Role.TEAM_LEAD)
        or host.team_id != team_id
    ):
        raise ApplicationError(_("The host must be a caseworker or the team lead of the team."))
    calendar = StaffCalendar.objects.filter(user=host).first()
    if calendar is None or not calendar.has_consent:
        raise ApplicationError(
            _(
                "%(host)s has not agreed to share their calendar; group sessions are only set "
                "up with staff who have."
            )
            % {"host": host}
        )
    return host


def _check_host_free(host: User, start: dt.datetime, end: dt.datetime) -> None:
    """Refuse with the clearest reason why the host is not free from `start` to `end`."""
    if GroupSession.objects.filter(
        host=host, status=GroupSessionStatus.OPEN, start__lt=end, end__gt=start
    ).exists():
        raise ConflictError(
            _("%(host)s already hosts a group session at this time.") % {"host": host}
        )
    if Appointment.objects.filter(
        staff=host,
        group_session__isnull=True,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        start__lt=end,
        end__gt=start,
    ).exists():
        raise ConflictError(_("%(host)s already has an appointment at this time.") % {"host": host})
    if not staff_busy_intervals(user=host, start=start, end=end):
        return
    if Absence.objects.filter(user=host).overlapping(start, end).exists():
        message = _("%(host)s is absent at this time.")
    elif BusyTime.objects.filter(user=host).overlapping(start, end).exists():
        message = _("%(host)s is busy at this time according to their calendar.")
    else:
        message = _(
            "%(host)s does not work at this time (outside their working hours or a public holiday)."
        )
    raise ConflictError(message % {"host": host})


def _validated(session: GroupSession) -> None:
    """Field validators and the model's room-or-link rule; a readable message per field."""
    try:
        # The constraints are the database's (unique/overlap: ConflictError in _save_guarded).
        session.full_clean(exclude=["team", "host", "created_by"], validate_constraints=False)
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {}
        messages = [message for values in fields.values() for message in values] or error.messages
        raise ApplicationError(" ".join(messages), extra={"fields": fields}) from error


def _save_guarded(session: GroupSession) -> None:
    """Save in a savepoint; the database's refusal of a second session of the host becomes a 409."""
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:
        raise ConflictError(_("The host already has a group session at this time.")) from error


def _detail(session: GroupSession) -> dict:
    return {
        "team_id": session.team_id,
        "host_id": session.host_id,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "capacity": session.capacity,
        "channel": session.channel,
    }


# --- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def group_session_create(
    *,
    ctx: AuditContext,
    team_id: int,
    host_id: int,
    start: dt.datetime,
    end: dt.datetime,
    capacity: int,
    channel: str,
    topic: str,
    location: str = "",
    video_link: str = "",
) -> GroupSession:
    """A team lead sets up a group session of their team with a host who is free then."""
    actor = _require_team_lead(ctx, team_id)
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ApplicationError(_("There is no such team."))
    # Lock the host: two sessions (or a session and a check of it) for one host are decided
    # one after the other, so the checks below see the other's result.
    host = User.objects.select_for_update().filter(pk=host_id).first()
    host = _check_host(host, team_id)
    _check_times(start, end, timezone.now())
    if channel not in {c.value for c in GROUP_SESSION_CHANNELS}:
        raise ApplicationError(_("A group session is held in person or by video."))
    topic = (topic or "").strip()
    if not topic:
        raise ApplicationError(_("A group session needs a topic."))
    location = (location or "").strip() if channel == "in_person" else ""
    video_link = (video_link or "").strip() if channel == "video" else ""
    session = GroupSession(
        team=team,
        host=host,
        start=start,
        end=end,
        capacity=capacity,
        channel=channel,
        topic=topic,
        location=location,
        video_link=video_link,
        created_by=actor,
    )
    _validated(session)
    _check_host_free(host, start, end)
    _save_guarded(session)
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=session.pk,
        detail=_detail(session),
    )
    return session


def _lock(session_id: int) -> GroupSession:
    session = GroupSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise Http404
    return session


@transaction.atomic
def group_session_cancel(*, ctx: AuditContext, session_id: int, reason: str) -> GroupSession:
    """The team lead cancels an open session: every active place is cancelled with it.

    Each place goes through scheduling.services_appointments.appointment_cancel, as a single
    cancellation does: its sequence rises, its pending reminders are cancelled
    (services_reminders.reminders_cancel_for), a customer who had the invitation gets the
    cancellation after commit, and it gets its own audit row and case event."""
    from scheduling.services_appointments import MAX_REASON_LENGTH as APPOINTMENT_REASON_LENGTH
    from scheduling.services_appointments import appointment_cancel

    session = _lock(session_id)
    _require_team_lead(ctx, session.team_id)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Please give a reason for the cancellation."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ApplicationError(
            _("Please keep the reason under %(count)s characters.") % {"count": MAX_REASON_LENGTH}
        )
    if session.status != GroupSessionStatus.OPEN:
        raise ConflictError(_("Only an open group session can be cancelled."))
    session.status = GroupSessionStatus.CANCELLED
    session.sequence += 1
    session.save(update_fields=["status", "sequence", "updated_at"])
    place_reason = (_("Group session cancelled: %(reason)s") % {"reason": reason})[
        :APPOINTMENT_REASON_LENGTH
    ]
    # Only the places still in the session, locked: a customer moving theirs out at this moment
    # commits first, and the row then no longer matches (it is not cancelled with the session).
    participants = list(
        group_session_places(session)
        .filter(status__in=ACTIVE_APPOINTMENT_STATUSES)
        .select_for_update()
        .order_by("pk")
    )
    for appointment in participants:
        appointment_cancel(ctx=ctx, appointment_id=appointment.pk, reason=place_reason)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=session.pk,
        detail={
            "status": GroupSessionStatus.CANCELLED,
            "reason": reason,
            "cancelled_appointments": [a.pk for a in participants],
        },
    )
    return session


@transaction.atomic
def group_session_mark_held(*, ctx: AuditContext, session_id: int) -> GroupSession:
    """The host or the team lead records that an open session took place (after its start)."""
    session = _lock(session_id)
    actor = _actor(ctx)
    is_host = actor is not None and actor.pk == session.host_id and actor.reads_cases
    if not is_host:
        _require_team_lead(ctx, session.team_id)
    if session.status != GroupSessionStatus.OPEN:
        raise ConflictError(_("Only an open group session can be marked as held."))
    if timezone.now() < session.start:
        raise ApplicationError(_("A group session can be marked as held only after it started."))
    session.status = GroupSessionStatus.HELD
    session.save(update_fields=["status", "updated_at"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=session.pk,
        detail={"status": GroupSessionStatus.HELD},
    )
    return session


# --- reads -----------------------------------------------------------------------------------------


def _visible_to(*, user: User) -> QuerySet[GroupSession]:
    if not getattr(user, "is_authenticated", False) or not user.reads_cases:
        return GroupSession.objects.none()
    return GroupSession.objects.filter(team_id=user.team_id)


def group_session_places(session: GroupSession) -> QuerySet[Appointment]:
    """The appointments that are places in the session (any status): linked to it and at its
    start. A place moved elsewhere without being detached (possible before moves detached it) is
    no longer one."""
    return Appointment.objects.filter(group_session=session, start=session.start)


def group_session_annotate_places(sessions: QuerySet[GroupSession]) -> QuerySet[GroupSession]:
    """Each session with `taken`: its places not cancelled or rebooked (see group_session_places)."""
    return sessions.annotate(
        taken=Count(
            "appointments",
            filter=~Q(appointments__status__in=FREED_STATUSES) & Q(appointments__start=F("start")),
        )
    )


def _with_places(sessions: QuerySet[GroupSession]) -> QuerySet[GroupSession]:
    return group_session_annotate_places(sessions.select_related("host", "team"))


def group_session_list_for_user(
    *, user: User, since: dt.datetime | None = None
) -> QuerySet[GroupSession]:
    """The sessions of the user's team (ending after `since`, if given), by start; each with
    `taken` (places taken). Caseworkers and team leads only; others get none."""
    sessions = _visible_to(user=user)
    if since is not None:
        sessions = sessions.filter(end__gt=since)
    return _with_places(sessions).order_by("start", "id")


def group_session_get_for_user(*, user: User, session_id: int) -> GroupSession:
    """One session of the user's team with `taken`, or 404: another team's looks like a missing one."""
    try:
        return _with_places(_visible_to(user=user)).get(pk=session_id)
    except (GroupSession.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def group_session_participant_list(*, session: GroupSession) -> list[Appointment]:
    """The places of a session (cancelled ones last), with case and customer. Only call it with a
    session from group_session_get_for_user: the names are for staff of the session's team."""
    return sorted(
        group_session_places(session).select_related("case__customer"),
        key=lambda a: (a.status in FREED_STATUSES, a.case.customer.last_name, a.pk),
    )


def group_session_host_choices(*, team_id: int) -> list[User]:
    """Who may host a session of the team: its active caseworkers and team leads who share their
    calendar."""
    return list(
        User.objects.filter(
            team_id=team_id,
            is_active=True,
            role__in=(Role.CASEWORKER, Role.TEAM_LEAD),
            staff_calendar__consent_given_at__isnull=False,
        ).order_by("last_name", "first_name", "pk")
    )


def group_session_free_places(session: GroupSession) -> int:
    taken = getattr(session, "taken", None)
    if taken is None:
        taken = group_session_places(session).exclude(status__in=FREED_STATUSES).count()
    return max(session.capacity - taken, 0)
