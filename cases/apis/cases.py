"""Cases and customers over REST. Same selectors as the work queue, same audit log.

One API class per operation, each with its own filter (input) and output serializer. Every
response that shows customer data writes its audit rows before it is returned.
"""

from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.models import CaseEvent, ClosureReason, CustomerGroup, Phase
from cases.selectors import (
    CaseFilters,
    Due,
    Queue,
    case_get_for_user,
    case_list_for_user,
    customer_get_for_user,
    customer_list_for_user,
)
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    StrictPagination,
    error_response,
    reject_unknown_params,
)

ADMIN_FORBIDDEN_EXAMPLE = OpenApiExample(
    "Admin",
    value={
        "message": "Your role configures the system and does not read case contents.",
        "extra": {},
    },
    response_only=True,
    status_codes=["403"],
)


def _require_case_reader(request: Request) -> None:
    """Caseworkers and team leads read cases; an admin configures and gets a 403 with the reason."""
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _audit_ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _validated_filters(request: Request, serializer_class: type[serializers.Serializer]) -> dict:
    reject_unknown_params(
        request, allowed={*serializer_class().fields, *StrictPagination.param_names()}
    )
    # A plain dict, not the QueryDict: DRF reads an empty form value of an optional field as
    # "not given", so `?phase=` would silently list everything instead of being refused.
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _GroupField(serializers.ChoiceField):
    """The customer group, or null while none is decided (stored as an empty string)."""

    def to_representation(self, value):
        return value or None


def _search_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        max_length=100,
        # As with every filter, an empty value is refused rather than read as "no filter"; only
        # the empty string, though: the schema cannot say that "   " is blank once trimmed.
        allow_blank=False,
        trim_whitespace=False,
        # Declared so the schema says it: the database cannot store or compare NUL characters.
        validators=[
            RegexValidator(r"^[^\x00]*$", message=gettext_lazy("Null characters are not allowed."))
        ],
        help_text="Words that must each match a first or last name or the start of the "
        "customer number.",
    )


class _StaffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")

    class Meta:
        ref_name = "Staff"


def _staff(**kwargs) -> serializers.Serializer:
    """A member of staff, or null. A new instance per field: one field instance binds once."""
    return _StaffSerializer(allow_null=True, **kwargs)


_customer_summary = inline_serializer(
    name="CaseCustomer",
    fields={
        "id": serializers.IntegerField(),
        "customer_number": serializers.CharField(),
        "first_name": serializers.CharField(),
        "last_name": serializers.CharField(),
        "date_of_birth": serializers.DateField(),
    },
)

_household = inline_serializer(
    name="Household",
    fields={
        "id": serializers.IntegerField(),
        "number": serializers.CharField(),
        "street": serializers.CharField(),
        "postal_code": serializers.CharField(),
        "city": serializers.CharField(),
        "adults": serializers.IntegerField(),
        "children": serializers.IntegerField(),
        "youngest_child_age": serializers.IntegerField(allow_null=True),
    },
)

_case_event = inline_serializer(
    name="CaseEvent",
    fields={
        "at": serializers.DateTimeField(),
        "kind": serializers.ChoiceField(choices=CaseEvent.Kind.choices),
        "summary": serializers.CharField(),
        "actor": serializers.CharField(source="actor.username", allow_null=True, default=None),
    },
    many=True,
)


class _CaseFields(serializers.Serializer):
    id = serializers.IntegerField()
    customer = _customer_summary
    team = serializers.CharField(source="team.name")
    team_id = serializers.IntegerField()
    phase = serializers.ChoiceField(choices=Phase.choices)
    customer_group = _GroupField(
        choices=CustomerGroup.choices, allow_null=True, help_text="null while no group is decided"
    )
    caseworker = _staff(help_text="the fixed caseworker (customer group potential only)")
    opened_at = serializers.DateTimeField()
    phase_since = serializers.DateTimeField()
    review_due = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue")
    closed_at = serializers.DateTimeField(allow_null=True)
    closure_reason = _GroupField(
        choices=ClosureReason.choices, allow_null=True, help_text="null while the case is open"
    )
    cycle = serializers.IntegerField(help_text="1 for the first pass, +1 for each new cycle")
    claimed_by = _staff(help_text="who is working on this team-queue case now")
    claimed_at = serializers.DateTimeField(allow_null=True)


class _CustomerFields(serializers.Serializer):
    id = serializers.IntegerField()
    customer_number = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    preferred_language = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    benefit_since = serializers.DateField()
    household = _household


