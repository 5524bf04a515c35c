"""Contact agreements, a case's appointments, cancelling, outcomes and missed-appointment reviews
over REST (issue 5). The same services as the case page's card "Termine und Einladungen".

/api/v1/cases/{case_id}/contact-agreement/ (GET, PUT), /api/v1/cases/{case_id}/appointments/ (GET),
/api/v1/appointments/{id}/cancel/, /api/v1/appointments/{id}/outcome/,
/api/v1/missed-appointment-reviews/{id}/decide/ (POST). Scoped like the case API: another team's
case, appointment or review is a 404, an admin gets a 403 (admins configure, they do not read case
contents). Errors are {"message", "extra"}; a refused field's messages are under extra.fields.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.apis.cases import ADMIN_FORBIDDEN_EXAMPLE, _require_case_reader
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
from scheduling.models import (
    Appointment,
    MissedAppointmentReview,
)
from scheduling.selectors import case_next_due, contact_agreement_effective
from scheduling.services_agreements import (
    AGREEMENT_OBJECT,
    contact_agreement_get,
    contact_agreement_update,
)
from scheduling.services_appointments import (
    appointment_cancel,
    appointment_list_for_case,
    appointment_outcome_set,
    missed_review_decide,
)

CASE_404 = error_response(
    "No such case, or it belongs to another team: the two are indistinguishable."
)
APPOINTMENT_404 = error_response(
    "No such appointment, or its case belongs to another team: the two are indistinguishable."
)
REVIEW_404 = error_response(
    "No such review, or its case belongs to another team: the two are indistinguishable."
)
AGREEMENT_400 = error_response(
    "A rule of the agreement is broken; the messages per field are under extra.fields: a "
    "cadence below one day, a window that ends before it starts, an unknown channel, a length "
    "outside 15 to 240 minutes, a purpose over 300 characters, a next due date in the past."
)
CADENCE_ZERO_EXAMPLE = OpenApiExample(
    "Cadence of zero",
    value={
        "message": "Der Rhythmus muss mindestens einen Tag betragen.",
        "extra": {"fields": {"cadence_days": ["Der Rhythmus muss mindestens einen Tag betragen."]}},
    },
    response_only=True,
    status_codes=["400"],
)
WINDOW_EXAMPLE = OpenApiExample(
    "Window ends before it starts",
    value={
        "message": "Das Zeitfenster endet, bevor es beginnt.",
        "extra": {"fields": {"window_end_days": ["Das Zeitfenster endet, bevor es beginnt."]}},
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


def _appointment(request: Request, appointment_id: int) -> Appointment:
    _require_case_reader(request)
    appointment = (
        Appointment.objects.filter(case__in=case_visible_to(user=request.user))
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise ApiNotFoundError(_("There is no appointment with this number for you."))
    return appointment


# --- output shapes ---------------------------------------------------------------------------------


class OwnAgreementOutput(serializers.Serializer):
    cadence_days = serializers.IntegerField(
        allow_null=True, help_text="null: the customer group's cadence."
    )
    window_start_days = serializers.IntegerField(help_text="Working days from the due date.")
    window_end_days = serializers.IntegerField(help_text="Working days from the due date.")
    channels = serializers.ListField(
        child=serializers.CharField(), help_text="Empty: the customer group's channels."
    )
    duration_minutes = serializers.IntegerField()
    purpose = serializers.CharField(allow_blank=True, help_text="Empty: the standard purpose.")
    next_due = serializers.DateField(allow_null=True, help_text="Overrides the due date once.")
    agreed_with_customer_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_null=True, source="updated_by.username", default=None)
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ContactAgreementOwn"


class EffectiveAgreementOutput(serializers.Serializer):
    cadence_days = serializers.IntegerField(
        allow_null=True, help_text="null: no cadence at all, so no invitations are planned."
    )
    cadence_from_group = serializers.BooleanField()
    window_start_days = serializers.IntegerField()
    window_end_days = serializers.IntegerField()
    channels = serializers.ListField(child=serializers.CharField())
    duration_minutes = serializers.IntegerField()
    purpose = serializers.CharField()
    next_due = serializers.DateField(allow_null=True)

    class Meta:
        ref_name = "ContactAgreementEffective"


class NextDueOutput(serializers.Serializer):
    due = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()

    class Meta:
        ref_name = "ContactAgreementNextDue"


class ContactAgreementOutput(serializers.Serializer):
    case_id = serializers.IntegerField()
    own = OwnAgreementOutput(
        allow_null=True, help_text="The case's own values; null: everything from the group."
    )
    effective = EffectiveAgreementOutput(help_text="What invitations follow.")
    next_due = NextDueOutput(
        allow_null=True,
        help_text="The next invitation due; null: an appointment is ahead, the case is closed, "
        "or there is no cadence.",
    )


def _agreement_payload(case: Case) -> dict:
    agreement = contact_agreement_get(case=case)
    effective = contact_agreement_effective(case=case, agreement=agreement)
    due = case_next_due(case=case)
    return {
        "case_id": case.pk,
        "own": agreement,
        "effective": {
            "cadence_days": effective.cadence_days,
            "cadence_from_group": effective.cadence_from_group,
            "window_start_days": effective.window_start_days,
            "window_end_days": effective.window_end_days,
            "channels": list(effective.channels),
            "duration_minutes": effective.duration_minutes,
            "purpose": effective.purpose,
            "next_due": effective.next_due,
        },
        "next_due": None
        if due is None
        else {"due": due.due, "window_start": due.window_start, "window_end": due.window_end},
    }


class MissedReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    appointment_id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    outcome = serializers.CharField(
        allow_blank=True, help_text="Empty: open. good_reason, hearing or no_action."
    )
    note = serializers.CharField(allow_blank=True)
    decided_by = serializers.CharField(allow_null=True, source="decided_by.username", default=None)
    decided_at = serializers.DateTimeField(allow_null=True)


class AppointmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    staff = serializers.CharField(source="staff.username")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    channel = serializers.CharField()
    location = serializers.CharField(allow_blank=True)
    purpose = serializers.CharField()
    # Plain strings in the schema: several components have a "status" of other choices.
    status = serializers.CharField(
        help_text="planned, approved, sent, confirmed, rebooked, cancelled, attended, missed or "
        "excused."
    )
    sequence = serializers.IntegerField(help_text="Rises with every change.")
    deliveries_sent = serializers.IntegerField(help_text="Invitation deliveries that went out.")
    deliveries_total = serializers.IntegerField(help_text="Invitation deliveries tried.")
    missed_review = MissedReviewOutput(allow_null=True)

    class Meta:
        ref_name = "CaseAppointment"


def _appointment_payload(appointment: Appointment) -> dict:
    review = getattr(appointment, "missed_review", None)
    return {
        "id": appointment.pk,
        "case_id": appointment.case_id,
        "staff": appointment.staff,
        "start": appointment.start,
        "end": appointment.end,
        "channel": appointment.channel,
        "location": appointment.location,
        "purpose": appointment.purpose,
        "status": appointment.status,
        "sequence": appointment.sequence,
        "deliveries_sent": getattr(appointment, "deliveries_sent", 0),
        "deliveries_total": getattr(appointment, "deliveries_total", 0),
        "missed_review": review,
    }


def _appointment_fresh(appointment: Appointment) -> dict:
    item = appointment_list_for_case(case=appointment.case).get(pk=appointment.pk)
    return AppointmentOutput(_appointment_payload(item)).data


# --- the operations --------------------------------------------------------------------------------


class ContactAgreementGetApi(APIView):
    @extend_schema(
        operation_id="case_contact_agreement_get",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: ContactAgreementOutput, 404: CASE_404, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The case's contact agreement: its own values, what invitations follow "
        "(own values or the customer group's), and the next due date with its window. The read "
        "is audit-logged.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        payload = _agreement_payload(case)
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type=AGREEMENT_OBJECT,
            object_id=payload["own"].pk if payload["own"] else "",
            customer_id=case.customer_id,
            detail={"case_id": case.pk},
        )
        return Response(ContactAgreementOutput(payload).data)


class ContactAgreementUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ContactAgreementInput"

        # No ranges here: the service checks them with one clear message per field.
        cadence_days = serializers.IntegerField(
            allow_null=True, help_text="Days between invitations; null: the group's cadence."
        )
        window_start_days = serializers.IntegerField(
            help_text="Working days from the due date (-30..30), e.g. -3."
        )
        window_end_days = serializers.IntegerField(
            help_text="Working days from the due date (-30..30), not before the start."
        )
        channels = serializers.ListField(
            child=serializers.CharField(max_length=40),
            max_length=10,
            help_text="in_person, phone, video, outreach; empty: the group's channels.",
        )
        duration_minutes = serializers.IntegerField(help_text="15 to 240.")
        purpose = serializers.CharField(
            allow_blank=True, max_length=2000, help_text="Meldezweck; empty: the standard one."
        )
        next_due = serializers.DateField(
            allow_null=True, required=False, default=None, help_text="Overrides the due date once."
        )
        agreed_with_customer = serializers.BooleanField(
            required=False, default=False, help_text="true: agreed with the customer now."
        )

    @extend_schema(
        operation_id="case_contact_agreement_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: ContactAgreementOutput, 400: AGREEMENT_400, 404: CASE_404, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE, CADENCE_ZERO_EXAMPLE, WINDOW_EXAMPLE],
        description="Set the case's contact agreement (all fields; null or empty follow the "
        "customer group). Refused with a message per field and nothing saved; audit-logged with "
        "the changed fields, and a timeline entry.",
    )
    def put(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact_agreement_update(
            ctx=_audit_ctx(request), case_id=case.pk, **serializer.validated_data
        )
        return Response(ContactAgreementOutput(_agreement_payload(case)).data)


class ContactAgreementApi(ContactAgreementGetApi, ContactAgreementUpdateApi):
    """/contact-agreement/: GET and PUT (two operations)."""


class CaseAppointmentListApi(APIView):
    pagination_class = StrictPagination

    @extend_schema(
        operation_id="case_appointments_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: AppointmentOutput(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: CASE_404,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The case's appointments, newest first, with their invitation deliveries "
        "and missed-appointment reviews. The read is audit-logged.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(appointment_list_for_case(case=case), request, view=self)
        audit_record_many(
            ctx=_audit_ctx(request),
            action=AuditAction.LIST,
            object_type="appointment",
            items=[(appointment.pk, case.customer_id) for appointment in page],
            detail={"view": "case_appointments"},
        )
        items = [_appointment_payload(appointment) for appointment in page]
        return paginator.get_paginated_response(AppointmentOutput(items, many=True).data)


class AppointmentCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppointmentCancelInput"

        reason = serializers.CharField(
            allow_blank=True, max_length=5000, help_text="Required; at most 1,000 characters."
        )

    @extend_schema(
        operation_id="appointment_cancel",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: AppointmentOutput,
            400: error_response(
                "No reason, or the appointment is no longer active (cancelled, rebooked, or its "
                "outcome recorded)."
            ),
            404: APPOINTMENT_404,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Cancel an active appointment with a reason. Its rebooking link dies, its "
        "reminders are cancelled, and a customer who had the invitation is sent the "
        "cancellation. Audit-logged with the reason, and a timeline entry.",
    )
    def post(self, request: Request, appointment_id: int) -> Response:
        appointment = _appointment(request, appointment_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = appointment_cancel(
            ctx=_audit_ctx(request),
            appointment_id=appointment.pk,
            reason=serializer.validated_data["reason"],
        )
        return Response(_appointment_fresh(cancelled))


class AppointmentOutcomeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppointmentOutcomeInput"

        # A plain string (checked by the service): "outcome" names other choices elsewhere.
        outcome = serializers.CharField(max_length=20, help_text="attended, missed or excused.")
        note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    @extend_schema(
        operation_id="appointment_outcome",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: AppointmentOutput,
            400: error_response(
                "The appointment has not begun yet, was never approved, or was cancelled or "
                "rebooked."
            ),
            404: APPOINTMENT_404,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Record attended, missed or excused once the appointment has begun (a "
        "recorded outcome can be corrected). Missed opens a review for the caseworker (once) "
        "and puts the case into the work queue's 'missed appointment to review'; the system "
        "never reduces benefits or sanctions on its own.",
    )
    def post(self, request: Request, appointment_id: int) -> Response:
        appointment = _appointment(request, appointment_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = appointment_outcome_set(
            ctx=_audit_ctx(request), appointment_id=appointment.pk, **serializer.validated_data
        )
        return Response(_appointment_fresh(updated))


class MissedReviewDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MissedReviewDecideInput"

        outcome = serializers.CharField(
            max_length=20, help_text="good_reason, hearing (a hearing was started) or no_action."
        )
        note = serializers.CharField(
            allow_blank=True,
            required=False,
            default="",
            max_length=2000,
            help_text="Required for hearing and no_action.",
        )

    @extend_schema(
        operation_id="missed_appointment_review_decide",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: MissedReviewOutput,
            400: error_response("No decision, or no note for a hearing or no further action."),
            404: REVIEW_404,
            409: error_response("The review has already been decided."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The caseworker's decision on a missed appointment: good_reason, hearing "
        "(a hearing was started) or no_action. Recorded once; clears the case's work queue "
        "item when no open review remains. Nothing is sanctioned automatically.",
    )
    def post(self, request: Request, review_id: int) -> Response:
        _require_case_reader(request)
        review = (
            MissedAppointmentReview.objects.filter(case__in=case_visible_to(user=request.user))
            .filter(pk=review_id)
            .first()
        )
        if review is None:
            raise ApiNotFoundError(_("There is no such review for you."))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = missed_review_decide(
            ctx=_audit_ctx(request), review_id=review.pk, **serializer.validated_data
        )
        return Response(MissedReviewOutput(decided).data)


api_urlpatterns = [
    path(
        "cases/<int:case_id>/contact-agreement/",
        ContactAgreementApi.as_view(),
        name="case-contact-agreement",
    ),
    path(
        "cases/<int:case_id>/appointments/",
        CaseAppointmentListApi.as_view(),
        name="case-appointments",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
    path(
        "appointments/<int:appointment_id>/outcome/",
        AppointmentOutcomeApi.as_view(),
        name="appointment-outcome",
    ),
    path(
        "missed-appointment-reviews/<int:review_id>/decide/",
        MissedReviewDecideApi.as_view(),
        name="missed-appointment-review-decide",
    ),
]
