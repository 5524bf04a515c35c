"""Writes: model versions. Store a training run, activate a version or roll back to one.

Nothing switches by itself: a new version is a candidate until an admin (or the `profiling_train
--activate` command, acting as the system) activates it. Activation first loads the artefact and
predicts a probe row, so a damaged artefact or one made for other inputs is refused and the active
version keeps serving.
"""

from __future__ import annotations

import math

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role
from profiling.model.features import FEATURE_BY_NAME, FEATURES
from profiling.models import ModelActivation, ModelStatus, ModelVersion

# The figures shown side by side before an admin activates a version; True: higher is better.
COMPARED_METRICS = (
    ("auc", True),
    ("ece", False),
    ("brier", False),
    ("max_group_ece", False),
    ("auc_gap", False),
    ("fpr_ratio_sex", False),
    ("fpr_ratio_citizenship", False),
    ("demographic_parity_max", False),
)


class ModelPermissionError(ApplicationError):
    """Only admins switch model versions."""

    status_code = 403


class ModelVersionNotFoundError(ApplicationError):
    status_code = 404


def _probe_row() -> dict:
    """A plausible customer with every input known: the model must give a probability for it."""
    row = {}
    for feature in FEATURES:
        if feature.kind == "ordinal":
            row[feature.name] = feature.values[len(feature.values) // 2]
        elif feature.kind == "binary":
            row[feature.name] = 0
        elif feature.kind == "kldb":
            row[feature.name] = "51312"
        else:
            low, high = feature.minimum or 0.0, feature.maximum or 0.0
            row[feature.name] = low + (high - low) * 0.1
    return row


def model_version_check(version: ModelVersion):
    """The version's estimator, loaded and tried on a probe row; ModelArtefactError if unusable."""
    from profiling.model.estimator import ModelArtefactError, artefact_loads

    unknown = [name for name in version.features if name not in FEATURE_BY_NAME]
    if unknown:
        raise ModelArtefactError(
            _(
                "Version %(number)d was trained on columns this installation does not know "
                "(%(names)s). It cannot be activated."
            )
            % {"number": version.number, "names": ", ".join(unknown)},
            extra={"unknown_columns": unknown},
        )
    estimator = artefact_loads(version.artefact, version.artefact_sha256)
    if list(estimator.features) != list(version.features):
        raise ModelArtefactError(
            _(
                "The stored model of version %(number)d reads other inputs than its record says. "
                "It cannot be activated."
            )
            % {"number": version.number}
        )
    try:
        probability = float(estimator.predict([_probe_row()])[0])
    except Exception as error:  # noqa: BLE001 - whatever breaks, the version must not go live
        raise ModelArtefactError(
            _("Version %(number)d cannot compute a probability (%(error)s). Train it again.")
            % {"number": version.number, "error": type(error).__name__}
        ) from None
    if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
        raise ModelArtefactError(
            _("Version %(number)d gives no valid probability. Train it again.")
            % {"number": version.number}
        )
    return estimator


@transaction.atomic
def model_version_store(
    *, estimator, data, source: str, source_name: str, metrics: dict, model_card: dict, actor
) -> ModelVersion:
    """Store a training run as a new candidate version (number: the highest so far + 1)."""
    from profiling.model.estimator import artefact_dumps

    artefact, sha256 = artefact_dumps(estimator)
    # Lock the newest version's row so two training runs do not take the same number.
    list(ModelVersion.objects.select_for_update().order_by("-number").values_list("pk")[:1])
    number = (ModelVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    version = ModelVersion(
        number=number,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        source_name=source_name[:300],
        data_fingerprint=data.fingerprint,
        rows=len(data),
        base_rate=round(float(data.base_rate), 6),
        features=list(estimator.features),
        algorithm=estimator.algorithm[:200],
        parameters=_json_safe(estimator.params),
        metrics=metrics,
        model_card=model_card,
        artefact=artefact,
        artefact_sha256=sha256,
        status=ModelStatus.CANDIDATE,
    )
    version.full_clean(exclude=["artefact"])
    version.save()
    audit_record(
        ctx=AuditContext.system(actor),
        action=AuditAction.CREATE,
        object_type="model_version",
        object_id=version.number,
        detail={
            "source": source,
            "source_name": source_name,
            "rows": len(data),
            "data_fingerprint": data.fingerprint,
            "artefact_sha256": sha256,
            "auc": metrics.get("auc"),
            "ece": metrics.get("ece"),
        },
    )
    return version


def _json_safe(params: dict) -> dict:
    safe = {}
    for key, value in params.items():
        if isinstance(value, bool | int | float | str) or value is None:
            safe[str(key)] = value
        else:
            safe[str(key)] = str(value)
    return safe


def _require_admin(ctx: AuditContext) -> None:
    actor = ctx.actor
    if actor is None:
        return  # the system: a management command run by the operator
    if not (
        getattr(actor, "is_authenticated", False) and actor.is_active and actor.role == Role.ADMIN
    ):
        raise ModelPermissionError(_("Only administrators activate model versions."))


@transaction.atomic
def model_version_activate(*, ctx: AuditContext, version_id: int, reason: str = "") -> ModelVersion:
    """Make a version the active one; the previous active one is retired.

    Activating a version that was active before is recorded as a roll-back. The version is loaded
    and tried first: if that fails, nothing changes and the active version keeps serving.
    """
    _require_admin(ctx)
    # Lock the target and the active row: two admins switching at once are serialised, and the
    # second sees the first one's result (one active version, enforced by a constraint as well).
    locked = {
        version.pk: version
        for version in ModelVersion.objects.select_for_update()
        .filter(Q(pk=version_id) | Q(status=ModelStatus.ACTIVE))
        .order_by("pk")
    }
    version = locked.get(version_id)
    if version is None:
        raise ModelVersionNotFoundError(_("There is no such model version."))
    if version.status == ModelStatus.ACTIVE:
        raise ConflictError(
            _("Version %(number)d is already active.") % {"number": version.number},
            extra={"active": version.number},
        )
    model_version_check(version)

    previous = next(
        (v for v in locked.values() if v.status == ModelStatus.ACTIVE and v.pk != version.pk),
        None,
    )
    was_active_before = version.activated_at is not None or version.activations.exists()
    action = (
        ModelActivation.Action.ROLLBACK if was_active_before else ModelActivation.Action.ACTIVATE
    )
    now = timezone.now()
    if previous is not None:
        previous.status = ModelStatus.RETIRED
        previous.save(update_fields=["status"])
    version.status = ModelStatus.ACTIVE
    version.activated_at = now
    version.save(update_fields=["status", "activated_at"])
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    ModelActivation.objects.create(
        version=version, previous=previous, action=action, at=now, by=actor, reason=reason.strip()
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="model_version",
        object_id=version.number,
        detail={
            "action": str(action),
            "previous": previous.number if previous else None,
            "reason": reason.strip(),
        },
    )
    return version


def model_version_compare(*, candidate: ModelVersion, active: ModelVersion | None) -> dict:
    """The key figures of a candidate next to the active version's, with the differences."""
    rows = []
    for key, higher_is_better in COMPARED_METRICS:
        new = candidate.metrics.get(key)
        old = active.metrics.get(key) if active is not None else None
        delta = None if new is None or old is None else round(new - old, 4)
        better = None
        if delta is not None and delta != 0:
            better = (delta > 0) == higher_is_better
        rows.append(
            {
                "metric": key,
                "candidate": new,
                "active": old,
                "delta": delta,
                "better": better,
                "higher_is_better": higher_is_better,
            }
        )
    return {
        "candidate": candidate.number,
        "active": active.number if active is not None else None,
        "same_data": active is not None and candidate.data_fingerprint == active.data_fingerprint,
        "metrics": rows,
    }
