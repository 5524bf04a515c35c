"""The invitation planning core at jobcenter scale: 10,000 due invitations, 200 staff in 20 teams.

    .venv/bin/python benchmarks/scheduling.py [--dues 10000 --teams 20 --staff-per-team 10
                                               --days 20 --load 0.7 --seed 7]

Generates a scenario deterministically (seeded; no database): staff with part-time shares 0.5-1.0
and working hours scaled to them (a lunch break on long days), about 10 % absence days (holidays
of a few days and single sick days), busy blocks from their calendars (meetings, a walk-in
reserve), 30-minute individual slots in the remaining time over the channels each member offers,
and one weekly group session per team (90 minutes, 10 places) for administrative customers. The
daily caps (two neighbouring values, scaled by the part-time share) are set so that the dues fill
`--load` of the capacity. Dues: due dates spread over the horizon, windows of +-3 working days, 40 % market-near,
30 % potential (with a fixed caseworker of their team), 30 % administrative (group sessions
allowed); each with the channels acceptable to the customer.

Then it runs `scheduling.planning.plan()` (`plan_seconds`: fingerprint, graph, min-cost flow per
team, the min-cut bound on the number placeable), computes the figures and prints ONE JSON object
on the last line. `seconds` is end to end: generating the scenario, planning and the figures.

It also measures the customer rebooking link (benchmarks/_rebooking.py, `rebook_p95_ms`): on the
PostgreSQL "bench" database of DATABASE_URL when set (the figure for production), else on a
temporary SQLite database seeded with 3,000 customers and deleted afterwards (about 30 s more;
`rebook_database` says which). `--no-rebook` skips it (null).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench \\
        .venv/bin/python benchmarks/scheduling.py

`--db` instead measures planning runs end to end on a seeded PostgreSQL database (a "bench"
database; seeded with `--customers` customers by seed_demo when empty): for every team with
active staff `planning_run_start` (periodic, superseding the previous proposal) and
`planning_run_execute` (reading dues, calendars, busy times, absences, appointments and group
sessions, solving, writing the proposed appointments, items and audit rows in one transaction).
It prints its own JSON object (`benchmark: scheduling_db`) with the seconds per team and the
figures of the runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobcenter_bench \\
        .venv/bin/python benchmarks/scheduling.py --db [--customers 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

from _common import database_label, machine, percentile, print_result, setup_django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduling.planning import (  # noqa: E402
    ADMINISTRATIVE,
    GROUP,
    MARKET_NEAR,
    POTENTIAL,
    Due,
    Slot,
    Staff,
    plan,
    plan_metrics,
)

FIRST_DAY = date(2027, 3, 1)  # a Monday; no public holiday in the following four weeks
SLOT_MINUTES = 30
GROUP_MINUTES = 90
GROUP_CAPACITY = 10
WINDOW_DAYS = 3
SHARES = (0.5, 0.6, 0.75, 0.8, 1.0, 1.0)

TARGETS = {
    "placed_ratio": 0.99,  # >=
    "over_capacity": 0,  # ==
    "utilisation_spread": 0.15,  # <=
    "own_caseworker_share": 0.85,  # >=
    "mean_due_distance_days": 1.0,  # <=
    "seconds": 10.0,  # <=
}


def working_days(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def add_working_days(day: date, offset: int) -> date:
    step = 1 if offset > 0 else -1
    while offset:
        day += timedelta(days=step)
        if day.weekday() < 5:
            offset -= step
    return day


def _at(day: date, minutes: int) -> datetime:
    # Naive local wall-clock time, as the planning core works on a day's local times.
    return datetime.combine(day, time()) + timedelta(minutes=minutes)  # noqa: DTZ001


def generate(
    *, dues_count: int, teams: int, staff_per_team: int, days: int, load: float, seed: int
) -> dict[str, object]:
    rng = random.Random(seed)
    horizon = working_days(FIRST_DAY, days)
    today = FIRST_DAY - timedelta(days=3)  # the Friday before

    members: list[dict[str, object]] = []
    slots: list[Slot] = []
    slot_id = 0
    for team in range(1, teams + 1):
        team_members = []
        for index in range(staff_per_team):
            share = rng.choice(SHARES)
            channels = {"in_person", "phone"}
            if rng.random() < 0.6:
                channels.add("video")
            if rng.random() < 0.1:
                channels.add("outreach")
            member = {
                "id": team * 1000 + index,
                "team_id": team,
                "share": share,
                "channels": frozenset(channels),
                "start": rng.choice((7 * 60 + 30, 8 * 60, 8 * 60 + 30)),
                "minutes": int(8 * 60 * share) // SLOT_MINUTES * SLOT_MINUTES,
            }
            team_members.append(member)
        # Absences: a holiday block (3-5 working days) for a third of the team, sick days.
        absent: set[tuple[int, date]] = set()
        for member in team_members:
            if rng.random() < 0.35:
                length = rng.randint(3, 5)
                first = rng.randrange(0, days - length + 1)
                absent.update((member["id"], horizon[i]) for i in range(first, first + length))
            for day in horizon:
                if rng.random() < 0.04:
                    absent.add((member["id"], day))
        # One group session per team and week, hosted in turn, Tuesday to Thursday.
        group_sessions: dict[tuple[int, date], tuple[int, int]] = {}
        for week in range(0, days, 5):
            week_days = [d for d in horizon[week : week + 5] if d.weekday() in (1, 2, 3)]
            for _attempt in range(20):
                host = team_members[rng.randrange(staff_per_team)]
                day = rng.choice(week_days)
                if (host["id"], day) not in absent and host["minutes"] >= GROUP_MINUTES + 60:
                    start = host["start"] + 60
                    group_sessions[(host["id"], day)] = (start, start + GROUP_MINUTES)
                    break
        for member in team_members:
            for day in horizon:
                if (member["id"], day) in absent:
                    continue
                start, end = member["start"], member["start"] + member["minutes"]
                busy: list[tuple[int, int]] = []
                if member["minutes"] > 6 * 60:
                    busy.append((12 * 60, 12 * 60 + 30))  # lunch break
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):  # meetings, walk-in reserve
                    length = rng.choice((30, 60, 60, 90, 120))
                    at = start + rng.randrange(0, max(1, member["minutes"] - length + 1), 30)
                    busy.append((at, at + length))
                session = group_sessions.get((member["id"], day))
                if session:
                    busy.append(session)
                    slot_id += 1
                    slots.append(
                        Slot(
                            id=slot_id,
                            staff_id=member["id"],
                            team_id=team,
                            start=_at(day, session[0]),
                            end=_at(day, session[1]),
                            channels=frozenset({"in_person"} if rng.random() < 0.7 else {"video"}),
                            capacity=GROUP_CAPACITY,
                            kind=GROUP,
                        )
                    )
                at = start
                while at + SLOT_MINUTES <= end:
                    if all(at + SLOT_MINUTES <= b0 or at >= b1 for b0, b1 in busy):
                        slot_id += 1
                        slots.append(
                            Slot(
                                id=slot_id,
                                staff_id=member["id"],
                                team_id=team,
                                start=_at(day, at),
                                end=_at(day, at + SLOT_MINUTES),
                                channels=member["channels"],
                            )
                        )
                    at += SLOT_MINUTES
        members.extend(team_members)

    # Daily caps so that the dues fill `load` of the capacity.
    free: dict[tuple[int, date], int] = {}
    group_places = 0
    for slot in slots:
        if slot.kind == GROUP:
            group_places += slot.capacity
        else:
            free[(slot.staff_id, slot.day)] = free.get((slot.staff_id, slot.day), 0) + 1
    share_of = {m["id"]: m["share"] for m in members}
    days_of: dict[int, list[int]] = {staff_id: [] for staff_id in share_of}
    for (staff_id, _day), count in free.items():
        days_of[staff_id].append(count)

    def member_capacity(staff_id: int, cap: int) -> int:
        per_day = int(cap * share_of[staff_id] + 0.5)
        return sum(min(count, per_day) for count in days_of[staff_id])

    def capacity(caps: dict[int, int]) -> int:
        return group_places + sum(member_capacity(s, cap) for s, cap in caps.items())

    # The largest cap c with capacity(c) <= needed, then c + 1 for as many staff as it takes.
    needed = dues_count / load
    base = 1
    while base < 20 and capacity(dict.fromkeys(share_of, base + 1)) <= needed:
        base += 1
    caps = dict.fromkeys(share_of, base)
    total = capacity(caps)
    order = sorted(share_of)
    rng.shuffle(order)
    for staff_id in order:
        if total >= needed:
            break
        total += member_capacity(staff_id, base + 1) - member_capacity(staff_id, base)
        caps[staff_id] = base + 1
    staff = [
        Staff(id=m["id"], team_id=m["team_id"], part_time_share=m["share"], daily_cap=caps[m["id"]])
        for m in members
    ]

    # Dues, spread evenly over the teams and the horizon.
    by_team: dict[int, list[dict[str, object]]] = {}
    for member in members:
        by_team.setdefault(member["team_id"], []).append(member)
    dues: list[Due] = []
    for number in range(dues_count):
        team = number % teams + 1
        due_day = horizon[rng.randrange(days)]
        roll = rng.random()
        if roll < 0.3:
            group = POTENTIAL
            caseworker = rng.choice(by_team[team])
            # Potential customers come to their caseworker: in person, or over what they offer.
            channels = {"in_person"}
            if rng.random() < 0.3:
                channels |= set(caseworker["channels"]) - {"outreach"}
            fixed = caseworker["id"]
        elif roll < 0.7:
            group, fixed = MARKET_NEAR, None
            channels = rng.choice(({"phone", "video"}, {"in_person", "phone", "video"}, {"video"}))
        else:
            group, fixed = ADMINISTRATIVE, None
            channels = rng.choice(({"in_person"}, {"in_person", "phone"}, {"in_person", "video"}))
        if rng.random() < 0.005:
            channels = {"outreach"}  # a home visit: few offer it
        dues.append(
            Due(
                id=number + 1,
                case_id=100_000 + number,
                team_id=team,
                group=group,
                fixed_staff_id=fixed,
                due=due_day,
                window_start=add_working_days(due_day, -WINDOW_DAYS),
                window_end=add_working_days(due_day, WINDOW_DAYS),
                channels=frozenset(channels),
                duration_minutes=SLOT_MINUTES,
                allow_group_session=group == ADMINISTRATIVE,
            )
        )
    staff_days = len(share_of) * days
    return {
        "dues": dues,
        "slots": slots,
        "staff": staff,
        "today": today,
        "load": dues_count / capacity(caps),
        "absence_share": 1 - len(free) / staff_days,
        "group_places": group_places,
    }


REBOOK_TARGET_P95_MS = 500


def _rebook_p95_ms() -> tuple[float, str]:
    """The rebooking p95 and where it was measured (a temporary SQLite without DATABASE_URL)."""
    temporary = None
    if not os.environ.get("DATABASE_URL"):
        temporary = tempfile.mkdtemp(prefix="jobcenter-bench-rebook-")
        os.environ["DATABASE_URL"] = f"sqlite:///{temporary}/bench_rebook.sqlite3"
    try:
        setup_django()
        from _rebooking import rebook_latencies

        latencies = rebook_latencies(allow_sqlite=temporary is not None)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    where = "sqlite (temporary, 3,000 customers)" if temporary else database_label()
    return round(percentile([value * 1000 for value in latencies], 0.95), 1), where


def _db_runs(*, customers: int, seed: int) -> dict[str, object]:
    """Planning runs against the database, one per team (see the module docstring)."""
    setup_django()
    from _common import database_label, database_name, migrate, reinstall_starter_data
    from _common import seed as seed_demo

    if database_label() != "postgresql" or "bench" not in database_name():
        raise SystemExit(
            "--db needs a PostgreSQL benchmark database: DATABASE_URL=postgres://postgres@"
            "127.0.0.1:5432/jobcenter_bench (its name must contain 'bench')."
        )
    migrate()
    from audit.services import AuditContext
    from cases.models import Customer
    from organisation.models import Role, User
    from scheduling.models import PlanningRunStatus, PlanningTrigger
    from scheduling.services_planning import planning_run_execute, planning_run_start

    seeded_seconds = None
    if not Customer.objects.exists():
        seeded_at = perf_counter()
        seed_demo(customers=customers, seed=seed)
        seeded_seconds = round(perf_counter() - seeded_at, 1)
    reinstall_starter_data()
    team_ids = sorted(
        set(
            User.objects.filter(
                is_active=True, role__in=(Role.CASEWORKER, Role.TEAM_LEAD), team__isnull=False
            ).values_list("team_id", flat=True)
        )
    )
    ctx = AuditContext.system()
    rows = []
    started = perf_counter()
    for team_id in team_ids:
        run_started = perf_counter()
        run = planning_run_start(ctx=ctx, team_id=team_id, trigger=PlanningTrigger.PERIODIC)
        opened = perf_counter() - run_started
        run = planning_run_execute(run_id=run.pk)
        rows.append(
            {
                "team_id": team_id,
                "status": run.status,
                "seconds": perf_counter() - run_started,
                "start_seconds": opened,
                "solve_seconds": run.seconds or 0.0,
                "dues": run.due_count,
                "placed": run.placed_count,
                "bound": run.bound or 0,
                "over_capacity": (run.metrics or {}).get("over_capacity", 0),
                "spread": (run.metrics or {}).get("utilisation_spread") or 0.0,
                "own": (run.metrics or {}).get("own_caseworker_share"),
                "error": run.error,
            }
        )
        print(
            f"team {team_id}: {run.status}, {run.placed_count}/{run.due_count} placed "
            f"(bound {run.bound}) in {rows[-1]['seconds']:.2f} s",
            flush=True,
        )
    total = perf_counter() - started
    seconds = [row["seconds"] for row in rows]
    placed = sum(row["placed"] for row in rows)
    bound = sum(row["bound"] for row in rows)
    owns = [row["own"] for row in rows if row["own"] is not None]
    return {
        "benchmark": "scheduling_db",
        "database": "postgresql",
        "customers": Customer.objects.count(),
        "seed_seconds": seeded_seconds,
        "teams": len(rows),
        "failed": [row["team_id"] for row in rows if row["status"] != PlanningRunStatus.PROPOSED],
        "dues": sum(row["dues"] for row in rows),
        "placed": placed,
        "bound": bound,
        "placed_ratio": round(placed / bound, 4) if bound else 1.0,
        "over_capacity": sum(row["over_capacity"] for row in rows),
        "utilisation_spread": round(max((row["spread"] for row in rows), default=0.0), 4),
        "own_caseworker_share_mean": round(sum(owns) / len(owns), 4) if owns else None,
        "seconds_total": round(total, 2),
        "seconds_per_team_max": round(max(seconds, default=0.0), 2),
        "seconds_per_team_p95": round(percentile(seconds, 0.95), 2) if seconds else None,
        "solve_seconds_total": round(sum(row["solve_seconds"] for row in rows), 2),
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dues", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--staff-per-team", type=int, default=10)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-rebook", action="store_true", help="do not time the rebooking link")
    parser.add_argument("--rebook", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument(
        "--db",
        action="store_true",
        help="planning runs end to end on a seeded PostgreSQL benchmark database instead",
    )
    parser.add_argument(
        "--customers", type=int, default=20_000, help="--db: customers to seed when empty"
    )
    args = parser.parse_args()
    if args.db:
        print_result(_db_runs(customers=args.customers, seed=args.seed))
        return 0

    started = perf_counter()
    scenario = generate(
        dues_count=args.dues,
        teams=args.teams,
        staff_per_team=args.staff_per_team,
        days=args.days,
        load=args.load,
        seed=args.seed,
    )
    generated = perf_counter() - started
    dues, slots, staff, today = (
        scenario["dues"],
        scenario["slots"],
        scenario["staff"],
        scenario["today"],
    )
    print(
        f"scenario: {len(dues)} dues, {len(staff)} staff, {len(slots)} slots, "
        f"load {scenario['load']:.3f}, absence {scenario['absence_share']:.3f} "
        f"({generated:.2f} s)",
        flush=True,
    )

    planned_at = perf_counter()
    result = plan(dues=dues, slots=slots, staff=staff, today=today)
    seconds = perf_counter() - planned_at
    figures = plan_metrics(result, dues=dues, slots=slots, staff=staff, today=today)
    total = perf_counter() - started
    spread_by_team = figures.pop("utilisation_spread_by_team")
    print(f"plan: {seconds:.2f} s, spread by team: {spread_by_team}", flush=True)

    met = {
        "placed_ratio_met": figures["placed_ratio"] >= TARGETS["placed_ratio"],
        "over_capacity_met": figures["over_capacity"] == TARGETS["over_capacity"],
        "utilisation_spread_met": figures["utilisation_spread"] <= TARGETS["utilisation_spread"],
        "own_caseworker_share_met": (figures["own_caseworker_share"] or 0)
        >= TARGETS["own_caseworker_share"],
        "mean_due_distance_days_met": (figures["mean_due_distance_days"] or 0)
        <= TARGETS["mean_due_distance_days"],
        # End to end: generating the scenario, planning and computing the figures.
        "seconds_met": total <= TARGETS["seconds"],
    }
    rebook_p95_ms, rebook_database = _rebook_p95_ms() if not args.no_rebook else (None, None)
    if rebook_p95_ms is not None:
        met["rebook_p95_ms_met"] = rebook_p95_ms <= REBOOK_TARGET_P95_MS
    result_row: dict[str, object] = {
        "benchmark": "scheduling",
        **figures,
        "placed_ratio": round(figures["placed_ratio"], 4),
        "utilisation_spread": round(figures["utilisation_spread"], 4),
        "own_caseworker_share": round(figures["own_caseworker_share"] or 0, 4),
        "mean_due_distance_days": round(figures["mean_due_distance_days"] or 0, 4),
        "seconds": round(total, 2),
        "plan_seconds": round(seconds, 2),
        "generate_seconds": round(generated, 2),
        "rebook_p95_ms": rebook_p95_ms,
        "rebook_database": rebook_database,
        "load": round(scenario["load"], 4),
        "absence_share": round(scenario["absence_share"], 4),
        "slots": len(slots),
        "staff": len(staff),
        "teams": args.teams,
        "days": args.days,
        "seed": args.seed,
        "fingerprint": result.fingerprint,
        "plan_sha256": hashlib.sha256(repr(result.placements).encode()).hexdigest(),
        **met,
        "all_targets_met": all(met.values()),
        "machine": machine(),
    }
    print_result(result_row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
