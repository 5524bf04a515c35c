"""Staff calendars over REST: the caller's own "Mein Kalender", and staff members' absences and
calendars. `api_urlpatterns` is included by jobcenter/api_urls.py.

The same services as the page (scheduling/views.py calling scheduling/services.py); this module
only translates between HTTP and them. Two groups of addresses:

- `/calendar/...`: the caller's own calendar, as on the page (no user id in the address, so no
  one else's calendar can be reached): settings, consent, feed address, sync now (202 and the
  status when a worker syncs, 200 with the result with in-process tasks), ICS upload and its
  removal, own absences. Any logged-in staff member, as the page.
- `/staff/{user_id}/...`: a staff member's absences (list, record, remove) and a calendar overview
  (settings and busy times, without addresses, credentials or the feed). For the staff member,
  the team lead of their team, and admins. For caseworkers and team leads a staff member of
  another team is a 404, indistinguishable from one that does not exist; a colleague of the own
  team is a 403 with the reason (for writes the services' own rights check answers).

Errors: 400 for bad input or a rule a service refuses (settings: the messages per field under
extra.fields), 401 without a valid token, 403 and 404 as above. The CalDAV password is write-only:
answers only say whether one is stored. Every change writes its audit row in its service (channel
"api"); reading someone else's calendar or absences writes a VIEW/LIST row here.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    StrictPagination,
    error_response,
    reject_unknown_params,
)
from jobcenter.exceptions import ApplicationError
from organisation.models import Role, User
from scheduling.calendars import MAX_ICS_BYTES, ics_too_big
from scheduling.models import CALENDAR_CHANNELS, Absence, AbsenceKind, StaffCalendar, SyncStatus
from scheduling.selectors import (
    absence_list_for_user,
    staff_busy_intervals,
    staff_calendar_get_for_user,
)
from scheduling.services import (
    CONSENT_TEXT,
    SYNC_WEEKS,
    absence_add,
    absence_remove,
    appointments_to_move,
    calendar_sync_start,
    calendar_upload_ics,
    calendar_upload_remove,
    staff_calendar_consent_set,
    staff_calendar_feed_token_regenerate,
    staff_calendar_get_or_create,
    staff_calendar_update,
)

DEFAULT_OVERVIEW_WEEKS = 4
UNAUTHENTICATED = {401: AUTH_ERRORS[401]}
STAFF_404 = error_response(
    "No such staff member, or (for caseworkers and team leads) one of another team: the two are "
    "indistinguishable."
)
ABSENCE_404 = error_response(
    "No such absence of this staff member, or a staff member the caller may not see."
)
ABSENCE_403 = error_response(
    "A colleague of the own team: absences are read and recorded by the staff member, their team "
    "lead or an administrator."
)
SETTINGS_400 = error_response(
    "A value the calendar refuses, with the messages per field under extra.fields: overlapping or "
    "malformed working hours, a part-time share outside 0.10–1.00, an unknown channel, a CalDAV "
    "address without a user name, a malformed address; or an unknown field."
)
SETTINGS_400_EXAMPLE = OpenApiExample(
    "Working hours overlap",
    value={
        "message": "The calendar settings were not saved: Monday: the blocks 08:00–12:00 and "
        "11:00–13:00 overlap.",
        "extra": {
            "fields": {"working_hours": ["Monday: the blocks 08:00–12:00 and 11:00–13:00 overlap."]}
        },
    },
    response_only=True,
    status_codes=["400"],
)


def _ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _json_object(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise ApplicationError(_("Send a JSON object."))
    return request.data


def _validated_query(request: Request, serializer_class: type[serializers.Serializer]) -> dict:
    reject_unknown_params(
        request, allowed={*serializer_class().fields, *StrictPagination.param_names()}
    )
    # A plain dict, not the QueryDict: an empty value must be refused, not read as "not given".
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- who may see whom ------------------------------------------------------------------------------


def _staff_member(request: Request, user_id: int) -> User:
    """The staff member if the caller may know of them: admins all, others their own team.

    Only visibility: whether the caller may read or change their calendar is decided after this
    (a 403 for a colleague of the own team), so another team's staff member is a plain 404.
    """
    caller = request.user
    member = User.objects.filter(pk=user_id).first()
    visible = member is not None and (
        caller.role == Role.ADMIN
        or member.pk == caller.pk
        or (caller.team_id is not None and member.team_id == caller.team_id)
    )
    if not visible:
        raise ApiNotFoundError(_("There is no staff member with this number for you."))
    return member


def _may_read_calendar_of(request: Request, member: User) -> bool:
    """The rule of scheduling.services for absences: oneself, the own team lead, an admin."""
    caller = request.user
    return (
        caller.pk == member.pk
        or caller.role == Role.ADMIN
        or (caller.role == Role.TEAM_LEAD and caller.team_id == member.team_id)
    )


def _audit_read_of_other(
    request: Request,
    member: User,
    *,
    action: AuditAction,
    object_type: str,
    object_id: object,
    detail: dict,
) -> None:
    """Reading a colleague's calendar or absences is recorded (staff data too); one's own is not.
    One row per read, with the staff member in `detail` as the services write it."""
    if member.pk != request.user.pk:
        audit_record(
            ctx=_ctx(request),
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail={"user_id": member.pk, **detail},
        )


# --- serializers -------------------------------------------------------------------------------


class _JsonTypeMixin:
    """A body field takes only the JSON type the schema names. DRF would read 5 as "5" for a text,
    "5" as 5 for a number and 0 as false; a client sending the wrong type should hear so (DRF's
    own "invalid" message), and the schemathesis test checks that the schema is kept."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data):
        bool_expected = bool in self.json_types
        if isinstance(data, bool) != bool_expected or not isinstance(data, self.json_types):
            self.fail("invalid")
        return super().to_internal_value(data)


