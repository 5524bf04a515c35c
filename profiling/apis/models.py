"""API views: model versions (issue 4). `api_urlpatterns` is included by jobcenter/api_urls.py.

Every member of staff reads the versions and their model cards; only admins activate one (or roll
back to one), through the same service as the web page. Versions hold no customer data, so reads
are not audit-logged; an activation writes its audit row in the service.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditChannel
from audit.services import AuditContext
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    StrictPagination,
    error_response,
    reject_unknown_params,
)
from jobcenter.exceptions import ApplicationError
from organisation.models import Role
from profiling.selectors.models import (
    model_activation_list,
    model_version_get,
    model_version_list,
)
from profiling.services.models import (
    ModelVersionNotFoundError,
    model_version_activate,
)

NOT_FOUND = error_response("No model version with this number.")


def _require_staff(request: Request) -> None:
    if request.user.role not in Role.values:
        raise PermissionDenied(_("Only staff of the jobcenter read the model cards."))


def _version(number: int):
    try:
        return model_version_get(number=number)
    except ModelVersionNotFoundError as error:
        raise ApiNotFoundError(error.message) from None


class _SummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    # A plain string: a ChoiceField named "status" would clash with the plan's enum in the schema.
    status = serializers.CharField(help_text="candidate, active or retired")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(
        source="created_by.username", allow_null=True, default=None, help_text="null: the system"
    )
    activated_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField(help_text="synthetic or csv")
    source_name = serializers.CharField()
    rows = serializers.IntegerField()
    base_rate = serializers.FloatField(help_text="Share integrated within 12 months.")
    data_fingerprint = serializers.CharField(help_text="SHA-256 of the normalised training data.")
    features = serializers.ListField(child=serializers.CharField(), help_text="Model inputs.")
    auc = serializers.FloatField(source="metrics.auc", allow_null=True, default=None)
    ece = serializers.FloatField(source="metrics.ece", allow_null=True, default=None)
    brier = serializers.FloatField(source="metrics.brier", allow_null=True, default=None)
    max_group_ece = serializers.FloatField(
        source="metrics.max_group_ece", allow_null=True, default=None
    )
    auc_gap = serializers.FloatField(source="metrics.auc_gap", allow_null=True, default=None)

    class Meta:
        ref_name = "ModelVersionSummary"


class _ActivationSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="version.number")
    previous = serializers.IntegerField(source="previous.number", allow_null=True, default=None)
    action = serializers.CharField(help_text="activate or rollback")
    at = serializers.DateTimeField()
    by = serializers.CharField(
        source="by.username", allow_null=True, default=None, help_text="null: the system"
    )
    reason = serializers.CharField()

    class Meta:
        ref_name = "ModelActivation"


class _DetailSerializer(_SummarySerializer):
    algorithm = serializers.CharField()
    parameters = serializers.DictField()
    artefact_sha256 = serializers.CharField()
    metrics = serializers.DictField(
        help_text="Held-out figures as `profiling_evaluate --json` prints them: overall, per "
        "audited attribute and value under by_group, fairness ratios."
    )
    model_card = serializers.DictField(
        help_text="Per language code, the card's sections: key, title, paragraphs, facts."
    )
    activations = _ActivationSerializer(many=True)

    class Meta:
        ref_name = "ModelVersion"


def _detail(version) -> dict:
    data = _DetailSerializer(version).data
    data["activations"] = _ActivationSerializer(
        model_activation_list(version=version), many=True
    ).data
    return data


class ModelListApi(APIView):
    pagination_class = StrictPagination

    @extend_schema(
        operation_id="models_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _SummarySerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response("A page past the end."),
            **AUTH_ERRORS,
        },
        description="The profiling model versions, newest first, with status and key figures.",
    )
    def get(self, request: Request) -> Response:
        _require_staff(request)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(model_version_list(), request, view=self)
        return paginator.get_paginated_response(_SummarySerializer(page, many=True).data)


class ModelDetailApi(APIView):
    @extend_schema(
        operation_id="models_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _DetailSerializer,
            400: error_response("An unknown query parameter."),
            404: NOT_FOUND,
            **AUTH_ERRORS,
        },
        description="One model version: its model card, its figures overall and per audited "
        "group, and its activation history.",
    )
    def get(self, request: Request, number: int) -> Response:
        _require_staff(request)
        reject_unknown_params(request, allowed=set())
        return Response(_detail(_version(number)))


class ModelActivateApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=1000, default=""
        )

        class Meta:
            ref_name = "ModelActivateInput"

    @extend_schema(
        operation_id="models_activate",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _DetailSerializer,
            400: error_response(
                "The version cannot be used (damaged artefact, trained on other columns, no "
                "valid probability); the active version keeps serving. Or an invalid body."
            ),
            403: error_response("Not authenticated as an administrator."),
            404: NOT_FOUND,
            409: error_response("The version is already active."),
            401: AUTH_ERRORS[401],
        },
        examples=[
            OpenApiExample(
                "Damaged artefact",
                value={
                    "message": "The stored model file is damaged: its checksum does not match. "
                    "Train it again.",
                    "extra": {},
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        description="Activate this version (admins only); the active one is retired. "
        "Activating a version that was active before is recorded as a roll-back. The artefact "
        "is loaded and tried first, so a broken version is refused and nothing changes.",
    )
    def post(self, request: Request, number: int) -> Response:
        if request.user.role != Role.ADMIN:
            raise PermissionDenied(_("Only administrators activate model versions."))
        if not isinstance(request.data, dict):
            raise ApplicationError(_("Send a JSON object."))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = _version(number)
        version = model_version_activate(
            ctx=AuditContext.from_request(request, channel=AuditChannel.API),
            version_id=version.pk,
            reason=serializer.validated_data["reason"],
        )
        return Response(_detail(model_version_get(number=version.number)))


api_urlpatterns = [
    path("models/", ModelListApi.as_view(), name="model-list"),
    path("models/<int:number>/", ModelDetailApi.as_view(), name="model-detail"),
    path("models/<int:number>/activate/", ModelActivateApi.as_view(), name="model-activate"),
]
