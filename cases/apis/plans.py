"""The cooperation plan over REST: /api/v1/cases/{id}/cooperation-plan/...

One API class per operation, each with its own input and output serializers, calling the same
services as the plan page. Where two operations share a URL (GET the plan, POST a draft, PATCH the
draft), the class routed there just combines the operation classes; each operation refers to its
own serializers by class name.

Concurrency: PATCH, agree, step changes and step progress carry the `lock_version` the caller read;
an older one is refused with 409 and the current `lock_version` in `extra`.
"""

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.apis.cases import ADMIN_FORBIDDEN_EXAMPLE
from cases.models import Case, StepResponsible, StepStatus
from cases.pdf import PDF_LANGUAGES, plan_pdf_languages
from cases.selectors.plans import (
    plan_case_get_for_user,
    plan_get_for_case,
    plan_overview_for_case,
)
from cases.services.plans import (
    StepInput,
    plan_agree,
    plan_draft_create,
    plan_draft_update,
    plan_pdf_export,
    plan_step_delete,
    plan_step_progress,
    plan_step_update,
    plan_steps_add,
)
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    error_response,
    reject_unknown_params,
)

CASE_404 = error_response(
    "No such case, or it belongs to another team: the two are indistinguishable."
)
DRAFT_404 = error_response(
    "No such case for the caller, or the case has no draft plan (or no such step)."
)
BAD_INPUT = error_response(
    "Bad input, with the message of each field under extra.fields: an empty goal, a review date "
    "that is not in the future, a step without a responsible party, a third party without a "
    "name, an empty description, a due date in the past, or a change to a plan that is not a "
    "draft."
)
CONFLICT = error_response(
    "Someone else changed the plan or step since the caller read it (lock_version is older); "
    "extra.lock_version holds the current one. Nothing was saved."
)


def _require_case_reader(request: Request) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _audit_ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _case(request: Request, case_id: int) -> Case:
    _require_case_reader(request)
    try:
        return plan_case_get_for_user(user=request.user, case_id=case_id)
    except Http404:
        raise ApiNotFoundError(_("There is no case with this number for you.")) from None


def _audit_view(request: Request, case: Case, plan_id, view: str) -> None:
    audit_record(
        ctx=_audit_ctx(request),
        action=AuditAction.VIEW,
        object_type="cooperation_plan",
        object_id=plan_id or "",
        customer_id=case.customer_id,
        detail={"view": view},
    )


# --- output shapes ---------------------------------------------------------------------------------


class PlanStepOutput(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    responsible = serializers.ChoiceField(choices=StepResponsible.choices)
    responsible_name = serializers.CharField(allow_blank=True)
    description = serializers.CharField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=StepStatus.choices)
    follow_up = serializers.CharField(allow_blank=True)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    lock_version = serializers.IntegerField()

    class Meta:
        ref_name = "PlanStep"


class PlanVersionOutput(serializers.Serializer):
    """A version of the plan without its steps (the version list)."""

    id = serializers.IntegerField()
    cycle = serializers.IntegerField()
    version = serializers.IntegerField()
    # A plain string in the schema: "status" is also the step status, and drf-spectacular cannot
    # name two enums after the same field without ENUM_NAME_OVERRIDES in the settings.
    status = serializers.CharField(help_text="draft, agreed or superseded")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username")
    agreed_at = serializers.DateTimeField(allow_null=True)
    agreed_by = serializers.CharField(source="agreed_by.username", allow_null=True, default=None)

    class Meta:
        ref_name = "PlanVersion"


class PlanOutput(PlanVersionOutput):
    """One version of the plan with its goal and steps."""

    integration_goal = serializers.CharField()
    review_date = serializers.DateField()
    agreement_note = serializers.CharField(allow_blank=True)
    lock_version = serializers.IntegerField()
    steps = PlanStepOutput(many=True)

    class Meta:
        ref_name = "CooperationPlan"


class PlanOverviewOutput(serializers.Serializer):
    agreed = PlanOutput(allow_null=True, help_text="The plan in force, or null.")
    draft = PlanOutput(allow_null=True, help_text="The draft being prepared, or null.")
    versions = PlanVersionOutput(many=True, help_text="Every version, newest first.")
    pdf_languages = serializers.ListField(
        child=serializers.CharField(),
        help_text="The languages the agreed plan's PDF is offered in for this customer: 'de' "
        "and the customer's preferred language where a template exists.",
    )

    class Meta:
        ref_name = "CooperationPlanOverview"


def _overview(case: Case) -> dict:
    overview = plan_overview_for_case(case=case)
    return {
        "agreed": overview.agreed,
        "draft": overview.draft,
        "versions": overview.versions,
        "pdf_languages": plan_pdf_languages(customer=case.customer) if overview.agreed else [],
    }


def _draft_payload(case: Case) -> dict:
    return PlanOutput(plan_overview_for_case(case=case).draft).data