class _Text(_JsonTypeMixin, serializers.CharField):
    json_types = (str,)


class _Integer(_JsonTypeMixin, serializers.IntegerField):
    json_types = (int,)


class _Number(_JsonTypeMixin, serializers.DecimalField):
    json_types = (int, float)


class _Boolean(_JsonTypeMixin, serializers.BooleanField):
    json_types = (bool,)


@extend_schema_field(
    {"type": "string", "enum": [c.value for c in CALENDAR_CHANNELS], "description": "A channel."}
)
class _CalendarChannelField(serializers.ChoiceField):
    """in_person, phone, video or outreach (an inline enum: "channel" names another enum)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=[(c.value, c.label) for c in CALENDAR_CHANNELS], **kwargs)


# A pattern, not an enum: drf-spectacular names an enum after the field, and "kind" is taken by
# other enums (the collision fails the schema's no-warnings check), as for group sessions' channel.
@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(" + "|".join(AbsenceKind.values) + ")$",
        "description": ", ".join(AbsenceKind.values),
    }
)
class _AbsenceKindField(serializers.ChoiceField):
    """vacation, sick, training or other."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=AbsenceKind.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": SyncStatus.values})
class _SyncStatusField(serializers.ChoiceField):
    """never, ok or error."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=SyncStatus.choices, **kwargs)


class _WorkingHoursBlockSerializer(serializers.Serializer):
    weekday = _Integer(min_value=0, max_value=6, help_text="0 Monday … 6 Sunday.")
    start = _Text(max_length=5, help_text="HH:MM, e.g. 08:00.")
    end = _Text(max_length=5, help_text="HH:MM after the start; 24:00 allowed.")

    class Meta:
        ref_name = "WorkingHoursBlock"


class _WorkSettingsSerializer(serializers.Serializer):
    """What the planner uses: shared by the own calendar and the overview of a staff member."""

    user_id = serializers.IntegerField()
    working_hours = _WorkingHoursBlockSerializer(many=True)
    weekly_minutes = serializers.IntegerField(help_text="Working minutes per week.")
    part_time_share = serializers.DecimalField(
        max_digits=3, decimal_places=2, coerce_to_string=False, help_text="1.0 is full time."
    )
    channels = serializers.ListField(child=_CalendarChannelField())
    location = serializers.CharField()
    rooms = serializers.ListField(child=serializers.CharField())
    walk_in_reserve_minutes = serializers.IntegerField(
        help_text="Minutes at the end of each day kept free for walk-ins."
    )
    daily_cap = serializers.IntegerField(
        allow_null=True, help_text="Appointments per day at most; null: no limit."
    )
    consent_given = serializers.BooleanField(
        source="has_consent",
        help_text="Calendar sharing agreed: without it no busy times are read and nothing is "
        "planned with this staff member.",
    )
    consent_given_at = serializers.DateTimeField(allow_null=True)
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_sync_status = _SyncStatusField()
    last_sync_message = serializers.CharField()

    class Meta:
        ref_name = "StaffWorkSettings"


class _AppointmentToMoveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    customer_number = serializers.CharField(source="case.customer.customer_number")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField(help_text="planned, approved, sent or confirmed.")
    purpose = serializers.CharField()
    case_url = serializers.SerializerMethodField(help_text="The case page, to move it there.")

    class Meta:
        ref_name = "AppointmentToMove"

    def get_case_url(self, appointment) -> str:
        request = self.context.get("request")
        path = reverse("cases:case_detail", args=[appointment.case_id])
        return request.build_absolute_uri(path) if request is not None else path


class _OwnCalendarSerializer(_WorkSettingsSerializer):
    caldav_url = serializers.CharField()
    caldav_username = serializers.CharField()
    caldav_password_set = serializers.BooleanField(
        source="has_caldav_password",
        help_text="Whether a CalDAV password is stored (it is never shown).",
    )
    ics_url = serializers.CharField()
    consent_text = serializers.SerializerMethodField(help_text="What the consent agrees to.")
    feed_url = serializers.SerializerMethodField(
        help_text="The private feed of the own appointments (a secret; regenerable)."
    )
    sync_pending = serializers.BooleanField(
        help_text="A sync asked for (POST calendar/sync/, 202) is waiting for its worker; the "
        "last_sync_* fields change once it is done."
    )
    appointments_to_move = serializers.SerializerMethodField(
        help_text="Own active appointments inside an own absence: still booked, to be moved."
    )
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "OwnStaffCalendar"

    def get_consent_text(self, calendar: StaffCalendar) -> str:
        return str(CONSENT_TEXT)

    @extend_schema_field(_AppointmentToMoveSerializer(many=True))
    def get_appointments_to_move(self, calendar: StaffCalendar) -> list:
        return _AppointmentToMoveSerializer(
            appointments_to_move(user_id=calendar.user_id), many=True, context=self.context
        ).data

    def get_feed_url(self, calendar: StaffCalendar) -> str:
        return _feed_url(self.context["request"], calendar)


def _feed_url(request: Request, calendar: StaffCalendar) -> str:
    return request.build_absolute_uri(
        reverse("scheduling:calendar_feed", kwargs={"token": calendar.feed_token})
    )


def _own_calendar(request: Request, calendar: StaffCalendar | None = None) -> dict:
    calendar = calendar or staff_calendar_get_or_create(user=request.user)
    return _OwnCalendarSerializer(calendar, context={"request": request}).data


class _IntervalSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    class Meta:
        ref_name = "BusyInterval"


class _StaffCalendarSerializer(_WorkSettingsSerializer):
    name = serializers.CharField(source="user.__str__")
    has_caldav = serializers.SerializerMethodField(help_text="A CalDAV account is set up.")
    has_ics_feed = serializers.SerializerMethodField(help_text="An ICS feed address is set up.")
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    busy = _IntervalSerializer(
        many=True,
        help_text="Merged intervals inside the window in which no appointment can be planned: "
        "synced busy times, absences, public holidays, outside the working hours; the whole "
        "window without consent. Times only.",
    )

    class Meta:
        ref_name = "StaffCalendarOverview"

    def get_has_caldav(self, calendar: StaffCalendar) -> bool:
        return bool(calendar.caldav_url)

    def get_has_ics_feed(self, calendar: StaffCalendar) -> bool:
        return bool(calendar.ics_url)


class _AbsenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    kind = _AbsenceKindField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    note = serializers.CharField()
    created_by = serializers.CharField(
        source="created_by.username", allow_null=True, default=None, help_text="null: unknown."
    )
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Absence"


class _AbsenceCreatedSerializer(_AbsenceSerializer):
    appointments_to_move = _AppointmentToMoveSerializer(
        many=True,
        help_text="The staff member's active appointments inside this absence: they stay booked "
        "and have to be moved (on the case page, or through the appointments API).",
    )

    class Meta:
        ref_name = "AbsenceCreated"


class _DateTimeField(serializers.DateTimeField):
    """A time near year 1 or 9999 is refused as out of range (DRF's own check overflows there)."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("overflow")


class _AbsenceInputSerializer(serializers.Serializer):
    kind = _AbsenceKindField()
    start = _DateTimeField(
        help_text="With a time zone (else the jobcenter's); at most a year back."
    )
    end = _DateTimeField(
        help_text="After the start, at most a year later and at most two years ahead."
    )
    note = _Text(max_length=200, required=False, default="", allow_blank=True)

    class Meta:
        ref_name = "AbsenceCreateInput"


class _AbsenceFilterSerializer(serializers.Serializer):
    since = serializers.DateField(
        required=False,
        help_text="Absences that end after the start of this day (default: those not yet over).",
    )

    class Meta:
        ref_name = "AbsenceFilter"


def _since(data: dict) -> dt.datetime:
    day = data.get("since")
    if day is None:
        return timezone.now()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    try:
        return start.astimezone(dt.UTC)
    except OverflowError:  # the first day of year 1 starts before year 1 in UTC
        return dt.datetime.min.replace(tzinfo=dt.UTC)


# --- the own calendar --------------------------------------------------------------------------


class CalendarGetApi(APIView):
    @extend_schema(
        operation_id="calendar_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _OwnCalendarSerializer,
            400: error_response("An unknown query parameter."),
            **UNAUTHENTICATED,
        },
        description="The caller's own calendar settings, consent and sync state (Mein Kalender). "
        "Never the CalDAV password: `caldav_password_set` says whether one is stored.",
    )
    def get(self, request: Request) -> Response:
        reject_unknown_params(request, allowed=set())
        return Response(_own_calendar(request))


class CalendarUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        working_hours = _WorkingHoursBlockSerializer(
            many=True, required=False, help_text="All blocks of the week (replaces them)."
        )
        part_time_share = _Number(
            max_digits=3,
            decimal_places=2,
            min_value=Decimal("0.10"),
            max_value=Decimal("1.00"),
            coerce_to_string=False,
            required=False,
        )
        channels = serializers.ListField(child=_CalendarChannelField(), required=False)
        location = _Text(max_length=200, required=False, allow_blank=True)
        rooms = serializers.ListField(child=_Text(max_length=100), max_length=20, required=False)
        walk_in_reserve_minutes = _Integer(min_value=0, max_value=600, required=False)
        daily_cap = _Integer(min_value=0, max_value=50, allow_null=True, required=False)
        caldav_url = _Text(
            max_length=500,
            required=False,
            allow_blank=True,
            help_text="An https:// (or http://) address; needs caldav_username.",
        )
        caldav_username = _Text(max_length=200, required=False, allow_blank=True)
        caldav_password = _Text(
            max_length=500,
            required=False,
            allow_blank=True,
            trim_whitespace=False,
            write_only=True,
            help_text='Omitted: the stored password stays; "": it is removed. Never shown back.',
        )
        ics_url = _Text(
            max_length=500,
            required=False,
            allow_blank=True,
            help_text="An https://, http:// or webcal:// address.",
        )

        class Meta:
            ref_name = "StaffCalendarUpdateInput"

    @extend_schema(
        operation_id="calendar_partial_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: _OwnCalendarSerializer, 400: SETTINGS_400, **UNAUTHENTICATED},
        examples=[SETTINGS_400_EXAMPLE],
        description="Change the caller's own calendar settings: only the fields sent. Nothing "
        "is saved if any value is refused.",
    )
    def patch(self, request: Request) -> Response:
        body = _json_object(request)
        serializer = CalendarUpdateApi.InputSerializer(data=body)
        unknown = sorted(set(body) - set(serializer.fields))
        if unknown:
            raise ApplicationError(
                _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
                extra={"fields": {name: [_("Unknown field.")] for name in unknown}},
            )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        password = data.pop("caldav_password", None)
        if "working_hours" in data:
            data["working_hours"] = [dict(block) for block in data["working_hours"]]
        calendar = staff_calendar_update(
            ctx=_ctx(request), user_id=request.user.pk, data=data, caldav_password=password
        )
        return Response(_own_calendar(request, calendar))


