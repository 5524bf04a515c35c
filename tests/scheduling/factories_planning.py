"""Builders for the planning-run tests: staff with calendars, cases with a due invitation."""

import datetime as dt
from zoneinfo import ZoneInfo

from organisation.models import Role
from scheduling.models import Appointment, ContactAgreement, GroupSession, PlanningSettings
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2026-11-23 is "today" in these tests (tests.scheduling.conftest.NOW); the horizon of
# five days covers Tuesday 24 to Saturday 28.
TODAY = dt.date(2026, 11, 23)
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "12:00"} for day in range(5)]


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Berlin wall-clock time in November 2026."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def planning_settings(**fields) -> PlanningSettings:
    config = PlanningSettings.load()
    fields.setdefault("horizon_days", 5)
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config


def make_staff(team, username: str, *, role: str = Role.CASEWORKER, **calendar_fields):
    """An active staff member of `team` with a shared calendar (08:00-12:00 on weekdays)."""
    user = UserFactory(username=username, role=role, team=team)
    calendar_fields.setdefault("working_hours", WORKING_HOURS)
    calendar_fields.setdefault("channels", ["in_person", "phone"])
    calendar_fields.setdefault("location", "Hauptstraße 1")
    consenting_calendar(user, **calendar_fields)
    return user


def calendar_for(user, **fields):
    """Give an existing persona (caseworker, team lead) a shared calendar."""
    fields.setdefault("working_hours", WORKING_HOURS)
    fields.setdefault("channels", ["in_person", "phone"])
    fields.setdefault("location", "Hauptstraße 1")
    return consenting_calendar(user, **fields)


def due_case(
    team,
    *,
    due: dt.date,
    caseworker=None,
    group: str = "market_near",
    window: tuple[int, int] = (0, 0),
    channels: tuple[str, ...] = ("in_person",),
    duration: int = 30,
    purpose: str = "Besprechung Ihrer beruflichen Situation",
    **agreement_fields,
):
    """An open case whose next invitation is due on `due` (ContactAgreement.next_due), with a
    window in working days around it."""
    case = CaseFactory(team=team, caseworker=caseworker, customer_group=group)
    ContactAgreement.objects.create(
        case=case,
        next_due=due,
        window_start_days=window[0],
        window_end_days=window[1],
        channels=list(channels),
        duration_minutes=duration,
        purpose=purpose,
        **agreement_fields,
    )
    return case


def make_appointment(case, staff, start: dt.datetime, minutes: int = 30, **fields) -> Appointment:
    fields.setdefault("channel", "in_person")
    fields.setdefault("purpose", "Besprechung")
    return Appointment.objects.create(
        case=case, staff=staff, start=start, end=start + dt.timedelta(minutes=minutes), **fields
    )


def make_group_session(team, host, start: dt.datetime, *, capacity: int = 3, minutes: int = 90):
    return GroupSession.objects.create(
        team=team,
        host=host,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        capacity=capacity,
        channel="in_person",
        location="Raum 0.01",
        topic="Informationsveranstaltung",
    )
