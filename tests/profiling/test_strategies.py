"""Ranking the action strategies: which fit a customer, in which order, and why."""

import pytest

from profiling.models import ActionStrategy
from profiling.rules import conditions_validate
from profiling.strategies import strategies_rank
from tests.profiling.factories_ai import INPUTS, segment_defaults_install


def _strategy(code: str, **fields) -> ActionStrategy:
    """An unsaved catalogue entry: the ranking reads attributes only."""
    values = {
        "name": code.title(),
        "conditions": [],
        "addresses": [],
        "groups": [],
        "priority": 0,
        "active": True,
    }
    return ActionStrategy(code=code, **{**values, **fields})


LANGUAGE = _strategy(
    "language",
    conditions=[{"field": "german", "op": "lte", "value": "B1"}],
    addresses=["german"],
    priority=30,
)
CHILDCARE = _strategy(
    "childcare",
    conditions=[{"field": "care", "op": "in", "value": ["some", "high"]}],
    addresses=["care", "single_parent"],
    priority=25,
)
PLACEMENT = _strategy("placement", groups=["market_near"], priority=80)
GROUP_SESSION = _strategy("group_session", groups=["administrative"], priority=40)
COACHING = _strategy("coaching", addresses=["work_months_5y", "months_unemployed"], priority=10)
CATALOGUE = [LANGUAGE, CHILDCARE, PLACEMENT, GROUP_SESSION, COACHING]


def _rank(inputs: dict, contributions: dict, group: str = "potential", **kwargs) -> list[dict]:
    return strategies_rank(
        strategies=CATALOGUE,
        inputs={**INPUTS, **inputs},
        contributions=contributions,
        group=group,
        **kwargs,
    )


def test_the_inputs_that_lower_the_chances_most_rank_first_with_their_reasons():
    ranked = _rank(
        {"german": "A2", "care": "high", "single_parent": 1},
        {"german": -0.9, "care": -0.4, "single_parent": -0.3, "work_months_5y": 0.2},
    )
    assert [item["code"] for item in ranked] == ["language", "childcare", "coaching"]
    # 0.9 for German, plus priority 30 / 100
    assert ranked[0] == {
        "code": "language",
        "name": "Language",
        "score": 1.2,
        "reasons": ["german"],
    }
    # 0.4 + 0.3 for care and single parent, plus priority 25 / 100
    assert ranked[1] == {
        "code": "childcare",
        "name": "Childcare",
        "score": 0.95,
        "reasons": ["care", "single_parent"],
    }
    # work experience raises this customer's chances: no reason, only the priority counts
    assert ranked[2] == {"code": "coaching", "name": "Coaching", "score": 0.1, "reasons": []}


def test_reasons_are_sorted_strongest_first():
    ranked = _rank({"care": "some"}, {"care": -0.1, "single_parent": -0.6})
    childcare = next(item for item in ranked if item["code"] == "childcare")
    assert childcare["reasons"] == ["single_parent", "care"]


def test_conditions_decide_whether_a_strategy_fits():
    ranked = _rank({"german": "C1", "care": "none"}, {"german": -2.0, "care": -2.0})
    assert "language" not in [item["code"] for item in ranked]
    assert "childcare" not in [item["code"] for item in ranked]


def test_a_missing_input_does_not_make_a_strategy_fit():
    ranked = _rank({"german": None}, {"german": -1.0})
    assert "language" not in [item["code"] for item in ranked]


def test_group_bound_strategies_fit_their_group_only():
    codes = {
        group: [item["code"] for item in _rank({}, {}, group=group)]
        for group in ("market_near", "potential", "administrative")
    }
    assert codes["market_near"] == ["placement", "coaching"]
    assert codes["potential"] == ["coaching"]
    assert codes["administrative"] == ["group_session", "coaching"]


def test_inactive_strategies_are_never_suggested():
    inactive = _strategy("old", priority=99, active=False)
    ranked = strategies_rank(
        strategies=[inactive], inputs=INPUTS, contributions={}, group="potential"
    )
    assert ranked == []


def test_equal_scores_are_ordered_by_code_and_the_limit_applies():
    strategies = [_strategy(code, priority=10) for code in ("d", "b", "a", "c")]
    ranked = strategies_rank(
        strategies=strategies, inputs=INPUTS, contributions={}, group="potential", limit=3
    )
    assert [item["code"] for item in ranked] == ["a", "b", "c"]


def test_strategies_given_as_dicts_rank_the_same():
    as_dict = {"code": "x", "name": "X", "addresses": ["debt"], "priority": 0}
    ranked = strategies_rank(
        strategies=[as_dict], inputs=INPUTS, contributions={"debt": -0.5}, group="potential"
    )
    assert ranked == [{"code": "x", "name": "X", "score": 0.5, "reasons": ["debt"]}]


# --- the starter catalogue of migration 0006 -------------------------------------------------------


@pytest.fixture
def catalogue(db):
    segment_defaults_install()
    return list(ActionStrategy.objects.all())


def test_the_starter_catalogue_is_valid_and_covers_the_issue(catalogue):
    codes = {strategy.code for strategy in catalogue}
    assert {
        "sprachkurs",
        "qualifizierung",
        "anerkennung",
        "kinderbetreuung",
        "gesundheit",
        "schuldnerberatung",
        "wohnungssicherung",
        "bewerbungscoaching",
        "direkte_vermittlung",
        "gruppeninformation",
        "motivationscoaching",
        "mobilitaetshilfe",
    } <= codes
    for strategy in catalogue:
        assert conditions_validate(strategy.conditions) == strategy.conditions
        assert strategy.step_responsible in ("customer", "jobcenter", "third_party")
        assert strategy.customer_text
        assert strategy.step_text


def test_starter_catalogue_for_a_customer_with_obstacles(catalogue):
    inputs = {
        **INPUTS,
        "german": "A2",
        "vocational": "none",
        "care": "high",
        "single_parent": 1,
        "debt": "high",
        "driving_licence": 0,
    }
    contributions = {
        "german": -0.8,
        "vocational": -0.5,
        "care": -0.4,
        "single_parent": -0.2,
        "debt": -0.1,
        "driving_licence": -0.05,
    }
    ranked = strategies_rank(
        strategies=catalogue, inputs=inputs, contributions=contributions, group="potential"
    )
    # language 0.8 + 0.3; childcare 0.4 + 0.2 + 0.25; qualification 0.5 + 0.2; recognition of
    # foreign qualifications 0.5 - 0.1 (it fits everyone, at a low priority); debt 0.1 + 0.2
    assert [item["code"] for item in ranked] == [
        "sprachkurs",
        "kinderbetreuung",
        "qualifizierung",
        "anerkennung",
        "schuldnerberatung",
    ]
    assert ranked[0]["reasons"] == ["german"]
    assert ranked[0]["name"] == "Sprachkurs (Integrations- oder Berufssprachkurs)"


def test_starter_catalogue_puts_direct_placement_first_for_market_near(catalogue):
    ranked = strategies_rank(
        strategies=catalogue, inputs=INPUTS, contributions={}, group="market_near"
    )
    assert ranked[0]["code"] == "direkte_vermittlung"
    assert "gruppeninformation" not in [item["code"] for item in ranked]