class CalendarApi(CalendarGetApi, CalendarUpdateApi):
    """/calendar/: GET and PATCH the own calendar (two operations)."""


class CalendarConsentSetApi(APIView):
    class InputSerializer(serializers.Serializer):
        given = _Boolean(
            help_text="true: agree to share the busy times; false: withdraw (the busy times "
            "read so far are deleted)."
        )

        class Meta:
            ref_name = "CalendarConsentInput"

    @extend_schema(
        operation_id="calendar_consent_set",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _OwnCalendarSerializer,
            400: error_response("`given` missing or not a boolean."),
            **UNAUTHENTICATED,
        },
        description="Give or withdraw the consent to share the caller's own calendar (only the "
        "staff member can, for themselves). The text agreed to is `consent_text`.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=_json_object(request))
        serializer.is_valid(raise_exception=True)
        calendar = staff_calendar_consent_set(
            ctx=_ctx(request), user_id=request.user.pk, given=serializer.validated_data["given"]
        )
        return Response(_own_calendar(request, calendar))


class CalendarFeedTokenRegenerateApi(APIView):
    class OutputSerializer(serializers.Serializer):
        feed_url = serializers.CharField(help_text="The new private feed address.")

        class Meta:
            ref_name = "CalendarFeedUrl"

    @extend_schema(
        operation_id="calendar_feed_token_regenerate",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: OutputSerializer, **UNAUTHENTICATED},
        description="A new private feed address for the caller; the old one stops working at once.",
    )
    def post(self, request: Request) -> Response:
        staff_calendar_get_or_create(user=request.user)
        calendar = staff_calendar_feed_token_regenerate(ctx=_ctx(request), user_id=request.user.pk)
        return Response(self.OutputSerializer({"feed_url": _feed_url(request, calendar)}).data)