class _StepFields(serializers.Serializer):
    class Meta:
        ref_name = "PlanStepInput"

    responsible = serializers.ChoiceField(choices=StepResponsible.choices)
    responsible_name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Required when responsible is third_party.",
    )
    description = serializers.CharField(allow_blank=True, help_text="What exactly; not empty.")
    due_date = serializers.DateField(help_text="Not in the past.")

    def to_input(self) -> StepInput:
        return StepInput(**self.validated_data)


# --- the plan --------------------------------------------------------------------------------------


class PlanGetApi(APIView):
    @extend_schema(
        operation_id="cooperation_plan_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: PlanOverviewOutput, 404: CASE_404, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The current cooperation plan of the case: the agreed version and the "
        "draft (each may be null), and the list of all versions. The read is audit-logged.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        data = _overview(case)
        current = data["draft"] or data["agreed"]
        _audit_view(request, case, current.pk if current else None, "plan")
        return Response(PlanOverviewOutput(data).data)


class PlanDraftCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanDraftCreateInput"

        integration_goal = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="Required for a first version; a new version copies the agreed goal "
            "unless one is given.",
        )
        review_date = serializers.DateField(
            required=False,
            help_text="In the future. Default: the agreed plan's, or today plus the review "
            "period the admins set (six months unless configured).",
        )

    @extend_schema(
        operation_id="cooperation_plan_draft_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: PlanOutput,
            400: BAD_INPUT,
            404: CASE_404,
            409: error_response("The case already has a draft plan."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Start a draft: version 1 of the cycle, or a new version that copies the "
        "agreed plan's goal, review date and steps. The agreed plan stays in force until the "
        "draft is agreed.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = PlanDraftCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan_draft_create(ctx=_audit_ctx(request), case_id=case.pk, **serializer.validated_data)
        return Response(_draft_payload(case), status=201)


class PlanDraftUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanDraftUpdateInput"

        lock_version = serializers.IntegerField(min_value=0)
        integration_goal = serializers.CharField(required=False, allow_blank=True)
        review_date = serializers.DateField(required=False)

    @extend_schema(
        operation_id="cooperation_plan_draft_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: PlanOutput, 400: BAD_INPUT, 404: DRAFT_404, 409: CONFLICT, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Change the goal and/or the review date of the draft.",
    )
    def patch(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = PlanDraftUpdateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan_draft_update(ctx=_audit_ctx(request), case_id=case.pk, **serializer.validated_data)
        return Response(_draft_payload(case))


class PlanApi(PlanGetApi, PlanDraftCreateApi, PlanDraftUpdateApi):
    """/cooperation-plan/: GET the plan, POST a draft, PATCH the draft (three operations)."""


class PlanVersionGetApi(APIView):
    @extend_schema(
        operation_id="cooperation_plan_version_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: PlanOutput,
            404: error_response("No such case for the caller, or no such version of its plan."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="One version of the plan (draft, agreed or superseded) with its steps. The "
        "read is audit-logged.",
    )
    def get(self, request: Request, case_id: int, plan_id: int) -> Response:
        case = _case(request, case_id)
        try:
            plan = plan_get_for_case(case=case, plan_id=plan_id)
        except Http404:
            raise ApiNotFoundError(_("This case has no such plan version.")) from None
        _audit_view(request, case, plan.pk, "plan_version")
        return Response(PlanOutput(plan).data)


class PlanAgreeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanAgreeInput"

        lock_version = serializers.IntegerField(min_value=0)
        agreement_note = serializers.CharField(
            allow_blank=True,
            help_text="How the customer agreed (text form, no signature), e.g. 'discussed and "
            "agreed in the conversation of 20 Nov'. Not empty.",
        )

    @extend_schema(
        operation_id="cooperation_plan_agree",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: PlanOutput,
            400: error_response(
                "The draft cannot be agreed: no step, an empty goal, a review date not in the "
                "future, or no note of how it was agreed."
            ),
            404: DRAFT_404,
            409: CONFLICT,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Record that the customer agreed the draft (who, when, how). The previously "
        "agreed version becomes superseded; the case's goal review date becomes the plan's.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_agree(ctx=_audit_ctx(request), case_id=case.pk, **serializer.validated_data)
        return Response(PlanOutput(plan_get_for_case(case=case, plan_id=plan.pk)).data)


# --- steps -----------------------------------------------------------------------------------------


class PlanStepAddApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanStepsAddInput"

        steps = _StepFields(many=True, allow_empty=False)

    @extend_schema(
        operation_id="cooperation_plan_steps_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={201: PlanOutput, 400: BAD_INPUT, 404: DRAFT_404, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Add one or more steps to the draft. If one step is invalid, none is saved "
        "(field errors are keyed steps.<index>.<field>).",
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = [StepInput(**step) for step in serializer.validated_data["steps"]]
        plan_steps_add(ctx=_audit_ctx(request), case_id=case.pk, steps=steps)
        return Response(_draft_payload(case), status=201)


class PlanStepUpdateApi(APIView):
    class InputSerializer(_StepFields):
        class Meta:
            ref_name = "PlanStepUpdateInput"

        lock_version = serializers.IntegerField(min_value=0)

    @extend_schema(
        operation_id="cooperation_plan_step_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: PlanStepOutput,
            400: BAD_INPUT,
            404: DRAFT_404,
            409: CONFLICT,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Change a step of the draft: who, what exactly, by when (all fields are "
        "sent). Steps of an agreed plan change through a new version, or their progress "
        "through .../progress/.",
    )
    def patch(self, request: Request, case_id: int, step_id: int) -> Response:
        case = _case(request, case_id)
        serializer = PlanStepUpdateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        step = plan_step_update(
            ctx=_audit_ctx(request),
            case_id=case.pk,
            step_id=step_id,
            lock_version=lock_version,
            step=StepInput(**data),
        )
        return Response(PlanStepOutput(step).data)


class PlanStepDeleteApi(APIView):
    lock_version_parameter = OpenApiParameter(
        "lock_version",
        OpenApiTypes.INT,
        location=OpenApiParameter.QUERY,
        required=True,
        description="The lock_version of the step as the caller read it.",
    )

    @extend_schema(
        operation_id="cooperation_plan_step_destroy",
        parameters=[lock_version_parameter, *AUTH_ERROR_HEADERS],
        responses={
            204: OpenApiResponse(description="The step was removed from the draft."),
            400: BAD_INPUT,
            404: DRAFT_404,
            409: CONFLICT,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Remove a step from the draft.",
    )
    def delete(self, request: Request, case_id: int, step_id: int) -> Response:
        case = _case(request, case_id)
        serializer = serializers.IntegerField(min_value=0)
        try:
            lock_version = serializer.run_validation(request.query_params.get("lock_version"))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"lock_version": exc.detail}) from None
        plan_step_delete(
            ctx=_audit_ctx(request), case_id=case.pk, step_id=step_id, lock_version=lock_version
        )
        return Response(status=204)


class PlanStepApi(PlanStepUpdateApi, PlanStepDeleteApi):
    """/steps/{step_id}/: PATCH and DELETE a step of the draft (two operations)."""


class PlanStepProgressApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanStepProgressInput"

        lock_version = serializers.IntegerField(min_value=0)
        status = serializers.ChoiceField(choices=StepStatus.choices, required=False)
        follow_up = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="A follow-up note, appended with the date and the author.",
        )

    @extend_schema(
        operation_id="cooperation_plan_step_progress",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: PlanStepOutput,
            400: error_response(
                "Neither a new status nor a note, or the step belongs to a draft or an old version."
            ),
            404: error_response("No such case for the caller, or no such step."),
            409: CONFLICT,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Implementation work on a step of the agreed plan: mark it done, drop or "
        "reopen it, add a follow-up note. The step changes in place (no new version); the "
        "change is audit-logged and on the case timeline.",
    )
    def post(self, request: Request, case_id: int, step_id: int) -> Response:
        case = _case(request, case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = plan_step_progress(
            ctx=_audit_ctx(request), case_id=case.pk, step_id=step_id, **serializer.validated_data
        )
        return Response(PlanStepOutput(step).data)


# --- the PDF ---------------------------------------------------------------------------------------


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the view itself returns the PDF bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else b""


class PlanPdfApi(APIView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlanPdfFilter"

        lang = serializers.ChoiceField(
            choices=[(code, code) for code in PDF_LANGUAGES],
            required=False,
            default="de",
            help_text="The template language. German is always available; the document in the "
            "customer's language is a translation for information.",
        )

    @extend_schema(
        operation_id="cooperation_plan_pdf",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The agreed plan as a PDF."
            ),
            400: error_response("An unknown language or query parameter."),
            404: error_response("No such case for the caller, or it has no agreed plan."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The agreed cooperation plan as a PDF for the customer, in German or in a "
        "template language (en, ar, uk, tr). Written to the audit log as an export.",
    )
    def get(self, request: Request, case_id: int) -> HttpResponse:
        case = _case(request, case_id)
        reject_unknown_params(request, allowed={"lang"})
        serializer = self.FilterSerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        pdf = plan_pdf_export(
            ctx=_audit_ctx(request), case_id=case.pk, language=serializer.validated_data["lang"]
        )
        response = HttpResponse(pdf.content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
        response["Content-Language"] = pdf.language
        response["Cache-Control"] = "no-store"
        return response

    def handle_exception(self, exc):
        # Errors are JSON ({"message", "extra"}) even when the client asked for a PDF.
        self.request.accepted_renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()
        self.request.accepted_media_type = self.request.accepted_renderer.media_type
        return super().handle_exception(exc)
