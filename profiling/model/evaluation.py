"""How good and how fair a model's probabilities are, overall and per audited group.

Figures (all plain floats rounded to 4 decimals, None where undefined, so the result is JSON):

auc        area under the ROC curve: how well the probabilities rank who finds work.
ece        expected calibration error: 10 equal-width bins of the probability, the mean of
           |share who found work - mean probability| weighted by the bin's rows. 0.02 means the
           probabilities are about two points off on average.
brier      mean squared difference between probability and outcome.
below_threshold_share_of_positives
           among the customers who did find work, the share the model put below the lowest
           threshold of the customer group rules (the issue calls its ratio the "fpr": they are
           wrongly told their chances are poor).
fpr_ratio_<attribute>
           that share's max/min over the values of sex or citizenship with at least
           `min_group_size` rows; `oracle_fpr_ratio_<attribute>` the same with the true
           probabilities, `fpr_excess_<attribute>` their quotient (the model's own disparity).
auc_gap    the largest difference in AUC between the values of sex, or of citizenship.
demographic_parity
           per attribute and suggested customer group: max - min of the group's share over the
           attribute's values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

ECE_BINS = 10
RATIO_ATTRIBUTES = ("sex", "citizenship")
AUDIT_ORDER = ("sex", "citizenship", "disability", "age_band")


def _round(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value):
        return None
    return round(value, 4)


def auc(outcomes: np.ndarray, probabilities: np.ndarray) -> float | None:
    if len(outcomes) == 0 or outcomes.min() == outcomes.max():
        return None
    return float(roc_auc_score(outcomes, probabilities))


def ece(outcomes: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> float | None:
    """Expected calibration error over equal-width bins of the probability."""
    if len(outcomes) == 0:
        return None
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    index = np.maximum(index, 0)
    counts = np.bincount(index, minlength=bins)
    observed = np.bincount(index, weights=outcomes, minlength=bins)
    predicted = np.bincount(index, weights=probabilities, minlength=bins)
    filled = counts > 0
    gap = np.abs(observed[filled] - predicted[filled])  # = count * |mean outcome - mean p|
    return float(gap.sum() / len(outcomes))


def brier(outcomes: np.ndarray, probabilities: np.ndarray) -> float | None:
    if len(outcomes) == 0:
        return None
    return float(np.mean((probabilities - outcomes) ** 2))


def _below_share(outcomes: np.ndarray, probabilities: np.ndarray, threshold: float):
    positives = outcomes == 1
    if not positives.any():
        return None
    return float(np.mean(probabilities[positives] < threshold))


def _ratio(values: list[float | None]) -> float | None:
    """max/min; 1.0 when all are 0 (nobody below the threshold), None when only min is 0."""
    values = [value for value in values if value is not None]
    if len(values) < 2:
        return None
    high, low = max(values), min(values)
    if high == 0:
        return 1.0
    if low == 0:
        return None
    return high / low


def _figures(y, p, threshold, oracle=None) -> dict:
    figures = {
        "n": int(len(y)),
        "base_rate": _round(np.mean(y)) if len(y) else None,
        "mean_probability": _round(np.mean(p)) if len(y) else None,
        "auc": _round(auc(y, p)),
        "ece": _round(ece(y, p)),
        "brier": _round(brier(y, p)),
        "below_threshold_share_of_positives": _round(_below_share(y, p, threshold)),
    }
    if oracle is not None:
        figures["oracle_auc"] = _round(auc(y, oracle))
        figures["oracle_ece"] = _round(ece(y, oracle))
        figures["oracle_below_threshold_share_of_positives"] = _round(
            _below_share(y, oracle, threshold)
        )
    return figures


def evaluate(
    *,
    probabilities: Sequence[float] | np.ndarray,
    outcomes: Sequence[int] | np.ndarray,
    audit: dict[str, list],
    lowest_threshold: float,
    groups: list[str] | None = None,
    oracle: Sequence[float] | np.ndarray | None = None,
    min_group_size: int = 1000,
) -> dict:
    """The metrics of one set of probabilities against outcomes (see the module docstring)."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    truth = None if oracle is None else np.asarray(oracle, dtype=np.float64)
    group_array = None if groups is None else np.asarray(groups, dtype=object)
    group_names = [] if group_array is None else sorted({str(g) for g in group_array.tolist()})

    result: dict = {"lowest_threshold": _round(lowest_threshold), "min_group_size": min_group_size}
    result.update(_figures(y, p, lowest_threshold, truth))
    if truth is not None:
        result["auc_ratio"] = _round(
            auc(y, p) / auc(y, truth) if auc(y, truth) and auc(y, p) is not None else None
        )
    if group_array is not None:
        result["group_shares"] = {
            name: _round(np.mean(group_array == name)) for name in group_names
        }

    by_group: dict[str, dict[str, dict]] = {}
    attributes = [name for name in AUDIT_ORDER if name in audit] + sorted(
        name for name in audit if name not in AUDIT_ORDER
    )
    for attribute in attributes:
        values = np.asarray(audit[attribute], dtype=object)
        if len(values) != len(y):
            raise ValueError(f"audit[{attribute!r}] has {len(values)} values for {len(y)} rows")
        per_value: dict[str, dict] = {}
        for value in sorted({v for v in values.tolist() if v is not None}, key=str):
            mask = values == value
            figures = _figures(
                y[mask], p[mask], lowest_threshold, None if truth is None else truth[mask]
            )
            figures["audited"] = bool(mask.sum() >= min_group_size)
            if group_array is not None:
                figures["group_shares"] = {
                    name: _round(np.mean(group_array[mask] == name)) for name in group_names
                }
            per_value[str(value)] = figures
        by_group[attribute] = per_value
    result["by_group"] = by_group

    def large(attribute: str) -> list[dict]:
        return [f for f in by_group.get(attribute, {}).values() if f["audited"]]

    for attribute in RATIO_ATTRIBUTES:
        rows = large(attribute)
        model_ratio = _ratio([f["below_threshold_share_of_positives"] for f in rows])
        result[f"fpr_ratio_{attribute}"] = _round(model_ratio)
        if truth is not None:
            oracle_ratio = _ratio([f["oracle_below_threshold_share_of_positives"] for f in rows])
            result[f"oracle_fpr_ratio_{attribute}"] = _round(oracle_ratio)
            result[f"fpr_excess_{attribute}"] = _round(
                model_ratio / oracle_ratio if model_ratio and oracle_ratio else None
            )
        aucs = [f["auc"] for f in rows if f["auc"] is not None]
        result[f"auc_gap_{attribute}"] = _round(max(aucs) - min(aucs)) if len(aucs) > 1 else None
    gaps = [result[f"auc_gap_{a}"] for a in RATIO_ATTRIBUTES if result[f"auc_gap_{a}"] is not None]
    result["auc_gap"] = _round(max(gaps)) if gaps else None
    eces = [f["ece"] for a in attributes for f in large(a) if f["ece"] is not None]
    result["max_group_ece"] = _round(max(eces)) if eces else None

    if group_array is not None:
        parity: dict[str, dict[str, float | None]] = {}
        for attribute in attributes:
            rows = large(attribute)
            parity[attribute] = {
                name: _round(
                    max(f["group_shares"][name] for f in rows)
                    - min(f["group_shares"][name] for f in rows)
                )
                if len(rows) > 1
                else None
                for name in group_names
            }
        result["demographic_parity"] = parity
        spreads = [v for per in parity.values() for v in per.values() if v is not None]
        result["demographic_parity_max"] = _round(max(spreads)) if spreads else None
    return result