class _SyncOutputSerializer(serializers.Serializer):
    busy_times_read = serializers.IntegerField(
        help_text="Busy times read by this sync or upload, in all (0 while a sync is queued)."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Busy times read per source: caldav, ics or upload.",
    )
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_sync_status = _SyncStatusField()
    last_sync_message = serializers.CharField()
    sync_pending = serializers.BooleanField(
        help_text="The sync waits for its worker: poll GET calendar/ until this is false."
    )

    class Meta:
        ref_name = "CalendarSyncResult"


def _sync_output(request: Request, counts: dict[str, int]) -> dict:
    calendar = staff_calendar_get_or_create(user=request.user)
    return _SyncOutputSerializer(
        {
            "busy_times_read": sum(counts.values()),
            "counts": counts,
            "last_sync_at": calendar.last_sync_at,
            "last_sync_status": calendar.last_sync_status,
            "last_sync_message": calendar.last_sync_message,
            "sync_pending": calendar.sync_pending,
        }
    ).data


class CalendarSyncApi(APIView):
    @extend_schema(
        operation_id="calendar_sync",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: OpenApiResponse(
                _SyncOutputSerializer,
                description="Read in the request (installations without a worker): the result.",
            ),
            202: OpenApiResponse(
                _SyncOutputSerializer,
                description="Sent to a worker: `sync_pending` is true; poll GET calendar/ until "
                "it is false, then last_sync_status and last_sync_message tell the outcome.",
            ),
            400: error_response(
                "Not synced: no consent, no CalDAV or ICS address set up, or (read in the "
                "request) a server that could not be read (down, login refused, too slow, "
                "malformed or oversized data). The previous busy times are kept; extra.errors "
                "has the message per source, extra.counts what the other sources read."
            ),
            **UNAUTHENTICATED,
        },
        description="Read the caller's busy times now from their CalDAV account and/or ICS feed "
        "(the page's *Jetzt abgleichen*). Where a worker exists the sync is sent to it (202); "
        "only with in-process tasks is it read in the request (200), each source within the "
        "fetch deadline (DJANGO_CALENDAR_FETCH_DEADLINE_SECONDS). The periodic sync does the "
        "same every 15 minutes.",
    )
    def post(self, request: Request) -> Response:
        # As the page: the row first, so a first sync says "no consent" rather than failing.
        staff_calendar_get_or_create(user=request.user)
        result = calendar_sync_start(ctx=_ctx(request), user_id=request.user.pk)
        if result is None:
            return Response(_sync_output(request, {}), status=status.HTTP_202_ACCEPTED)
        return Response(_sync_output(request, result.counts))