class CaseListApi(APIView):
    # Read by drf-spectacular, which then documents the {count, next, previous, results} envelope.
    pagination_class = StrictPagination

    class FilterSerializer(serializers.Serializer):
        phase = serializers.ChoiceField(
            choices=Phase.choices,
            required=False,
            help_text="Only cases in this phase. Without it: every open case.",
        )
        customer_group = serializers.ChoiceField(
            choices=[*CustomerGroup.choices, (CaseFilters.NO_GROUP, "no group decided yet")],
            required=False,
        )
        overdue = serializers.BooleanField(
            required=False,
            default=False,
            help_text="true: only open cases whose goal review date has passed.",
        )
        q = _search_field()
        queue = serializers.ChoiceField(
            choices=Queue.CHOICES,
            required=False,
            help_text="mine: cases with the caller as fixed caseworker or claimed by the caller; "
            "team: the team queue (no fixed caseworker, claimed or not); all: every case of the "
            "team (the default).",
        )
        due = serializers.ChoiceField(
            choices=Due.CHOICES,
            required=False,
            help_text="Only cases with this due item: review_due (goal review date reached), "
            "steps_overdue (an open step of the current agreed plan is past its date), "
            "profiling_overdue (in profiling longer than the configured days), "
            "suggestion_pending (an AI suggestion awaits a person's decision), "
            "missed_appointment (a missed appointment awaits the caseworker's review), "
            "callback_requested (the customer asked for a call-back, not handled yet), "
            "notes_incomplete (a note is flagged incomplete), any (one of these).",
        )

    class OutputSerializer(_CaseFields):
        """A case in the list, with what is due on it."""

        due = inline_serializer(
            name="CaseDue",
            source="*",
            fields={
                "review_due": serializers.BooleanField(source="due_review_due"),
                "steps_overdue": serializers.BooleanField(source="due_steps_overdue"),
                "oldest_overdue_step": serializers.DateField(allow_null=True),
                "profiling_overdue": serializers.BooleanField(source="due_profiling_overdue"),
                "suggestion_pending": serializers.BooleanField(source="due_suggestion_pending"),
                "missed_appointment": serializers.BooleanField(source="due_missed_appointment"),
                "callback_requested": serializers.BooleanField(source="due_callback_requested"),
                "notes_incomplete": serializers.BooleanField(source="due_notes_incomplete"),
                "urgency": serializers.IntegerField(
                    help_text="0 goal review due or steps overdue, 1 profiling taking long, an "
                    "AI suggestion to decide, a missed appointment to review or a call-back "
                    "requested, 2 only incomplete notes, 3 nothing due. The list is ordered by it."
                ),
            },
        )

        class Meta:
            ref_name = "CaseListItem"

    @extend_schema(
        operation_id="cases_list",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: OutputSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response("The page does not exist."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The cases of the caller's team, most urgent first (see `due.urgency`; "
        "within a rank the longest due first, then the soonest goal review). Each case returned "
        "is written to the audit log.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        data = _validated_filters(request, self.FilterSerializer)
        filters = CaseFilters(
            phase=data.get("phase", ""),
            customer_group=data.get("customer_group", ""),
            overdue=data["overdue"],
            q=data.get("q", "").strip(),
            queue=data.get("queue", Queue.ALL),
            due=data.get("due", ""),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            case_list_for_user(user=request.user, filters=filters), request, view=self
        )
        audit_record_many(
            ctx=_audit_ctx(request),
            action=AuditAction.LIST,
            object_type="case",
            items=[(case.pk, case.customer_id) for case in page],
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class CaseDetailApi(APIView):
    class OutputSerializer(_CaseFields):
        """A case with its timeline, newest entry first."""

        events = _case_event

        class Meta:
            ref_name = "CaseDetail"

    @extend_schema(
        operation_id="cases_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: OutputSerializer,
            404: error_response(
                "No such case, or it belongs to another team: the two are indistinguishable."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="One case of the caller's team with its timeline. The read is audit-logged.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        try:
            case = case_get_for_user(user=request.user, case_id=case_id)
        except Http404:
            raise ApiNotFoundError(_("There is no case with this number for you.")) from None
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type="case",
            object_id=case.pk,
            customer_id=case.customer_id,
        )
        return Response(self.OutputSerializer(case).data)


class CustomerListApi(APIView):
    # Read by drf-spectacular, which then documents the {count, next, previous, results} envelope.
    pagination_class = StrictPagination

    class FilterSerializer(serializers.Serializer):
        q = _search_field()

    class OutputSerializer(_CustomerFields):
        """A customer in the list."""

        class Meta:
            ref_name = "CustomerListItem"

    @extend_schema(
        operation_id="customers_list",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: OutputSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response("The page does not exist."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Customers who have a case with the caller's team, by name. Each customer "
        "returned is written to the audit log.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        data = _validated_filters(request, self.FilterSerializer)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            customer_list_for_user(user=request.user, q=data.get("q", "").strip()),
            request,
            view=self,
        )
        audit_record_many(
            ctx=_audit_ctx(request),
            action=AuditAction.LIST,
            object_type="customer",
            items=[(customer.pk, customer.pk) for customer in page],
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class CustomerDetailApi(APIView):
    class OutputSerializer(_CustomerFields):
        """One customer with their household."""

        class Meta:
            ref_name = "CustomerDetail"

    @extend_schema(
        operation_id="customers_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: OutputSerializer,
            404: error_response(
                "No such customer, or none with a case in the caller's team: the two are "
                "indistinguishable."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="One customer with a case in the caller's team. The read is audit-logged.",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        _require_case_reader(request)
        try:
            customer = customer_get_for_user(user=request.user, customer_id=customer_id)
        except Http404:
            raise ApiNotFoundError(_("There is no customer with this number for you.")) from None
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type="customer",
            object_id=customer.pk,
            customer_id=customer.pk,
        )
        return Response(self.OutputSerializer(customer).data)
