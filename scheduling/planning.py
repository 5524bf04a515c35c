"""The optimisation core of an invitation planning run: pure Python, no database.

`plan()` places due invitations into free calendar slots with a min-cost flow (networkx
`network_simplex`, integer costs). The network of one team (supply on the due class nodes):

    due class -> own caseworker's slot class              -> (staff-day bucket) -> staff -> sink
              -> day hub (day, channels, minutes, group?) -> slot class -> (bucket) -> staff -> sink
                                                          -> group session slot           -> sink
              -> sink ("unplaced": a cost that dominates every other cost)

- A *due class* bundles due invitations that are interchangeable (same window, due date, channels,
  duration, fixed caseworker, group-session permission); a *slot class* bundles the individual
  slots of one staff member on one day with the same channels and length. Both are split back into
  single dues and slots after solving, in id / start-time order. This keeps the graph small
  (about 10 arcs per due) without changing the optimum: costs only depend on what a class shares.
  A day hub lets a due reach every suitable caseworker of its team on that day with one arc.
- Capacity: a staff-day takes at most its scaled daily cap (`Staff.day_capacity(day)`: the daily cap
  times the part-time share, rounded, minus the appointments already booked that day,
  `Staff.booked`) and never more than its free slots; a slot takes
  `capacity` customers (1 for an individual slot).
- Costs: `due_distance_per_day` per working day between the due date and the slot's day;
  `own_caseworker` when a due with a fixed caseworker goes to anyone else (the hubs carry every
  caseworker of the team; the own caseworker's slots are reachable directly without the penalty);
  `group_session` for a place in a group session; load balancing by convex (piecewise-linear)
  costs on each staff member's arcs to the sink: the j-th appointment over the horizon costs
  `load_balance * 100 * j // C`, C being the member's capacity over the horizon (the sum of their
  staff-day capacities, so part-time shares, absences and busy times are in it), hence everyone
  fills in proportion to their capacity.
- The unplaced arc costs more than all placements of the team together, so the optimum places the
  maximum number of dues first (lexicographic objective). `bound` is the capacity of the minimum
  cut read off the residual network of the placements (weak duality: no plan can place more);
  it equals the number placed exactly when the plan is maximum. Should the flow ever leave the sink
  reachable, the bound falls back to a separate maximum flow (networkx `maximum_flow_value`).
- Teams do not share staff, so each team is its own network; solving them one by one is exact.
- Determinism: inputs are sorted by id before the graph is built, nodes and arcs are inserted in
  that order and ties in the split-back are broken by id, so the same input (in any order) gives the
  same plan and the same fingerprint.

Rules a caller should know: a slot is usable only on a day after `today` and inside the due's
window (both dates inclusive); a slot fits a due if they share a channel and the slot is at least
as long as the due's duration; only individual slots count against the daily cap (a group session is
one host duty, whatever the number of participants); only dues with `allow_group_session` go into
group sessions (the customer group itself only matters for the figures); a fixed caseworker
(`fixed_staff_id`, set for `potential` customers) from another team counts as unavailable (the due
goes to its team's pool with the fallback reason); a slot's day is `start.date()`, so pass local
wall-clock times (aware or naive, but the same for all slots); the caller hands in free slots only
(working hours minus absences, busy times, holidays, walk-in reserve), which must not overlap for
one staff member. Costs are integers; the run time grows with the largest team, not the number of
teams (about 0.25 s per team of 10 staff and 500 dues on the benchmark machine).
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any, NamedTuple

import networkx as nx

MARKET_NEAR = "market_near"
POTENTIAL = "potential"
ADMINISTRATIVE = "administrative"
GROUPS = (MARKET_NEAR, POTENTIAL, ADMINISTRATIVE)
INDIVIDUAL = "individual"
GROUP = "group"

# Reasons a due stays unplaced.
REASON_INVALID_WINDOW = "invalid_window"
REASON_NO_SLOT_IN_WINDOW = "no_slot_in_window"
REASON_NO_CHANNEL_MATCH = "no_channel_match"
REASON_NO_SLOT_LONG_ENOUGH = "no_slot_long_enough"
REASON_CAPACITY_EXHAUSTED = "capacity_exhausted"
# Set by the database side (scheduling.services_planning), never by plan(): the proposed slot was
# taken between reading the calendars and writing the proposal.
REASON_SLOT_TAKEN = "slot_taken"
# Also set by the database side only: the case would be due, but a person held it back after
# rejecting an invitation (ContactAgreement.hold_*); it never reaches plan().
REASON_HELD = "held"
# Reasons a due with a fixed caseworker went to a colleague: their caseworker had fitting slots in
# the window, but none left at an acceptable cost (taken, or farther from the due date than the
# `own_caseworker` weight is worth) / had no fitting slot in the window (absent, busy, other team).
FALLBACK_OWN_FULL = "own_caseworker_full"
FALLBACK_OWN_UNAVAILABLE = "own_caseworker_unavailable"

LOAD_SCALE = 100  # marginal load cost of a full day, before the weight
MAX_PIECES = 40  # convex pieces per staff member

Id = int | str


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    id: Id
    staff_id: Id
    team_id: Id
    start: datetime
    end: datetime
    channels: frozenset[str]
    capacity: int = 1
    kind: str = INDIVIDUAL

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass(frozen=True, slots=True)
class Staff:
    id: Id
    team_id: Id
    part_time_share: float
    daily_cap: int
    # Appointments the staff member already has, per day: ((day, count), ...). They count against
    # the daily cap (the planner only adds up to the cap minus these).
    booked: tuple[tuple[date, int], ...] = ()

    def day_capacity(self, day: date | None = None) -> int:
        """Individual appointments per working day: the daily cap scaled by the part-time share;
        for a given day minus the appointments already booked that day."""
        scaled = max(0, int(self.daily_cap * self.part_time_share + 0.5))
        if day is None or not self.booked:
            return scaled
        return max(0, scaled - sum(count for booked_day, count in self.booked if booked_day == day))


@dataclass(frozen=True, slots=True)
class Due:
    id: Id
    case_id: Id
    team_id: Id
    group: str
    fixed_staff_id: Id | None
    due: date
    window_start: date
    window_end: date
    channels: frozenset[str]
    duration_minutes: int = 30
    allow_group_session: bool = False


@dataclass(frozen=True, slots=True)
class Weights:
    """Integer cost weights (admin configuration). Placing a due always beats every one of them."""

    own_caseworker: int = 300  # a potential customer with a colleague instead of their caseworker
    due_distance_per_day: int = 100  # per working day between due date and appointment
    load_balance: int = 1  # times 100 for the last appointment a staff member has room for
    group_session: int = 0  # extra cost of a group session place (0: as good as a 1:1 slot)

    def __post_init__(self) -> None:
        for name in ("own_caseworker", "due_distance_per_day", "load_balance", "group_session"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name} must be a non-negative integer, got {value!r}")

    def as_dict(self) -> dict[str, int]:
        return {
            "own_caseworker": self.own_caseworker,
            "due_distance_per_day": self.due_distance_per_day,
            "load_balance": self.load_balance,
            "group_session": self.group_session,
        }


# --- output ----------------------------------------------------------------------------------


class Placement(NamedTuple):
    due_id: Id
    slot_id: Id
    staff_id: Id


class Unplaced(NamedTuple):
    due_id: Id
    reason: str


class Fallback(NamedTuple):
    due_id: Id
    reason: str


@dataclass(frozen=True)
class PlanResult:
    placements: list[Placement]
    unplaced: list[Unplaced]
    objective: int
    bound: int
    fingerprint: str
    weights: Weights
    seconds: float
    # Dues with a fixed caseworker placed with a colleague, and why.
    fallbacks: list[Fallback] = field(default_factory=list)

    @property
    def placed(self) -> int:
        return len(self.placements)


# --- working days ----------------------------------------------------------------------------


class WorkingDays:
    """Monday to Friday without the given holidays; distances count working days."""

    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self._holidays = sorted(d for d in set(holidays) if d.weekday() < 5)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        index = bisect.bisect_left(self._holidays, day)
        return not (index < len(self._holidays) and self._holidays[index] == day)

    def index(self, day: date) -> int:
        """Working days in [0001-01-01, day); 0001-01-01 was a Monday."""
        weeks, rest = divmod(day.toordinal() - 1, 7)
        return weeks * 5 + min(rest, 5) - bisect.bisect_left(self._holidays, day)

    def distance(self, first: date, second: date) -> int:
        return abs(self.index(first) - self.index(second))


# --- helpers ---------------------------------------------------------------------------------


def _id_key(value: Id) -> tuple[int, int | str]:
    return (1, value) if isinstance(value, str) else (0, value)


def _check_unique(kind: str, items: Sequence[Any]) -> None:
    seen: set[Id] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate {kind} id {item.id!r}")
        seen.add(item.id)


def _validate(dues: Sequence[Due], slots: Sequence[Slot], staff: Sequence[Staff]) -> None:
    _check_unique("due", dues)
    _check_unique("slot", slots)
    _check_unique("staff", staff)
    for slot in slots:
        if slot.end <= slot.start:
            raise ValueError(f"slot {slot.id!r} ends before it starts")
        if slot.kind not in (INDIVIDUAL, GROUP):
            raise ValueError(f"slot {slot.id!r} has unknown kind {slot.kind!r}")
        if slot.capacity < 1 or (slot.kind == INDIVIDUAL and slot.capacity != 1):
            raise ValueError(f"slot {slot.id!r} has an invalid capacity {slot.capacity!r}")
    for member in staff:
        if not 0 <= member.part_time_share <= 1 or member.daily_cap < 0:
            raise ValueError(f"staff {member.id!r} has an invalid part-time share or daily cap")
    for due in dues:
        if due.group not in GROUPS:
            raise ValueError(f"due {due.id!r} has unknown customer group {due.group!r}")
        if due.duration_minutes <= 0:
            raise ValueError(f"due {due.id!r} needs a positive duration")


def fingerprint(
    *,
    dues: Sequence[Due],
    slots: Sequence[Slot],
    staff: Sequence[Staff],
    weights: Weights,
    today: date,
    holidays: Iterable[date] = (),
) -> str:
    """sha256 of the canonical input (sorted by id, independent of the order given)."""

    channel_lists: dict[frozenset[str], list[str]] = {}

    def channels(value: frozenset[str]) -> list[str]:
        listed = channel_lists.get(value)
        if listed is None:
            listed = channel_lists[value] = sorted(value)
        return listed

    def by_id(items: Sequence[Any]) -> list[Any]:
        return sorted(items, key=lambda item: _id_key(item.id))

    canonical = {
        "version": 1,
        "today": today.isoformat(),
        "holidays": sorted(d.isoformat() for d in set(holidays)),
        "weights": weights.as_dict(),
        "staff": [
            [m.id, m.team_id, m.part_time_share, m.daily_cap]
            + ([[[d.isoformat(), n] for d, n in sorted(m.booked)]] if m.booked else [])
            for m in by_id(staff)
        ],
        "slots": [
            [
                s.id,
                s.staff_id,
                s.team_id,
                s.start.isoformat(),
                s.end.isoformat(),
                channels(s.channels),
                s.capacity,
                s.kind,
            ]
            for s in by_id(slots)
        ],
        "dues": [
            [
                d.id,
                d.case_id,
                d.team_id,
                d.group,
                d.fixed_staff_id,
                d.due.isoformat(),
                d.window_start.isoformat(),
                d.window_end.isoformat(),
                channels(d.channels),
                d.duration_minutes,
                d.allow_group_session,
            ]
            for d in by_id(dues)
        ],
    }
    text = json.dumps(canonical, separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- one team's network -------------------------------------------------------------------------


@dataclass
class _SlotClass:
    key: tuple[Any, ...]
    staff_id: Id
    day: date
    channels: frozenset[str]
    minutes: int
    slots: list[Slot]


@dataclass
class _DueClass:
    index: int
    fixed_staff_id: Id | None  # only a caseworker of the due's own team
    fixed_requested: bool  # the due named a fixed caseworker (maybe of another team)
    due: date
    window_start: date
    window_end: date
    channels: frozenset[str]
    minutes: int
    allow_group: bool
    dues: list[Due] = field(default_factory=list)


class _TeamCalendar:
    """The usable slots of one team, indexed by day (and by staff member and day)."""

    def __init__(self, slots: Sequence[Slot], today: date) -> None:
        self.classes_by_day: dict[date, list[_SlotClass]] = defaultdict(list)
        self.classes_by_staff_day: dict[tuple[Id, date], list[_SlotClass]] = defaultdict(list)
        self.groups_by_day: dict[date, list[Slot]] = defaultdict(list)
        self.days: list[date] = []
        classes: dict[tuple[Any, ...], _SlotClass] = {}
        for slot in slots:  # sorted by (start, id) by the caller
            day = slot.day
            if day <= today:
                continue
            if slot.kind == GROUP:
                self.groups_by_day[day].append(slot)
                continue
            key = (slot.staff_id, day, tuple(sorted(slot.channels)), slot.minutes)
            slot_class = classes.get(key)
            if slot_class is None:
                slot_class = _SlotClass(key, slot.staff_id, day, slot.channels, slot.minutes, [])
                classes[key] = slot_class
                self.classes_by_day[day].append(slot_class)
                self.classes_by_staff_day[(slot.staff_id, day)].append(slot_class)
            slot_class.slots.append(slot)
        self.days = sorted(set(self.classes_by_day) | set(self.groups_by_day))
        for day_classes in self.classes_by_day.values():
            day_classes.sort(key=lambda c: (_id_key(c.staff_id), c.key[2], c.key[3]))

    def days_in(self, first: date, last: date) -> list[date]:
        low = bisect.bisect_left(self.days, first)
        high = bisect.bisect_right(self.days, last)
        return self.days[low:high]


def _fits(
    channels: frozenset[str], minutes: int, slot_channels: frozenset[str], length: int
) -> bool:
    return length >= minutes and not channels.isdisjoint(slot_channels)


def _unplaced_reason(
    due_class: _DueClass, calendar: _TeamCalendar, *, own_only: bool = False
) -> str:
    """Why nothing fits (or, when something fits, that capacity ran out)."""
    if due_class.window_end < due_class.window_start:
        return REASON_INVALID_WINDOW
    any_slot = channel_match = False
    for day in calendar.days_in(due_class.window_start, due_class.window_end):
        candidates: list[tuple[frozenset[str], int]] = []
        if own_only:
            for slot_class in calendar.classes_by_staff_day.get(
                (due_class.fixed_staff_id, day), []
            ):
                candidates.append((slot_class.channels, slot_class.minutes))
        else:
            candidates.extend((c.channels, c.minutes) for c in calendar.classes_by_day.get(day, []))
            if due_class.allow_group:
                candidates.extend(
                    (s.channels, s.minutes) for s in calendar.groups_by_day.get(day, [])
                )
        for channels, minutes in candidates:
            any_slot = True
            if not due_class.channels.isdisjoint(channels):
                channel_match = True
                if minutes >= due_class.minutes:
                    return REASON_CAPACITY_EXHAUSTED
    if not any_slot:
        return REASON_NO_SLOT_IN_WINDOW
    if not channel_match:
        return REASON_NO_CHANNEL_MATCH
    return REASON_NO_SLOT_LONG_ENOUGH


@dataclass
class _TeamOutcome:
    placements: list[Placement]
    unplaced: list[Unplaced]
    fallbacks: list[Fallback]
    objective: int
    bound: int


def _cut_bound(
    *,
    classes: Sequence[_DueClass],
    arcs: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], int, int]],
    flows: Sequence[int],
    unplaced_flows: Sequence[int],
) -> int | None:
    """Capacity of the s-t cut left by the flow (nodes reachable from the source in the residual
    placement network): an upper bound on the dues any plan can place (weak duality), equal to the
    number placed exactly when the plan places the maximum. None if the sink is reachable."""
    residual: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for (tail, head, capacity, _cost), amount in zip(arcs, flows, strict=False):
        if amount < capacity:
            residual[tail].append(head)
        if amount > 0:
            residual[head].append(tail)
    reached: set[tuple[Any, ...]] = set()
    stack = [("due", c.index) for c, left in zip(classes, unplaced_flows, strict=True) if left > 0]
    reached.update(stack)
    while stack:
        for head in residual.get(stack.pop(), ()):
            if head not in reached:
                reached.add(head)
                stack.append(head)
    if ("sink",) in reached:
        return None
    bound = sum(len(c.dues) for c in classes if ("due", c.index) not in reached)
    for tail, head, capacity, _cost in arcs:
        if tail in reached and head not in reached:
            bound += capacity
    return bound


def _max_flow(
    *,
    classes: Sequence[_DueClass],
    arcs: Sequence[tuple[tuple[Any, ...], tuple[Any, ...], int, int]],
    sink: tuple[Any, ...],
) -> int:
    graph = nx.DiGraph()
    source = ("source",)
    for c in classes:
        graph.add_edge(source, ("due", c.index), capacity=len(c.dues))
    for tail, head, capacity, _cost in arcs:
        if graph.has_edge(tail, head):
            graph[tail][head]["capacity"] += capacity
        else:
            graph.add_edge(tail, head, capacity=capacity)
    if not graph.has_node(sink):
        return 0
    return int(nx.maximum_flow_value(graph, source, sink))


def _solve_team(
    *,
    dues: Sequence[Due],
    slots: Sequence[Slot],
    staff_by_id: dict[Id, Staff],
    team_staff: set[Id],
    weights: Weights,
    today: date,
    working_days: WorkingDays,
) -> _TeamOutcome:
    calendar = _TeamCalendar(slots, today)

    # Due classes, in order of their smallest due id.
    due_classes: dict[tuple[Any, ...], _DueClass] = {}
    for due in dues:
        fixed = due.fixed_staff_id if due.fixed_staff_id in team_staff else None
        key = (
            fixed,
            due.fixed_staff_id is not None,
            due.due,
            due.window_start,
            due.window_end,
            tuple(sorted(due.channels)),
            due.duration_minutes,
            due.allow_group_session,
        )
        due_class = due_classes.get(key)
        if due_class is None:
            due_class = _DueClass(
                len(due_classes),
                fixed,
                due.fixed_staff_id is not None,
                due.due,
                due.window_start,
                due.window_end,
                due.channels,
                due.duration_minutes,
                due.allow_group_session,
            )
            due_classes[key] = due_class
        due_class.dues.append(due)
    classes = list(due_classes.values())

    # Arcs, as (tail, head, capacity, cost); nodes are tuples, inserted in a fixed order. The
    # supply sits on the due class nodes (no source node: fewer arcs for the simplex).
    sink: tuple[Any, ...] = ("sink",)
    arcs: list[tuple[tuple[Any, ...], tuple[Any, ...], int, int]] = []
    hubs: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], int, int]]] = {}

    def hub_targets(day: date, due_class: _DueClass) -> list[tuple[tuple[Any, ...], int, int]]:
        key = (day, tuple(sorted(due_class.channels)), due_class.minutes, due_class.allow_group)
        targets = hubs.get(key)
        if targets is None:
            targets = [
                (("class", c.key), len(c.slots), 0)
                for c in calendar.classes_by_day.get(day, [])
                if _fits(due_class.channels, due_class.minutes, c.channels, c.minutes)
            ]
            if due_class.allow_group:
                targets.extend(
                    (("group", s.id), s.capacity, weights.group_session)
                    for s in calendar.groups_by_day.get(day, [])
                    if _fits(due_class.channels, due_class.minutes, s.channels, s.minutes)
                )
            hubs[key] = targets
        return targets

    max_distance = 0
    own_reachable: dict[int, bool] = {}
    for due_class in classes:
        count = len(due_class.dues)
        node = ("due", due_class.index)
        own_reachable[due_class.index] = False
        due_index = working_days.index(due_class.due)
        first = max(due_class.window_start, today + timedelta(days=1))
        penalty = weights.own_caseworker if due_class.fixed_requested else 0
        for day in calendar.days_in(first, due_class.window_end):
            distance = abs(working_days.index(day) - due_index)
            max_distance = max(max_distance, distance)
            cost = weights.due_distance_per_day * distance
            if due_class.fixed_staff_id is not None:
                for c in calendar.classes_by_staff_day.get((due_class.fixed_staff_id, day), []):
                    if _fits(due_class.channels, due_class.minutes, c.channels, c.minutes):
                        arcs.append((node, ("class", c.key), count, cost))
                        own_reachable[due_class.index] = True
            hub_key = (
                day,
                tuple(sorted(due_class.channels)),
                due_class.minutes,
                due_class.allow_group,
            )
            if hub_targets(day, due_class):
                arcs.append((node, ("hub", *hub_key), count, cost + penalty))

    for hub_key, targets in hubs.items():
        for head, capacity, cost in targets:
            arcs.append((("hub", *hub_key), head, capacity, cost))

    # Slot classes -> staff-day bucket (capacity: the scaled daily cap) -> staff member -> sink.
    # A day with a single slot class (the usual case) needs no bucket node. The staff member's
    # arcs to the sink carry convex costs: the j-th appointment of the horizon costs
    # load_balance * 100 * j / (their capacity over the horizon), in at most MAX_PIECES pieces, so
    # everyone fills in proportion to their capacity (part-time share, absences, busy times).
    horizon_capacity: dict[Id, int] = defaultdict(int)
    for (staff_id, day), slot_classes in sorted(
        calendar.classes_by_staff_day.items(), key=lambda item: (item[0][1], _id_key(item[0][0]))
    ):
        free = sum(len(c.slots) for c in slot_classes)
        capacity = min(staff_by_id[staff_id].day_capacity(day), free)
        if capacity == 0:
            continue
        horizon_capacity[staff_id] += capacity
        if len(slot_classes) == 1:
            arcs.append((("class", slot_classes[0].key), ("staff", staff_id), capacity, 0))
            continue
        bucket = ("bucket", staff_id, day)
        for c in slot_classes:
            arcs.append((("class", c.key), bucket, len(c.slots), 0))
        arcs.append((bucket, ("staff", staff_id), capacity, 0))
    max_load_cost = 0
    for staff_id in sorted(horizon_capacity, key=_id_key):
        total = horizon_capacity[staff_id]
        pieces = min(total, MAX_PIECES)
        done = 0
        for piece in range(pieces):
            upto = total * (piece + 1) // pieces
            cost = weights.load_balance * LOAD_SCALE * upto // total
            max_load_cost = max(max_load_cost, cost)
            arcs.append((("staff", staff_id), sink, upto - done, cost))
            done = upto
    for day in calendar.days:
        for slot in calendar.groups_by_day.get(day, []):
            arcs.append((("group", slot.id), sink, slot.capacity, 0))
    placement_arcs = len(arcs)

    # The unplaced arc dominates: more than every placement of the team together could cost.
    longest_path = (
        weights.due_distance_per_day * max_distance
        + weights.own_caseworker
        + weights.group_session
        + max_load_cost
    )
    unplaced_cost = longest_path * max(len(dues), 1) + 1
    for due_class in classes:
        arcs.append((("due", due_class.index), sink, len(due_class.dues), unplaced_cost))

    # Min-cost flow.
    graph = nx.MultiDiGraph()
    for due_class in classes:
        graph.add_node(("due", due_class.index), demand=-len(due_class.dues))
    graph.add_node(sink, demand=len(dues))
    keys: list[tuple[tuple[Any, ...], tuple[Any, ...], int]] = []
    for tail, head, capacity, cost in arcs:
        key = graph.add_edge(tail, head, capacity=capacity, weight=cost)
        keys.append((tail, head, key))
    objective, flow = nx.network_simplex(graph) if dues else (0, {})
    flows = [int(flow[tail][head][key]) for tail, head, key in keys]

    bound = _cut_bound(
        classes=classes,
        arcs=arcs[:placement_arcs],
        flows=flows,
        unplaced_flows=flows[placement_arcs:],
    )
    if bound is None:  # the sink is reachable: cannot happen for an optimal flow; count exactly
        bound = _max_flow(classes=classes, arcs=arcs[:placement_arcs], sink=sink)

    # Split the flow back into single dues: due classes -> hubs / own slot classes / unplaced.
    arrivals: dict[tuple[Any, ...], list[tuple[Due, _DueClass]]] = defaultdict(list)
    unplaced: list[Unplaced] = []
    out_arcs: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], int]]] = defaultdict(list)
    for (tail, head, _key), amount in zip(keys, flows, strict=True):
        if amount > 0:
            out_arcs[tail].append((head, amount))
    for due_class in classes:
        node = ("due", due_class.index)
        pending = list(due_class.dues)
        for head, amount in out_arcs.get(node, []):
            taken, pending = pending[:amount], pending[amount:]
            if head == sink:
                reason = _unplaced_reason(due_class, calendar)
                unplaced.extend(Unplaced(d.id, reason) for d in taken)
            else:
                arrivals[head].extend((d, due_class) for d in taken)
    for hub_key in hubs:
        node = ("hub", *hub_key)
        pending = arrivals.pop(node, [])
        for head, amount in out_arcs.get(node, []):
            taken, pending = pending[:amount], pending[amount:]
            arrivals[head].extend(taken)

    placements: list[Placement] = []
    fallbacks: list[Fallback] = []
    slot_classes = {c.key: c for cs in calendar.classes_by_day.values() for c in cs}
    group_slots = {s.id: s for ss in calendar.groups_by_day.values() for s in ss}
    for head, arrived in arrivals.items():
        if head[0] == "class":
            slot_class = slot_classes[head[1]]
            targets = [slot for slot in slot_class.slots for _ in range(slot.capacity)]
            if len(arrived) > len(targets):  # cannot happen: the arc capacity is the slot count
                raise RuntimeError("flow exceeds the capacity of a slot class")
            pairs = zip(arrived, targets, strict=False)
        else:
            slot = group_slots[head[1]]
            pairs = ((item, slot) for item in arrived)
        for (due, due_class), slot in pairs:
            placements.append(Placement(due.id, slot.id, slot.staff_id))
            if due.fixed_staff_id is not None and slot.staff_id != due.fixed_staff_id:
                reason = (
                    FALLBACK_OWN_FULL
                    if own_reachable.get(due_class.index)
                    else FALLBACK_OWN_UNAVAILABLE
                )
                fallbacks.append(Fallback(due.id, reason))
    placed_cost = int(objective) - unplaced_cost * len(unplaced)
    return _TeamOutcome(placements, unplaced, fallbacks, placed_cost, bound)


# --- entry point -------------------------------------------------------------------------------


def plan(
    *,
    dues: Iterable[Due],
    slots: Iterable[Slot],
    staff: Iterable[Staff],
    weights: Weights | None = None,
    today: date,
    holidays: Iterable[date] = (),
) -> PlanResult:
    """Place every due invitation it can; deterministic for the same input in any order.

    `objective` is the total cost of the placements (without the unplaced penalties, which are
    `len(unplaced)` times a team-dependent constant); `bound` the most dues any plan could place.
    """
    started = perf_counter()
    weights = weights or Weights()
    holidays = frozenset(holidays)
    dues = sorted(dues, key=lambda d: _id_key(d.id))
    slots = sorted(slots, key=lambda s: (s.start, _id_key(s.id)))
    staff = sorted(staff, key=lambda m: _id_key(m.id))
    _validate(dues, slots, staff)
    print_ = fingerprint(
        dues=dues, slots=slots, staff=staff, weights=weights, today=today, holidays=holidays
    )
    working_days = WorkingDays(holidays)
    staff_by_id = {member.id: member for member in staff}

    team_staff: dict[Id, set[Id]] = defaultdict(set)
    for member in staff:
        team_staff[member.team_id].add(member.id)
    slots_by_team: dict[Id, list[Slot]] = defaultdict(list)
    for slot in slots:
        host = staff_by_id.get(slot.staff_id)
        # A slot belongs to its host's team; slots of unknown staff are not usable.
        if host is not None and host.team_id == slot.team_id:
            slots_by_team[slot.team_id].append(slot)
    dues_by_team: dict[Id, list[Due]] = defaultdict(list)
    for due in dues:
        dues_by_team[due.team_id].append(due)

    placements: list[Placement] = []
    unplaced: list[Unplaced] = []
    fallbacks: list[Fallback] = []
    objective = bound = 0
    for team_id in sorted(dues_by_team, key=_id_key):  # teams share no staff: exact
        members = team_staff.get(team_id, set())
        outcome = _solve_team(
            dues=dues_by_team[team_id],
            slots=slots_by_team.get(team_id, []),
            staff_by_id={staff_id: staff_by_id[staff_id] for staff_id in members},
            team_staff=members,
            weights=weights,
            today=today,
            working_days=working_days,
        )
        placements.extend(outcome.placements)
        unplaced.extend(outcome.unplaced)
        fallbacks.extend(outcome.fallbacks)
        objective += outcome.objective
        bound += outcome.bound

    placements.sort(key=lambda p: _id_key(p.due_id))
    unplaced.sort(key=lambda u: _id_key(u.due_id))
    fallbacks.sort(key=lambda f: _id_key(f.due_id))
    return PlanResult(
        placements=placements,
        unplaced=unplaced,
        objective=objective,
        bound=bound,
        fingerprint=print_,
        weights=weights,
        seconds=perf_counter() - started,
        fallbacks=fallbacks,
    )


# --- figures of a plan --------------------------------------------------------------------------


def _usable_individual(slots: Iterable[Slot], today: date) -> list[Slot]:
    return [s for s in slots if s.kind == INDIVIDUAL and s.day > today]


def utilisation_by_staff(
    result: PlanResult, *, slots: Iterable[Slot], staff: Iterable[Staff], today: date
) -> dict[Id, float]:
    """Booked minutes / available minutes of individual appointments, per staff member.

    Available on a day: as many of the day's free slots as the scaled daily cap allows (a day's
    mean slot length each). Group sessions are host duties and count on neither side. Staff
    without any available minute in the horizon (absent throughout) are left out.
    """
    by_id = {s.id: s for s in slots}
    members = {m.id: m for m in staff}
    per_day: dict[tuple[Id, date], list[Slot]] = defaultdict(list)
    for slot in _usable_individual(by_id.values(), today):
        per_day[(slot.staff_id, slot.day)].append(slot)
    available: dict[Id, float] = defaultdict(float)
    for (staff_id, day), day_slots in per_day.items():
        member = members.get(staff_id)
        if member is None:
            continue
        units = min(member.day_capacity(day), len(day_slots))
        mean_minutes = sum(s.minutes for s in day_slots) / len(day_slots)
        available[staff_id] += units * mean_minutes
    booked: dict[Id, float] = defaultdict(float)
    for placement in result.placements:
        slot = by_id.get(placement.slot_id)
        if slot is not None and slot.kind == INDIVIDUAL:
            booked[slot.staff_id] += slot.minutes
    return {
        staff_id: booked.get(staff_id, 0.0) / minutes
        for staff_id, minutes in sorted(available.items(), key=lambda item: _id_key(item[0]))
        if minutes > 0
    }


def utilisation_spread_by_team(
    result: PlanResult, *, slots: Iterable[Slot], staff: Iterable[Staff], today: date
) -> dict[Id, float]:
    """Max minus min utilisation among the staff of each team (see `utilisation_by_staff`)."""
    staff = list(staff)
    utilisation = utilisation_by_staff(result, slots=slots, staff=staff, today=today)
    by_team: dict[Id, list[float]] = defaultdict(list)
    for member in staff:
        if member.id in utilisation:
            by_team[member.team_id].append(utilisation[member.id])
    return {
        team: max(values) - min(values)
        for team, values in sorted(by_team.items(), key=lambda item: _id_key(item[0]))
    }


def own_caseworker_share(
    result: PlanResult,
    *,
    dues: Iterable[Due],
    slots: Iterable[Slot],
    staff: Iterable[Staff],
    today: date,
) -> tuple[float | None, int]:
    """Share of `potential` dues placed with their own caseworker, among those whose caseworker
    has capacity: the caseworker is in the due's team, has a daily capacity and a fitting
    individual slot inside the window. Returns (share or None, number of such dues)."""
    members = {m.id: m for m in staff}
    per_staff_day: dict[tuple[Id, date], list[Slot]] = defaultdict(list)
    for slot in _usable_individual(slots, today):
        per_staff_day[(slot.staff_id, slot.day)].append(slot)
    staff_of_placement = {p.due_id: p.staff_id for p in result.placements}
    eligible = own = 0
    for due in dues:
        member = members.get(due.fixed_staff_id) if due.group == POTENTIAL else None
        if member is None or member.team_id != due.team_id or member.day_capacity() == 0:
            continue
        day = max(due.window_start, today + timedelta(days=1))
        fits = False
        while day <= due.window_end and not fits:
            fits = any(
                _fits(due.channels, due.duration_minutes, s.channels, s.minutes)
                for s in per_staff_day.get((member.id, day), [])
            )
            day += timedelta(days=1)
        if fits:
            eligible += 1
            own += staff_of_placement.get(due.id) == member.id
    return (own / eligible if eligible else None), eligible


def mean_due_distance_days(
    result: PlanResult,
    *,
    dues: Iterable[Due],
    slots: Iterable[Slot],
    holidays: Iterable[date] = (),
) -> float | None:
    """Mean distance in working days between due date and appointment, over placed dues."""
    working_days = WorkingDays(holidays)
    due_by_id = {d.id: d for d in dues}
    slot_by_id = {s.id: s for s in slots}
    distances = [
        working_days.distance(due_by_id[p.due_id].due, slot_by_id[p.slot_id].day)
        for p in result.placements
    ]
    return sum(distances) / len(distances) if distances else None


def over_capacity_count(
    result: PlanResult, *, dues: Iterable[Due], slots: Iterable[Slot], staff: Iterable[Staff]
) -> int:
    """Everything a plan must never do, counted (0 for a valid plan): bookings above a slot's
    capacity, individual appointments above a staff member's scaled daily cap, overlapping
    individual appointments of one staff member, a due placed twice, outside its window, in a
    slot without a shared channel, too short or of another team."""
    slot_by_id = {s.id: s for s in slots}
    due_by_id = {d.id: d for d in dues}
    members = {m.id: m for m in staff}
    problems = 0
    per_slot: dict[Id, int] = defaultdict(int)
    seen: set[Id] = set()
    for placement in result.placements:
        slot, due = slot_by_id[placement.slot_id], due_by_id[placement.due_id]
        per_slot[slot.id] += 1
        problems += placement.due_id in seen
        seen.add(placement.due_id)
        problems += not (due.window_start <= slot.day <= due.window_end)
        problems += not _fits(due.channels, due.duration_minutes, slot.channels, slot.minutes)
        problems += slot.team_id != due.team_id or placement.staff_id != slot.staff_id
        problems += slot.kind == GROUP and not due.allow_group_session
    per_staff_day: dict[tuple[Id, date], list[Slot]] = defaultdict(list)
    appointments: dict[tuple[Id, date], int] = defaultdict(int)
    for slot_id, count in per_slot.items():
        slot = slot_by_id[slot_id]
        problems += max(0, count - slot.capacity)
        if slot.kind == INDIVIDUAL:
            per_staff_day[(slot.staff_id, slot.day)].append(slot)
            appointments[(slot.staff_id, slot.day)] += count
    for (staff_id, day), booked in per_staff_day.items():
        problems += max(0, appointments[(staff_id, day)] - members[staff_id].day_capacity(day))
        booked.sort(key=lambda s: s.start)
        problems += sum(1 for a, b in zip(booked, booked[1:], strict=False) if b.start < a.end)
    return problems


def plan_metrics(
    result: PlanResult,
    *,
    dues: Sequence[Due],
    slots: Sequence[Slot],
    staff: Sequence[Staff],
    today: date,
    holidays: Iterable[date] = (),
) -> dict[str, Any]:
    """The figures of a run, as stored with it and printed by benchmarks/scheduling.py."""
    spreads = utilisation_spread_by_team(result, slots=slots, staff=staff, today=today)
    share, eligible = own_caseworker_share(result, dues=dues, slots=slots, staff=staff, today=today)
    distance = mean_due_distance_days(result, dues=dues, slots=slots, holidays=holidays)
    unplaced_reasons: dict[str, int] = defaultdict(int)
    for item in result.unplaced:
        unplaced_reasons[item.reason] += 1
    return {
        "dues": len(dues),
        "placed": result.placed,
        "bound": result.bound,
        "placed_ratio": result.placed / result.bound if result.bound else 1.0,
        "unplaced": len(result.unplaced),
        "unplaced_reasons": dict(sorted(unplaced_reasons.items())),
        "fallbacks": len(result.fallbacks),
        "over_capacity": over_capacity_count(result, dues=dues, slots=slots, staff=staff),
        "utilisation_spread": max(spreads.values()) if spreads else 0.0,
        "utilisation_spread_by_team": spreads,
        "own_caseworker_share": share,
        "own_caseworker_eligible": eligible,
        "mean_due_distance_days": distance,
        "objective": result.objective,
    }