class _UploadRemovedSerializer(serializers.Serializer):
    busy_times_deleted = serializers.IntegerField(help_text="Uploaded busy times removed.")

    class Meta:
        ref_name = "CalendarUploadRemoved"


class CalendarUploadApi(APIView):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="A calendar export (.ics, or free/busy times as .vfb), at most 5 MB."
        )

        class Meta:
            ref_name = "CalendarUploadInput"

    @extend_schema(
        operation_id="calendar_upload",
        request={"multipart/form-data": InputSerializer},
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _SyncOutputSerializer,
            400: error_response(
                "No file, a file over 5 MB, malformed iCalendar data, too many events, or no "
                "consent. The previously uploaded busy times are kept."
            ),
            **UNAUTHENTICATED,
            415: error_response("The body is not multipart/form-data."),
        },
        description="Replace the caller's uploaded busy times with those of an .ics file (start "
        "and end of each event in the next weeks; titles are not stored).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > MAX_ICS_BYTES:
            raise ics_too_big()  # before reading it into memory
        count = calendar_upload_ics(ctx=_ctx(request), user_id=request.user.pk, data=upload.read())
        return Response(_sync_output(request, {"upload": count}))

    @extend_schema(
        operation_id="calendar_upload_destroy",
        request=None,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: _UploadRemovedSerializer, **UNAUTHENTICATED},
        description="Remove the caller's busy times read from uploaded files (the page's "
        "*Hochgeladene Termine entfernen*); those from CalDAV and the ICS feed stay.",
    )
    def delete(self, request: Request) -> Response:
        count = calendar_upload_remove(ctx=_ctx(request), user_id=request.user.pk)
        return Response(_UploadRemovedSerializer({"busy_times_deleted": count}).data)


# --- absences ----------------------------------------------------------------------------------


def _absence_list(view: APIView, request: Request, member: User) -> Response:
    data = _validated_query(request, _AbsenceFilterSerializer)
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(
        absence_list_for_user(user=member, since=_since(data)), request, view=view
    )
    _audit_read_of_other(
        request,
        member,
        action=AuditAction.LIST,
        object_type="absence",
        object_id="",
        detail={"absence_ids": [absence.pk for absence in page]},
    )
    return paginator.get_paginated_response(_AbsenceSerializer(page, many=True).data)


def _absence_create(request: Request, member: User) -> Response:
    serializer = _AbsenceInputSerializer(data=_json_object(request))
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    absence = absence_add(
        ctx=_ctx(request),
        user_id=member.pk,
        start=data["start"],
        end=data["end"],
        kind=data["kind"],
        note=data["note"],
    )
    return Response(
        _AbsenceCreatedSerializer(absence, context={"request": request}).data,
        status=status.HTTP_201_CREATED,
    )


