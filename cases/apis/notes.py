"""Case notes over REST: the same services and selectors as the notes card on the case page.

Status codes: 400 for a malformed body or filter, an unknown or inactive tag, a date in the future
or a checklist answer for an item the note type does not have; 409 when the case is closed; 404 for
a case of another team (indistinguishable from a missing one); 403 for the admin role (and, for the
checklist, for anyone but the note's author); 401 without valid credentials. A note that misses a
required checklist item is saved (201) with `is_incomplete: true` and the labels in `missing_items`.

Notes are not edited: a correction is a new note with `corrects_note_id`. Only the checklist can be
answered again (PATCH .../checklist/), by the author, e.g. to tick what a flagged note missed.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record, audit_record_many
from cases.apis.cases import (
    ADMIN_FORBIDDEN_EXAMPLE,
    _audit_ctx,
    _require_case_reader,
    _validated_filters,
)
from cases.models import Case, CaseNote, Channel, NoteType
from cases.selectors.notes import (
    NoteFilters,
    case_note_get_for_user,
    case_note_list_for_user,
    note_case_get_for_user,
    note_template_list,
    tag_list,
)
from cases.services.notes import (
    NOTE_TEXT_MAX_LENGTH,
    OBJECT_TYPE,
    case_note_checklist_update,
    case_note_create,
)
from jobcenter.api import (
    AUTH_ERROR_HEADERS,
    AUTH_ERRORS,
    ApiNotFoundError,
    StrictPagination,
    error_response,
)

CASE_NOT_FOUND = error_response(
    "No such case, or it belongs to another team: the two are indistinguishable."
)
NOTE_NOT_FOUND = error_response(
    "No such case or note, or the case belongs to another team: indistinguishable."
)


def _case_or_404(request: Request, case_id: int) -> Case:
    try:
        return note_case_get_for_user(user=request.user, case_id=case_id)
    except Http404:
        raise ApiNotFoundError(_("There is no case with this number for you.")) from None


def _note_or_404(request: Request, case_id: int, note_id: int) -> CaseNote:
    try:
        return case_note_get_for_user(user=request.user, case_id=case_id, note_id=note_id)
    except Http404:
        raise ApiNotFoundError(_("There is no such note in a case of yours.")) from None


_author = inline_serializer(
    name="NoteAuthor",
    fields={
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "name": serializers.CharField(source="get_full_name"),
    },
)


class _TagNamesField(serializers.ListField):
    """The names of a note's tags (prefetched by the selector, in name order)."""

    def to_representation(self, data) -> list[str]:
        return [tag.name for tag in data.all()]


