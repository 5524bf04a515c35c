"""Group sessions over REST: list and set up, read one (with its participants), cancel.

Scoped like the pages: caseworkers and team leads see the sessions of their own team (another
team's is a 404, indistinguishable from a missing one), an admin gets a 403. Only the team lead
sets up and cancels (403 otherwise). Writes go through scheduling.services_group_sessions, as the
pages do; a host who is not free then is a 409. Reading the participants writes audit LIST rows.
"""

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record_many
from cases.apis.cases import ADMIN_FORBIDDEN_EXAMPLE, _require_case_reader
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
from scheduling.models import GROUP_SESSION_CHANNELS, AppointmentStatus
from scheduling.selectors import MAX_DAYS_AHEAD, date_beyond_reach
from scheduling.services_group_sessions import (
    MAX_REASON_LENGTH,
    group_session_cancel,
    group_session_create,
    group_session_free_places,
    group_session_get_for_user,
    group_session_list_for_user,
    group_session_participant_list,
)

NOT_FOUND = error_response(
    "No such group session, or it belongs to another team: the two are indistinguishable."
)
CONFLICT_EXAMPLE = OpenApiExample(
    "Host not free",
    value={"message": "Anna Berg already has an appointment at this time.", "extra": {}},
    response_only=True,
    status_codes=["409"],
)


