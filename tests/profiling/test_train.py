"""Training a model version: accurate, calibrated, blind to the audited attributes, never active."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from audit.models import AuditAction, AuditEvent
from profiling.model.estimator import ProfilingEstimator, artefact_loads
from profiling.model.evaluation import ece
from profiling.model.history import demo_history, independent_history
from profiling.model.train import (
    TrainingDataError,
    lowest_threshold,
    model_train,
    stratified_split,
)
from profiling.models import ModelSource, ModelStatus, ModelVersion
from tests.profiling.factories_ai import segment_defaults_install

AUDITED = ("sex", "age", "citizenship", "disability")


@pytest.fixture(scope="module")
def demo_20k():
    return demo_history(n=20_000, seed=11), demo_history(n=10_000, seed=12)


@pytest.fixture(scope="module")
def fitted_20k(demo_20k):
    train, _test = demo_20k
    return ProfilingEstimator.fit(train.rows, train.outcomes, seed=0)


def test_the_model_comes_close_to_the_best_possible_auc(demo_20k, fitted_20k):
    _train, test = demo_20k
    p = fitted_20k.predict(test.rows)
    auc, oracle_auc = roc_auc_score(test.outcomes, p), roc_auc_score(test.outcomes, test.oracle)
    assert auc >= 0.95 * oracle_auc


def test_the_probabilities_are_calibrated(demo_20k, fitted_20k):
    _train, test = demo_20k
    p = fitted_20k.predict(test.rows)
    assert ece(test.outcomes.astype(float), p) < 0.03
    # "30 %" means about 30 %: the customers predicted between 25 and 35 % mostly found work
    # at that rate.
    middle = (p >= 0.25) & (p < 0.35)
    assert abs(test.outcomes[middle].mean() - p[middle].mean()) < 0.05


def test_the_audited_attributes_are_never_inputs(demo_20k, fitted_20k):
    _train, test = demo_20k
    assert not set(AUDITED) & set(fitted_20k.features)
    rows = test.rows[:500]
    before = fitted_20k.predict(rows)
    # Whatever sex, age, citizenship or disability a customer has, the probability is the same.
    changed = [
        {**row, "sex": "d", "age": 66, "citizenship": "non_eu", "disability": 1} for row in rows
    ]
    assert np.array_equal(fitted_20k.predict(changed), before)


@pytest.mark.django_db
def test_training_with_other_audit_values_gives_the_same_model():
    data = independent_history(n=2000, seed=4)
    shuffled = independent_history(n=2000, seed=4)
    rng = np.random.default_rng(0)
    for name, values in shuffled.audit.items():
        shuffled.audit[name] = list(rng.permutation(np.array(values, dtype=object)))
    one = model_train(data=data, source=ModelSource.SYNTHETIC, source_name="a")
    two = model_train(data=shuffled, source=ModelSource.SYNTHETIC, source_name="b")
    rows = data.rows[:300]
    first = artefact_loads(one.artefact, one.artefact_sha256).predict(rows)
    second = artefact_loads(two.artefact, two.artefact_sha256).predict(rows)
    assert np.array_equal(first, second)
    # The audit still differs: the fairness figures are computed from it.
    assert one.metrics["by_group"] != two.metrics["by_group"]


@pytest.mark.django_db
def test_a_training_run_stores_a_candidate_and_activates_nothing():
    segment_defaults_install()
    data = independent_history(n=4000, seed=1)
    version = model_train(data=data, source=ModelSource.SYNTHETIC, source_name="independent")
    version.refresh_from_db()
    assert version.number == 1
    assert version.status == ModelStatus.CANDIDATE
    assert not ModelVersion.objects.filter(status=ModelStatus.ACTIVE).exists()
    assert version.rows == 4000
    assert version.data_fingerprint == data.fingerprint
    assert version.base_rate == pytest.approx(data.base_rate, abs=1e-6)
    assert "sex" not in version.features
    # Figures from the held-out quarter, overall and per audited group, with the oracle.
    metrics = version.metrics
    assert metrics["n"] == 1000
    assert metrics["fit_rows"] == 3000
    assert metrics["auc"] > 0.7
    assert metrics["oracle_auc"] is not None
    assert metrics["lowest_threshold"] == 0.1  # from the customer group rules in force
    assert set(metrics["by_group"]) == {"sex", "citizenship", "disability", "age_band"}
    assert {"f", "m"} <= set(metrics["by_group"]["sex"])
    assert set(metrics["group_shares"]) <= {"market_near", "potential", "administrative"}
    assert "demographic_parity" in metrics
    event = AuditEvent.objects.get(object_type="model_version", object_id="1")
    assert event.action == AuditAction.CREATE
    assert event.detail["data_fingerprint"] == data.fingerprint


@pytest.mark.django_db
def test_the_model_card_says_what_a_court_would_ask():
    version = model_train(
        data=independent_history(n=2000, seed=2), source=ModelSource.CSV, source_name="x.csv"
    )
    card = version.model_card
    assert set(card) == {"de", "en"}
    keys = [section["key"] for section in card["en"]]
    assert keys == [
        "intended_use",
        "data",
        "inputs",
        "method",
        "metrics",
        "fairness",
        "limits",
    ]
    text = {s["key"]: " ".join(s["paragraphs"]) for s in card["en"]}
    assert "never decides" in text["intended_use"]
    assert "Art. 22" in text["intended_use"]
    assert "Annex III" in text["intended_use"]
    assert "Sex, age, citizenship and disability are never inputs" in text["inputs"]
    assert "cannot have both equal error rates and calibration" in text["fairness"]
    assert "keeps calibration within groups" in text["fairness"]
    assert "Kleinberg" in text["fairness"]
    assert "disadvantages of the past" in text["limits"]
    assert "SGB II" in text["limits"]
    assert "Missing inputs widen" in text["limits"]
    # The card is written in every language of the installation (German is the default).
    assert [section["key"] for section in card["de"]] == keys


@pytest.mark.django_db
@pytest.mark.parametrize(("n", "positives"), [(150, 50), (1000, 10), (1000, 995)])
def test_too_little_or_one_sided_data_are_refused(n, positives):
    data = independent_history(n=n, seed=1)
    data.outcomes[:] = 0
    data.outcomes[:positives] = 1
    with pytest.raises(TrainingDataError) as caught:
        model_train(data=data, source=ModelSource.CSV, source_name="small.csv")
    assert "mindestens 200 Zeilen und je 20 von beiden Ergebnissen" in caught.value.message
    assert not ModelVersion.objects.exists()


def test_the_split_holds_out_a_quarter_of_each_outcome_the_same_way_every_time():
    outcomes = np.array([1] * 400 + [0] * 1200)
    fit, held = stratified_split(outcomes, share=0.25, seed=0)
    assert len(held) == 400
    assert outcomes[held].sum() == 100
    assert not set(fit) & set(held)
    again_fit, again_held = stratified_split(outcomes, share=0.25, seed=0)
    assert np.array_equal(held, again_held)


@pytest.mark.django_db
def test_without_rules_the_audit_threshold_falls_back_to_ten_percent():
    assert lowest_threshold(None) == 0.10
    rules = [
        {
            "group": "administrative",
            "min_probability": None,
            "max_probability": 0.2,
            "conditions": [],
        },
        {"group": "potential", "min_probability": None, "max_probability": None, "conditions": []},
    ]
    assert lowest_threshold(rules) == 0.2
