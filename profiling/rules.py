"""Conditions on model inputs and the customer group rules: check them, apply them, write them as text.

Pure functions, no database. The segment rules (profiling.models.SegmentRuleSet.rules) and the
action strategies (ActionStrategy.conditions) share the condition format:

    [{"field": "motivation", "op": "eq", "value": "low"},
     {"field": "health", "op": "in", "value": ["some", "high"]},
     {"field": "work_months_5y", "op": "lt", "value": 12}]

`field` is a model input (profiling.model.features.FEATURES); `op` one of OPERATORS. Values must
fit the input: an ordinal input takes its values (and compares by their order with lt..gte), a
number input a number within its range, a binary input 0 or 1, the target occupation (KldB 2010)
the first 1 to 5 digits of a code (it matches every code starting with them; no lt..gte).

Admins write conditions as text, one per `;` (or line), e.g.
    motivation = low; health in some, high; work_months_5y < 12
with the operators = != in "not in" < <= > >= (see conditions_parse / conditions_format).

A rule list is ordered; the first rule whose probability bounds (min inclusive, max exclusive) and
conditions hold decides the group; the last rule must apply to everyone.
"""

import hashlib
import json
import math
import re

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cases.models import CustomerGroup
from jobcenter.exceptions import ApplicationError
from profiling.model.features import FEATURE_BY_NAME, FEATURE_NAMES, Feature

OPERATORS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte")
LIST_OPERATORS = ("in", "not_in")
ORDER_OPERATORS = ("lt", "lte", "gt", "gte")
# The text syntax of each operator.
SYMBOLS = {
    "eq": "=",
    "ne": "!=",
    "in": "in",
    "not_in": "not in",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
}
RULE_KEYS = ("group", "min_probability", "max_probability", "conditions")
CONDITION_KEYS = {"field", "op", "value"}
KLDB_PREFIX = re.compile(r"^[0-9]{1,5}\Z")


class RulesError(ApplicationError):
    """A condition or rule is malformed. `extra` names where: "rule" and "condition" (from 1)."""


