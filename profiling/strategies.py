"""Ranking the action strategies of the catalogue for one customer. Pure: no database.

A strategy fits when it is active, its conditions hold for the customer's inputs, and its groups
are empty or contain the suggested group. It ranks by how much the inputs it works on
(`addresses`) lower this customer's chances, in log-odds (the model's explanation), plus
priority / 100 as the admins' tie-breaker and nudge. The reasons are those inputs, strongest first.
"""

from collections.abc import Iterable, Mapping

from profiling.rules import conditions_hold

DEFAULT_LIMIT = 5


def _get(strategy, name: str, default=None):
    if isinstance(strategy, Mapping):
        return strategy.get(name, default)
    return getattr(strategy, name, default)


def strategy_fits(strategy, *, inputs: dict, group: str) -> bool:
    if not _get(strategy, "active", True):
        return False
    groups = _get(strategy, "groups") or []
    if groups and group not in groups:
        return False
    conditions = _get(strategy, "conditions") or []
    if isinstance(strategy, Mapping) or not conditions:
        return conditions_hold(conditions, inputs)
    # The batch ranks one loaded catalogue for thousands of customers: remember the answer per
    # combination of the values the conditions read (few: most inputs are levels).
    memo = strategy.__dict__.setdefault("_fits_memo", {})
    key = tuple(inputs.get(condition.get("field")) for condition in conditions)
    if key not in memo:
        memo[key] = conditions_hold(conditions, inputs)
    return memo[key]


def strategies_rank(
    *,
    strategies: Iterable,
    inputs: dict,
    contributions: dict[str, float],
    group: str,
    limit: int = DEFAULT_LIMIT,
) -> list[dict]:
    """The fitting strategies, best first: [{"code", "name", "score", "reasons"}], at most `limit`.

    `contributions`: the log-odds effect of each input on this customer's chances (negative
    lowers them). Ties are broken by code, so the order is the same every time.
    """
    ranked = []
    for strategy in strategies:
        if not strategy_fits(strategy, inputs=inputs, group=group):
            continue
        lowering = {}
        for feature in _get(strategy, "addresses") or []:
            effect = contributions.get(feature)
            if effect is not None and effect < 0:
                lowering[feature] = -float(effect)
        score = sum(lowering.values()) + (_get(strategy, "priority") or 0) / 100
        reasons = sorted(lowering, key=lambda name: (-lowering[name], name))
        ranked.append(
            {
                "code": _get(strategy, "code"),
                "name": str(_get(strategy, "name")),
                "score": round(score, 3),
                "reasons": reasons,
            }
        )
    ranked.sort(key=lambda item: (-item["score"], item["code"]))
    return ranked[: max(limit, 0)]
