"""Plain texts for the AI's suggestions: what each input says, for staff and for the customer.

For every model input (profiling.model.features) and value there is a short phrase for the
caseworker ("German at level A2", "unemployed for 3 years", "completed vocational training") and
a sentence in plain language for the customer, one for an input that raises the chances and one
for an input that lowers them ("Your vocational training helps you in your search."). The missing
inputs get a sentence that says how they limit the suggestion ("Motivation is not recorded:
depending on it, the probability lies between 12 % and 31 %.").

Everything is translated when it is shown (msgids in English, German in the catalogue), so the
stored suggestion keeps only features, values and numbers, and reads in the reader's language.
"""

from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from profiling.model.features import FEATURE_BY_NAME

RAISES = "raises"
LOWERS = "lowers"

# The name of each input, to stand inside a sentence (lower case unless a noun in German).
FEATURE_LABELS = {
    "school": gettext_lazy("school-leaving certificate"),
    "vocational": gettext_lazy("vocational qualification"),
    "german": gettext_lazy("German language skills"),
    "work_months_5y": gettext_lazy("work in the last five years"),
    "months_unemployed": gettext_lazy("duration of unemployment"),
    "months_in_benefit": gettext_lazy("duration of benefit receipt"),
    "health": gettext_lazy("health restrictions"),
    "care": gettext_lazy("care duties and childcare"),
    "single_parent": gettext_lazy("single parenthood"),
    "driving_licence": gettext_lazy("driving licence"),
    "debt": gettext_lazy("debts"),
    "housing": gettext_lazy("housing situation"),
    "motivation": gettext_lazy("motivation"),
    "region_unemployment_rate": gettext_lazy("regional unemployment rate"),
    "target_kldb": gettext_lazy("target occupation"),
}

# Occupational areas of the KldB 2010 (its first digit).
KLDB_AREAS = {
    "0": gettext_lazy("military"),
    "1": gettext_lazy("agriculture, forestry, animal husbandry and horticulture"),
    "2": gettext_lazy("production of raw materials, manufacturing"),
    "3": gettext_lazy("construction, architecture, surveying and building services"),
    "4": gettext_lazy("natural sciences, geography and computer science"),
    "5": gettext_lazy("traffic, logistics, safety and security"),
    "6": gettext_lazy("commercial services, trade, sales, hotels and tourism"),
    "7": gettext_lazy("business organisation, accounting, law and administration"),
    "8": gettext_lazy("health, social work, teaching and education"),
    "9": gettext_lazy("humanities, social sciences, media, art, culture and design"),
}

_SCHOOL = {
    "none": gettext_lazy("no school-leaving certificate"),
    "lower": gettext_lazy("lower secondary school certificate (Hauptschulabschluss)"),
    "middle": gettext_lazy("intermediate school certificate (Realschulabschluss)"),
    "upper": gettext_lazy("higher education entrance qualification (Abitur)"),
}
_VOCATIONAL = {
    "none": gettext_lazy("no completed vocational training"),
    "apprenticeship": gettext_lazy("completed vocational training"),
    "university": gettext_lazy("university degree"),
}
_HEALTH = {
    "none": gettext_lazy("no health restrictions"),
    "some": gettext_lazy("some health restrictions"),
    "high": gettext_lazy("severe health restrictions"),
}
_CARE = {
    "none": gettext_lazy("no care duties or childcare"),
    "some": gettext_lazy("some care duties or childcare"),
    "high": gettext_lazy("extensive care duties or childcare"),
}
_DEBT = {
    "none": gettext_lazy("no debts"),
    "some": gettext_lazy("some debts"),
    "high": gettext_lazy("high debts"),
}
_HOUSING = {
    "none": gettext_lazy("secure housing"),
    "some": gettext_lazy("some housing problems"),
    "high": gettext_lazy("serious housing problems"),
}
_MOTIVATION = {
    "low": gettext_lazy("low motivation at the moment"),
    "medium": gettext_lazy("medium motivation"),
    "high": gettext_lazy("high motivation"),
}

