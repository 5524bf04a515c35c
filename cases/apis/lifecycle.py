"""Phase transitions and team-queue claims over REST: the same services as the case page.

Status codes, the same for every endpoint here: 400 for a malformed body (unknown phase, missing or
unknown closure reason, reason too long), 409 when the request is well-formed but the case's
current state refuses it (not a possible transition from this phase, no agreed plan, review
overdue, already claimed, fixed caseworker), 404 for a case of another team (indistinguishable
from a missing one), 403 for the admin role, 401 without valid credentials.
"""

from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from cases.apis.cases import (
    ADMIN_FORBIDDEN_EXAMPLE,
    CaseDetailApi,
    _audit_ctx,
    _require_case_reader,
)
from cases.models import ClosureReason, Phase
from cases.selectors import case_get_for_user
from cases.services.lifecycle import REASON_MAX_LENGTH, case_transition
from cases.services.queue import case_claim, case_release
from jobcenter.api import AUTH_ERROR_HEADERS, AUTH_ERRORS, ApiNotFoundError, error_response

NOT_FOUND = error_response(
    "No such case, or it belongs to another team: the two are indistinguishable."
)


def _case_or_404(request: Request, case_id: int):
    try:
        return case_get_for_user(user=request.user, case_id=case_id)
    except Http404:
        raise ApiNotFoundError(_("There is no case with this number for you.")) from None


def _case_response(request: Request, case_id: int) -> Response:
    """The case after the change, as GET /cases/{id}/ shows it; that read is logged too."""
    case = _case_or_404(request, case_id)
    audit_record(
        ctx=_audit_ctx(request),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )
    return Response(CaseDetailApi.OutputSerializer(case).data)


def _call(request: Request, case_id: int, service, **kwargs) -> Response:
    _require_case_reader(request)
    try:
        service(ctx=_audit_ctx(request), case_id=case_id, **kwargs)
    except Http404:
        raise ApiNotFoundError(_("There is no case with this number for you.")) from None
    return _case_response(request, case_id)


def _reason_field(**kwargs) -> serializers.CharField:
    # Not trimmed here (the service trims), so the length the schema states is the one checked.
    kwargs.setdefault("help_text", "Why.")
    return serializers.CharField(max_length=REASON_MAX_LENGTH, trim_whitespace=False, **kwargs)


def _one_of(values: list[str], **kwargs) -> serializers.CharField:
    """A string field of the documented request body that is one of `values`. Stated as a
    pattern, not an enum: the branches restrict the same choice sets differently, and enums would
    become clashing components."""
    if values:
        schema = {
            "type": "string",
            "pattern": "^(" + "|".join(values) + ")$",
            "description": "One of: " + ", ".join(values),
        }
    else:
        schema = {"type": "string", "maxLength": 0, "description": "Empty, or left out."}
    field_class = extend_schema_field(schema)(type("_OneOf", (serializers.Field,), {}))
    return field_class(**kwargs)


OPEN_PHASES = [value for value in Phase.values if value != Phase.CLOSED]
CLOSING = [Phase.CLOSED.value]

# The request body as the schema states it: the rules between the fields (a closure reason exactly
# when closing; words for "other") are part of it, so a body that fits the schema is well-formed.
TRANSITION_REQUEST = PolymorphicProxySerializer(
    component_name="CaseTransition",
    resource_type_field_name=None,
    serializers=[
        inline_serializer(
            name="CaseTransitionMove",
            fields={
                "to": _one_of(OPEN_PHASES),
                "reason": _reason_field(required=False, allow_blank=True),
                # Empty or absent: only closing has a closure reason.
                "closure_reason": _one_of([], required=False),
            },
        ),
        inline_serializer(
            name="CaseTransitionClose",
            fields={
                "to": _one_of(CLOSING),
                "closure_reason": _one_of(
                    [value for value in ClosureReason.values if value != ClosureReason.OTHER]
                ),
                "reason": _reason_field(required=False, allow_blank=True),
            },
        ),
        inline_serializer(
            name="CaseTransitionCloseOther",
            fields={
                "to": _one_of(CLOSING),
                "closure_reason": _one_of([ClosureReason.OTHER.value]),
                "reason": _reason_field(
                    validators=[RegexValidator(r"\S")],
                    help_text="Required for the closure reason `other`: why, in words.",
                ),
            },
        ),
    ],
    many=False,
)


class CaseTransitionApi(APIView):
    class InputSerializer(serializers.Serializer):
        """Checks the shape; the service checks the rules between the fields (400 as well)."""

        to = serializers.ChoiceField(choices=Phase.choices, help_text="The phase to move to.")
        reason = _reason_field(required=False, allow_blank=True, default="")
        closure_reason = serializers.ChoiceField(
            choices=ClosureReason.choices, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        operation_id="cases_transition",
        request=TRANSITION_REQUEST,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: CaseDetailApi.OutputSerializer,
            400: error_response(
                "Malformed body: unknown phase, closing without a (known) closure reason, a "
                "closure reason when not closing, `other` without a reason, reason too long."
            ),
            404: NOT_FOUND,
            409: error_response(
                "The case's state refuses the transition: not possible from the current phase "
                "(`extra.possible` lists what is), already in that phase, closed, no agreed "
                "cooperation plan of the current cycle, or the goal review is overdue. Nothing "
                "was changed."
            ),
            **AUTH_ERRORS,
        },
        examples=[
            ADMIN_FORBIDDEN_EXAMPLE,
            OpenApiExample(
                "Close",
                value={"to": "closed", "reason": "", "closure_reason": "insured_employment"},
                request_only=True,
            ),
            OpenApiExample(
                "No plan",
                value={
                    "message": "Implementation needs a current cooperation plan: agree the plan "
                    "of this cycle with the customer first.",
                    "extra": {"phase": "planning", "possible": ["closed"]},
                },
                response_only=True,
                status_codes=["409"],
            ),
        ],
        description="Move the case to another phase: profiling → planning → implementation → "
        "review → profiling/planning (a new cycle) or closed; every open phase may be closed "
        "with a closure reason. Recorded with who, when, from, to and why, on the timeline and "
        "in the audit log. Answers with the case as GET /cases/{id}/ does.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        _case_or_404(request, case_id)  # another team's case is a 404 even with a bad body
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _call(request, case_id, case_transition, **serializer.validated_data)


class CaseClaimApi(APIView):
    @extend_schema(
        operation_id="cases_claim",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: CaseDetailApi.OutputSerializer,
            404: NOT_FOUND,
            409: error_response(
                "Someone (or the caller) has already claimed the case (`extra.claimed_by`), it "
                "has a fixed caseworker and is not in the team queue, or it is closed."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Claim a team-queue case to work on it. Of two callers at the same moment "
        "exactly one succeeds; the other gets a 409 naming who holds the case.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        return _call(request, case_id, case_claim)


class CaseReleaseApi(APIView):
    @extend_schema(
        operation_id="cases_release",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: CaseDetailApi.OutputSerializer,
            404: NOT_FOUND,
            409: error_response(
                "Nobody has claimed the case, or someone else has and the caller is not a team "
                "lead (only the holder or a team lead may release)."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Give a claimed case back to the team queue.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        return _call(request, case_id, case_release)