def _absence_delete(request: Request, member: User, absence_id: int) -> Response:
    # Only an absence of this staff member: another's id is not found here.
    if not Absence.objects.filter(pk=absence_id, user_id=member.pk).exists():
        raise ApiNotFoundError(_("This staff member has no absence with this number."))
    try:
        absence_remove(ctx=_ctx(request), absence_id=absence_id)
    except ObjectDoesNotExist:  # removed a moment ago
        raise ApiNotFoundError(_("This staff member has no absence with this number.")) from None
    return Response(status=status.HTTP_204_NO_CONTENT)


def _require_absence_reader(request: Request, member: User) -> None:
    if not _may_read_calendar_of(request, member):
        raise PermissionDenied(
            _("Absences are recorded by the staff member, their team lead or an administrator.")
        )


ABSENCE_LIST_RESPONSES = {
    200: _AbsenceSerializer(many=True),
    400: error_response("An unknown or malformed query parameter, or a bad page size."),
    404: error_response("The page does not exist."),
}
ABSENCE_CREATE_400 = error_response(
    "Invalid input: an unknown kind, an end not after the start, longer than a year, outside the "
    "range from a year back to two years ahead, overlapping an absence already recorded (named "
    "in the message, its id in extra.overlaps), a note over 200 characters."
)


class CalendarAbsenceListApi(APIView):
    pagination_class = StrictPagination

    @extend_schema(
        operation_id="calendar_absences_list",
        parameters=[_AbsenceFilterSerializer, *AUTH_ERROR_HEADERS],
        responses={**ABSENCE_LIST_RESPONSES, **UNAUTHENTICATED},
        description="The caller's own absences, by start.",
    )
    def get(self, request: Request) -> Response:
        return _absence_list(self, request, request.user)


class CalendarAbsenceCreateApi(APIView):
    @extend_schema(
        operation_id="calendar_absences_create",
        request=_AbsenceInputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={201: _AbsenceCreatedSerializer, 400: ABSENCE_CREATE_400, **UNAUTHENTICATED},
        description="Record an absence of the caller (vacation, sick, training, other).",
    )
    def post(self, request: Request) -> Response:
        return _absence_create(request, request.user)


class CalendarAbsencesApi(CalendarAbsenceListApi, CalendarAbsenceCreateApi):
    """/calendar/absences/: GET and POST the own absences (two operations)."""


class CalendarAbsenceDeleteApi(APIView):
    @extend_schema(
        operation_id="calendar_absences_destroy",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            204: OpenApiResponse(description="The absence was removed."),
            404: error_response("The caller has no absence with this number."),
            **UNAUTHENTICATED,
        },
        description="Remove one of the caller's absences.",
    )
    def delete(self, request: Request, absence_id: int) -> Response:
        return _absence_delete(request, request.user, absence_id)


class StaffAbsenceListApi(APIView):
    pagination_class = StrictPagination

    @extend_schema(
        operation_id="staff_absences_list",
        parameters=[_AbsenceFilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            **ABSENCE_LIST_RESPONSES,
            401: AUTH_ERRORS[401],
            403: ABSENCE_403,
            404: error_response(
                "No such staff member (or one of another team), or the page does not exist."
            ),
        },
        description="A staff member's absences, by start: for themselves, their team lead and "
        "admins. A colleague's are audit-logged.",
    )
    def get(self, request: Request, user_id: int) -> Response:
        member = _staff_member(request, user_id)
        _require_absence_reader(request, member)
        return _absence_list(self, request, member)


class StaffAbsenceCreateApi(APIView):
    @extend_schema(
        operation_id="staff_absences_create",
        request=_AbsenceInputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: _AbsenceCreatedSerializer,
            400: ABSENCE_CREATE_400,
            401: AUTH_ERRORS[401],
            403: ABSENCE_403,
            404: STAFF_404,
        },
        description="Record an absence of a staff member: by themselves, their team lead or an "
        "admin (e.g. an HR or time-keeping system with an admin's token).",
    )
    def post(self, request: Request, user_id: int) -> Response:
        return _absence_create(request, _staff_member(request, user_id))


class StaffAbsencesApi(StaffAbsenceListApi, StaffAbsenceCreateApi):
    """/staff/{user_id}/absences/: GET and POST a staff member's absences (two operations)."""