# A pattern, not an enum: drf-spectacular would name an enum after the field, and "channel" is
# taken by the case notes' channels (a name collision fails the schema's no-warnings check).
@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(" + "|".join(c.value for c in GROUP_SESSION_CHANNELS) + ")$",
        "description": "in_person or video",
    }
)
class _ChannelField(serializers.ChoiceField):
    """in_person or video."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=[(c.value, c.label) for c in GROUP_SESSION_CHANNELS], **kwargs)


def _audit_ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _session(request: Request, session_id: int):
    try:
        return group_session_get_for_user(user=request.user, session_id=session_id)
    except Http404:
        raise ApiNotFoundError(_("There is no group session with this number for you.")) from None


class _HostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")

    class Meta:
        ref_name = "GroupSessionHost"


class _SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    host = _HostSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField(help_text="Places in all.")
    taken = serializers.IntegerField(help_text="Places taken (not cancelled).")
    free = serializers.SerializerMethodField(help_text="Places still free.")
    channel = _ChannelField()
    location = serializers.CharField(help_text="The room (in person), else empty.")
    video_link = serializers.CharField(help_text="The link (by video), else empty.")
    topic = serializers.CharField()
    # A plain string: a ChoiceField named "status" would clash with other enums in the schema.
    status = serializers.CharField(help_text="open, held or cancelled")
    uid = serializers.CharField(help_text="The iCalendar UID; stays the same.")
    sequence = serializers.IntegerField(help_text="Raised on every change (iCalendar SEQUENCE).")

    class Meta:
        ref_name = "GroupSession"

    def get_free(self, session) -> int:
        return group_session_free_places(session)


class _ParticipantSerializer(serializers.Serializer):
    appointment_id = serializers.IntegerField(source="pk")
    case_id = serializers.IntegerField()
    customer_number = serializers.CharField(source="case.customer.customer_number")
    first_name = serializers.CharField(source="case.customer.first_name")
    last_name = serializers.CharField(source="case.customer.last_name")
    status = serializers.CharField(
        help_text="The appointment's status: " + ", ".join(AppointmentStatus.values)
    )

    class Meta:
        ref_name = "GroupSessionParticipant"


class _DetailSerializer(_SessionSerializer):
    participants = _ParticipantSerializer(many=True)

    class Meta:
        ref_name = "GroupSessionDetail"


def _detail(request: Request, session) -> dict:
    participants = group_session_participant_list(session=session)
    audit_record_many(
        ctx=_audit_ctx(request),
        action=AuditAction.LIST,
        object_type="appointment",
        items=[(a.pk, a.case.customer_id) for a in participants],
        detail={"view": "group_session_detail", "group_session_id": session.pk},
    )
    session.participants = participants
    return _DetailSerializer(session).data


def _require_team_lead(request: Request) -> None:
    """Checked before the body, so a caseworker learns at once that the role is the problem (the
    service checks again, with the team)."""
    if request.user.role != Role.TEAM_LEAD:
        raise PermissionDenied(_("Only the team lead sets up and cancels group sessions."))


def _json_object(request: Request) -> None:
    if not isinstance(request.data, dict):
        raise ApplicationError(_("Send a JSON object."))


class GroupSessionListApi(APIView):
    pagination_class = StrictPagination

    class InputSerializer(serializers.Serializer):
        host_id = serializers.IntegerField(
            min_value=1,
            max_value=2**31 - 1,
            help_text="A caseworker or the team lead who shares their calendar.",
        )
        start = serializers.DateTimeField(
            help_text=f"With a time zone; in the future, at most {MAX_DAYS_AHEAD} days ahead."
        )
        end = serializers.DateTimeField(help_text="After the start, at most eight hours later.")
        capacity = serializers.IntegerField(min_value=2, max_value=100)
        channel = _ChannelField()
        topic = serializers.CharField(max_length=300)
        location = serializers.CharField(
            max_length=200,
            required=False,
            default="",
            allow_blank=True,
            help_text="The room; needed in person.",
        )
        video_link = serializers.URLField(
            max_length=500,
            required=False,
            default="",
            allow_blank=True,
            help_text="Needed by video.",
        )

        class Meta:
            ref_name = "GroupSessionCreateInput"

        def validate(self, data: dict) -> dict:
            # Far-future times are refused here with a message (they broke the calendar
            # arithmetic once: 9999-12-31 has no next day); the past is the service's.
            for name in ("start", "end"):
                if date_beyond_reach(data[name]):
                    raise serializers.ValidationError(
                        {
                            name: [
                                _("A group session can be set up at most %(days)s days ahead.")
                                % {"days": MAX_DAYS_AHEAD}
                            ]
                        },
                        code="too_far",
                    )
            return data

    @extend_schema(
        operation_id="group_sessions_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _SessionSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response("The page does not exist."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The group sessions of the caller's team that have not ended yet, by start, "
        "with places taken and free.",
    )
    def get(self, request: Request) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            group_session_list_for_user(user=request.user, since=timezone.now()),
            request,
            view=self,
        )
        return paginator.get_paginated_response(_SessionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="group_sessions_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: _DetailSerializer,
            400: error_response(
                "Invalid input: times without a time zone, in the past, more than "
                f"{MAX_DAYS_AHEAD} days ahead or longer than eight hours; in person without a "
                "room, by video without a link; a host who is not of the team or does not share "
                "their calendar."
            ),
            409: error_response(
                "The host is not free then: another group session or appointment, an absence, "
                "a busy time of their calendar, outside working hours or a public holiday."
            ),
            401: AUTH_ERRORS[401],
            403: error_response("Not the team lead (only team leads set up group sessions)."),
        },
        examples=[CONFLICT_EXAMPLE],
        description="Set up a group session of the caller's team (team leads only).",
    )
    def post(self, request: Request) -> Response:
        _require_case_reader(request)
        _require_team_lead(request)
        _json_object(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = group_session_create(
            ctx=_audit_ctx(request),
            team_id=request.user.team_id,
            host_id=data["host_id"],
            start=data["start"],
            end=data["end"],
            capacity=data["capacity"],
            channel=data["channel"],
            topic=data["topic"],
            location=data["location"],
            video_link=data["video_link"],
        )
        return Response(
            _detail(request, _session(request, session.pk)), status=status.HTTP_201_CREATED
        )


class GroupSessionDetailApi(APIView):
    @extend_schema(
        operation_id="group_sessions_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _DetailSerializer,
            400: error_response("An unknown query parameter."),
            404: NOT_FOUND,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="One group session of the caller's team with its participants. Reading the "
        "participants is audit-logged.",
    )
    def get(self, request: Request, session_id: int) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed=set())
        return Response(_detail(request, _session(request, session_id)))


class GroupSessionCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=MAX_REASON_LENGTH)

        class Meta:
            ref_name = "GroupSessionCancelInput"

    @extend_schema(
        operation_id="group_sessions_cancel",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _DetailSerializer,
            400: error_response("No reason, or not a JSON object."),
            404: NOT_FOUND,
            409: error_response("The session is not open (already held or cancelled)."),
            401: AUTH_ERRORS[401],
            403: error_response("Not the team lead (only team leads cancel group sessions)."),
        },
        description="Cancel an open group session (team leads only). Every place in it is "
        "cancelled too, and the places' pending reminders are not sent.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        _require_case_reader(request)
        session = _session(request, session_id)
        _require_team_lead(request)
        _json_object(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group_session_cancel(
            ctx=_audit_ctx(request),
            session_id=session.pk,
            reason=serializer.validated_data["reason"],
        )
        return Response(_detail(request, _session(request, session_id)))


api_urlpatterns = [
    path("group-sessions/", GroupSessionListApi.as_view(), name="group-session-list"),
    path(
        "group-sessions/<int:session_id>/",
        GroupSessionDetailApi.as_view(),
        name="group-session-detail",
    ),
    path(
        "group-sessions/<int:session_id>/cancel/",
        GroupSessionCancelApi.as_view(),
        name="group-session-cancel",
    ),
]
