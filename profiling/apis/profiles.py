"""The customer profile over REST: read it (now or as of a date), change it, list its versions.

Scoped like the customer API (cases.selectors.customer_get_for_user): a customer without a case in
the caller's team is a 404, an admin gets a 403. Every read writes an audit VIEW row; every change
goes through profiling.services.profile_update, as the form does.
"""

from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
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
from profiling.languages import ISO_639_1
from profiling.models import (
    MAX_WORK_MONTHS_5Y,
    PROFILE_FIELDS,
    LanguageLevel,
    Motivation,
    Need,
    School,
    Vocational,
)
from profiling.selectors import (
    profile_customer_get_for_user,
    profile_get_at,
    profile_of,
    profile_version_list,
)
from profiling.services import profile_snapshot, profile_update

NOT_FOUND = error_response(
    "No such customer, none with a case in the caller's team (the two are indistinguishable), "
    "no profile yet, or none recorded by the date asked for."
)


def _audit_ctx(request: Request) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _customer(request: Request, customer_id: int):
    try:
        return profile_customer_get_for_user(user=request.user, customer_id=customer_id)
    except Http404:
        raise ApiNotFoundError(_("There is no customer with this number for you.")) from None


# Declared so the schema says it: the database cannot store NUL characters.
NO_NUL = RegexValidator(r"^[^\x00]*$", message=gettext_lazy("Null characters are not allowed."))


class _LanguageSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=sorted(ISO_639_1 - {"de"}),
        help_text="ISO 639-1 code; German has its own field.",
    )
    level = serializers.ChoiceField(choices=LanguageLevel.choices)


def _need(help_text: str = "") -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=Need.choices, help_text=help_text)


def _note() -> serializers.CharField:
    return serializers.CharField(allow_blank=True, trim_whitespace=False, validators=[NO_NUL])


class ProfileFieldsSerializer(serializers.Serializer):
    """Every field of the profile, as profiling.models documents them (stable names)."""

    school = serializers.ChoiceField(choices=School.choices)
    vocational = serializers.ChoiceField(choices=Vocational.choices)
    foreign_qualification = serializers.BooleanField()
    qualification_need = _need()
    qualification_note = _note()
    work_months_5y = serializers.IntegerField(min_value=0, max_value=MAX_WORK_MONTHS_5Y)
    months_unemployed = serializers.IntegerField(min_value=0, max_value=32767)
    months_in_benefit = serializers.IntegerField(min_value=0, max_value=32767)
    target_kldb = serializers.RegexField(
        r"^([0-9]{5})?\Z", allow_blank=True, help_text="KldB 2010, five digits, or empty."
    )
    target_occupation = serializers.CharField(allow_blank=True, max_length=200, validators=[NO_NUL])
    work_experience_need = _need()
    work_experience_note = _note()
    german = serializers.ChoiceField(choices=LanguageLevel.choices)
    other_languages = _LanguageSerializer(many=True)
    language_need = _need()
    language_note = _note()
    health = _need("Level of need: health restrictions.")
    health_note = _note()
    care = _need("Level of need: care duties and childcare.")
    care_note = _note()
    housing = _need()
    housing_note = _note()
    debt = _need()
    debt_note = _note()
    driving_licence = serializers.BooleanField()
    public_transport = serializers.BooleanField(allow_null=True, help_text="null: not known.")
    mobility_need = _need()
    mobility_note = _note()
    digital = _need("Level of need: digital skills.")
    digital_note = _note()
    motivation = serializers.ChoiceField(choices=Motivation.choices)
    motivation_note = _note()
    own_goals = _note()


class ProfileOutputSerializer(ProfileFieldsSerializer):
    """A profile: the current one or the version valid at the date asked for."""

    customer_id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Send it back with PUT/PATCH (optimistic lock).")
    valid_from = serializers.DateTimeField(help_text="When this version was saved.")

    class Meta:
        ref_name = "Profile"


def _current(profile) -> dict:
    return {
        **profile_snapshot(profile),
        "customer_id": profile.customer_id,
        "version": profile.version,
        "valid_from": profile.updated_at,
    }


CONFLICT_EXAMPLE = OpenApiExample(
    "Concurrent change",
    value={
        "message": "The profile was changed in the meantime (now version 4, by Eva Schmidt on "
        "21.11.2026 10:02); your changes were based on version 3 and were not saved. Reload the "
        "profile and enter your changes again.",
        "extra": {"current_version": 4, "expected_version": 3},
    },
    response_only=True,
    status_codes=["409"],
)


