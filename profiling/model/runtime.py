"""Serving the active model: load it once per process, predict, explain, say what is missing.

The active version is looked up on every call (one small query without the artefact), so an
admin's activation or roll-back takes effect in every web and worker process at once; the
artefact itself is loaded only when the active version changed. A version that cannot be loaded
raises ModelArtefactError; activation refuses such a version first, so the active one keeps serving.
"""

import itertools
import threading
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _

from jobcenter.exceptions import ApplicationError
from profiling.model.estimator import ProfilingEstimator, artefact_loads
from profiling.model.features import FEATURE_BY_NAME, encode_rows

# More unknown required inputs than this and there is no suggestion, only a clear refusal.
MAX_MISSING_REQUIRED = 4
MAX_RANGE_COMBINATIONS = 512


class NoActiveModelError(ApplicationError):
    """No model version has been activated yet."""


class ProfileIncompleteError(ApplicationError):
    """Too little is known about the customer for a suggestion."""


@dataclass
class Prediction:
    """One customer's result: calibrated probability, its range and the effects of the inputs."""

    probability: float
    probability_low: float
    probability_high: float
    missing: list[str] = field(default_factory=list)
    contributions: dict[str, float] = field(default_factory=dict)


_cache: dict[str, object] = {}
_lock = threading.Lock()


def model_active():
    """(ModelVersion without its artefact, ProfilingEstimator) of the active version."""
    from profiling.models import ModelStatus, ModelVersion

    version = ModelVersion.objects.filter(status=ModelStatus.ACTIVE).defer("artefact").first()
    if version is None:
        raise NoActiveModelError(
            _("No profiling model is active yet. An admin activates one under AI models.")
        )
    with _lock:
        if _cache.get("key") != (version.pk, version.artefact_sha256):
            data = ModelVersion.objects.values_list("artefact", flat=True).get(pk=version.pk)
            estimator = artefact_loads(data, version.artefact_sha256)
            _cache.update(key=(version.pk, version.artefact_sha256), estimator=estimator)
        return version, _cache["estimator"]


def missing_inputs(estimator: ProfilingEstimator, row: dict) -> tuple[list[str], list[str]]:
    """(required inputs not known, optional inputs not known) of one row."""
    required, optional = [], []
    for name in estimator.features:
        if row.get(name) in (None, ""):
            (required if FEATURE_BY_NAME[name].required else optional).append(name)
    return required, optional


def predict_explain(estimator: ProfilingEstimator, rows: list[dict]) -> list[Prediction]:
    """Predictions for many rows at once (the batch path and the interactive one alike).

    Raises ProfileIncompleteError for the first row with more than MAX_MISSING_REQUIRED unknown
    required inputs; callers that must go on (the batch) check `missing_inputs` first.
    """
    x = encode_rows(rows, estimator.features)
    probabilities = estimator.predict_matrix(x)
    effects = estimator.contributions_matrix(x)
    results = []
    for i, row in enumerate(rows):
        required, optional = missing_inputs(estimator, row)
        if len(required) > MAX_MISSING_REQUIRED:
            raise ProfileIncompleteError(
                _("Too little is known for a suggestion: %(names)s are missing.")
                % {"names": ", ".join(required)},
                extra={"missing": required},
            )
        p = float(probabilities[i])
        low, high = (p, p) if not required else _range(estimator, row, required)
        results.append(
            Prediction(
                probability=p,
                probability_low=min(low, p),
                probability_high=max(high, p),
                missing=required + optional,
                contributions={
                    name: round(float(effects[i, j]), 4)
                    for j, name in enumerate(estimator.features)
                    if name not in required and name not in optional
                },
            )
        )
    return results


def _range(estimator: ProfilingEstimator, row: dict, missing: list[str]) -> tuple[float, float]:
    """Lowest and highest probability over the possible values of the missing inputs."""
    choices = [FEATURE_BY_NAME[name].candidates() for name in missing]
    combinations = list(itertools.islice(itertools.product(*choices), MAX_RANGE_COMBINATIONS))
    filled = [{**row, **dict(zip(missing, values, strict=True))} for values in combinations]
    probabilities = estimator.predict(filled)
    return float(np.min(probabilities)), float(np.max(probabilities))
