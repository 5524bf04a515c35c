"""Storing, activating, rolling back and comparing model versions; a broken one never goes live."""

import pickle

import numpy as np
import pytest

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from jobcenter.exceptions import ConflictError
from profiling.model.estimator import ModelArtefactError, ProfilingEstimator, artefact_dumps
from profiling.model.history import independent_history
from profiling.model.runtime import NoActiveModelError, model_active
from profiling.models import ModelActivation, ModelSource, ModelStatus, ModelVersion
from profiling.services.models import (
    ModelPermissionError,
    model_version_activate,
    model_version_compare,
    model_version_store,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def data():
    return independent_history(n=2000, seed=21)


@pytest.fixture(scope="module")
def estimator(data):
    return ProfilingEstimator.fit(data.rows, data.outcomes, seed=0)


def _store(estimator, data, **metrics) -> ModelVersion:
    return model_version_store(
        estimator=estimator,
        data=data,
        source=ModelSource.SYNTHETIC,
        source_name="tests",
        metrics={"auc": 0.8, "ece": 0.02, "brier": 0.2, **metrics},
        model_card={"en": []},
        actor=None,
    )


def _admin_ctx(admin_user) -> AuditContext:
    return AuditContext(actor=admin_user, channel=AuditChannel.UI)


def test_storing_numbers_versions_and_logs_it(estimator, data):
    first = _store(estimator, data)
    second = _store(estimator, data)
    assert (first.number, second.number) == (1, 2)
    assert first.status == ModelStatus.CANDIDATE
    assert first.features == list(estimator.features)
    assert first.artefact_sha256 == artefact_dumps(estimator)[1]
    assert (
        AuditEvent.objects.filter(object_type="model_version", action=AuditAction.CREATE).count()
        == 2
    )


def test_nothing_is_active_until_someone_activates(estimator, data):
    _store(estimator, data)
    with pytest.raises(NoActiveModelError):
        model_active()


def test_an_admin_activates_and_the_previous_one_is_retired(estimator, data, admin_user):
    first, second = _store(estimator, data), _store(estimator, data)
    model_version_activate(ctx=_admin_ctx(admin_user), version_id=first.pk, reason="first")
    model_version_activate(ctx=_admin_ctx(admin_user), version_id=second.pk, reason="better")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ModelStatus.RETIRED
    assert second.status == ModelStatus.ACTIVE
    assert second.activated_at is not None
    activation = ModelActivation.objects.get(version=second)
    assert activation.action == ModelActivation.Action.ACTIVATE
    assert activation.previous == first
    assert activation.by == admin_user
    assert activation.reason == "better"
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).order_by("-id").first()
    assert event.object_id == "2"
    assert event.actor == admin_user
    assert event.detail == {"action": "activate", "previous": 1, "reason": "better"}
    version, served = model_active()
    assert version.pk == second.pk
    assert served.predict(data.rows[:3]).shape == (3,)


def test_activating_a_version_that_was_active_before_is_a_roll_back(estimator, data, admin_user):
    first, second = _store(estimator, data), _store(estimator, data)
    for version in (first, second, first):
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=version.pk)
    actions = list(ModelActivation.objects.order_by("id").values_list("version__number", "action"))
    assert actions == [(1, "activate"), (2, "activate"), (1, "rollback")]
    assert ModelVersion.objects.get(status=ModelStatus.ACTIVE) == first


def test_activating_the_active_version_again_is_a_conflict(estimator, data, admin_user):
    version = _store(estimator, data)
    model_version_activate(ctx=_admin_ctx(admin_user), version_id=version.pk)
    with pytest.raises(ConflictError):
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=version.pk)


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_only_admins_activate(estimator, data, persona, request):
    version = _store(estimator, data)
    user = request.getfixturevalue(persona)
    with pytest.raises(ModelPermissionError):
        model_version_activate(
            ctx=AuditContext(actor=user, channel=AuditChannel.UI), version_id=version.pk
        )
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE
    assert not ModelActivation.objects.exists()


