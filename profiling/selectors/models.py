"""Reads of model versions and activations. The same for every member of staff: model versions
hold no customer data, so nothing here depends on who asks (the views check the role)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from profiling.models import ModelActivation, ModelStatus, ModelVersion
from profiling.services.models import ModelVersionNotFoundError

LIST_FIELDS_DEFERRED = ("artefact", "model_card")


def model_version_list() -> list[ModelVersion]:
    """Every version, newest first, without the artefact and the card (one query)."""
    return list(ModelVersion.objects.select_related("created_by").defer(*LIST_FIELDS_DEFERRED))


def model_version_get(*, number: int) -> ModelVersion:
    version = (
        ModelVersion.objects.select_related("created_by").defer("artefact").filter(number=number)
    ).first()
    if version is None:
        raise ModelVersionNotFoundError(
            _("There is no model version %(number)d.") % {"number": number}
        )
    return version


def model_version_active() -> ModelVersion | None:
    return (
        ModelVersion.objects.defer(*LIST_FIELDS_DEFERRED).filter(status=ModelStatus.ACTIVE).first()
    )


def model_activation_list(*, version: ModelVersion | None = None) -> list[ModelActivation]:
    """Activations and roll-backs, newest first (of one version, or all)."""
    activations = ModelActivation.objects.select_related("version", "previous", "by").defer(
        "version__artefact",
        "version__model_card",
        "previous__artefact",
        "previous__model_card",
    )
    if version is not None:
        activations = activations.filter(Q(version=version) | Q(previous=version))
    return list(activations)
