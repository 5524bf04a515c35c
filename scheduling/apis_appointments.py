"""Contact agreements, a case's appointments, cancelling, outcomes and missed-appointment reviews
over REST (issue 5). The same services as the case page's card "Termine und Einladungen".

/api/v1/cases/{case_id}/contact-agreement/ (GET, PUT), /api/v1/cases/{case_id}/appointments/ (GET
with what was sent to the customer; POST: a new appointment made by hand),
/api/v1/appointments/{id}/cancel/, .../outcome/, .../move/,
/api/v1/missed-appointment-reviews/{id}/decide/, /api/v1/callback-requests/{id}/handle/ (POST). Scoped like the case API: another team's
case, appointment or review is a 404, an admin gets a 403 (admins configure, they do not read case
contents). Errors are {"message", "extra"}; a refused field's messages are under extra.fields.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
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
    CALLBACK_NOTE_MAX_LENGTH,
    Appointment,
    CallbackRequest,
    MissedAppointmentReview,
)
from scheduling.selectors import case_next_due, contact_agreement_effective
from scheduling.services_agreements import (
    AGREEMENT_OBJECT,
    contact_agreement_get,
    contact_agreement_update,
)
from scheduling.services_appointments import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    appointment_book,
    appointment_cancel,
    appointment_delivery_records,
    appointment_list_for_case,
    appointment_move,
    appointment_outcome_set,
    callback_request_handle,
    invitation_proof,
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
CALLBACK_404 = error_response(
    "No such call-back request, or its case belongs to another team: the two are indistinguishable."
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


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text="invitation, cancellation (the withdrawal of a cancelled appointment's "
        "invitation) or reminder."
    )
    channel = serializers.CharField(help_text="letter, email or sms.")
    at = serializers.DateTimeField(help_text="When it was sent (or tried).")
    status = serializers.CharField(
        help_text="sent, failed, or not_sent (an SMS reminder with no SMS gateway configured)."
    )
    error = serializers.CharField(allow_blank=True, help_text="Why it failed.")
    recipient = serializers.CharField(
        allow_blank=True, help_text="The postal address (one line), e-mail address or number."
    )
    template_language = serializers.CharField(
        allow_null=True, help_text="The invitation template's language (null for reminders)."
    )
    template_version = serializers.IntegerField(
        allow_null=True, help_text="The invitation template's version (null for reminders)."
    )
    language = serializers.CharField(
        allow_null=True, help_text="The language of the translation sent with the German text."
    )
    sequence = serializers.IntegerField(
        allow_null=True, help_text="The version of the appointment it was about."
    )
    letter_url = serializers.CharField(
        allow_null=True, help_text="The letter PDF as sent (letters only), for staff of the team."
    )

    class Meta:
        ref_name = "AppointmentDelivery"


class InvitationProofOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField(help_text="letter or email.")
    sent_at = serializers.DateTimeField()
    template_language = serializers.CharField(source="template.language")
    template_version = serializers.IntegerField(source="template.version")

    class Meta:
        ref_name = "MissedReviewInvitation"


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
    invitation_deliveries = InvitationProofOutput(
        many=True,
        help_text="The invitations (with the notice of legal consequences) recorded as sent for "
        "the missed version of the appointment. Empty: none, so no hearing can be decided.",
    )


def _review_payload(review: MissedAppointmentReview) -> dict:
    return {
        "id": review.pk,
        "appointment_id": review.appointment_id,
        "case_id": review.case_id,
        "created_at": review.created_at,
        "outcome": review.outcome,
        "note": review.note,
        "decided_by": review.decided_by,
        "decided_at": review.decided_at,
        "invitation_deliveries": invitation_proof(review.appointment),
    }


class CallbackOutput(serializers.Serializer):
    id = serializers.IntegerField()
    appointment_id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    created_at = serializers.DateTimeField(help_text="When the customer asked.")
    reason = serializers.CharField()
    phone = serializers.CharField(
        allow_blank=True, help_text="The number the customer gave; empty: call the one on file."
    )
    handled_at = serializers.DateTimeField(allow_null=True, help_text="null: still open.")
    handled_by = serializers.CharField(allow_null=True, source="handled_by.username", default=None)
    handled_note = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "CallbackRequest"


class AppointmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    staff = serializers.CharField(source="staff.username", help_text="The staff member's login.")
    staff_id = serializers.IntegerField(
        source="staff.pk", help_text="The staff member, as `staff` in bookings and moves."
    )
    staff_name = serializers.SerializerMethodField(help_text="The staff member's full name.")
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
    deliveries = DeliveryOutput(
        many=True,
        help_text="What went to the customer about it, oldest first: invitation letters and "
        "e-mails, the cancellation, reminders sent or failed.",
    )
    callback_requests = CallbackOutput(many=True, help_text="The customer's call-back requests.")
    missed_review = MissedReviewOutput(allow_null=True)

    class Meta:
        ref_name = "CaseAppointment"

    def get_staff_name(self, payload: dict) -> str:
        staff = payload["staff"]
        return staff.get_full_name() or staff.username


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
        "deliveries": appointment_delivery_records(appointment),
        "callback_requests": list(appointment.callback_requests.all()),
        "missed_review": _review_payload(review) if review is not None else None,
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


BOOK_400 = error_response(
    "A rule is broken; the messages per field are under extra.fields: a time not ahead, a "
    "length outside 15 to 240 minutes, an unknown channel, no purpose, staff not of the case's "
    "team, or the staff member's calendar does not allow it (calendar not shared, channel not "
    "offered, absent, outside the working hours, a public holiday, busy). Or the case is closed."
)
TAKEN_409 = error_response("The staff member has another appointment at that time.")


class CaseAppointmentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppointmentCreateInput"

        staff = serializers.IntegerField(help_text="The user id of a caseworker or team lead.")
        start = serializers.DateTimeField(help_text="With a time zone, ahead of now.")
        # No ranges here: the service checks them with one clear message per field.
        duration_minutes = serializers.IntegerField(
            help_text=f"{MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES}."
        )
        channel = serializers.CharField(
            max_length=20, help_text="in_person, phone, video, outreach."
        )
        purpose = serializers.CharField(
            allow_blank=True, max_length=300, help_text="The purpose of the appointment."
        )
        location = serializers.CharField(
            allow_blank=True,
            required=False,
            default="",
            max_length=200,
            help_text="Empty: the place in the staff member's calendar.",
        )

    @extend_schema(
        operation_id="case_appointment_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: AppointmentOutput,
            400: BOOK_400,
            404: CASE_404,
            409: TAKEN_409,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Make an appointment for the case by hand (say, agreed with the customer on "
        "the phone), checked against the staff member's calendar. The person making it approves "
        "it, so the invitation (letter, e-mail with ICS) goes out through the normal sending "
        "path. Audit-logged, and a timeline entry.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appointment = appointment_book(
            ctx=_audit_ctx(request),
            case_id=case.pk,
            staff_id=data["staff"],
            start=data["start"],
            duration_minutes=data["duration_minutes"],
            channel=data["channel"],
            purpose=data["purpose"],
            location=data["location"],
        )
        return Response(_appointment_fresh(appointment), status=status.HTTP_201_CREATED)


class CaseAppointmentsApi(CaseAppointmentListApi, CaseAppointmentCreateApi):
    """/cases/{id}/appointments/: GET and POST (two operations)."""


class AppointmentMoveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppointmentMoveInput"

        start = serializers.DateTimeField(
            help_text="The new start, with a time zone; the length stays."
        )
        staff = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Another caseworker or team lead of the team; omitted: the same.",
        )

    @extend_schema(
        operation_id="appointment_move",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: AppointmentOutput,
            400: error_response(
                "The appointment is no longer active, the time is not ahead or unchanged, the "
                "staff member is not of the team, or their calendar does not allow it (messages "
                "per field under extra.fields)."
            ),
            404: APPOINTMENT_404,
            409: TAKEN_409,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Move an active appointment by hand, checked against the calendar. The "
        "sequence rises (the old rebooking link dies), the reminders follow, and an invitation "
        "that went out is sent again with the new time. Audit-logged, and a timeline entry.",
    )
    def post(self, request: Request, appointment_id: int) -> Response:
        appointment = _appointment(request, appointment_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        moved = appointment_move(
            ctx=_audit_ctx(request),
            appointment_id=appointment.pk,
            start=serializer.validated_data["start"],
            staff_id=serializer.validated_data["staff"],
        )
        return Response(_appointment_fresh(moved))


class CallbackRequestHandleApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CallbackRequestHandleInput"

        note = serializers.CharField(
            allow_blank=True,
            max_length=2000,
            help_text=f"Required: what came of it; at most {CALLBACK_NOTE_MAX_LENGTH} characters.",
        )

    @extend_schema(
        operation_id="callback_request_handle",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: CallbackOutput,
            400: error_response("No note, or a note that is too long."),
            404: CALLBACK_404,
            409: error_response("The call-back request has already been handled."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Mark the customer's call-back request done, with a short note. Once; it "
        "leaves the work queue's 'call-back requested' when no other is open. Audit-logged, and "
        "a timeline entry.",
    )
    def post(self, request: Request, callback_id: int) -> Response:
        _require_case_reader(request)
        callback = (
            CallbackRequest.objects.filter(case__in=case_visible_to(user=request.user))
            .filter(pk=callback_id)
            .first()
        )
        if callback is None:
            raise ApiNotFoundError(_("There is no such call-back request for you."))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        handled = callback_request_handle(
            ctx=_audit_ctx(request),
            callback_id=callback.pk,
            note=serializer.validated_data["note"],
        )
        return Response(CallbackOutput(handled).data)


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
            409: error_response(
                "A correction away from missed after the missed appointment was reviewed."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Record attended, missed or excused once the appointment has begun (a "
        "recorded outcome can be corrected). Missed opens a review for the caseworker (once) "
        "and puts the case into the work queue's 'missed appointment to review'; correcting "
        "missed to attended or excused withdraws that review while it is undecided, and is "
        "refused (409) once it was decided. The system never reduces benefits or sanctions on "
        "its own.",
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
            400: error_response(
                "No decision, no note for a hearing or no further action, or a hearing without a "
                "recorded invitation of the missed version (see invitation_deliveries)."
            ),
            404: REVIEW_404,
            409: error_response(
                "The review has already been decided, or the appointment is no longer recorded "
                "as missed."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The caseworker's decision on a missed appointment: good_reason, hearing "
        "(a hearing was started) or no_action. A hearing needs a recorded invitation with the "
        "notice of legal consequences for the missed version (§ 32 SGB II). Recorded once; "
        "clears the case's work queue item when no open review remains. Nothing is sanctioned "
        "automatically.",
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
        return Response(MissedReviewOutput(_review_payload(decided)).data)


api_urlpatterns = [
    path(
        "cases/<int:case_id>/contact-agreement/",
        ContactAgreementApi.as_view(),
        name="case-contact-agreement",
    ),
    path(
        "cases/<int:case_id>/appointments/",
        CaseAppointmentsApi.as_view(),
        name="case-appointments",
    ),
    path(
        "appointments/<int:appointment_id>/move/",
        AppointmentMoveApi.as_view(),
        name="appointment-move",
    ),
    path(
        "callback-requests/<int:callback_id>/handle/",
        CallbackRequestHandleApi.as_view(),
        name="callback-request-handle",
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