def test_the_system_activates_for_the_command(estimator, data):
    version = _store(estimator, data)
    model_version_activate(ctx=AuditContext.system(), version_id=version.pk, reason="command")
    activation = ModelActivation.objects.get()
    assert activation.by is None
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).get().actor_username == "system"


def _active_then(estimator, data, admin_user) -> tuple[ModelVersion, ModelVersion]:
    good, bad = _store(estimator, data), _store(estimator, data)
    model_version_activate(ctx=_admin_ctx(admin_user), version_id=good.pk)
    return good, bad


def _assert_still_serving(good: ModelVersion, bad: ModelVersion, data) -> None:
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == ModelStatus.ACTIVE
    assert bad.status == ModelStatus.CANDIDATE
    assert ModelActivation.objects.filter(version=bad).count() == 0
    version, served = model_active()
    assert version.pk == good.pk
    assert np.all((served.predict(data.rows[:5]) >= 0) & (served.predict(data.rows[:5]) <= 1))


def test_a_corrupt_artefact_is_refused_and_the_active_model_keeps_serving(
    estimator, data, admin_user
):
    good, bad = _active_then(estimator, data, admin_user)
    damaged = bytearray(bad.artefact)
    damaged[len(damaged) // 2] ^= 0xFF
    ModelVersion.objects.filter(pk=bad.pk).update(artefact=bytes(damaged))
    with pytest.raises(ModelArtefactError) as caught:
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=bad.pk)
    assert "Prüfsumme stimmt nicht" in caught.value.message  # German: the default language
    _assert_still_serving(good, bad, data)


def test_an_artefact_that_is_no_model_is_refused(estimator, data, admin_user):
    good, bad = _active_then(estimator, data, admin_user)
    import hashlib

    junk = pickle.dumps({"not": "a model"})
    ModelVersion.objects.filter(pk=bad.pk).update(
        artefact=junk, artefact_sha256=hashlib.sha256(junk).hexdigest()
    )
    with pytest.raises(ModelArtefactError):
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=bad.pk)
    _assert_still_serving(good, bad, data)


def test_a_model_trained_on_other_columns_is_refused(estimator, data, admin_user):
    good, bad = _active_then(estimator, data, admin_user)
    ModelVersion.objects.filter(pk=bad.pk).update(features=[*bad.features, "shoe_size"])
    with pytest.raises(ModelArtefactError) as caught:
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=bad.pk)
    assert "shoe_size" in caught.value.message
    _assert_still_serving(good, bad, data)


def test_a_model_reading_fewer_columns_than_recorded_is_refused(data, admin_user, estimator):
    good = _store(estimator, data)
    model_version_activate(ctx=_admin_ctx(admin_user), version_id=good.pk)
    small = ProfilingEstimator.fit(data.rows, data.outcomes, features=("school", "german"))
    bad = _store(small, data)
    ModelVersion.objects.filter(pk=bad.pk).update(features=list(estimator.features))
    with pytest.raises(ModelArtefactError):
        model_version_activate(ctx=_admin_ctx(admin_user), version_id=bad.pk)
    _assert_still_serving(good, bad, data)


def test_compare_shows_each_figure_and_which_way_it_moved(estimator, data):
    active = _store(estimator, data, auc=0.80, ece=0.020, max_group_ece=0.03)
    candidate = _store(estimator, data, auc=0.82, ece=0.025, max_group_ece=0.03)
    comparison = model_version_compare(candidate=candidate, active=active)
    rows = {row["metric"]: row for row in comparison["metrics"]}
    assert rows["auc"]["delta"] == 0.02
    assert rows["auc"]["better"] is True
    assert rows["ece"]["delta"] == 0.005
    assert rows["ece"]["better"] is False
    assert rows["max_group_ece"]["better"] is None
    assert rows["auc_gap"]["delta"] is None
    assert comparison["same_data"] is True
    alone = model_version_compare(candidate=candidate, active=None)
    assert alone["active"] is None
    assert alone["metrics"][0]["delta"] is None
