"""Reads of the team calendar (*Team-Kalender*): which staff a team lead or admin may see, with
their calendar state, absences and the appointments that fall into those absences.

Who may see what (the rule of the absence services): a team lead their own team, an admin every
team; caseworkers none (403). A staff member outside what the caller may see is a 404, exactly as
one that does not exist. Each list costs the same few queries however many staff it shows.
"""

import datetime as dt
from collections import defaultdict

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from organisation.models import Role, Team, User
from scheduling.models import ACTIVE_APPOINTMENT_STATUSES, Absence, Appointment

# Absences listed on the calendar pages: those ending in the last 30 days and all ahead.
ABSENCE_LIST_PAST_DAYS = 30
STAFF_ROLES = (Role.CASEWORKER, Role.TEAM_LEAD)


def team_calendar_require_access(*, user: User) -> None:
    """Team leads and admins; everyone else is refused (403)."""
    if getattr(user, "role", None) not in (Role.TEAM_LEAD, Role.ADMIN):
        raise PermissionDenied(_("The team calendar is for team leads and administrators."))


def team_calendar_teams_for_user(*, user: User) -> list[Team]:
    """The teams whose calendar the user may open: a team lead's own, every team for admins."""
    team_calendar_require_access(user=user)
    teams = Team.objects.select_related("jobcenter").order_by("name")
    if user.role != Role.ADMIN:
        teams = teams.filter(pk=user.team_id)
    return list(teams)


def team_calendar_team_get_for_user(*, user: User, team_id: int | None) -> Team | None:
    """The team to show: a team lead's own (another team id is a 404); for admins the team asked
    for, or None when none was chosen yet."""
    team_calendar_require_access(user=user)
    if user.role != Role.ADMIN:
        if team_id is not None and team_id != user.team_id:
            raise Http404(_("There is no team with this number for you."))
        team_id = user.team_id
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404(_("There is no team with this number for you."))
    return team


def _recent_absences(since: dt.datetime) -> Prefetch:
    return Prefetch(
        "absences",
        queryset=Absence.objects.filter(end__gt=since).order_by("start"),
        to_attr="recent_absences",
    )


def _attach_appointments_to_move(members: list[User], now: dt.datetime) -> None:
    """`appointments_to_move` on each member: active appointments inside one of their absences."""
    by_staff: dict[int, list[Appointment]] = defaultdict(list)
    appointments = (
        Appointment.objects.filter(
            staff__in=[member.pk for member in members],
            status__in=ACTIVE_APPOINTMENT_STATUSES,
            end__gt=now,
        )
        .filter(
            Exists(
                Absence.objects.filter(
                    user_id=OuterRef("staff_id"),
                    start__lt=OuterRef("end"),
                    end__gt=OuterRef("start"),
                )
            )
        )
        .select_related("case__customer")
        .order_by("start", "pk")
    )
    for appointment in appointments:
        by_staff[appointment.staff_id].append(appointment)
    for member in members:
        member.appointments_to_move = by_staff.get(member.pk, [])
        # None for someone who never opened their calendar (no row: nothing shared, nothing set).
        member.calendar = getattr(member, "staff_calendar", None)


def team_staff_list(*, team: Team, now: dt.datetime | None = None) -> list[User]:
    """The team's active caseworkers and team leads, by name, each with `calendar` (their
    StaffCalendar or None), `recent_absences` (ending in the last 30 days or later) and
    `appointments_to_move`."""
    now = now or timezone.now()
    members = list(
        User.objects.filter(team=team, is_active=True, role__in=STAFF_ROLES)
        .select_related("staff_calendar")
        .prefetch_related(_recent_absences(now - dt.timedelta(days=ABSENCE_LIST_PAST_DAYS)))
        .order_by("last_name", "first_name", "username")
    )
    _attach_appointments_to_move(members, now)
    return members


def team_member_get_for_user(*, user: User, member_id: int, now: dt.datetime | None = None) -> User:
    """One staff member for the team calendar, as `team_staff_list` gives them: a team lead's
    own team only, any staff member for admins (a 404 otherwise)."""
    team_calendar_require_access(user=user)
    members = User.objects.filter(pk=member_id, is_active=True, role__in=STAFF_ROLES)
    if user.role != Role.ADMIN:
        members = members.filter(team_id=user.team_id)
    now = now or timezone.now()
    member = (
        members.select_related("staff_calendar", "team")
        .prefetch_related(_recent_absences(now - dt.timedelta(days=ABSENCE_LIST_PAST_DAYS)))
        .first()
    )
    if member is None:
        raise Http404(_("There is no staff member with this number for you."))
    _attach_appointments_to_move([member], now)
    return member
