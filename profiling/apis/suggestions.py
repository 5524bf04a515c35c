"""The AI profiling of a case over REST: ask for a suggestion, list them, decide, take a strategy.

/api/v1/cases/{case_id}/profiling/ ...; the same services as the case page's card
(profiling.services.suggestions). Scoped like the case API: another team's case is a 404, an
admin gets a 403 (admins configure, they do not read case contents). Every suggestion comes with
its texts: the factors for staff and in plain language for the customer, the missing inputs and
how they limit it, the strategies with why they fit.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record_many
from cases.apis.cases import ADMIN_FORBIDDEN_EXAMPLE, _require_case_reader
from cases.apis.plans import PlanStepOutput
from cases.models import Case
from cases.selectors import case_visible_to
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    StrictPagination,
    error_response,
    reject_unknown_params,
)
from profiling.explanations import suggestion_present
from profiling.models import DecisionOutcome, SuggestionTrigger
from profiling.selectors.suggestions import (
    suggestion_list_for_case,
    suggestion_strategy_catalogue,
)
from profiling.services.suggestions import (
    SUGGESTION_OBJECT,
    suggestion_create,
    suggestion_decide,
    suggestion_strategies_in_draft,
    suggestion_strategy_to_plan,
)

CASE_404 = error_response(
    "No such case, or it belongs to another team: the two are indistinguishable."
)
CREATE_400 = error_response(
    "No suggestion, with the reason under extra.code: case_closed (the case is closed), "
    "no_profile (record the anamnesis first), no_active_model (an admin has to activate a "
    "model), profile_incomplete (too many inputs missing; they are listed under extra.missing); "
    "or the active model's file or the customer group rules cannot be used (the message says why)."
)

NO_PROFILE_EXAMPLE = OpenApiExample(
    "No profile yet",
    value={
        "message": "There is no profile for this customer yet. Record the anamnesis on the "
        "profile page first; then the AI can make a suggestion.",
        "extra": {"code": "no_profile"},
    },
    response_only=True,
    status_codes=["400"],
)
OVERRIDE_EXAMPLE = OpenApiExample(
    "Override without a reason",
    value={
        "message": "Give a reason for choosing another group than the AI suggested.",
        "extra": {
            "fields": {
                "reason": ["Give a reason for choosing another group than the AI suggested."]
            }
        },
    },
    response_only=True,
    status_codes=["400"],
)


def _audit_ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _case(request: Request, case_id: int) -> Case:
    _require_case_reader(request)
    try:
        return case_visible_to(user=request.user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise ApiNotFoundError(_("There is no case with this number for you.")) from None


# --- output shapes ---------------------------------------------------------------------------------


class FactorOutput(serializers.Serializer):
    feature = serializers.CharField(help_text="The model input (CSV column name).")
    label = serializers.CharField(help_text="The input's name, for people.")
    value = serializers.JSONField(help_text="The customer's value of the input.")
    effect = serializers.FloatField(help_text="Log-odds; positive raises the chances.")
    direction = serializers.CharField(help_text="raises or lowers")
    text = serializers.CharField(help_text="For the caseworker, e.g. 'German at level A2'.")
    customer_text = serializers.CharField(help_text="For the customer, in plain language.")

    class Meta:
        ref_name = "ProfilingFactor"


class MissingOutput(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField(
        help_text="A required input widens the range; an optional one hardly limits it."
    )
    low = serializers.FloatField(
        required=False, allow_null=True, help_text="Lowest probability over its values."
    )
    high = serializers.FloatField(
        required=False, allow_null=True, help_text="Highest probability over its values."
    )
    text = serializers.CharField(help_text="How the missing input limits the suggestion.")

    class Meta:
        ref_name = "ProfilingMissingInput"


class StrategyOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The inputs it works on, strongest first."
    )
    reason_texts = serializers.ListField(
        child=serializers.CharField(), help_text="Why it fits this customer, for people."
    )
    in_plan = serializers.BooleanField(help_text="Its step is already in the draft plan.")

    class Meta:
        ref_name = "ProfilingStrategy"


class DecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    suggestion_id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    # Plain strings in the schema: the customer group enum is named by the case API already.
    group = serializers.CharField(help_text="market_near, potential or administrative")
    reason = serializers.CharField(allow_blank=True)
    strategies = serializers.ListField(child=serializers.CharField())
    decided_by = serializers.CharField(source="decided_by.username")
    decided_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ProfilingDecision"


class SuggestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    trigger = serializers.ChoiceField(choices=SuggestionTrigger.choices)
    requested_by = serializers.CharField(
        allow_null=True, help_text="null: the nightly goal review (the system)."
    )
    model_version = serializers.IntegerField(help_text="The number of the model version.")
    rule_set_version = serializers.IntegerField()
    profile_version = serializers.IntegerField()
    inputs = serializers.DictField(help_text="The exact model inputs used (null: not known).")
    probability = serializers.FloatField(help_text="Of integration within 12 months.")
    probability_low = serializers.FloatField()
    probability_high = serializers.FloatField()
    range_text = serializers.CharField(
        allow_blank=True, help_text="How missing inputs limit the probability; empty if none."
    )
    suggested_group = serializers.CharField(help_text="market_near, potential or administrative")
    current_group = serializers.CharField(
        allow_blank=True, help_text="The case's group now; empty: not yet assigned."
    )
    changed = serializers.BooleanField(help_text="Differed from the group when it was made.")
    latest = serializers.BooleanField(help_text="The latest suggestion: the one to decide.")
    factors = FactorOutput(many=True)
    customer_text = serializers.CharField(help_text="The explanation for the customer.")
    missing = MissingOutput(many=True)
    strategies = StrategyOutput(many=True)
    decision = DecisionOutput(allow_null=True)

    class Meta:
        ref_name = "ProfilingSuggestion"


def _payload(case: Case, suggestions: list, *, latest_id: int | None) -> list[dict]:
    catalogue = suggestion_strategy_catalogue(suggestions=suggestions)
    in_draft = (
        suggestion_strategies_in_draft(case=case, suggestion=suggestions[0])
        if suggestions
        else set()
    )
    items = []
    for index, suggestion in enumerate(suggestions):
        shown = suggestion_present(
            suggestion,
            catalogue=catalogue,
            in_draft=in_draft if index == 0 else set(),
            latest=suggestion.pk == latest_id,
        )
        decision = shown["decision"]
        items.append(
            {
                "id": suggestion.pk,
                "case_id": suggestion.case_id,
                "created_at": suggestion.created_at,
                "trigger": suggestion.trigger,
                "requested_by": suggestion.requested_by.username
                if suggestion.requested_by
                else None,
                "model_version": suggestion.model_version.number,
                "rule_set_version": suggestion.rule_set.version,
                "profile_version": suggestion.profile_version,
                "inputs": suggestion.inputs,
                "probability": suggestion.probability,
                "probability_low": suggestion.probability_low,
                "probability_high": suggestion.probability_high,
                "range_text": shown["range_text"],
                "suggested_group": suggestion.suggested_group,
                "current_group": case.customer_group,
                "changed": suggestion.changed,
                "latest": shown["latest"],
                "factors": shown["factors"],
                "customer_text": shown["customer_text"],
                "missing": shown["missing"],
                "strategies": shown["strategies"],
                "decision": None
                if decision is None
                else {
                    "id": decision.pk,
                    "suggestion_id": suggestion.pk,
                    "outcome": decision.outcome,
                    "group": decision.group,
                    "reason": decision.reason,
                    "strategies": decision.strategies,
                    "decided_by": decision.decided_by,
                    "decided_at": decision.decided_at,
                },
            }
        )
    return items


# --- the operations --------------------------------------------------------------------------------


class SuggestionCreateApi(APIView):
    @extend_schema(
        operation_id="case_profiling_create",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={201: SuggestionOutput, 400: CREATE_400, 404: CASE_404, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE, NO_PROFILE_EXAMPLE],
        description="The AI reads the customer's profile and suggests a customer group and "
        "action strategies, with reasons. The group does not change: a person decides with "
        "POST .../profiling/decision/. Logged with the model version and the exact inputs.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        suggestion = suggestion_create(ctx=_audit_ctx(request), case_id=case_id)
        case = suggestion.case
        suggestion = suggestion_list_for_case(case=case).get(pk=suggestion.pk)
        (item,) = _payload(case, [suggestion], latest_id=suggestion.pk)
        return Response(SuggestionOutput(item).data, status=201)


class SuggestionListApi(APIView):
    pagination_class = StrictPagination

    @extend_schema(
        operation_id="case_profiling_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: SuggestionOutput(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: CASE_404,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The case's AI suggestions with their decisions, newest first. The read is "
        "audit-logged.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(suggestion_list_for_case(case=case), request, view=self)
        latest_id = (
            suggestion_list_for_case(case=case).values_list("pk", flat=True).first()
            if page
            else None
        )
        audit_record_many(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type=SUGGESTION_OBJECT,
            items=[(suggestion.pk, case.customer_id) for suggestion in page],
            detail={"view": "suggestion_list"},
        )
        items = _payload(case, list(page), latest_id=latest_id)
        return paginator.get_paginated_response(SuggestionOutput(items, many=True).data)


class SuggestionApi(SuggestionListApi, SuggestionCreateApi):
    """/profiling/: GET the suggestions, POST a new one (two operations)."""


class SuggestionDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProfilingDecisionInput"

        suggestion = serializers.IntegerField(
            min_value=1, help_text="The id of the case's latest suggestion."
        )
        accepted = serializers.BooleanField(
            help_text="true: the suggested group; false: override with another group."
        )
        # A plain string in the schema (checked by the service): the customer group enum is
        # named by the case API, and drf-spectacular cannot name it twice without a settings entry.
        group = serializers.CharField(
            max_length=20,
            help_text="The group decided (market_near, potential or administrative); the "
            "suggested one when accepting.",
        )
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=2000,
            help_text="Required when overriding.",
        )
        strategies = serializers.ListField(
            child=serializers.SlugField(max_length=50),
            required=False,
            default=list,
            help_text="Codes of the suggestion's strategies chosen with the customer.",
        )

    @extend_schema(
        operation_id="case_profiling_decide",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: DecisionOutput,
            400: error_response(
                "Bad input (messages per field under extra.fields): an override without a "
                "reason, accepted with a group other than the suggested one, an override with "
                "the suggested group, a strategy that was not suggested; or the case is closed."
            ),
            404: error_response("No such case for the caller, or no such suggestion in it."),
            409: error_response(
                "Not the case's latest suggestion (extra.latest_suggestion), or it has already "
                "been decided (extra.decision). Nothing was saved."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE, OVERRIDE_EXAMPLE],
        description="A person accepts or overrides the latest suggestion and picks strategies. "
        "This sets the case's customer group (the only way it changes after a suggestion); "
        "logged with who, when, accepted or overridden and the reason.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = suggestion_decide(
            ctx=_audit_ctx(request),
            case_id=case_id,
            suggestion_id=data["suggestion"],
            accepted=data["accepted"],
            group=data["group"],
            reason=data["reason"],
            strategies=data["strategies"],
        )
        return Response(DecisionOutput(decision).data, status=201)


class StrategyPlanOutput(serializers.Serializer):
    plan_id = serializers.IntegerField()
    plan_version = serializers.CharField(help_text="cycle.version, e.g. 1.2")
    step = PlanStepOutput()

    class Meta:
        ref_name = "ProfilingStrategyPlanStep"


class SuggestionStrategyPlanApi(APIView):
    @extend_schema(
        operation_id="case_profiling_strategy_to_plan",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: StrategyPlanOutput,
            400: error_response(
                "The case is closed, the strategy is no longer in the catalogue, or a first "
                "draft cannot be started (messages per field under extra.fields)."
            ),
            404: error_response(
                "No such case for the caller, no such suggestion in it, or the strategy was not "
                "suggested."
            ),
            409: error_response("The strategy's step is already in the draft plan."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Take a suggested strategy into the cooperation plan with one call: its "
        "step is added to the draft (a draft is started when there is none, copying the agreed "
        "plan as the plan page does).",
    )
    def post(self, request: Request, case_id: int, suggestion_id: int, code: str) -> Response:
        _require_case_reader(request)
        step = suggestion_strategy_to_plan(
            ctx=_audit_ctx(request), case_id=case_id, suggestion_id=suggestion_id, code=code
        )
        plan = step.plan
        data = {"plan_id": plan.pk, "plan_version": f"{plan.cycle}.{plan.version}", "step": step}
        return Response(StrategyPlanOutput(data).data, status=201)


api_urlpatterns = [
    path("cases/<int:case_id>/profiling/", SuggestionApi.as_view(), name="case-profiling"),
    path(
        "cases/<int:case_id>/profiling/decision/",
        SuggestionDecideApi.as_view(),
        name="case-profiling-decision",
    ),
    path(
        "cases/<int:case_id>/profiling/<int:suggestion_id>/strategies/<slug:code>/plan/",
        SuggestionStrategyPlanApi.as_view(),
        name="case-profiling-strategy-plan",
    ),
]
