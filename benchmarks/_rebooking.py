"""The rebooking latency for benchmarks/scheduling.py: PostgreSQL (or a temporary SQLite), seeded.

In a database seeded by seed_demo (only one whose name contains "bench"; 3,000 customers are
seeded when it is empty), every member of the demo caseworker's team gets a shared calendar
(Monday to Friday 08:00-12:00 and 13:00-16:00, in person, phone, video) with busy blocks, and the
team's open cases get appointments over the next two weeks through `appointment_create`. Then
`requests` rebooking links are opened (GET /scheduling/rebook/<token>/: the link is checked, the
free alternatives inside the window are computed from working hours, busy times, absences,
holidays and the other appointments, and the page is rendered) through the whole Django stack
in-process (django.test.Client), after a warm-up. Returns the seconds of each request.
"""

from __future__ import annotations

import datetime as dt
import random
from time import perf_counter

APPOINTMENTS = 300
PURPOSE = "Benchmark: Besprechung der beruflichen Situation"
WORKING_HOURS = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("08:00", "12:00"), ("13:00", "16:00"))
]


def _prepare(*, seed: int, allow_sqlite: bool = False) -> list[int]:
    from _common import database_label, migrate, reinstall_starter_data
    from _common import seed as seed_demo
    from django.db import transaction
    from django.utils import timezone

    from audit.services import AuditContext
    from cases.models import Case, Customer
    from cases.synthetic import DEMO_CASEWORKER
    from organisation.models import User
    from scheduling.models import Appointment, BusySource, BusyTime, StaffCalendar
    from scheduling.services_appointments import appointment_create

    if database_label() != "postgresql" and not allow_sqlite:
        raise RuntimeError("the rebooking figure is for PostgreSQL: set DATABASE_URL")
    migrate()
    if not Customer.objects.exists():
        seed_demo(customers=3000, seed=2030)
    reinstall_starter_data()
    caseworker = User.objects.get(username=DEMO_CASEWORKER)
    staff = list(User.objects.filter(team_id=caseworker.team_id, is_active=True).order_by("pk"))
    lead = next(user for user in staff if user.role == "team_lead")
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        Appointment.objects.filter(purpose=PURPOSE).delete()
        BusyTime.objects.filter(user__in=staff, uid__startswith="bench-").delete()
        for user in staff:
            StaffCalendar.objects.update_or_create(
                user=user,
                defaults={
                    "working_hours": WORKING_HOURS,
                    "channels": ["in_person", "phone", "video"],
                    "consent_given_at": now,
                },
            )
            for index in range(12):  # a busy hour on about every other working day
                day = today + dt.timedelta(days=rng.randint(1, 20))
                start = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(8, 14))))
                BusyTime.objects.create(
                    user=user,
                    start=start,
                    end=start + dt.timedelta(hours=1),
                    source=BusySource.UPLOAD,
                    uid=f"bench-{user.pk}-{index}",
                    synced_at=now,
                )
    cases = list(
        Case.objects.open().filter(team_id=caseworker.team_id).order_by("pk")[:APPOINTMENTS]
    )
    ctx = AuditContext.system(lead)
    from jobcenter.exceptions import ApplicationError

    created = []
    day, minute = today + dt.timedelta(days=3), 8 * 60
    for person, case in enumerate(cases, start=1):
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(minute // 60, minute % 60)))
        try:
            appointment = appointment_create(
                ctx=ctx,
                case_id=case.pk,
                staff_id=staff[(person - 1) % len(staff)].pk,
                start=start,
                end=start + dt.timedelta(minutes=30),
                channel="in_person",
                purpose=PURPOSE,
            )
            created.append(appointment.pk)
        except ApplicationError as error:  # a busy or refused time: this case goes without
            print(f"case {case.pk}: {error.message}")
        if person % len(staff) == 0:
            minute += 30
            if minute >= 15 * 60:
                minute, day = 8 * 60, day + dt.timedelta(days=1)
    return created


def rebook_latencies(
    *, requests: int = 200, seed: int = 11, allow_sqlite: bool = False
) -> list[float]:
    from django.test import Client

    from scheduling.models import Appointment
    from scheduling.services_appointments import rebooking_token_make

    appointment_ids = _prepare(seed=seed, allow_sqlite=allow_sqlite)
    if not appointment_ids:
        raise RuntimeError("no appointments could be created")
    rng = random.Random(seed)
    client = Client(HTTP_HOST="localhost")
    seconds = []
    for index in range(requests + 20):
        appointment = Appointment.objects.get(pk=rng.choice(appointment_ids))
        url = f"/scheduling/rebook/{rebooking_token_make(appointment)}/"
        started = perf_counter()
        response = client.get(url)
        elapsed = perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
        if index >= 20:
            seconds.append(elapsed)
    print(f"Rebooking: {len(appointment_ids)} appointments, {len(seconds)} timed link requests")
    return seconds
