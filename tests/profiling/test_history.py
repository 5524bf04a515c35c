"""The synthetic histories: deterministic, valid inputs, true probabilities, audit attributes apart."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cases.synthetic import integration_probability
from profiling.model.features import AGE_BANDS, FEATURE_BY_NAME, FEATURE_NAMES
from profiling.model.history import (
    REGION_RATES,
    demo_history,
    independent_history,
    independent_true_probability,
)

pytestmark = pytest.mark.django_db  # the demo generator reads the default time zone only


def _valid(row: dict) -> bool:
    """Every value is one the CSV would accept (or None where the input is optional)."""
    for name in FEATURE_NAMES:
        spec, value = FEATURE_BY_NAME[name], row[name]
        if value is None:
            if spec.required:
                return False
            continue
        if spec.kind == "ordinal" and value not in spec.values:
            return False
        if spec.kind == "binary" and value not in (0, 1):
            return False
        if spec.kind == "number" and not spec.minimum <= value <= spec.maximum:
            return False
        if spec.kind == "kldb" and not (len(value) == 5 and value.isdigit()):
            return False
    return True


@pytest.fixture(scope="module")
def demo():
    return demo_history(n=3000, seed=3)


@pytest.fixture(scope="module")
def independent():
    return independent_history(n=30_000, seed=3)


def test_the_same_seed_gives_the_same_history(demo, independent):
    assert demo_history(n=3000, seed=3).fingerprint == demo.fingerprint
    assert independent_history(n=30_000, seed=3).fingerprint == independent.fingerprint
    assert independent_history(n=30_000, seed=4).fingerprint != independent.fingerprint


def test_demo_history_rows_are_valid_inputs_without_audit_attributes(demo):
    assert set(demo.rows[0]) == set(FEATURE_NAMES)
    assert all(_valid(row) for row in demo.rows)
    assert set(demo.audit) == {"sex", "citizenship", "disability", "age_band"}
    assert set(demo.audit["sex"]) <= {"f", "m", "d"}
    assert set(demo.audit["citizenship"]) == {"de", "eu", "non_eu"}
    bands = {f"{low}-{high}" for low, high in AGE_BANDS}
    assert set(demo.audit["age_band"]) <= bands


def test_demo_history_uses_the_generators_oracle_with_varying_regions(demo):
    rates = {row["region_unemployment_rate"] for row in demo.rows}
    assert rates <= set(REGION_RATES)
    assert len(rates) > 8
    # Outcomes follow the oracle: as many found work as the probabilities say.
    assert abs(demo.outcomes.mean() - demo.oracle.mean()) < 0.025
    assert roc_auc_score(demo.outcomes, demo.oracle) > 0.75


def test_demo_oracle_is_the_generators_integration_probability():
    from datetime import date

    from cases.synthetic import _generate_teams, _Names, _PeopleGenerator

    data = demo_history(n=50, seed=9)
    _households, customers = _PeopleGenerator(
        seed=9, today=date(2026, 1, 1), names=_Names(9), teams=_generate_teams(customers=50)
    ).generate(50)
    for customer, row, p in zip(customers, data.rows, data.oracle, strict=True):
        expected = integration_probability(
            profile=customer.profile, region_unemployment_rate=row["region_unemployment_rate"]
        )
        assert p == pytest.approx(expected)


def test_independent_history_has_its_own_population_and_base_rate(independent):
    assert all(_valid(row) for row in independent.rows[:5000])
    assert 0.30 <= independent.outcomes.mean() <= 0.35
    assert 0.10 < np.mean([row["target_kldb"] is None for row in independent.rows]) < 0.30
    # Audit attributes correlate with the inputs through the population, not the true chance:
    german = np.array([FEATURE_BY_NAME["german"].encode(row["german"]) for row in independent.rows])
    citizenship = np.array(independent.audit["citizenship"])
    assert german[citizenship == "non_eu"].mean() < german[citizenship == "de"].mean() - 2
    single = np.array([row["single_parent"] for row in independent.rows])
    sex = np.array(independent.audit["sex"])
    assert single[sex == "f"].mean() > 3 * single[sex == "m"].mean()


def test_independent_truth_has_interactions_the_demo_oracle_lacks():
    base = {
        "school": np.array([2]),
        "vocational": np.array([1]),
        "german": np.array([3]),
        "work_months_5y": np.array([24]),
        "months_unemployed": np.array([12]),
        "months_in_benefit": np.array([12]),
        "health": np.array([0]),
        "care": np.array([2]),
        "single_parent": np.array([0]),
        "driving_licence": np.array([1]),
        "debt": np.array([0]),
        "housing": np.array([0]),
        "motivation": np.array([1]),
        "region_unemployment_rate": np.array([7.0]),
        "area": np.array([8]),
    }

    def logit(**changes) -> float:
        p = independent_true_probability({**base, **{k: np.array([v]) for k, v in changes.items()}})
        return float(np.log(p / (1 - p))[0])

    # High care duties weigh more for a single parent than the two effects added up.
    care_alone = logit(care=2) - logit(care=0)
    care_single = logit(care=2, single_parent=1) - logit(care=0, single_parent=1)
    assert care_single < care_alone - 0.5
    # Low German matters more in health and teaching (8) than in production (2).
    assert logit(german=1) - logit(german=4) < logit(german=1, area=2) - logit(german=4, area=2)
    # The first months of unemployment hardly count, the next ones a lot.
    early = logit(months_unemployed=4) - logit(months_unemployed=0)
    later = logit(months_unemployed=16) - logit(months_unemployed=12)
    assert abs(early) < 0.01 < abs(later)


def test_independent_outcomes_follow_the_truth(independent):
    assert abs(independent.outcomes.mean() - independent.oracle.mean()) < 0.01
    assert roc_auc_score(independent.outcomes, independent.oracle) > 0.75