# The customer's sentences: (raises the chances, lowers them), in plain language.
_CUSTOMER = {
    "school": (
        gettext_lazy("Your school-leaving certificate helps you in your search."),
        gettext_lazy(
            "A higher school-leaving certificate would make the search easier. You can still "
            "get one."
        ),
    ),
    "vocational": (
        gettext_lazy("Your vocational training helps you in your search."),
        gettext_lazy(
            "Without vocational training, the search is harder. A qualification can help you."
        ),
    ),
    "german": (
        gettext_lazy("Your German helps you in your search."),
        gettext_lazy("Better German would make the search easier. A language course can help."),
    ),
    "work_months_5y": (
        gettext_lazy("You have worked in the last years. That helps you."),
        gettext_lazy("You have worked little in the last years. That makes the search harder."),
    ),
    "months_unemployed": (
        gettext_lazy("You have not been without work for long. That helps you."),
        gettext_lazy("You have been without work for a long time. That makes the search harder."),
    ),
    "months_in_benefit": (
        gettext_lazy("You have not received benefits for long. That helps you."),
        gettext_lazy("You have received benefits for a long time. That makes the search harder."),
    ),
    "health": (
        gettext_lazy("Your health allows many kinds of work. That helps you."),
        gettext_lazy("Your health makes some kinds of work hard. We look for work that suits you."),
    ),
    "care": (
        gettext_lazy("You have time for work. That helps you."),
        gettext_lazy(
            "Caring for children or relatives takes a lot of your time. Help with childcare or "
            "care can make things easier."
        ),
    ),
    "single_parent": (
        gettext_lazy("You share the care for your family. That helps you."),
        gettext_lazy(
            "You bring up your children alone. That takes a lot of time. We can help you with "
            "childcare."
        ),
    ),
    "driving_licence": (
        gettext_lazy("Your driving licence helps: you can reach more workplaces."),
        gettext_lazy("Without a driving licence, some workplaces are hard to reach."),
    ),
    "debt": (
        gettext_lazy("You have no debts that weigh on you. That helps you."),
        gettext_lazy("Debts can weigh on you. Debt counselling can help."),
    ),
    "housing": (
        gettext_lazy("Your housing is secure. That helps you."),
        gettext_lazy("Your housing situation is difficult. We help you find support."),
    ),
    "motivation": (
        gettext_lazy("You want to work. That helps you a lot."),
        gettext_lazy(
            "Looking for work is hard for you at the moment. Together we find out what helps you."
        ),
    ),
    "region_unemployment_rate": (
        gettext_lazy("There is a lot of work in your region."),
        gettext_lazy("There is little work in your region. That is not your fault."),
    ),
    "target_kldb": (
        gettext_lazy("People are needed in the occupation you want."),
        gettext_lazy(
            "Finding work in the occupation you want is harder. Other occupations may suit you too."
        ),
    ),
}


def feature_label(feature: str) -> str:
    """The name of a model input, capitalised for the start of a line or a table cell."""
    label = FEATURE_LABELS.get(feature)
    return capfirst(str(label)) if label is not None else feature


def percent(probability: float | None) -> str:
    """A probability as whole percent, e.g. "31 %"; below 1 % as "< 1 %"."""
    if probability is None:
        return "–"
    value = round(float(probability) * 100)
    if value == 0 and probability > 0:
        return _("< 1 %")
    return _("%(value)d %%") % {"value": value}


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _unemployed(months: int) -> str:
    """Months up to two years, then whole years. Literal msgids: makemessages must see them."""
    if months >= 24:
        years = months // 12
        return ngettext(
            "unemployed for %(years)d year", "unemployed for %(years)d years", years
        ) % {"years": years}
    return ngettext(
        "unemployed for %(months)d month", "unemployed for %(months)d months", months
    ) % {"months": months}


def _in_benefit(months: int) -> str:
    """Months up to two years, then whole years."""
    if months >= 24:
        years = months // 12
        return ngettext(
            "receiving benefits for %(years)d year", "receiving benefits for %(years)d years", years
        ) % {"years": years}
    return ngettext(
        "receiving benefits for %(months)d month",
        "receiving benefits for %(months)d months",
        months,
    ) % {"months": months}


