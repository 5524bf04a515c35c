"""The rules engine: checking conditions and rules, applying them, and the text syntax for admins."""

import pytest
from django.utils import translation

from profiling.rules import (
    RulesError,
    condition_holds,
    conditions_format,
    conditions_hold,
    conditions_parse,
    conditions_validate,
    rules_fingerprint,
    rules_lowest_threshold,
    rules_validate,
    segment_for,
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; German is the default."""
    with translation.override("en"):
        yield


def _c(field, op, value) -> dict:
    return {"field": field, "op": op, "value": value}


EVERYONE = {"group": "potential"}
DEFAULT_RULES = [
    {"group": "market_near", "min_probability": 0.4},
    {"group": "administrative", "max_probability": 0.1},
    {
        "group": "administrative",
        "conditions": [_c("motivation", "eq", "low"), _c("health", "eq", "high")],
    },
    EVERYONE,
]


# --- conditions_validate ---------------------------------------------------------------------------


def test_valid_conditions_come_back_in_stored_form():
    checked = conditions_validate(
        [
            _c("motivation", "eq", "low"),
            _c("health", "in", ["some", "high"]),
            _c("work_months_5y", "lt", 12.0),
            _c("driving_licence", "eq", False),
            _c("target_kldb", "in", ["8", "82102"]),
            _c("german", "lte", "B1"),
        ]
    )
    assert checked[2]["value"] == 12
    assert isinstance(checked[2]["value"], int)
    assert checked[3]["value"] == 0
    assert checked[1]["value"] == ["some", "high"]


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ("motivation", "The conditions must be a list."),
        ([{"field": "motivation", "op": "eq"}], 'Condition 1: give exactly "field", "op"'),
        ([_c("income", "eq", 1)], "Condition 1: there is no input called 'income'"),
        ([_c("motivation", "like", "low")], "Condition 1: unknown operator 'like'"),
        ([_c("health", "in", "high")], 'Condition 1: the operator "in" needs a list'),
        ([_c("health", "not_in", [])], 'Condition 1: the operator "not in" needs a list'),
        ([_c("health", "eq", ["high"])], 'Condition 1: the operator "=" takes one value'),
        (
            [_c("motivation", "eq", "low"), _c("health", "eq", "severe")],
            "Condition 2: 'severe' is not a value of health; possible: none, some, high.",
        ),
        ([_c("work_months_5y", "lt", 61)], "61 is not a value of work_months_5y"),
        ([_c("work_months_5y", "lt", "12")], "'12' is not a value of work_months_5y"),
        ([_c("single_parent", "eq", 2)], "2 is not a value of single_parent; possible: 0, 1."),
        ([_c("target_kldb", "eq", "8210x")], "'8210x' is not a value of target_kldb"),
        ([_c("target_kldb", "gt", "8")], "target_kldb cannot be compared by size"),
    ],
)
def test_bad_conditions_are_refused_with_position_and_problem(conditions, message):
    with pytest.raises(RulesError) as raised:
        conditions_validate(conditions)
    assert message in raised.value.message
    assert raised.value.status_code == 400


# --- condition_holds / conditions_hold -------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "inputs", "expected"),
    [
        (_c("motivation", "eq", "low"), {"motivation": "low"}, True),
        (_c("motivation", "ne", "low"), {"motivation": "low"}, False),
        (_c("health", "in", ["some", "high"]), {"health": "some"}, True),
        (_c("health", "not_in", ["some", "high"]), {"health": "some"}, False),
        # ordinal inputs compare by the order of their values, not alphabetically
        (_c("german", "lte", "B1"), {"german": "A2"}, True),
        (_c("german", "lte", "B1"), {"german": "native"}, False),
        (_c("health", "gt", "none"), {"health": "high"}, True),
        (_c("motivation", "gte", "medium"), {"motivation": "low"}, False),
        (_c("work_months_5y", "lt", 12), {"work_months_5y": 11}, True),
        (_c("work_months_5y", "lt", 12), {"work_months_5y": 12}, False),
        (_c("work_months_5y", "lte", 12), {"work_months_5y": 12.0}, True),
        (_c("driving_licence", "eq", 0), {"driving_licence": 0}, True),
        (_c("driving_licence", "eq", 0), {"driving_licence": True}, False),
        (_c("target_kldb", "eq", "8"), {"target_kldb": "82102"}, True),
        (_c("target_kldb", "in", ["2", "43"]), {"target_kldb": "82102"}, False),
        # an input that is not known: no answer
        (_c("motivation", "eq", "low"), {}, None),
        (_c("motivation", "ne", "low"), {"motivation": None}, None),
        (_c("work_months_5y", "lt", 12), {"work_months_5y": ""}, None),
    ],
)
def test_condition_holds(condition, inputs, expected):
    assert condition_holds(condition, inputs) is expected


def test_a_condition_on_a_missing_input_does_not_hold():
    conditions = [_c("motivation", "ne", "high")]
    assert conditions_hold(conditions, {"motivation": "low"}) is True
    assert conditions_hold(conditions, {}) is False
    assert conditions_hold([], {}) is True


# --- rules -----------------------------------------------------------------------------------------


def test_rules_come_back_with_every_key():
    checked = rules_validate(DEFAULT_RULES)
    assert checked[0] == {
        "group": "market_near",
        "min_probability": 0.4,
        "max_probability": None,
        "conditions": [],
    }
    assert checked[-1]["conditions"] == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"group": "potential"}, "The rules must be a list."),
        ([], "Give at least one rule."),
        (
            [{"group": "potential", "max_probability": 0.2}, {"group": "x"}, EVERYONE],
            "Rule 2: unknown customer group 'x'; known groups: market_near, potential, "
            "administrative.",
        ),
        ([{"group": "potential", "threshold": 1}, EVERYONE], "Rule 1: a rule has a group"),
        (
            [{"group": "potential", "min_probability": 1.5}, EVERYONE],
            "Rule 1: the lower bound must be a probability between 0 and 1, not 1.5.",
        ),
        (
            [{"group": "potential", "max_probability": "0.3"}, EVERYONE],
            "Rule 1: the upper bound must be a probability",
        ),
        (
            [{"group": "potential", "min_probability": 0.5, "max_probability": 0.2}, EVERYONE],
            "Rule 1: the lower bound 50 % must be below the upper bound 20 %.",
        ),
        (
            [EVERYONE, {"group": "potential", "conditions": [_c("health", "eq", "x")]}],
            "Rule 2, condition 1: 'x' is not a value of health",
        ),
        (
            [EVERYONE, {"group": "administrative", "max_probability": 0.1}],
            "Rule 2: this is the last rule, so it must apply to everyone",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rules, message):
    with pytest.raises(RulesError) as raised:
        rules_validate(rules)
    assert message in raised.value.message


def test_every_group_need_not_be_reachable():
    assert rules_validate([EVERYONE]) == [
        {"group": "potential", "min_probability": None, "max_probability": None, "conditions": []}
    ]


@pytest.mark.parametrize(
    ("probability", "inputs", "group"),
    [
        (0.40, {"motivation": "low", "health": "high"}, "market_near"),  # min is inclusive
        (0.39, {"motivation": "high"}, "potential"),
        (0.10, {"motivation": "high"}, "potential"),  # max is exclusive
        (0.09, {"motivation": "high"}, "administrative"),
        (0.30, {"motivation": "low", "health": "high"}, "administrative"),
        (0.30, {"motivation": "low", "health": "some"}, "potential"),
        (0.30, {"motivation": "low"}, "potential"),  # health not known: the rule does not apply
    ],
)
def test_segment_for_takes_the_first_rule_that_applies(probability, inputs, group):
    rules = rules_validate(DEFAULT_RULES)
    assert segment_for(rules=rules, probability=probability, inputs=inputs) == group


def test_segment_for_without_a_rule_for_everyone_is_an_error():
    with pytest.raises(RulesError):
        segment_for(
            rules=[{"group": "potential", "min_probability": 0.5}], probability=0.1, inputs={}
        )


def test_lowest_threshold_is_the_lowest_upper_bound():
    assert rules_lowest_threshold(rules_validate(DEFAULT_RULES)) == 0.1
    rules = [
        {"group": "administrative", "max_probability": 0.15},
        {"group": "potential", "min_probability": 0.15, "max_probability": 0.35},
        EVERYONE,
    ]
    assert rules_lowest_threshold(rules_validate(rules)) == 0.15
    assert rules_lowest_threshold([EVERYONE]) is None


def test_fingerprint_changes_with_the_rules():
    rules = rules_validate(DEFAULT_RULES)
    assert rules_fingerprint(rules) == rules_fingerprint(rules_validate(DEFAULT_RULES))
    changed = [dict(rules[0], min_probability=0.45), *rules[1:]]
    assert rules_fingerprint(changed) != rules_fingerprint(rules)


# --- the text syntax -------------------------------------------------------------------------------


def test_parse_the_text_syntax():
    text = (
        "motivation = low; health in some, HIGH; work_months_5y < 12\n"
        "german not in C1, C2, native; driving_licence != 1; target_kldb in [8, 821];"
        " months_unemployed >= 6.5; care <= some; debt > none; housing == none"
    )
    assert conditions_parse(text) == [
        _c("motivation", "eq", "low"),
        _c("health", "in", ["some", "high"]),
        _c("work_months_5y", "lt", 12),
        _c("german", "not_in", ["C1", "C2", "native"]),
        _c("driving_licence", "ne", 1),
        _c("target_kldb", "in", ["8", "821"]),
        _c("months_unemployed", "gte", 6.5),
        _c("care", "lte", "some"),
        _c("debt", "gt", "none"),
        _c("housing", "eq", "none"),
    ]


def test_empty_text_is_no_condition():
    assert conditions_parse("") == []
    assert conditions_parse(" ; ") == []


def test_format_and_parse_round_trip():
    conditions = conditions_validate(
        [
            _c("motivation", "eq", "low"),
            _c("health", "in", ["some", "high"]),
            _c("work_months_5y", "lt", 12),
            _c("region_unemployment_rate", "gte", 7.5),
            _c("german", "not_in", ["native"]),
        ]
    )
    text = conditions_format(conditions)
    assert text == (
        "motivation = low; health in some, high; work_months_5y < 12; "
        "region_unemployment_rate >= 7.5; german not in native"
    )
    assert conditions_parse(text) == conditions
    assert conditions_format([]) == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("= low", "Condition 1 (= low): start with the name of an input"),
        (
            "motivation = low; health ~ high",
            'Condition 2 (health ~ high): after "health" an operator is expected',
        ),
        ("health in", 'Condition 1 (health in): a value is missing after "in"'),
        ("health = some, high", 'the operator "=" takes one value; for several values use "in"'),
        ("motivaton = low", "Condition 1 (motivaton = low): there is no input called 'motivaton'"),
        ("work_months_5y < twelve", "'twelve' is not a value of work_months_5y"),
        ("german in A1, X3", "'X3' is not a value of german"),
    ],
)
def test_parse_errors_name_the_condition_and_the_problem(text, message):
    with pytest.raises(RulesError) as raised:
        conditions_parse(text)
    assert message in raised.value.message
