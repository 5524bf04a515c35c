"""The optimisation core of the invitation planning (scheduling/planning.py): pure, no database."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import networkx as nx
import pytest

from scheduling.planning import (
    ADMINISTRATIVE,
    FALLBACK_OWN_FULL,
    FALLBACK_OWN_UNAVAILABLE,
    GROUP,
    MARKET_NEAR,
    POTENTIAL,
    REASON_CAPACITY_EXHAUSTED,
    REASON_INVALID_WINDOW,
    REASON_NO_CHANNEL_MATCH,
    REASON_NO_SLOT_IN_WINDOW,
    REASON_NO_SLOT_LONG_ENOUGH,
    Due,
    Placement,
    PlanResult,
    Slot,
    Staff,
    Weights,
    WorkingDays,
    over_capacity_count,
    own_caseworker_share,
    plan,
    plan_metrics,
    utilisation_by_staff,
)

TODAY = date(2027, 3, 5)  # a Friday
MON, TUE, WED, THU, FRI = (TODAY + timedelta(days=3 + i) for i in range(5))
IN_PERSON = frozenset({"in_person"})
PHONE = frozenset({"phone"})
VIDEO = frozenset({"video"})
ANY = frozenset({"in_person", "phone", "video"})


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001 - local wall time


def slot(
    slot_id,
    day,
    hour=9,
    *,
    staff_id=1,
    team_id=1,
    minutes=30,
    channels=IN_PERSON,
    capacity=1,
    kind="individual",
):
    start = at(day, hour)
    return Slot(
        id=slot_id,
        staff_id=staff_id,
        team_id=team_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        channels=channels,
        capacity=capacity,
        kind=kind,
    )


def due(
    due_id,
    day,
    *,
    team_id=1,
    group=MARKET_NEAR,
    fixed=None,
    window=None,
    channels=IN_PERSON,
    minutes=30,
    allow_group=False,
):
    start, end = window or (day, day)
    return Due(
        id=due_id,
        case_id=1000 + due_id,
        team_id=team_id,
        group=group,
        fixed_staff_id=fixed,
        due=day,
        window_start=start,
        window_end=end,
        channels=channels,
        duration_minutes=minutes,
        allow_group_session=allow_group,
    )


def member(staff_id=1, *, team_id=1, share=1.0, cap=10):
    return Staff(id=staff_id, team_id=team_id, part_time_share=share, daily_cap=cap)


def run(dues, slots, staff, **kwargs):
    return plan(dues=dues, slots=slots, staff=staff, today=TODAY, **kwargs)


def by_due(result: PlanResult) -> dict:
    return {p.due_id: p for p in result.placements}


def reasons(result: PlanResult) -> dict:
    return dict(result.unplaced)


def test_beats_first_come_first_served():
    # Greedy in id order books due 1 into Monday's only slot and has nothing left for due 2, who can
    # only come on Monday. The optimum moves due 1 to Tuesday and places both.
    dues = [due(1, MON, window=(MON, TUE)), due(2, MON)]
    slots = [slot(10, MON), slot(11, TUE)]
    result = run(dues, slots, [member()])

    assert by_due(result)[2].slot_id == 10
    assert by_due(result)[1].slot_id == 11
    assert result.placed == result.bound == 2
    assert result.unplaced == []


def test_prefers_the_due_date_then_the_nearest_working_day():
    dues = [due(1, WED, window=(MON, FRI))]
    slots = [slot(10, MON), slot(11, THU), slot(12, FRI)]
    result = run(dues, slots, [member()])
    assert by_due(result)[1].slot_id == 11

    # Over a weekend the distance counts working days: Friday to Monday is one day.
    next_mon = MON + timedelta(days=7)
    result = run(
        [due(1, FRI, window=(MON, next_mon))],
        [slot(10, MON, staff_id=1), slot(11, next_mon)],
        [member()],
    )
    assert by_due(result)[1].slot_id == 11
    assert WorkingDays().distance(FRI, next_mon) == 1
    assert WorkingDays([next_mon]).distance(FRI, next_mon + timedelta(days=1)) == 1


def test_same_input_in_any_order_gives_the_same_plan():
    dues, slots, staff = scenario(dues_count=200, teams=2, staff_per_team=4, days=8, seed=11)
    first = run(dues, slots, staff)
    again = run(dues, slots, staff)
    rng = random.Random(5)
    shuffled = run(
        rng.sample(dues, len(dues)), rng.sample(slots, len(slots)), rng.sample(staff, len(staff))
    )

    assert first.placements == again.placements == shuffled.placements
    assert first.unplaced == again.unplaced == shuffled.unplaced
    assert first.fingerprint == again.fingerprint == shuffled.fingerprint
    assert first.objective == shuffled.objective

    # The fingerprint changes with the input and with the weights.
    moved = [replace(dues[0], due=dues[0].due + timedelta(days=1)), *dues[1:]]
    assert run(moved, slots, staff).fingerprint != first.fingerprint
    assert run(dues, slots, staff, weights=Weights(own_caseworker=1)).fingerprint != (
        first.fingerprint
    )


def test_window_is_respected():
    dues = [due(1, TUE, window=(TUE, WED)), due(2, FRI)]
    slots = [slot(10, MON), slot(11, WED), slot(12, THU)]
    result = run(dues, slots, [member()])

    assert by_due(result)[1].slot_id == 11
    assert reasons(result) == {2: REASON_NO_SLOT_IN_WINDOW}


def test_no_slot_on_or_before_today():
    dues = [due(1, MON, window=(TODAY, MON))]
    slots = [slot(10, TODAY), slot(11, TODAY - timedelta(days=1))]
    result = run(dues, slots, [member()])
    assert reasons(result) == {1: REASON_NO_SLOT_IN_WINDOW}


def test_channel_is_respected():
    dues = [due(1, MON, channels=VIDEO), due(2, MON, channels=PHONE)]
    slots = [slot(10, MON, 9), slot(11, MON, 10, channels=VIDEO | IN_PERSON)]
    result = run(dues, slots, [member()])

    assert by_due(result)[1].slot_id == 11
    assert reasons(result) == {2: REASON_NO_CHANNEL_MATCH}


def test_daily_cap_scaled_by_part_time_share():
    full, half = member(1, cap=4), member(2, share=0.5, cap=4)  # 4 and 2 a day
    slots = [slot(100 * s + h, MON, 8 + h, staff_id=s) for s in (1, 2) for h in range(8)]
    dues = [due(i, MON) for i in range(1, 8)]
    result = run(dues, slots, [full, half])

    booked = {1: 0, 2: 0}
    for placement in result.placements:
        booked[placement.staff_id] += 1
    assert booked == {1: 4, 2: 2}
    assert reasons(result) == {7: REASON_CAPACITY_EXHAUSTED}
    assert result.placed == result.bound == 6

    # Below capacity the load follows the part-time share: 2 of 4 and 1 of 2.
    result = run(dues[:3], slots, [full, half])
    booked = {1: 0, 2: 0}
    for placement in result.placements:
        booked[placement.staff_id] += 1
    assert booked == {1: 2, 2: 1}
    assert utilisation_by_staff(result, slots=slots, staff=[full, half], today=TODAY) == {
        1: 0.5,
        2: 0.5,
    }


def test_potential_customer_stays_with_own_caseworker():
    # The own caseworker already has more to do; the due still goes to them.
    staff = [member(1), member(2)]
    slots = [slot(10 + h, MON, 8 + h, staff_id=1) for h in range(4)]
    slots += [slot(20 + h, MON, 8 + h, staff_id=2) for h in range(4)]
    dues = [due(1, MON, group=POTENTIAL, fixed=2), due(2, MON), due(3, MON)]
    result = run(dues, slots, staff)

    assert by_due(result)[1].staff_id == 2
    assert result.fallbacks == []
    share, eligible = own_caseworker_share(result, dues=dues, slots=slots, staff=staff, today=TODAY)
    assert (share, eligible) == (1.0, 1)


def test_potential_customer_goes_to_a_colleague_with_the_reason():
    staff = [member(1), member(2, cap=1)]
    slots = [slot(10, MON, staff_id=1), slot(11, TUE, 9, staff_id=1), slot(12, TUE, 10, staff_id=1)]
    slots.append(slot(20, MON, staff_id=2))
    dues = [
        due(1, MON, group=POTENTIAL, fixed=2),
        due(2, MON, group=POTENTIAL, fixed=2),  # own caseworker full: one place on Monday
        due(3, TUE, group=POTENTIAL, fixed=2),  # own caseworker has no slot on Tuesday
        due(4, TUE, group=POTENTIAL, fixed=99),  # a caseworker the team does not have
    ]
    result = run(dues, slots, staff)

    placed = by_due(result)
    assert placed[1].staff_id == 2
    assert [placed[i].staff_id for i in (2, 3, 4)] == [1, 1, 1]
    assert dict(result.fallbacks) == {
        2: FALLBACK_OWN_FULL,
        3: FALLBACK_OWN_UNAVAILABLE,
        4: FALLBACK_OWN_UNAVAILABLE,
    }
    assert result.unplaced == []
    # Only dues 1 and 2 had their caseworker available; one of them is with them.
    share, eligible = own_caseworker_share(result, dues=dues, slots=slots, staff=staff, today=TODAY)
    assert (share, eligible) == (0.5, 2)


def test_own_caseworker_a_day_later_beats_a_colleague_on_the_due_date():
    staff = [member(1), member(2)]
    slots = [slot(10, MON, staff_id=1), slot(20, TUE, staff_id=2)]
    dues = [due(1, MON, group=POTENTIAL, fixed=2, window=(MON, WED))]
    assert by_due(run(dues, slots, staff))[1].slot_id == 20
    # With a weight that prefers the due date over the caseworker, the colleague takes it.
    weights = Weights(own_caseworker=50)
    assert by_due(run(dues, slots, staff, weights=weights))[1].slot_id == 10


def test_unplaced_dues_carry_their_reason():
    staff = [member(1, cap=1)]
    slots = [slot(10, MON), slot(11, TUE, channels=PHONE)]
    dues = [
        due(1, MON),
        due(2, MON),  # the cap of 1 is taken
        due(3, WED),  # nothing on Wednesday
        due(4, TUE),  # Tuesday's slot is phone only
        due(5, MON, window=(TUE, MON)),  # a window that ends before it starts
        due(6, TUE, channels=PHONE, minutes=45),  # 30-minute slots only
        due(7, MON, team_id=2),  # a team without staff
    ]
    result = run(dues, slots, staff)

    assert [p.due_id for p in result.placements] == [1]
    assert reasons(result) == {
        2: REASON_CAPACITY_EXHAUSTED,
        3: REASON_NO_SLOT_IN_WINDOW,
        4: REASON_NO_CHANNEL_MATCH,
        5: REASON_INVALID_WINDOW,
        6: REASON_NO_SLOT_LONG_ENOUGH,
        7: REASON_NO_SLOT_IN_WINDOW,
    }
    assert result.bound == result.placed == 1


def test_group_session_takes_administrative_customers_up_to_its_capacity():
    staff = [member(1, cap=0)]  # no individual appointments today: only the group session
    group_slot = slot(50, MON, 10, minutes=90, capacity=3, kind=GROUP)
    dues = [due(i, MON, group=ADMINISTRATIVE, allow_group=True) for i in range(1, 6)]
    dues.append(due(6, MON))  # not allowed into group sessions
    result = run(dues, [group_slot], staff)

    assert sorted(p.due_id for p in result.placements) == [1, 2, 3]
    assert {p.slot_id for p in result.placements} == {50}
    assert reasons(result) == {
        4: REASON_CAPACITY_EXHAUSTED,
        5: REASON_CAPACITY_EXHAUSTED,
        6: REASON_NO_SLOT_IN_WINDOW,
    }
    assert over_capacity_count(result, dues=dues, slots=[group_slot], staff=staff) == 0


def test_group_session_does_not_use_the_daily_cap():
    staff = [member(1, cap=1)]
    slots = [slot(10, MON, 9), slot(50, MON, 10, minutes=90, capacity=5, kind=GROUP)]
    dues = [due(i, MON, group=ADMINISTRATIVE, allow_group=True) for i in range(1, 5)]
    dues.append(due(9, MON))
    result = run(dues, slots, staff)

    assert result.placed == 5
    assert by_due(result)[9].slot_id == 10


def test_bound_equals_placed_when_everything_fits():
    dues, slots, staff = scenario(dues_count=120, teams=2, staff_per_team=4, days=8, seed=2)
    result = run(dues, slots, staff)
    assert result.unplaced == []
    assert result.bound == result.placed == len(dues)


def test_bound_is_the_maximum_flow_when_demand_exceeds_capacity():
    dues, slots, staff = scenario(dues_count=400, teams=2, staff_per_team=3, days=6, seed=4)
    result = run(dues, slots, staff)

    assert result.placed < len(dues)
    assert result.bound == result.placed == maximum_placeable(dues, slots, staff)
    assert REASON_CAPACITY_EXHAUSTED in {reason for _, reason in result.unplaced}


def test_medium_plan_keeps_capacity_and_spreads_the_load():
    dues, slots, staff = scenario(dues_count=500, teams=3, staff_per_team=6, days=10, seed=7)
    result = run(dues, slots, staff)
    figures = plan_metrics(result, dues=dues, slots=slots, staff=staff, today=TODAY)

    assert figures["over_capacity"] == 0
    assert figures["placed"] == figures["bound"]
    assert figures["placed"] >= 0.95 * len(dues)
    assert figures["utilisation_spread"] <= 0.15
    assert figures["own_caseworker_share"] >= 0.85
    assert figures["mean_due_distance_days"] <= 1


def test_over_capacity_count_catches_a_broken_plan():
    staff = [member(1, cap=1)]
    slots = [slot(10, MON, 9), slot(11, MON, 10)]
    dues = [due(1, MON), due(2, MON), due(3, MON, channels=PHONE)]
    broken = PlanResult(
        placements=[Placement(1, 10, 1), Placement(2, 10, 1), Placement(3, 11, 1)],
        unplaced=[],
        objective=0,
        bound=0,
        fingerprint="",
        weights=Weights(),
        seconds=0.0,
    )
    # Slot 10 twice, three appointments above a cap of one (two), due 3 without its channel.
    assert over_capacity_count(broken, dues=dues, slots=slots, staff=staff) == 4


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="duplicate due"):
        run([due(1, MON), due(1, TUE)], [], [member()])
    with pytest.raises(ValueError, match="ends before"):
        run([], [replace(slot(10, MON), end=at(MON, 8))], [member()])
    with pytest.raises(ValueError, match="capacity"):
        run([], [slot(10, MON, capacity=2)], [member()])
    with pytest.raises(ValueError, match="non-negative"):
        Weights(load_balance=-1)


# --- a small generated scenario and an independent maximum flow ----------------------------------


def scenario(*, dues_count, teams, staff_per_team, days, seed):
    """Staff with part-time shares, absences and busy hours; dues with +-2 working-day windows."""
    rng = random.Random(seed)
    horizon = []
    day = MON
    while len(horizon) < days:
        if day.weekday() < 5:
            horizon.append(day)
        day += timedelta(days=1)
    staff, slots = [], []
    for team in range(1, teams + 1):
        for index in range(staff_per_team):
            staff_id = team * 100 + index
            share = rng.choice((0.5, 0.75, 1.0))
            staff.append(member(staff_id, team_id=team, share=share, cap=6))
            channels = ANY if rng.random() < 0.5 else IN_PERSON | PHONE
            for day in horizon:
                if rng.random() < 0.1:
                    continue  # absent
                hours = int(8 * share)
                busy = rng.randrange(hours)
                for hour in range(hours):
                    if hour == busy:
                        continue
                    for minute in (0, 30):
                        start = at(day, 8 + hour, minute)
                        slots.append(
                            Slot(
                                id=len(slots) + 1,
                                staff_id=staff_id,
                                team_id=team,
                                start=start,
                                end=start + timedelta(minutes=30),
                                channels=channels,
                            )
                        )
        host = team * 100
        for day in horizon[1::5]:
            start = at(day, 15)
            slots.append(
                Slot(
                    id=len(slots) + 1,
                    staff_id=host,
                    team_id=team,
                    start=start,
                    end=start + timedelta(minutes=90),
                    channels=IN_PERSON,
                    capacity=8,
                    kind=GROUP,
                )
            )
    team_staff = {t: [m.id for m in staff if m.team_id == t] for t in range(1, teams + 1)}
    dues = []
    for number in range(1, dues_count + 1):
        team = number % teams + 1
        index = rng.randrange(days)
        day = horizon[index]
        window = (horizon[max(0, index - 2)], horizon[min(days - 1, index + 2)])
        roll = rng.random()
        if roll < 0.3:
            dues.append(
                due(
                    number,
                    day,
                    team_id=team,
                    group=POTENTIAL,
                    fixed=rng.choice(team_staff[team]),
                    window=window,
                )
            )
        elif roll < 0.7:
            dues.append(
                due(number, day, team_id=team, window=window, channels=rng.choice((ANY, PHONE)))
            )
        else:
            dues.append(
                due(
                    number, day, team_id=team, group=ADMINISTRATIVE, window=window, allow_group=True
                )
            )
    return dues, slots, staff


def maximum_placeable(dues, slots, staff):
    """The most dues any plan can place, from a plain due -> slot -> staff-day flow network."""
    graph = nx.DiGraph()
    caps = {m.id: m.day_capacity() for m in staff}
    for d in dues:
        graph.add_edge("s", ("due", d.id), capacity=1)
        for s in slots:
            if (
                s.team_id == d.team_id
                and d.window_start <= s.day <= d.window_end
                and s.day > TODAY
                and not d.channels.isdisjoint(s.channels)
                and s.minutes >= d.duration_minutes
                and (s.kind == "individual" or d.allow_group_session)
            ):
                graph.add_edge(("due", d.id), ("slot", s.id), capacity=1)
    for s in slots:
        if s.kind == GROUP:
            graph.add_edge(("slot", s.id), "t", capacity=s.capacity)
        else:
            graph.add_edge(("slot", s.id), ("day", s.staff_id, s.day), capacity=1)
            graph.add_edge(("day", s.staff_id, s.day), "t", capacity=caps[s.staff_id])
    return nx.maximum_flow_value(graph, "s", "t")
