"""The figures of an evaluation: accuracy, calibration, and fairness per audited group."""

import json

import numpy as np
import pytest

from profiling.model.evaluation import ece, evaluate


def _audit(n: int, **columns) -> dict:
    audit = {"sex": ["f"] * n, "citizenship": ["de"] * n, "disability": ["0"] * n}
    audit.update(columns)
    return audit


def test_ece_is_the_weighted_gap_between_observed_share_and_probability():
    p = np.array([0.05, 0.05, 0.05, 0.05, 0.95, 0.95])
    y = np.array([0, 0, 1, 1, 1, 1])
    # Bin 0: mean p 0.05, observed 0.5, 4 rows; bin 9: 0.95 vs 1.0, 2 rows.
    assert ece(y, p) == pytest.approx((4 * 0.45 + 2 * 0.05) / 6)


def test_calibrated_probabilities_have_a_small_ece_and_shifted_ones_a_large_one():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 50_000)
    y = (rng.random(50_000) < p).astype(int)
    assert ece(y, p) < 0.01
    assert ece(y, np.clip(p + 0.1, 0, 1)) > 0.08


def test_overall_figures_and_oracle_ratio():
    rng = np.random.default_rng(2)
    truth = rng.uniform(0, 1, 20_000)
    y = (rng.random(20_000) < truth).astype(int)
    noisy = np.clip(truth + rng.normal(0, 0.1, 20_000), 0, 1)
    result = evaluate(
        probabilities=noisy,
        outcomes=y,
        audit=_audit(20_000),
        lowest_threshold=0.1,
        oracle=truth,
    )
    assert result["n"] == 20_000
    assert result["base_rate"] == pytest.approx(y.mean(), abs=1e-4)
    assert result["oracle_auc"] > result["auc"] > 0.5
    assert result["auc_ratio"] == pytest.approx(result["auc"] / result["oracle_auc"], abs=2e-4)
    assert 0 < result["brier"] < 0.25
    json.dumps(result)  # plain floats only


def test_below_threshold_shares_and_their_ratio_between_large_groups():
    # Group f: 4 who found work, 1 below 0.1; group m: 4 who found work, 2 below.
    p = np.array([0.05, 0.5, 0.5, 0.5, 0.05, 0.05, 0.5, 0.5, 0.05, 0.05])
    y = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 0])
    sex = ["f"] * 5 + ["m"] * 5
    truth = np.array([0.5, 0.5, 0.5, 0.5, 0.05, 0.05, 0.5, 0.5, 0.5, 0.05])
    result = evaluate(
        probabilities=p,
        outcomes=y,
        audit=_audit(10, sex=sex),
        lowest_threshold=0.1,
        oracle=truth,
        min_group_size=5,
    )
    f, m = result["by_group"]["sex"]["f"], result["by_group"]["sex"]["m"]
    assert f["below_threshold_share_of_positives"] == 0.25
    assert m["below_threshold_share_of_positives"] == 0.5
    assert result["fpr_ratio_sex"] == 2.0
    # The true probabilities put 0 of f and 1 of 4 of m below: no finite ratio.
    assert result["oracle_fpr_ratio_sex"] is None
    # Citizenship has one value only: nothing to compare.
    assert result["fpr_ratio_citizenship"] is None


def test_small_groups_are_shown_but_left_out_of_the_ratios():
    rng = np.random.default_rng(3)
    n = 3000
    p = rng.uniform(0, 1, n)
    y = (rng.random(n) < p).astype(int)
    sex = ["d"] * 20 + ["f"] * 1490 + ["m"] * 1490
    p[:20] = 0.01  # the small group looks very different
    result = evaluate(probabilities=p, outcomes=y, audit=_audit(n, sex=sex), lowest_threshold=0.1)
    assert result["by_group"]["sex"]["d"]["n"] == 20
    assert result["by_group"]["sex"]["d"]["audited"] is False
    assert result["fpr_ratio_sex"] < 1.5
    assert result["auc_gap_sex"] is not None
    assert result["max_group_ece"] < 0.05


def test_a_group_with_one_outcome_only_has_no_auc():
    result = evaluate(
        probabilities=[0.2, 0.4, 0.6, 0.8],
        outcomes=[0, 1, 0, 0],
        audit=_audit(4, sex=["f", "f", "m", "m"]),
        lowest_threshold=0.1,
        min_group_size=1,
    )
    assert result["by_group"]["sex"]["m"]["auc"] is None
    assert result["by_group"]["sex"]["m"]["below_threshold_share_of_positives"] is None


def test_suggested_groups_give_shares_and_demographic_parity():
    groups = ["market_near", "potential", "potential", "administrative"] * 2
    sex = ["f"] * 4 + ["m", "m", "m", "m"]
    groups[4:] = ["market_near", "market_near", "potential", "administrative"]
    result = evaluate(
        probabilities=[0.5, 0.3, 0.3, 0.05] * 2,
        outcomes=[1, 0, 1, 0] * 2,
        audit=_audit(8, sex=sex),
        lowest_threshold=0.1,
        groups=groups,
        min_group_size=4,
    )
    assert result["group_shares"] == {
        "administrative": 0.25,
        "market_near": 0.375,
        "potential": 0.375,
    }
    assert result["by_group"]["sex"]["f"]["group_shares"]["potential"] == 0.5
    assert result["by_group"]["sex"]["m"]["group_shares"]["potential"] == 0.25
    assert result["demographic_parity"]["sex"] == {
        "administrative": 0.0,
        "market_near": 0.25,
        "potential": 0.25,
    }
    assert result["demographic_parity_max"] == 0.25
