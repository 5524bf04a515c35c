"""Synthetic calendars for the demo (`manage.py seed_demo`): never run on a real installation.

Every caseworker and team lead gets a calendar with shared busy times agreed (working hours on the
weekdays, a part-time share, channels, a room, a walk-in reserve, a daily cap), some get a holiday
absence; each open case with a customer group gets one past, attended appointment at a random point
of its cadence, so due dates spread over the weeks as they would in a running jobcenter; each team
gets two group information sessions for `administrative` customers. Deterministic for a seed.
"""

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from organisation.models import Role, User
from scheduling.models import (
    Absence,
    AbsenceKind,
    Appointment,
    AppointmentStatus,
    GroupSession,
    StaffCalendar,
)
from scheduling.selectors import (
    add_working_days,
    contact_agreement_effective,
    segment_configs_by_group,
)

PART_TIME = ((1.0, 6), (0.75, 2), (0.5, 1))  # (share, weight)
DAILY_CAP = 8
SESSION_CAPACITY = 12


@dataclass(frozen=True)
class CalendarsWritten:
    calendars: int
    absences: int
    past_appointments: int
    group_sessions: int


def _working_hours(share: float) -> list[dict]:
    end = {1.0: "16:00", 0.75: "14:00", 0.5: "12:00"}[share]
    return [{"weekday": day, "start": "08:00", "end": end} for day in range(5)]


def _half_hours(share: float) -> list[dt.time]:
    """The starts of 30-minute appointments inside the working hours of `_working_hours(share)`."""
    end_hour = int(_working_hours(share)[0]["end"][:2])
    return [dt.time(hour, minute) for hour in range(8, end_hour) for minute in (0, 30)]


def _past_start(
    rng: random.Random,
    *,
    taken: set,
    host: User,
    today: dt.date,
    back_days: int,
    slots: list[dt.time],
    tz: ZoneInfo,
) -> dt.datetime:
    """A past start of `host` not yet taken: a random working day and half hour, then the next
    free half hour of that day, then earlier days."""
    day = add_working_days(today, -rng.randint(1, back_days))
    first = rng.randrange(len(slots))
    while True:
        for offset in range(len(slots)):
            start = dt.datetime.combine(day, slots[(first + offset) % len(slots)], tzinfo=tz)
            if (host.pk, start) not in taken:
                taken.add((host.pk, start))
                return start
        day = add_working_days(day, -1)


@transaction.atomic
def calendars_write(*, seed: int, today: dt.date | None = None) -> CalendarsWritten:
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    tz = ZoneInfo(settings.TIME_ZONE)
    today = today or timezone.localdate()
    now = timezone.now()
    staff = list(
        User.objects.filter(role__in=(Role.CASEWORKER, Role.TEAM_LEAD), is_active=True)
        .exclude(team=None)
        .order_by("pk")
    )
    calendars, absences = [], []
    for number, user in enumerate(staff, start=1):
        share = rng.choices([s for s, _w in PART_TIME], weights=[w for _s, w in PART_TIME])[0]
        channels = ["in_person", "phone"] + (["video"] if rng.random() < 0.6 else [])
        calendars.append(
            StaffCalendar(
                user=user,
                working_hours=_working_hours(share),
                part_time_share=share,
                channels=channels,
                location=f"Haus A, Raum {100 + number}",
                rooms=[f"Raum {100 + number}"],
                walk_in_reserve_minutes=60 if user.role == Role.CASEWORKER else 0,
                daily_cap=DAILY_CAP,
                consent_given_at=now,
            )
        )
        if rng.random() < 0.15:  # a week of leave somewhere in the next four weeks
            first = add_working_days(today, rng.randint(1, 15))
            start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
            absences.append(
                Absence(
                    user=user,
                    start=start,
                    end=start + dt.timedelta(days=5),
                    kind=AbsenceKind.VACATION,
                )
            )
    StaffCalendar.objects.bulk_create(calendars, ignore_conflicts=True)
    Absence.objects.bulk_create(absences)

    staff_by_team: dict[int, list[User]] = {}
    for user in staff:
        staff_by_team.setdefault(user.team_id, []).append(user)
    past = []
    # One attended appointment per staff member and start, inside their working hours.
    taken: set[tuple[int, dt.datetime]] = set()
    share_by_user = {calendar.user_id: calendar.part_time_share for calendar in calendars}
    half_hours = {user.pk: _half_hours(share_by_user.get(user.pk, 1.0)) for user in staff}
    configs = segment_configs_by_group()
    for case in Case.objects.open().exclude(customer_group="").order_by("pk"):
        agreement = contact_agreement_effective(case=case, agreement=None, configs=configs)
        if not agreement.cadence_days or not staff_by_team.get(case.team_id):
            continue
        host = next(
            (u for u in staff_by_team[case.team_id] if u.pk == case.caseworker_id),
            rng.choice(staff_by_team[case.team_id]),
        )
        start = _past_start(
            rng,
            taken=taken,
            host=host,
            today=today,
            back_days=max(1, agreement.cadence_days * 5 // 7),
            slots=half_hours[host.pk],
            tz=tz,
        )
        past.append(
            Appointment(
                case=case,
                staff=host,
                start=start,
                end=start + dt.timedelta(minutes=30),
                channel=agreement.channels[0],
                purpose=agreement.purpose,
                status=AppointmentStatus.ATTENDED,
            )
        )
    Appointment.objects.bulk_create(past, batch_size=2000)

    sessions = []
    for team_id, members in sorted(staff_by_team.items()):
        lead = next((u for u in members if u.role == Role.TEAM_LEAD), members[0])
        for week in (1, 2):
            day = today + dt.timedelta(days=7 * week - today.weekday() + 2)  # Wednesdays
            start = dt.datetime.combine(day, dt.time(13, 0), tzinfo=tz)
            sessions.append(
                GroupSession(
                    team_id=team_id,
                    host=lead,
                    start=start,
                    end=start + dt.timedelta(hours=1, minutes=30),
                    capacity=SESSION_CAPACITY,
                    channel="in_person",
                    location="Haus A, Gruppenraum 1",
                    topic="Gruppeninformation: Ihre Rechte und Pflichten, Angebote des Jobcenters",
                )
            )
    GroupSession.objects.bulk_create(sessions)
    return CalendarsWritten(
        calendars=len(calendars),
        absences=len(absences),
        past_appointments=len(past),
        group_sessions=len(sessions),
    )
