"""The customer group configuration over REST: the rules in force, a preview of a change, saving a
new version, and the settings of the groups.

Everyone logged in may read (the rules explain the suggestions caseworkers see); only the admin
role previews and saves. The same services as the rules page do the work (profiling.services.segments).
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
from cases.models import Channel, CustomerGroup
from jobcenter.api import AUTH_ERROR_HEADERS, AUTH_ERRORS, error_response
from jobcenter.exceptions import ApplicationError
from organisation.models import Role
from profiling.model.features import FEATURE_NAMES
from profiling.rules import OPERATORS, RulesError, rules_lowest_threshold
from profiling.services.segments import (
    rule_set_current,
    rule_set_preview,
    rule_set_save,
    segment_config_list,
)

BAD_RULES = error_response(
    "The rules are malformed: extra.fields.rules holds the message, which names the rule and "
    "condition (also in extra.rule and extra.condition, counted from 1), e.g. an unknown "
    "customer group, an unknown input or operator, a value that does not fit the input, bounds "
    "outside 0..1 or in the wrong order, or a last rule that does not apply to everyone."
)
ADMIN_ONLY = error_response("Not authenticated, or authenticated but not an administrator.")
ADMIN_ONLY_EXAMPLE = OpenApiExample(
    "Not an administrator",
    value={"message": "Only administrators configure the customer groups.", "extra": {}},
    response_only=True,
    status_codes=["403"],
)


def _require_admin(request: Request) -> None:
    if request.user.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators configure the customer groups."))


def _rules_checked(call):
    """Run a service that checks rules; a RulesError answers 400 with the message per field."""
    try:
        return call()
    except RulesError as error:
        raise ApplicationError(
            error.message,
            extra={
                "fields": {"rules": [error.message]},
                "rule": error.extra.get("rule"),
                "condition": error.extra.get("condition"),
            },
        ) from None


# --- shapes ----------------------------------------------------------------------------------------


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="A model input: " + ", ".join(FEATURE_NAMES) + ".")
    op = serializers.CharField(help_text="One of " + ", ".join(OPERATORS) + ".")
    value = serializers.JSONField(
        help_text="A value of the input (ordinal: one of its values; number: within its range; "
        "binary: 0 or 1; target_kldb: 1 to 5 leading digits); a list for in and not_in."
    )

    class Meta:
        ref_name = "SegmentCondition"


class RuleSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="One of " + ", ".join(CustomerGroup.values) + ".")
    min_probability = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="Inclusive; null for none."
    )
    max_probability = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="Exclusive; null for none."
    )
    conditions = ConditionSerializer(many=True, required=False, default=list)

    class Meta:
        ref_name = "SegmentRule"


class RuleSetOutput(serializers.Serializer):
    version = serializers.IntegerField()
    rules = RuleSerializer(many=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(
        source="created_by.username", allow_null=True, default=None, help_text="null: the system."
    )
    note = serializers.CharField(allow_blank=True)
    moves = serializers.DictField(help_text="The preview shown before this version was saved.")
    lowest_threshold = serializers.SerializerMethodField(
        help_text="The lowest upper bound of any rule (the fairness audit's threshold), or null."
    )

    class Meta:
        ref_name = "SegmentRuleSet"

    def get_lowest_threshold(self, rule_set) -> float | None:
        return rules_lowest_threshold(rule_set.rules)


class PreviewOutput(serializers.Serializer):
    compared = serializers.IntegerField(
        help_text="Open cases with a suggestion, compared on their latest suggestion."
    )
    moving = serializers.IntegerField(help_text="Of them, those whose suggested group changes.")
    moves = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Counts per "from->to", e.g. "potential->market_near".',
    )
    by_group_before = serializers.DictField(child=serializers.IntegerField())
    by_group_after = serializers.DictField(child=serializers.IntegerField())
    current_version = serializers.IntegerField(help_text="The version compared with.")

    class Meta:
        ref_name = "SegmentRulesPreview"


class SegmentConfigOutput(serializers.Serializer):
    group = serializers.CharField(help_text="One of " + ", ".join(CustomerGroup.values) + ".")
    service_model = serializers.CharField()
    contact_cadence_days = serializers.IntegerField()
    channels = serializers.ListField(
        child=serializers.CharField(),
        help_text="Channels (" + ", ".join(Channel.values) + "); the first is the default.",
    )
    fixed_caseworker = serializers.BooleanField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "SegmentConfig"


# --- operations ------------------------------------------------------------------------------------


class SegmentRulesGetApi(APIView):
    @extend_schema(
        operation_id="segment_rules_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: RuleSetOutput, 401: AUTH_ERRORS[401]},
        description="The customer group rules in force (the newest version). Any role may read.",
    )
    def get(self, request: Request) -> Response:
        return Response(RuleSetOutput(rule_set_current()).data)


class SegmentRulesSaveApi(APIView):
    class InputSerializer(serializers.Serializer):
        rules = RuleSerializer(many=True)
        note = serializers.CharField(
            allow_blank=True, max_length=2000, help_text="The reason for the change; not empty."
        )
        expected_version = serializers.IntegerField(
            min_value=0, help_text="The version the change is based on."
        )

        class Meta:
            ref_name = "SegmentRulesSaveInput"

    @extend_schema(
        operation_id="segment_rules_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: RuleSetOutput,
            400: BAD_RULES,
            409: error_response(
                "A newer version was saved since expected_version (extra.current_version holds "
                "it). Nothing was saved."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_ONLY_EXAMPLE],
        description="Save the rules as a new version (admins only), with a reason. The preview "
        "of the moves is computed and stored with it. Versions are never changed. The rules "
        "apply to new suggestions; no customer's group changes without a caseworker's decision.",
    )
    def post(self, request: Request) -> Response:
        _require_admin(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rule_set = _rules_checked(
            lambda: rule_set_save(
                ctx=AuditContext.from_request(request, channel=AuditChannel.API),
                rules=[dict(rule) for rule in data["rules"]],
                note=data["note"],
                expected_version=data["expected_version"],
            )
        )
        return Response(RuleSetOutput(rule_set).data, status=201)


class SegmentRulesApi(SegmentRulesGetApi, SegmentRulesSaveApi):
    """/segments/rules/: GET the rules in force, POST a new version (two operations)."""


class SegmentRulesPreviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        rules = RuleSerializer(many=True)

        class Meta:
            ref_name = "SegmentRulesPreviewInput"

    @extend_schema(
        operation_id="segment_rules_preview",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: PreviewOutput, 400: BAD_RULES, **AUTH_ERRORS},
        examples=[ADMIN_ONLY_EXAMPLE],
        description="How many customers of open cases would get a different suggested group "
        "with these rules (admins only), from each case's latest suggestion. Saves nothing.",
    )
    def post(self, request: Request) -> Response:
        _require_admin(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rules = [dict(rule) for rule in serializer.validated_data["rules"]]
        preview = _rules_checked(lambda: rule_set_preview(rules=rules))
        return Response(PreviewOutput(preview).data)


class SegmentListApi(APIView):
    @extend_schema(
        operation_id="segment_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: SegmentConfigOutput(many=True), 401: AUTH_ERRORS[401]},
        description="The settings of the three customer groups: service model, default contact "
        "cadence, channels and whether a case keeps a fixed caseworker. Any role may read.",
    )
    def get(self, request: Request) -> Response:
        return Response(SegmentConfigOutput(segment_config_list(), many=True).data)


api_urlpatterns = [
    path("segments/", SegmentListApi.as_view(), name="segment-list"),
    path("segments/rules/", SegmentRulesApi.as_view(), name="segment-rules"),
    path("segments/rules/preview/", SegmentRulesPreviewApi.as_view(), name="segment-rules-preview"),
]
