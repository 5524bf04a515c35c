"""API views: planning runs (issue 5). `api_urlpatterns` is included by jobcenter/api_urls.py.

The same services as the planning pages (scheduling.services_planning). Caseworkers and team
leads of a team read its runs; other teams get 404 for a run or an item, other roles (admins) 403
for every operation. Starting, approving and discarding a run is for the team lead; single
invitations are approved or rejected by any caseworker or team lead of the team. Reading a run
with its invitations is audit-logged per customer. Approving re-checks each proposal against the
calendar as it is now: a single one that no longer fits is a 409 naming why; a run approval
approves the rest and lists those it left out. Rejecting may set a date before which the case is
not invited again (`hold_until`; without one the case is held until a person lifts the hold,
`POST /cases/{id}/contact-agreement/hold/lift/`, or changes its contact agreement).
"""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record_many
from cases.selectors import case_get_for_user
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    StrictPagination,
    error_response,
    reject_unknown_params,
)
from jobcenter.exceptions import ApplicationError
from scheduling.models import ContactAgreement, PlanningRun, PlanningRunItem
from scheduling.selectors import MAX_DAYS_AHEAD
from scheduling.services_agreements import contact_agreement_hold_lift
from scheduling.services_planning import (
    planning_item_approve,
    planning_item_get_for_user,
    planning_item_reason_text,
    planning_item_reject,
    planning_run_approve,
    planning_run_discard,
    planning_run_get_for_user,
    planning_run_items,
    planning_run_list_for_user,
    planning_run_request,
    planning_run_sending,
)

RUN_NOT_FOUND = error_response("No planning run with this number in your team.")
ITEM_NOT_FOUND = error_response("No planned invitation with this number in your team.")
NOT_TEAM_LEAD = error_response(
    "Not authenticated as a caseworker or team lead, or (for this operation) not the team lead "
    "of the run's team."
)
NOT_STAFF = error_response("Authenticated, but not a caseworker or team lead.")
DECIDED = error_response("The run (or invitation) has already been decided or replaced.")
ITEM_CONFLICT = error_response(
    "The invitation has already been decided or replaced, or it no longer fits the calendar "
    "(an absence, a busy time, a public holiday, outside the working hours, another appointment, "
    "the daily cap, the time has passed): the message names why, `extra.conflict.code` too."
)


def _ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _require_case_reader(request: Request) -> None:
    if not getattr(request.user, "reads_cases", False) or request.user.team_id is None:
        raise PermissionDenied(_("Only caseworkers and team leads plan invitations."))


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise ApplicationError(_("Send a JSON object."))
    return request.data


# --- serializers -------------------------------------------------------------------------------------


class _AppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    staff_id = serializers.IntegerField()
    staff = serializers.CharField(source="staff.get_full_name")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    channel = serializers.CharField()
    location = serializers.CharField()
    video_link = serializers.CharField()
    purpose = serializers.CharField()
    # Plain strings: ChoiceFields named "status" clash with other enums in the schema.
    status = serializers.CharField(help_text="planned, approved, sent, ... (Appointment status)")
    group_session_id = serializers.IntegerField(
        allow_null=True, help_text="Set for a place in a group session."
    )

    class Meta:
        ref_name = "PlanningAppointment"


class _ProposalSerializer(serializers.Serializer):
    """What the run proposed; kept after the proposal is withdrawn (its appointment deleted)."""

    staff_id = serializers.IntegerField(allow_null=True, source="proposed_staff_id")
    start = serializers.DateTimeField(source="proposed_start")
    end = serializers.DateTimeField(source="proposed_end")
    channel = serializers.CharField(source="proposed_channel")
    group_session_id = serializers.IntegerField(allow_null=True, source="proposed_group_session_id")

    class Meta:
        ref_name = "PlanningProposal"