def _quoted(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _percent(probability: float) -> str:
    return f"{probability * 100:g} %"


def _where(*, rule: int | None, condition: int | None, text: str | None = None) -> str:
    if rule is not None and condition is not None:
        return _("Rule %(rule)d, condition %(condition)d") % {"rule": rule, "condition": condition}
    if rule is not None:
        return _("Rule %(rule)d") % {"rule": rule}
    if text is not None:
        return _("Condition %(condition)d (%(text)s)") % {"condition": condition, "text": text}
    return _("Condition %(condition)d") % {"condition": condition}


def _fail(what: str, *, rule: int | None = None, condition: int | None = None, **extra):
    """Raise a RulesError whose message starts with the position, e.g. "Rule 3, condition 2: …"."""
    if rule is None and condition is None:
        message = capfirst(what)
    else:
        message = _("%(where)s: %(problem)s") % {
            "where": _where(rule=rule, condition=condition, text=extra.get("text")),
            "problem": what,
        }
    raise RulesError(message, extra={"rule": rule, "condition": condition, **extra})


# --- checking conditions ---------------------------------------------------------------------------


def _possible(feature: Feature) -> str:
    if feature.kind == "ordinal":
        return ", ".join(feature.values)
    if feature.kind == "binary":
        return "0, 1"
    if feature.kind == "kldb":
        return _("1 to 5 digits of a KldB 2010 code, e.g. 8 or 82102")
    return _("a number from %(min)s to %(max)s") % {
        "min": f"{feature.minimum:g}",
        "max": f"{feature.maximum:g}",
    }


def _value_checked(feature: Feature, value, *, where: dict):
    """The value in its stored form, or RulesError when it does not fit the input."""
    if feature.kind == "ordinal" and isinstance(value, str) and value in feature.values:
        return value
    if feature.kind == "binary" and type(value) in (int, bool) and value in (0, 1):
        return int(value)
    if (
        feature.kind == "number"
        and type(value) in (int, float)
        and math.isfinite(value)
        and (feature.minimum is None or value >= feature.minimum)
        and (feature.maximum is None or value <= feature.maximum)
    ):
        return int(value) if float(value).is_integer() else float(value)
    if feature.kind == "kldb" and isinstance(value, str) and KLDB_PREFIX.match(value):
        return value
    _fail(
        _("%(value)s is not a value of %(field)s; possible: %(possible)s.")
        % {"value": _quoted(value), "field": feature.name, "possible": _possible(feature)},
        problem="value",
        **where,
    )


def _condition_checked(condition, *, where: dict) -> dict:
    if not isinstance(condition, dict) or set(condition) != CONDITION_KEYS:
        _fail(
            _(
                'give exactly "field", "op" and "value", e.g. {"field": "motivation", '
                '"op": "eq", "value": "low"}.'
            ),
            problem="shape",
            **where,
        )
    name, op, value = condition["field"], condition["op"], condition["value"]
    feature = FEATURE_BY_NAME.get(name) if isinstance(name, str) else None
    if feature is None:
        _fail(
            _("there is no input called %(field)s; known inputs: %(known)s.")
            % {"field": _quoted(name), "known": ", ".join(FEATURE_NAMES)},
            problem="field",
            **where,
        )
    if op not in OPERATORS:
        _fail(
            _("unknown operator %(op)s; possible: %(known)s.")
            % {"op": _quoted(op), "known": ", ".join(OPERATORS)},
            problem="op",
            **where,
        )
    if feature.kind == "kldb" and op in ORDER_OPERATORS:
        _fail(
            _("%(field)s cannot be compared by size; use =, !=, in or not in.")
            % {"field": feature.name},
            problem="op",
            **where,
        )
    if op in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            _fail(
                _('the operator "%(op)s" needs a list of one or more values, e.g. some, high.')
                % {"op": SYMBOLS[op]},
                problem="list",
                **where,
            )
        checked = [_value_checked(feature, item, where=where) for item in value]
    else:
        if isinstance(value, list):
            _fail(
                _('the operator "%(op)s" takes one value; for several values use "in".')
                % {"op": SYMBOLS[op]},
                problem="list",
                **where,
            )
        checked = _value_checked(feature, value, where=where)
    return {"field": feature.name, "op": op, "value": checked}


def _conditions_checked(conditions, *, rule: int | None = None, texts=None) -> list[dict]:
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        _fail(_("the conditions must be a list."), rule=rule, problem="shape")
    result = []
    for number, condition in enumerate(conditions, start=1):
        where = {"rule": rule, "condition": number}
        if texts is not None:
            where["text"] = texts[number - 1]
        result.append(_condition_checked(condition, where=where))
    return result


def conditions_validate(conditions) -> list[dict]:
    """The conditions in their stored form; RulesError names the first condition that is wrong."""
    return _conditions_checked(conditions)


# --- applying conditions ---------------------------------------------------------------------------


def _comparable(feature: Feature, value):
    """A value of the input as something to compare: an ordinal's position, a number, a code."""
    if value is None or value == "":
        return None
    if feature.kind == "ordinal":
        try:
            return feature.values.index(value)
        except ValueError:
            return None
    if feature.kind == "binary":
        if value in (1, True, "1", "true"):
            return 1
        if value in (0, False, "0", "false"):
            return 0
        return None
    if feature.kind == "kldb":
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _equal(feature: Feature, actual, value) -> bool:
    if feature.kind == "kldb":
        return actual.startswith(str(value))
    return actual == _comparable(feature, value)


def condition_holds(condition: dict, inputs: dict) -> bool | None:
    """Whether the condition holds for these inputs; None when the input is not known."""
    feature = FEATURE_BY_NAME.get(condition.get("field"))
    if feature is None:
        return None
    actual = _comparable(feature, inputs.get(feature.name))
    if actual is None:
        return None
    op, value = condition.get("op"), condition.get("value")
    if op in LIST_OPERATORS:
        if not isinstance(value, list):
            return None
        found = any(_equal(feature, actual, item) for item in value)
        return found if op == "in" else not found
    if op == "eq":
        return _equal(feature, actual, value)
    if op == "ne":
        return not _equal(feature, actual, value)
    if op not in ORDER_OPERATORS or feature.kind == "kldb":
        return None
    target = _comparable(feature, value)
    if target is None:
        return None
    if op == "lt":
        return actual < target
    if op == "lte":
        return actual <= target
    if op == "gt":
        return actual > target
    return actual >= target


def conditions_hold(conditions: list[dict], inputs: dict) -> bool:
    """All conditions hold; one whose input is not known does not hold."""
    return all(condition_holds(condition, inputs) is True for condition in conditions or [])


# --- the customer group rules ----------------------------------------------------------------------


def _probability_checked(value, *, rule: int, bound: str):
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= 1:
        if bound == "min":
            problem = _("the lower bound must be a probability between 0 and 1, not %(value)s.")
        else:
            problem = _("the upper bound must be a probability between 0 and 1, not %(value)s.")
        _fail(problem % {"value": _quoted(value)}, rule=rule, problem=f"{bound}_probability")
    return float(value)


def _rule_checked(rule, *, number: int) -> dict:
    if not isinstance(rule, dict) or "group" not in rule or set(rule) - set(RULE_KEYS):
        _fail(
            _("a rule has a group and may have min_probability, max_probability and conditions."),
            rule=number,
            problem="shape",
        )
    group = rule["group"]
    if group not in CustomerGroup.values:
        _fail(
            _("unknown customer group %(group)s; known groups: %(known)s.")
            % {"group": _quoted(group), "known": ", ".join(CustomerGroup.values)},
            rule=number,
            problem="group",
        )
    low = _probability_checked(rule.get("min_probability"), rule=number, bound="min")
    high = _probability_checked(rule.get("max_probability"), rule=number, bound="max")
    if low is not None and high is not None and low >= high:
        _fail(
            _("the lower bound %(min)s must be below the upper bound %(max)s.")
            % {"min": _percent(low), "max": _percent(high)},
            rule=number,
            problem="bounds",
        )
    return {
        "group": group,
        "min_probability": low,
        "max_probability": high,
        "conditions": _conditions_checked(rule.get("conditions"), rule=number),
    }


def rule_applies_to_everyone(rule: dict) -> bool:
    return (
        not rule.get("min_probability")
        and rule.get("max_probability") is None
        and not rule.get("conditions")
    )


def rules_validate(rules) -> list[dict]:
    """The rules in their stored form (every key present); RulesError names the rule at fault."""
    if not isinstance(rules, list):
        _fail(_("the rules must be a list."), problem="shape")
    if not rules:
        _fail(_("give at least one rule."), problem="empty")
    checked = [_rule_checked(rule, number=number) for number, rule in enumerate(rules, start=1)]
    if not rule_applies_to_everyone(checked[-1]):
        _fail(
            _(
                "this is the last rule, so it must apply to everyone: leave its bounds and "
                "conditions empty. It decides for everyone no rule before it applies to."
            ),
            rule=len(checked),
            problem="last",
        )
    return checked


def rule_matches(rule: dict, *, probability: float, inputs: dict) -> bool:
    low, high = rule.get("min_probability"), rule.get("max_probability")
    if low is not None and probability < low:
        return False
    if high is not None and probability >= high:
        return False
    return conditions_hold(rule.get("conditions") or [], inputs)


def segment_for(*, rules: list[dict], probability: float, inputs: dict) -> str:
    """The group of the first rule that applies."""
    for rule in rules:
        if rule_matches(rule, probability=probability, inputs=inputs):
            return rule["group"]
    # Validated rules end with one that applies to everyone.
    _fail(_("no rule applies; the last rule must apply to everyone."), problem="last")


def rules_lowest_threshold(rules: list[dict]) -> float | None:
    """The lowest upper bound of any rule: below it the fairness audit counts the share put there."""
    bounds = [rule["max_probability"] for rule in rules if rule.get("max_probability") is not None]
    return min(bounds) if bounds else None


def rules_fields(rules: list[dict]) -> set[str]:
    """The inputs the rules' conditions read."""
    return {
        condition.get("field")
        for rule in rules
        for condition in rule.get("conditions") or []
        if condition.get("field") in FEATURE_BY_NAME
    }


def rules_bounds(rules: list[dict]) -> list[float]:
    """Every probability bound of the rules, ascending: between two, the rules decide alike."""
    return sorted(
        {
            rule[key]
            for rule in rules
            for key in ("min_probability", "max_probability")
            if rule.get(key) is not None
        }
    )


def rules_fingerprint(rules: list[dict]) -> str:
    """A short hash of the rules in their stored form: the same rules, the same fingerprint."""
    text = json.dumps(rules, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- the text syntax for admins --------------------------------------------------------------------

_SEPARATOR = re.compile(r"[;\n]")
_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
_OPERATOR = re.compile(r"\s*(not\s+in\b|in\b|!=|<=|>=|==|=|<|>)", re.IGNORECASE)
_TEXT_OPERATORS = {
    "=": "eq",
    "==": "eq",
    "!=": "ne",
    "in": "in",
    "not in": "not_in",
    "<": "lt",
    "<=": "lte",
    ">": "gt",
    ">=": "gte",
}


def _text_value(feature: Feature | None, token: str):
    """A token of the text syntax as the value it stands for (checked afterwards)."""
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        token = token[1:-1].strip()
    if feature is None or feature.kind == "kldb":
        return token
    if feature.kind == "ordinal":
        for value in feature.values:
            if value.lower() == token.lower():
                return value
        return token
    if feature.kind == "binary":
        return {"0": 0, "1": 1, "false": 0, "true": 1}.get(token.lower(), token)
    try:
        number = float(token)
    except ValueError:
        return token
    return int(number) if number.is_integer() else number


def _condition_parsed(piece: str, *, number: int) -> dict:
    where = {"condition": number, "text": piece}
    field_match = _FIELD.match(piece)
    if field_match is None:
        _fail(_("start with the name of an input, e.g. motivation."), problem="field", **where)
    name = field_match.group(1)
    operator_match = _OPERATOR.match(piece, field_match.end())
    if operator_match is None:
        _fail(
            _('after "%(field)s" an operator is expected: =, !=, in, not in, <, <=, > or >=.')
            % {"field": name},
            problem="op",
            **where,
        )
    symbol = " ".join(operator_match.group(1).lower().split())
    op = _TEXT_OPERATORS[symbol]
    rest = piece[operator_match.end() :].strip()
    if not rest:
        _fail(
            _('a value is missing after "%(op)s".') % {"op": SYMBOLS[op]}, problem="value", **where
        )
    if op not in LIST_OPERATORS and "," in rest:
        _fail(
            _('the operator "%(op)s" takes one value; for several values use "in".')
            % {"op": SYMBOLS[op]},
            problem="list",
            **where,
        )
    feature = FEATURE_BY_NAME.get(name)
    if op in LIST_OPERATORS:
        if rest[0] + rest[-1] in ("[]", "()"):
            rest = rest[1:-1]
        value = [_text_value(feature, token) for token in rest.split(",") if token.strip()]
    else:
        value = _text_value(feature, rest)
    return {"field": name, "op": op, "value": value}


def conditions_parse(text: str) -> list[dict]:
    """The conditions written as text, checked; RulesError names the condition and the problem."""
    pieces = [piece.strip() for piece in _SEPARATOR.split(text or "") if piece.strip()]
    conditions = [
        _condition_parsed(piece, number=number) for number, piece in enumerate(pieces, start=1)
    ]
    return _conditions_checked(conditions, texts=pieces)


def _value_text(value) -> str:
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


def conditions_format(conditions: list[dict]) -> str:
    """The conditions in the text syntax, e.g. "motivation = low; health in some, high"."""
    parts = []
    for condition in conditions or []:
        value = condition["value"]
        if isinstance(value, list):
            shown = ", ".join(_value_text(item) for item in value)
        else:
            shown = _value_text(value)
        parts.append(
            f"{condition['field']} {SYMBOLS.get(condition['op'], condition['op'])} {shown}"
        )
    return "; ".join(parts)
