"""Cases and customers over REST. Same selectors as the work queue, same audit log."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.models import CustomerGroup, Phase
from cases.selectors import (
    CaseFilters,
    case_get_for_user,
    case_list_for_user,
    customer_get_for_user,
    customer_list_for_user,
)
from jobcenter.api import COMMON_ERRORS, error_response


class StrictPagination(PageNumberPagination):
    """`?page=N&page_size=M`; a page past the end, or a size over the maximum, is a 400/404."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise serializers.ValidationError(
                {"page_size": [_("A whole number is required.")]}
            ) from None
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {"page_size": [_("Must be between 1 and %(max)d.") % {"max": self.max_page_size}]}
            )
        return size


def _require_case_reader(request: Request) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


class _StaffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class _HouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    street = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    adults = serializers.IntegerField()
    children = serializers.IntegerField()
    youngest_child_age = serializers.IntegerField(allow_null=True)


class _CustomerSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_number = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()


class _CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = _CustomerSummarySerializer()
    team = serializers.CharField(source="team.name")
    team_id = serializers.IntegerField()
    phase = serializers.ChoiceField(choices=Phase.choices)
    customer_group = serializers.ChoiceField(
        choices=CustomerGroup.choices, allow_null=True, help_text="null while no group is decided"
    )
    caseworker = _StaffSerializer(allow_null=True)
    opened_at = serializers.DateTimeField()
    phase_since = serializers.DateTimeField()
    review_due = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue")
    closed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["customer_group"] = data["customer_group"] or None
        return data


class _CaseFilterSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=Phase.choices, required=False)
    customer_group = serializers.ChoiceField(
        choices=[*CustomerGroup.choices, (CaseFilters.NO_GROUP, "none")], required=False
    )
    overdue = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(required=False, max_length=100, allow_blank=True)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.API_MAX_PAGE_SIZE
    )


def _reject_unknown_params(request: Request, serializer_class) -> None:
    unknown = sorted(set(request.query_params) - set(serializer_class().fields))
    if unknown:
        raise serializers.ValidationError(
            {"non_field_errors": [_("Unknown filter: %(names)s.") % {"names": ", ".join(unknown)}]}
        )


class CaseListApi(APIView):
    @extend_schema(
        operation_id="cases_list",
        parameters=[_CaseFilterSerializer],
        responses={
            200: _CaseOutputSerializer(many=True),
            400: error_response("An unknown or malformed filter, or a bad page size."),
            404: error_response("The page does not exist."),
            **COMMON_ERRORS,
        },
        description="The open cases of the caller's team (or those of the given phase), soonest goal review first.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        _reject_unknown_params(request, _CaseFilterSerializer)
        params = _CaseFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = CaseFilters(
            phase=data.get("phase", ""),
            customer_group=data.get("customer_group", ""),
            overdue=data["overdue"],
            q=data.get("q", "").strip(),
        )
        paginator = StrictPagination()
        page = paginator.paginate_queryset(
            case_list_for_user(user=request.user, filters=filters), request, view=self
        )
        audit_record_many(
            ctx=_ctx(request),
            action=AuditAction.LIST,
            object_type="case",
            items=[(case.pk, case.customer_id) for case in page],
        )
        return paginator.get_paginated_response(_CaseOutputSerializer(page, many=True).data)


class CaseDetailApi(APIView):
    @extend_schema(
        operation_id="cases_retrieve",
        responses={
            200: _CaseOutputSerializer,
            404: error_response("No such case for this user."),
            **COMMON_ERRORS,
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        case = case_get_for_user(user=request.user, case_id=case_id)
        audit_record(
            ctx=_ctx(request),
            action=AuditAction.VIEW,
            object_type="case",
            object_id=case.pk,
            customer_id=case.customer_id,
        )
        return Response(_CaseOutputSerializer(case).data)


class _CustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_number = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    preferred_language = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    benefit_since = serializers.DateField()
    household = _HouseholdSerializer()


class _CustomerFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100, allow_blank=True)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.API_MAX_PAGE_SIZE
    )


class CustomerListApi(APIView):
    @extend_schema(
        operation_id="customers_list",
        parameters=[_CustomerFilterSerializer],
        responses={
            200: _CustomerOutputSerializer(many=True),
            400: error_response("An unknown or malformed filter, or a bad page size."),
            404: error_response("The page does not exist."),
            **COMMON_ERRORS,
        },
        description="Customers who have a case with the caller's team.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        _reject_unknown_params(request, _CustomerFilterSerializer)
        params = _CustomerFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        paginator = StrictPagination()
        page = paginator.paginate_queryset(
            customer_list_for_user(user=request.user, q=params.validated_data.get("q", "").strip()),
            request,
            view=self,
        )
        audit_record_many(
            ctx=_ctx(request),
            action=AuditAction.LIST,
            object_type="customer",
            items=[(customer.pk, customer.pk) for customer in page],
        )
        return paginator.get_paginated_response(_CustomerOutputSerializer(page, many=True).data)


class CustomerDetailApi(APIView):
    @extend_schema(
        operation_id="customers_retrieve",
        responses={
            200: _CustomerOutputSerializer,
            404: error_response("No such customer for this user."),
            **COMMON_ERRORS,
        },
    )
    def get(self, request: Request, customer_id: int) -> Response:
        _require_case_reader(request)
        customer = customer_get_for_user(user=request.user, customer_id=customer_id)
        audit_record(
            ctx=_ctx(request),
            action=AuditAction.VIEW,
            object_type="customer",
            object_id=customer.pk,
            customer_id=customer.pk,
        )
        return Response(_CustomerOutputSerializer(customer).data)