class _ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    customer_group = serializers.CharField()
    due_date = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    outcome = serializers.CharField(help_text="placed or unplaced")
    reason = serializers.CharField(
        help_text="Reason code: why unplaced, or why a potential customer is with a colleague."
    )
    reason_text = serializers.SerializerMethodField()
    decision = serializers.CharField(
        help_text="pending, approved, rejected or left_out (the run was approved, but this "
        "proposal no longer fitted the calendar; `left_out` says why)"
    )
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    appointment = _AppointmentSerializer(
        allow_null=True,
        help_text="The appointment while it exists; null once a proposal never approved was "
        "withdrawn (superseded, discarded, rejected, left out): see `proposal`.",
    )
    proposal = serializers.SerializerMethodField()
    hold = serializers.SerializerMethodField()
    left_out = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PlanningItem"

    def get_reason_text(self, item: PlanningRunItem) -> str:
        return planning_item_reason_text(item)

    @extend_schema_field(_ProposalSerializer(allow_null=True))
    def get_proposal(self, item: PlanningRunItem) -> dict | None:
        return _ProposalSerializer(item).data if item.proposed_start else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "Reason `held`: the hold ({until, set_at, set_by, reason}; until "
            "null: until lifted).",
        }
    )
    def get_hold(self, item: PlanningRunItem) -> dict | None:
        return (item.detail or {}).get("hold")

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "Decision left_out: why ({code, staff, start, ...}).",
        }
    )
    def get_left_out(self, item: PlanningRunItem) -> dict | None:
        return (item.detail or {}).get("left_out")


class _RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    status = serializers.CharField(
        help_text="running, proposed, approved, discarded, superseded or failed"
    )
    trigger = serializers.CharField(help_text="periodic or on_demand")
    requested_by = serializers.CharField(
        source="requested_by.username", allow_null=True, default=None, help_text="null: system"
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    horizon_start = serializers.DateField()
    horizon_end = serializers.DateField()
    fingerprint = serializers.CharField(help_text="SHA-256 of the planner's input.")
    weights = serializers.DictField()
    objective = serializers.IntegerField(allow_null=True)
    bound = serializers.IntegerField(
        allow_null=True, help_text="The most invitations any plan could place."
    )
    due_count = serializers.IntegerField()
    placed_count = serializers.IntegerField()
    unplaced_count = serializers.IntegerField()
    metrics = serializers.DictField(
        help_text="Figures: over_capacity, utilisation_spread, utilisation_by_staff, "
        "own_caseworker_share, mean_due_distance_days, unplaced_reasons, ..."
    )
    seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField()
    approved_by = serializers.CharField(
        source="approved_by.username", allow_null=True, default=None
    )
    approved_at = serializers.DateTimeField(allow_null=True)
    sending = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PlanningRun"

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "sent": {"type": "integer"},
                "waiting": {"type": "integer"},
            },
            "description": "The sending of the approved invitations: poll until waiting is 0.",
        }
    )
    def get_sending(self, run: PlanningRun) -> dict:
        return planning_run_sending(run=run)


class _RunDetailSerializer(_RunSerializer):
    items = _ItemSerializer(many=True)

    class Meta:
        ref_name = "PlanningRunDetail"


class _RunApprovedSerializer(_RunDetailSerializer):
    left_out = _ItemSerializer(
        many=True, help_text="The invitations left out because they no longer fitted."
    )

    class Meta:
        ref_name = "PlanningRunApproved"


def _detail(request: Request, run: PlanningRun) -> dict:
    items = planning_run_items(run=run)
    if items:
        audit_record_many(
            ctx=_ctx(request),
            action=AuditAction.LIST,
            object_type="case",
            items=[(item.case_id, item.case.customer_id) for item in items],
            detail={"view": "planning_run", "run_id": run.pk},
        )
    data = _RunSerializer(run).data
    data["items"] = _ItemSerializer(items, many=True).data
    return data


# --- operations ----------------------------------------------------------------------------------------