class ProfileDetailApi(APIView):
    """GET reads the profile (now or ?at=), PUT replaces it (or creates it), PATCH changes parts.

    One URL, so one class; each method is its own operation with its own serializers and schema.
    """

    class FilterSerializer(serializers.Serializer):
        at = serializers.DateField(
            required=False,
            help_text="YYYY-MM-DD: the profile as it was at the end of that day (a day in the "
            "future gives the current version).",
        )

    class InputSerializer(ProfileFieldsSerializer):
        version = serializers.IntegerField(
            min_value=0,
            help_text="The version the change is based on (0 to create the profile). If the "
            "profile has changed since, the answer is 409 and nothing is saved.",
        )

        class Meta:
            ref_name = "ProfileInput"

    class PatchInputSerializer(InputSerializer):
        """The PATCH body as documented: any subset of the fields, with `version`."""

        class Meta:
            ref_name = "ProfilePatchInput"

        def get_fields(self):
            fields = super().get_fields()
            for name, field in fields.items():
                field.required = name == "version"
            return fields

    @extend_schema(
        operation_id="customers_profile_retrieve",
        parameters=[FilterSerializer, *AUTH_ERROR_HEADERS],
        responses={
            200: ProfileOutputSerializer,
            400: error_response("An unknown or malformed query parameter."),
            404: NOT_FOUND,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="The customer's current profile, or with ?at= the version valid then. The "
        "read is audit-logged.",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed={"at"})
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        at = filters.validated_data.get("at")
        customer = _customer(request, customer_id)
        if at is None:
            profile = profile_of(customer)
            if profile is None:
                raise ApiNotFoundError(_("This customer has no profile yet."))
            data = _current(profile)
        else:
            version = profile_get_at(user=request.user, customer_id=customer.pk, at=at)
            if version is None:
                raise ApiNotFoundError(
                    _("No profile had been recorded for this customer by that date."),
                    extra={"at": at.isoformat()},
                )
            data = {
                **{name: version.snapshot.get(name) for name in PROFILE_FIELDS},
                "customer_id": customer.pk,
                "version": version.version,
                "valid_from": version.valid_from,
            }
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type="profile",
            object_id=customer.pk,
            customer_id=customer.pk,
            detail={"at": at.isoformat()} if at else {},
        )
        return Response(ProfileOutputSerializer(data).data)

    def _update(self, request: Request, customer_id: int, *, partial: bool) -> Response:
        _require_case_reader(request)
        if not isinstance(request.data, dict):
            raise ApplicationError(_("Send the profile as a JSON object."))
        serializer = self.InputSerializer(data=request.data, partial=partial)
        unknown = sorted(set(request.data) - set(serializer.fields))
        if unknown:
            raise ApplicationError(
                _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
                extra={"fields": {name: [_("Unknown field.")] for name in unknown}},
            )
        if partial and "version" not in request.data:
            raise ApplicationError(
                _("Send the version the change is based on."),
                extra={"fields": {"version": [_("This field is required.")]}},
            )
        serializer.is_valid(raise_exception=True)
        customer = _customer(request, customer_id)
        data = dict(serializer.validated_data)
        expected = data.pop("version")
        if "other_languages" in data:
            data["other_languages"] = [dict(item) for item in data["other_languages"]]
        created = profile_of(customer) is None
        if created and partial:
            raise ApiNotFoundError(_("This customer has no profile yet. Create it with PUT."))
        profile = profile_update(
            ctx=_audit_ctx(request), customer_id=customer.pk, data=data, expected_version=expected
        )
        return Response(
            ProfileOutputSerializer(_current(profile)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    _update_errors = {
        400: error_response(
            "Invalid or unknown fields (per-field messages under extra.fields), e.g. an unknown "
            "level, a KldB code that is not five digits, an unknown language code or CEFR level, "
            "negative months or more than 60 months worked in five years. Nothing is saved."
        ),
        404: NOT_FOUND,
        409: error_response(
            "The profile changed after the version sent (extra.current_version). Nothing is saved."
        ),
        **AUTH_ERRORS,
    }

    @extend_schema(
        operation_id="customers_profile_update",
        request=InputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: ProfileOutputSerializer, 201: ProfileOutputSerializer, **_update_errors},
        examples=[ADMIN_FORBIDDEN_EXAMPLE, CONFLICT_EXAMPLE],
        description="Replace the whole profile (every field and `version`); creates it with "
        "version 0 when the customer has none (201). Writes a new version, an audit row and a "
        "timeline entry on the open case.",
    )
    def put(self, request: Request, customer_id: int) -> Response:
        return self._update(request, customer_id, partial=False)

    @extend_schema(
        operation_id="customers_profile_partial_update",
        request=PatchInputSerializer,
        parameters=AUTH_ERROR_HEADERS,
        responses={200: ProfileOutputSerializer, 201: ProfileOutputSerializer, **_update_errors},
        examples=[ADMIN_FORBIDDEN_EXAMPLE, CONFLICT_EXAMPLE],
        description="Change some fields of an existing profile (404 if there is none: create it "
        "with PUT); `version` is required. Fields not sent keep their value.",
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        return self._update(request, customer_id, partial=True)


class ProfileVersionListApi(APIView):
    pagination_class = StrictPagination

    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField()
        valid_from = serializers.DateTimeField()
        author = serializers.CharField(
            source="author.username", allow_null=True, default=None, help_text="null: the system"
        )
        changed_fields = serializers.ListField(child=serializers.CharField())
        changed_dimensions = serializers.ListField(child=serializers.CharField())
        profile = ProfileFieldsSerializer(source="snapshot")

        class Meta:
            ref_name = "ProfileVersion"

    @extend_schema(
        operation_id="customers_profile_versions_list",
        parameters=AUTH_ERROR_HEADERS,
        responses={
            200: OutputSerializer(many=True),
            400: error_response("An unknown or malformed query parameter, or a bad page size."),
            404: NOT_FOUND,
            **AUTH_ERRORS,
        },
        examples=[ADMIN_FORBIDDEN_EXAMPLE],
        description="Every version of the customer's profile, newest first, with who changed "
        "which fields. The read is audit-logged.",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        _require_case_reader(request)
        reject_unknown_params(request, allowed=StrictPagination.param_names())
        customer = _customer(request, customer_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            profile_version_list(user=request.user, customer_id=customer.pk), request, view=self
        )
        audit_record(
            ctx=_audit_ctx(request),
            action=AuditAction.VIEW,
            object_type="profile",
            object_id=customer.pk,
            customer_id=customer.pk,
            detail={"versions": [version.version for version in page]},
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class _ProfileInputSchema(OpenApiSerializerExtension):
    """The schema says what the API enforces: no unknown fields, and `version` even in a PATCH."""

    target_class = ProfileDetailApi.InputSerializer
    match_subclasses = True  # the PATCH body too

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        required = schema.setdefault("required", [])
        if "version" not in required:
            required.append("version")
        return schema
