"""The model's inputs and the attributes kept for the fairness audit only.

The names are the CSV columns of `profiling_train` / `profiling_evaluate` (README, "AI profiling").
Sex, age, citizenship and disability are never model inputs: they are AUDITED and only read by
the evaluation. A row is a dict from column name to value; None means "not known".
"""

from dataclasses import dataclass

import numpy as np

NEED_LEVELS = ("none", "some", "high")


@dataclass(frozen=True)
class Feature:
    """One model input.

    kind: "ordinal" (values in order, encoded 0..n-1), "binary" (0/1), "number" (a float within
    [minimum, maximum]) or "kldb" (a KldB 2010 code, encoded as its occupational area, first digit).
    required: a training or evaluation file must have the column; an empty value is an error.
    """

    name: str
    kind: str
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True

    def encode(self, value) -> float:
        """The number the model sees; NaN when the value is not known."""
        if value is None or value == "":
            return float("nan")
        if self.kind == "ordinal":
            return float(self.values.index(value))
        if self.kind == "binary":
            return 1.0 if value in (1, True, "1") else 0.0
        if self.kind == "kldb":
            return float(int(str(value)[0]))
        return float(value)

    def candidates(self) -> list:
        """Possible values, for the range of a prediction when this input is missing."""
        if self.kind == "ordinal":
            return list(self.values)
        if self.kind == "binary":
            return [0, 1]
        if self.kind == "kldb":
            return [None]  # the model has seen unknown occupations: no range to add
        low, high = self.minimum or 0.0, self.maximum or 0.0
        return [low + (high - low) * share for share in (0.0, 0.25, 0.5, 0.75, 1.0)]


FEATURES: tuple[Feature, ...] = (
    Feature("school", "ordinal", ("none", "lower", "middle", "upper")),
    Feature("vocational", "ordinal", ("none", "apprenticeship", "university")),
    Feature("german", "ordinal", ("A0", "A1", "A2", "B1", "B2", "C1", "C2", "native")),
    Feature("work_months_5y", "number", minimum=0, maximum=60),
    Feature("months_unemployed", "number", minimum=0, maximum=600),
    Feature("months_in_benefit", "number", minimum=0, maximum=600),
    Feature("health", "ordinal", NEED_LEVELS),
    Feature("care", "ordinal", NEED_LEVELS),
    Feature("single_parent", "binary"),
    Feature("driving_licence", "binary"),
    Feature("debt", "ordinal", NEED_LEVELS),
    Feature("housing", "ordinal", NEED_LEVELS),
    Feature("motivation", "ordinal", ("low", "medium", "high")),
    Feature("region_unemployment_rate", "number", minimum=0, maximum=40),
    Feature("target_kldb", "kldb", required=False),
)
FEATURE_BY_NAME = {feature.name: feature for feature in FEATURES}
FEATURE_NAMES = tuple(feature.name for feature in FEATURES)

# Kept for the fairness audit only; never passed to the model.
AUDITED = ("sex", "citizenship", "disability", "age_band")
SEX_VALUES = ("f", "m", "d")
CITIZENSHIP_VALUES = ("de", "eu", "non_eu")
AGE_BANDS = ((15, 24), (25, 34), (35, 49), (50, 67))


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return f"{AGE_BANDS[-1][1] + 1}+" if age > AGE_BANDS[-1][1] else f"<{AGE_BANDS[0][0]}"


def encode_rows(rows: list[dict], features: tuple[str, ...] | list[str]) -> np.ndarray:
    """The model matrix: one row per dict, one column per feature name, NaN for unknown values."""
    specs = [FEATURE_BY_NAME[name] for name in features]
    matrix = np.empty((len(rows), len(specs)), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, spec in enumerate(specs):
            matrix[i, j] = spec.encode(row.get(spec.name))
    return matrix


def categorical_mask(features: tuple[str, ...] | list[str]) -> list[bool]:
    """Which columns the gradient boosting treats as unordered categories."""
    return [FEATURE_BY_NAME[name].kind == "kldb" for name in features]


def row_from_profile(*, profile, customer, region_unemployment_rate) -> dict:
    """The model inputs of a saved customer (profiling.Profile, cases.Customer), CSV-named.

    The audited attributes are not part of it: they never reach the model.
    """
    household = getattr(customer, "household", None)
    single_parent = None if household is None else int(household.is_single_parent)
    rate = None if region_unemployment_rate is None else float(region_unemployment_rate)
    return {
        "school": profile.school or None,
        "vocational": profile.vocational or None,
        "german": profile.german or None,
        "work_months_5y": profile.work_months_5y,
        "months_unemployed": profile.months_unemployed,
        "months_in_benefit": profile.months_in_benefit,
        "health": profile.health or None,
        "care": profile.care or None,
        "single_parent": single_parent,
        "driving_licence": int(bool(profile.driving_licence)),
        "debt": profile.debt or None,
        "housing": profile.housing or None,
        "motivation": profile.motivation or None,
        "region_unemployment_rate": rate,
        "target_kldb": profile.target_kldb or None,
    }