class PlanningRunListApi(APIView):
    pagination_class = StrictPagination

    class InputSerializer(serializers.Serializer):
        team_id = serializers.IntegerField(
            required=False, help_text="Your own team (the default); nothing else is allowed."
        )

        class Meta:
            ref_name = "PlanningRunStartInput"

    @extend_schema(
        operation_id="planning_runs_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _RunSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            401: AUTH_ERRORS[401],
            403: NOT_STAFF,
            404: error_response("A page past the end."),
        },
        description="The planning runs of your team, newest first, with their figures.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            planning_run_list_for_user(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(_RunSerializer(page, many=True).data)

    @extend_schema(
        operation_id="planning_runs_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: _RunSerializer,
            400: error_response("An invalid body."),
            401: AUTH_ERRORS[401],
            403: NOT_TEAM_LEAD,
            409: error_response("A run of the team is still running."),
        },
        description="Plan now (team lead): opens a run for your team (a proposed run is "
        "superseded) and computes it in a worker; poll the run until its status is no longer "
        "`running`.",
    )
    def post(self, request: Request) -> Response:
        _require_case_reader(request)
        serializer = self.InputSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        team_id = serializer.validated_data.get("team_id", request.user.team_id)
        run = planning_run_request(ctx=_ctx(request), team_id=team_id)
        run.refresh_from_db()
        return Response(_RunSerializer(run).data, status=201)


class PlanningRunDetailApi(APIView):
    @extend_schema(
        operation_id="planning_runs_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _RunDetailSerializer,
            400: error_response("An unknown query parameter."),
            401: AUTH_ERRORS[401],
            403: NOT_STAFF,
            404: RUN_NOT_FOUND,
        },
        description="One run with its figures and every invitation (placed with the proposed "
        "appointment, or unplaced with the reason).",
    )
    def get(self, request: Request, run_id: int) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed=set())
        run = planning_run_get_for_user(user=request.user, run_id=run_id)
        return Response(_detail(request, run))


class PlanningRunApproveApi(APIView):
    @extend_schema(
        operation_id="planning_runs_approve",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _RunApprovedSerializer,
            401: AUTH_ERRORS[401],
            403: NOT_TEAM_LEAD,
            404: RUN_NOT_FOUND,
            409: DECIDED,
        },
        description="Approve every pending invitation of a proposed run that still fits the "
        "calendar (team lead); the others are left out with their reason (`left_out`, decision "
        "left_out). The approved invitations are sent by the workers after the commit: follow "
        "`sending` on the run.",
    )
    def post(self, request: Request, run_id: int) -> Response:
        _require_case_reader(request)
        run = planning_run_get_for_user(user=request.user, run_id=run_id)
        run = planning_run_approve(ctx=_ctx(request), run_id=run.pk)
        left_out = [item.pk for item in run.left_out]
        data = _detail(request, run)
        data["left_out"] = [item for item in data["items"] if item["id"] in left_out]
        return Response(data)


class PlanningRunDiscardApi(APIView):
    @extend_schema(
        operation_id="planning_runs_discard",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _RunDetailSerializer,
            401: AUTH_ERRORS[401],
            403: NOT_TEAM_LEAD,
            404: RUN_NOT_FOUND,
            409: DECIDED,
        },
        description="Discard a proposed run (team lead): its pending proposals are withdrawn "
        "(their appointments deleted: no customer heard of them); invitations approved one by "
        "one stay.",
    )
    def post(self, request: Request, run_id: int) -> Response:
        _require_case_reader(request)
        run = planning_run_get_for_user(user=request.user, run_id=run_id)
        run = planning_run_discard(ctx=_ctx(request), run_id=run.pk)
        return Response(_detail(request, run))


class PlanningItemApproveApi(APIView):
    @extend_schema(
        operation_id="planning_items_approve",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _ItemSerializer,
            401: AUTH_ERRORS[401],
            403: NOT_STAFF,
            404: ITEM_NOT_FOUND,
            409: ITEM_CONFLICT,
        },
        description="Approve one invitation of a proposed run (caseworker or team lead of "
        "the team); it is sent after the commit. The run stays proposed. A proposal that no "
        "longer fits the calendar is refused (409, the message says why).",
    )
    def post(self, request: Request, item_id: int) -> Response:
        _require_case_reader(request)
        item = planning_item_get_for_user(user=request.user, item_id=item_id)
        item = planning_item_approve(ctx=_ctx(request), item_id=item.pk)
        return Response(_ItemSerializer(item).data)


class PlanningItemRejectApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000, help_text="Why (required).")
        hold_until = serializers.DateField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Do not invite the case again before this date (after today, at most "
            f"{MAX_DAYS_AHEAD} days ahead). Absent or null: not again until a person lifts "
            "the hold or changes the contact agreement.",
        )

        class Meta:
            ref_name = "PlanningItemRejectInput"

    @extend_schema(
        operation_id="planning_items_reject",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _ItemSerializer,
            400: error_response(
                "No reason, an invalid body, or a hold date not after today or too far ahead."
            ),
            401: AUTH_ERRORS[401],
            403: NOT_STAFF,
            404: ITEM_NOT_FOUND,
            409: DECIDED,
        },
        description="Reject one invitation with a reason: its proposal is withdrawn (no "
        "customer heard of it) and the case is held back from invitations until `hold_until`, "
        "or until a person lifts the hold or changes the contact agreement.",
    )
    def post(self, request: Request, item_id: int) -> Response:
        _require_case_reader(request)
        serializer = self.InputSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        item = planning_item_get_for_user(user=request.user, item_id=item_id)
        item = planning_item_reject(
            ctx=_ctx(request),
            item_id=item.pk,
            reason=serializer.validated_data["reason"],
            hold_until=serializer.validated_data.get("hold_until"),
        )
        return Response(_ItemSerializer(item).data)


class _HoldSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    held = serializers.BooleanField(help_text="Whether invitations are held back now.")
    until = serializers.DateField(allow_null=True, help_text="null: until lifted.")
    set_at = serializers.DateTimeField(allow_null=True)
    set_by = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "InvitationHold"


def _hold_payload(case_id: int, agreement: ContactAgreement | None) -> dict:
    held = bool(agreement and agreement.is_held(timezone.localdate()))
    return {
        "case_id": case_id,
        "held": held,
        "until": agreement.hold_until if held else None,
        "set_at": agreement.hold_set_at if held else None,
        "set_by": agreement.hold_set_by.get_username() if held and agreement.hold_set_by else None,
        "reason": agreement.hold_reason if held else "",
    }


class ContactAgreementHoldLiftApi(APIView):
    @extend_schema(
        operation_id="case_invitation_hold_lift",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _HoldSerializer,
            401: AUTH_ERRORS[401],
            403: NOT_STAFF,
            404: error_response("No case with this number in your team."),
            409: error_response("Invitations of this case are not held back."),
        },
        description="Lift the hold a rejected invitation put on the case: it is invited again "
        "at its cadence from the next planning run.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        case = case_get_for_user(user=request.user, case_id=case_id)
        agreement = contact_agreement_hold_lift(ctx=_ctx(request), case_id=case.pk)
        return Response(_HoldSerializer(_hold_payload(case.pk, agreement)).data)


api_urlpatterns = [
    path("planning-runs/", PlanningRunListApi.as_view(), name="planning-run-list"),
    path("planning-runs/<int:run_id>/", PlanningRunDetailApi.as_view(), name="planning-run-detail"),
    path(
        "planning-runs/<int:run_id>/approve/",
        PlanningRunApproveApi.as_view(),
        name="planning-run-approve",
    ),
    path(
        "planning-runs/<int:run_id>/discard/",
        PlanningRunDiscardApi.as_view(),
        name="planning-run-discard",
    ),
    path(
        "planning-items/<int:item_id>/approve/",
        PlanningItemApproveApi.as_view(),
        name="planning-item-approve",
    ),
    path(
        "planning-items/<int:item_id>/reject/",
        PlanningItemRejectApi.as_view(),
        name="planning-item-reject",
    ),
    path(
        "cases/<int:case_id>/contact-agreement/hold/lift/",
        ContactAgreementHoldLiftApi.as_view(),
        name="case-invitation-hold-lift",
    ),
]