class StaffAbsenceDeleteApi(APIView):
    @extend_schema(
        operation_id="staff_absences_destroy",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            204: OpenApiResponse(description="The absence was removed."),
            401: AUTH_ERRORS[401],
            403: ABSENCE_403,
            404: ABSENCE_404,
        },
        description="Remove an absence of a staff member: by themselves, their team lead or an "
        "admin.",
    )
    def delete(self, request: Request, user_id: int, absence_id: int) -> Response:
        return _absence_delete(request, _staff_member(request, user_id), absence_id)


# --- a staff member's calendar ---------------------------------------------------------------------


class StaffCalendarGetApi(APIView):
    class FilterSerializer(serializers.Serializer):
        weeks = serializers.IntegerField(
            min_value=1,
            max_value=SYNC_WEEKS,
            required=False,
            default=DEFAULT_OVERVIEW_WEEKS,
            help_text=f"How many weeks from now (default {DEFAULT_OVERVIEW_WEEKS}).",
        )

        class Meta:
            ref_name = "StaffCalendarFilter"

    @extend_schema(
        operation_id="staff_calendar_retrieve",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: _StaffCalendarSerializer,
            400: error_response("An unknown or malformed query parameter."),
            401: AUTH_ERRORS[401],
            403: error_response(
                "A colleague of the own team: a staff member's calendar is seen by themselves, "
                "their team lead and admins."
            ),
            404: STAFF_404,
        },
        description="A staff member's calendar as the planner sees it: working hours, "
        "capacities, channels, consent and sync state, and the intervals in which nothing can "
        "be planned over the next weeks (times only; no addresses, credentials or feed). For "
        "the team lead of their team, admins and themselves; a colleague's read is "
        "audit-logged.",
    )
    def get(self, request: Request, user_id: int) -> Response:
        member = _staff_member(request, user_id)
        if not _may_read_calendar_of(request, member):
            raise PermissionDenied(
                _("A staff member's calendar is seen by themselves, their team lead and admins.")
            )
        weeks = _validated_query(request, self.FilterSerializer)["weeks"]
        start = timezone.now()
        end = start + dt.timedelta(weeks=weeks)
        # Unsaved defaults for someone who never opened their calendar: a read creates no rows.
        calendar = staff_calendar_get_for_user(user=member) or StaffCalendar(user=member)
        calendar.window_start, calendar.window_end = start, end
        calendar.busy = [
            {"start": s, "end": e}
            for s, e in staff_busy_intervals(user=member, start=start, end=end)
        ]
        _audit_read_of_other(
            request,
            member,
            action=AuditAction.VIEW,
            object_type="staff_calendar",
            object_id=calendar.pk or "",
            detail={"weeks": weeks},
        )
        return Response(_StaffCalendarSerializer(calendar).data)


api_urlpatterns = [
    path("calendar/", CalendarApi.as_view(), name="calendar"),
    path("calendar/consent/", CalendarConsentSetApi.as_view(), name="calendar-consent"),
    path(
        "calendar/feed-token/",
        CalendarFeedTokenRegenerateApi.as_view(),
        name="calendar-feed-token",
    ),
    path("calendar/sync/", CalendarSyncApi.as_view(), name="calendar-sync"),
    path("calendar/upload/", CalendarUploadApi.as_view(), name="calendar-upload"),
    path("calendar/absences/", CalendarAbsencesApi.as_view(), name="calendar-absences"),
    path(
        "calendar/absences/<int:absence_id>/",
        CalendarAbsenceDeleteApi.as_view(),
        name="calendar-absence",
    ),
    path("staff/<int:user_id>/absences/", StaffAbsencesApi.as_view(), name="staff-absences"),
    path(
        "staff/<int:user_id>/absences/<int:absence_id>/",
        StaffAbsenceDeleteApi.as_view(),
        name="staff-absence",
    ),
    path("staff/<int:user_id>/calendar/", StaffCalendarGetApi.as_view(), name="staff-calendar"),
]