def staff_phrase(feature: str, value) -> str:
    """What the input says about this customer, for the caseworker (German: for staff)."""
    if value is None or value == "":
        return _("%(input)s not recorded") % {"input": feature_label(feature)}
    if feature == "school":
        return str(_SCHOOL.get(value, value))
    if feature == "vocational":
        return str(_VOCATIONAL.get(value, value))
    if feature == "german":
        if value == "native":
            return _("German as native language")
        return _("German at level %(level)s") % {"level": value}
    if feature == "work_months_5y":
        months = int(_number(value) or 0)
        if months == 0:
            return _("no work in the last five years")
        return ngettext(
            "%(months)d month of work in the last five years",
            "%(months)d months of work in the last five years",
            months,
        ) % {"months": months}
    if feature == "months_unemployed":
        months = int(_number(value) or 0)
        if months == 0:
            return _("not unemployed at the moment")
        return _unemployed(months)
    if feature == "months_in_benefit":
        months = int(_number(value) or 0)
        if months == 0:
            return _("has just started receiving benefits")
        return _in_benefit(months)
    if feature == "health":
        return str(_HEALTH.get(value, value))
    if feature == "care":
        return str(_CARE.get(value, value))
    if feature == "single_parent":
        return _("single parent") if _number(value) == 1 else _("not a single parent")
    if feature == "driving_licence":
        return _("has a driving licence") if _number(value) == 1 else _("no driving licence")
    if feature == "debt":
        return str(_DEBT.get(value, value))
    if feature == "housing":
        return str(_HOUSING.get(value, value))
    if feature == "motivation":
        return str(_MOTIVATION.get(value, value))
    if feature == "region_unemployment_rate":
        rate = _number(value)
        shown = number_format(rate, 1) if rate is not None else str(value)
        return _("regional unemployment rate of %(rate)s %%") % {"rate": shown}
    if feature == "target_kldb":
        code = str(value)
        area = KLDB_AREAS.get(code[:1])
        if area is None:
            return _("target occupation %(code)s") % {"code": code}
        return _("target occupation %(code)s (area: %(area)s)") % {"code": code, "area": area}
    return f"{feature_label(feature)}: {value}"


def customer_sentence(feature: str, effect: float) -> str:
    """One sentence in plain language for the customer about an input that raises or lowers."""
    sentences = _CUSTOMER.get(feature)
    if sentences is None:
        return ""
    return str(sentences[0] if effect > 0 else sentences[1])


def factor_texts(factors: list[dict]) -> list[dict]:
    """The stored factors with their texts: direction, staff phrase, customer sentence, label."""
    result = []
    for factor in factors or []:
        effect = float(factor.get("effect") or 0.0)
        result.append(
            {
                "feature": factor["feature"],
                "value": factor.get("value"),
                "effect": effect,
                "direction": RAISES if effect > 0 else LOWERS,
                "label": feature_label(factor["feature"]),
                "text": capfirst(staff_phrase(factor["feature"], factor.get("value"))),
                "customer_text": customer_sentence(factor["feature"], effect),
            }
        )
    return result


def missing_text(entry: dict, *, probability_low: float, probability_high: float) -> str:
    """How one missing input limits the suggestion.

    `entry` is one item of ProfilingSuggestion.missing: {"feature", "required", "low", "high"};
    "low"/"high" are the range over this input alone (interactive suggestions), else the range
    over all missing inputs is used.
    """
    feature = entry["feature"]
    if not entry.get("required", True) or FEATURE_BY_NAME.get(feature, None) is None:
        return _(
            "%(input)s is not recorded: the model knows customers without it, so this hardly "
            "limits the suggestion."
        ) % {"input": feature_label(feature)}
    low = entry.get("low", probability_low)
    high = entry.get("high", probability_high)
    if low is None or high is None:
        low, high = probability_low, probability_high
    return _(
        "%(input)s is not recorded: depending on it, the probability lies between %(low)s and "
        "%(high)s."
    ) % {"input": feature_label(feature), "low": percent(low), "high": percent(high)}


def missing_texts(
    missing: list[dict], *, probability_low: float, probability_high: float
) -> list[dict]:
    return [
        {
            **entry,
            "label": feature_label(entry["feature"]),
            "text": missing_text(
                entry, probability_low=probability_low, probability_high=probability_high
            ),
        }
        for entry in missing or []
    ]


def range_text(*, probability_low: float, probability_high: float, count: int) -> str:
    """The overall limit when inputs are missing, e.g. for the card's summary line."""
    return ngettext(
        "With %(count)d input missing, the probability lies between %(low)s and %(high)s.",
        "With %(count)d inputs missing, the probability lies between %(low)s and %(high)s.",
        count,
    ) % {"count": count, "low": percent(probability_low), "high": percent(probability_high)}