class _NoteFields(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    note_type = serializers.ChoiceField(choices=NoteType.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    occurred_on = serializers.DateField()
    text = serializers.CharField()
    tags = _TagNamesField(child=serializers.CharField(), help_text="Tag names, by name.")
    checklist = serializers.DictField(
        child=serializers.BooleanField(), help_text="The answers: item key -> ticked."
    )
    missing_items = serializers.ListField(
        child=serializers.CharField(),
        help_text="Labels of the required checklist items that are not ticked.",
    )
    is_incomplete = serializers.BooleanField()
    author = _author
    created_at = serializers.DateTimeField()


class _NoteOutputSerializer(_NoteFields):
    """A case note (Vermerk)."""

    class Meta:
        ref_name = "CaseNote"


class CaseNoteListApi(APIView):
    """GET /cases/{id}/notes/: the notes of a case, newest first."""

    pagination_class = StrictPagination

    class FilterSerializer(serializers.Serializer):
        note_type = serializers.ChoiceField(choices=NoteType.choices, required=False)
        tag = serializers.CharField(
            required=False, max_length=60, help_text="Only notes with the tag of this name."
        )
        incomplete = serializers.BooleanField(
            required=False,
            help_text="true: only notes flagged incomplete; false: only complete ones.",
        )

    @extend_schema(
        operation_id="case_notes_list",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: _NoteOutputSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response(
                "The page does not exist, or there is no such case for the caller."
            ),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The notes of one case of the caller's team, newest first. Each note "
        "returned is written to the audit log.",
    )
    def get(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        case = _case_or_404(request, case_id)
        data = _validated_filters(request, CaseNoteListApi.FilterSerializer)
        filters = NoteFilters(
            note_type=data.get("note_type", ""),
            tag=data.get("tag", ""),
            incomplete=data.get("incomplete"),
        )
        paginator = StrictPagination()
        page = paginator.paginate_queryset(
            case_note_list_for_user(user=request.user, case_id=case.pk, filters=filters),
            request,
            view=self,
        )
        audit_record_many(
            ctx=_audit_ctx(request),
            action=AuditAction.LIST,
            object_type=OBJECT_TYPE,
            items=[(note.pk, case.customer_id) for note in page],
        )
        return paginator.get_paginated_response(_NoteOutputSerializer(page, many=True).data)


class CaseNoteCreateApi(APIView):
    """POST /cases/{id}/notes/: record a note."""

    class InputSerializer(serializers.Serializer):
        note_type = serializers.ChoiceField(choices=NoteType.choices)
        channel = serializers.ChoiceField(choices=Channel.choices)
        occurred_on = serializers.DateField(help_text="The day of the contact; not in the future.")
        text = serializers.CharField(max_length=NOTE_TEXT_MAX_LENGTH)
        tags = serializers.ListField(
            child=serializers.CharField(max_length=60),
            required=False,
            max_length=50,
            help_text="Names of active tags (GET /api/v1/tags/).",
        )
        checklist = serializers.DictField(
            child=serializers.BooleanField(),
            required=False,
            help_text="Item key -> ticked, for the checklist of the note type "
            "(GET /api/v1/note-templates/). Unanswered items count as not ticked.",
        )
        corrects_note_id = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="The note of this case that this one corrects (the old one stays).",
        )

        class Meta:
            ref_name = "CaseNoteCreateInput"

    @extend_schema(
        operation_id="case_notes_create",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            201: _NoteOutputSerializer,
            400: error_response(
                "Invalid input: a missing field, a date in the future, an unknown or inactive "
                "tag, an unknown checklist item, or a note to correct that is not in this case."
            ),
            404: CASE_NOT_FOUND,
            409: error_response("The case is closed; notes can no longer be added."),
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Record a note. A note that misses a required checklist item is saved and "
        "flagged (`is_incomplete`, `missing_items`). The write is audit-logged.",
    )
    def post(self, request: Request, case_id: int) -> Response:
        _require_case_reader(request)
        case = _case_or_404(request, case_id)
        serializer = CaseNoteCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        note = case_note_create(
            ctx=_audit_ctx(request),
            case_id=case.pk,
            note_type=data["note_type"],
            channel=data["channel"],
            occurred_on=data["occurred_on"],
            text=data["text"],
            tag_names=data.get("tags", []),
            checklist=data.get("checklist", {}),
            corrects_note_id=data.get("corrects_note_id"),
        )
        note = case_note_get_for_user(user=request.user, case_id=case.pk, note_id=note.pk)
        return Response(_NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


class CaseNotesApi(CaseNoteListApi, CaseNoteCreateApi):
    """The route /cases/{id}/notes/ answers two operations: GET lists, POST creates.

    A URL maps to one view, so this class only joins the two operation classes above.
    """


class CaseNoteDetailApi(APIView):
    @extend_schema(
        operation_id="case_notes_retrieve",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: _NoteOutputSerializer, 404: NOTE_NOT_FOUND, **AUTH_ERRORS},
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="One note of a case of the caller's team. The read is audit-logged.",
    )
    def get(self, request: Request, case_id: int, note_id: int) -> Response:
        _require_case_reader(request)
        case = _case_or_404(request, case_id)
        note = _note_or_404(request, case.pk, note_id)
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type=OBJECT_TYPE,
            object_id=note.pk,
            customer_id=case.customer_id,
        )
        return Response(_NoteOutputSerializer(note).data)


class CaseNoteChecklistUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        checklist = serializers.DictField(
            child=serializers.BooleanField(),
            help_text="Item key -> ticked, for the note type's current checklist. Unanswered "
            "items count as not ticked.",
        )

        class Meta:
            ref_name = "CaseNoteChecklistInput"

    @extend_schema(
        operation_id="case_notes_checklist_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: _NoteOutputSerializer,
            400: error_response("A malformed body or an item the checklist does not have."),
            404: NOTE_NOT_FOUND,
            **AUTH_ERRORS,
            403: error_response(
                "The admin role reads no case contents, and only the note's author may answer "
                "its checklist."
            ),
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Answer a note's checklist again, e.g. tick what a flagged note missed; "
        "`is_incomplete` follows. Only the author may. The change is audit-logged.",
    )
    def patch(self, request: Request, case_id: int, note_id: int) -> Response:
        _require_case_reader(request)
        case = _case_or_404(request, case_id)
        note = _note_or_404(request, case.pk, note_id)
        serializer = CaseNoteChecklistUpdateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case_note_checklist_update(
            ctx=_audit_ctx(request),
            case_id=case.pk,
            note_id=note.pk,
            checklist=serializer.validated_data["checklist"],
        )
        note = _note_or_404(request, case.pk, note_id)
        return Response(_NoteOutputSerializer(note).data)


class NoteTemplateListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        """The template of a note type: text to start from and the checklist."""

        note_type = serializers.ChoiceField(choices=NoteType.choices)
        body = serializers.CharField(allow_blank=True)
        checklist = inline_serializer(
            name="NoteChecklistItem",
            fields={
                "key": serializers.CharField(),
                "label": serializers.CharField(),
                "required": serializers.BooleanField(),
            },
            many=True,
        )

        class Meta:
            ref_name = "NoteTemplate"

    @extend_schema(
        operation_id="note_templates_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={200: OutputSerializer(many=True), 401: AUTH_ERRORS[401]},
        description="The note templates, one per note type that has one (at most one per "
        "type, so not paged). Configuration, not customer data: any member of staff.",
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(note_template_list(), many=True).data)


class TagListApi(APIView):
    pagination_class = StrictPagination

    class FilterSerializer(serializers.Serializer):
        active = serializers.BooleanField(
            required=False, help_text="true: only tags that can be chosen for new notes."
        )

    class OutputSerializer(serializers.Serializer):
        """A tag of the vocabulary. Only active tags can be put on new notes."""

        id = serializers.IntegerField()
        name = serializers.CharField()
        description = serializers.CharField(allow_blank=True)
        active = serializers.BooleanField()

        class Meta:
            ref_name = "Tag"

    @extend_schema(
        operation_id="tags_list",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: OutputSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: error_response("The page does not exist."),
            401: AUTH_ERRORS[401],
        },
        description="The tag vocabulary for case notes, by name. Configuration, not customer "
        "data: any member of staff.",
    )
    def get(self, request: Request) -> Response:
        data = _validated_filters(request, self.FilterSerializer)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(tag_list(active=data.get("active")), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