def strategy_reason_texts(
    strategy: dict, *, inputs: dict, conditions: list[dict] | None = None
) -> list[str]:
    """Why a ranked strategy fits this customer, as staff phrases.

    First the inputs it works on that lower the chances (strategy["reasons"]); when there are
    none, the inputs its conditions look at; when it has none, that it suits the group.
    """
    names = list(strategy.get("reasons") or [])
    if names:
        return [
            _("%(fact)s (lowers the chances)")
            % {"fact": capfirst(staff_phrase(name, inputs.get(name)))}
            for name in names
        ]
    fields = []
    for condition in conditions or []:
        name = condition.get("field")
        if name and name not in fields:
            fields.append(name)
    if fields:
        return [capfirst(staff_phrase(name, inputs.get(name))) for name in fields]
    return [_("Suits the suggested customer group.")]


CUSTOMER_INTRO = gettext_lazy(
    "We have looked at your information. This is what we found out about your chances of "
    "finding work."
)
CUSTOMER_HELPS = gettext_lazy("What helps you:")
CUSTOMER_HARDER = gettext_lazy("What makes it harder:")
CUSTOMER_HUMAN = gettext_lazy(
    "A computer program made this suggestion. It does not decide. Your contact person at the "
    "jobcenter decides together with you what happens next."
)


def customer_text(factors: list[dict]) -> dict:
    """The explanation for the customer: intro, what helps, what makes it harder, who decides."""
    texts = factor_texts(factors)
    return {
        "intro": str(CUSTOMER_INTRO),
        "helps_heading": str(CUSTOMER_HELPS),
        "helps": [f["customer_text"] for f in texts if f["direction"] == RAISES],
        "harder_heading": str(CUSTOMER_HARDER),
        "harder": [f["customer_text"] for f in texts if f["direction"] == LOWERS],
        "human": str(CUSTOMER_HUMAN),
    }


def customer_text_plain(factors: list[dict]) -> str:
    """The customer's explanation as one text (API, letters)."""
    parts = customer_text(factors)
    lines = [parts["intro"]]
    if parts["helps"]:
        lines += ["", parts["helps_heading"], *(f"- {s}" for s in parts["helps"])]
    if parts["harder"]:
        lines += ["", parts["harder_heading"], *(f"- {s}" for s in parts["harder"])]
    lines += ["", parts["human"]]
    return "\n".join(lines)


def suggestion_present(
    suggestion, *, catalogue: dict[str, dict], in_draft: set[str], latest: bool
) -> dict:
    """Everything the card and the API show of one suggestion, with its texts.

    `catalogue`: the strategies' catalogue entries by code ({"conditions", "description"}; the
    conditions give the reasons of a strategy that works on nothing that lowers the chances);
    `in_draft`: the codes already taken into the draft.
    """
    inputs = suggestion.inputs or {}
    factors = factor_texts(suggestion.factors)
    required_missing = [entry for entry in suggestion.missing or [] if entry.get("required", True)]
    decision = getattr(suggestion, "decision", None)
    return {
        "suggestion": suggestion,
        "decision": decision,
        "latest": latest,
        "probability": percent(suggestion.probability),
        "probability_low": percent(suggestion.probability_low),
        "probability_high": percent(suggestion.probability_high),
        "range_text": range_text(
            probability_low=suggestion.probability_low,
            probability_high=suggestion.probability_high,
            count=len(required_missing),
        )
        if required_missing
        else "",
        "factors": factors,
        "raising": [factor for factor in factors if factor["direction"] == RAISES],
        "lowering": [factor for factor in factors if factor["direction"] == LOWERS],
        "customer": customer_text(suggestion.factors),
        "customer_text": customer_text_plain(suggestion.factors),
        "missing": missing_texts(
            suggestion.missing,
            probability_low=suggestion.probability_low,
            probability_high=suggestion.probability_high,
        ),
        "strategies": [
            {
                **item,
                "reason_texts": strategy_reason_texts(
                    item,
                    inputs=inputs,
                    conditions=catalogue.get(item["code"], {}).get("conditions"),
                ),
                "description": catalogue.get(item["code"], {}).get("description", ""),
                "in_plan": item["code"] in in_draft,
            }
            for item in suggestion.strategies or []
        ],
    }
