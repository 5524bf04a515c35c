"""What every API endpoint shares: the error shape, the documented errors, paging, strict filters.

Every error is `{"message": str, "extra": {...}}` with the matching status code, whether DRF, a
selector (Http404), a service (ApplicationError) or Django's URL resolver (`not_found_view`) raised it.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import InvalidPage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jobcenter.exceptions import ApplicationError

API_PATH_PREFIX = "/api/"


class ApiNotFoundError(ApplicationError):
    """A well-formed request for something that is not there (e.g. a page past the end)."""

    status_code = 404


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    return str(detail)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: turn every known error into the error shape."""
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": _first_message(exc.detail), "extra": {"fields": exc.detail}}
        return response
    data = response.data
    detail = data.get("detail", data) if isinstance(data, dict) else _first_message(data)
    wait = getattr(exc, "wait", None)
    extra = {"wait_seconds": wait} if wait is not None else {}
    response.data = {"message": str(detail), "extra": extra}
    return response


def not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an address under /api/ that matches no route gets a JSON 404, pages the HTML one.

    Without it `/api/v1/cases/abc/` (the id converter only matches digits) would answer with HTML.
    """
    if request.path.startswith(API_PATH_PREFIX):
        return JsonResponse(
            {"message": _("There is nothing at this address."), "extra": {"path": request.path}},
            status=404,
        )
    return page_not_found(request, exception)


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "message": serializers.CharField(help_text="What went wrong, for people."),
        "extra": serializers.DictField(
            help_text="Details: per-field messages under 'fields', unknown query parameters "
            "under 'unknown', the seconds to wait under 'wait_seconds'."
        ),
    },
)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


# The errors every endpoint that needs a login can answer with.
AUTH_ERRORS = {
    401: error_response("Not authenticated, the token is invalid, or it has expired."),
    403: error_response("Authenticated, but this role may not use this endpoint."),
}

# Response headers that belong to error responses (schemathesis checks they are sent).
AUTH_ERROR_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        response=[401],
        description="How to authenticate: `Token`.",
    ),
]
THROTTLE_HEADERS = [
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=[429],
        description="Seconds to wait before the next attempt.",
    ),
]


class StrictPagination(PageNumberPagination):
    """`?page=N&page_size=M`. A malformed page or size is a 400, a page past the end a 404.

    DRF's own pagination silently falls back to the default size and treats a malformed page
    number like a missing page; an API client should learn it asked for something else.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def _positive_int(self, request: Request, name: str, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1 or (maximum is not None and value > maximum):
            if maximum is None:
                message = _("Must be a whole number of at least 1.")
            else:
                message = _("Must be a whole number between 1 and %(max)d.") % {"max": maximum}
            raise exceptions.ValidationError({name: [message]})
        return value

    def get_page_size(self, request: Request) -> int:
        size = self._positive_int(request, self.page_size_query_param, self.max_page_size)
        return size or self.page_size

    def paginate_queryset(self, queryset, request: Request, view=None) -> list:
        self.request = request
        page_size = self.get_page_size(request)
        number = self._positive_int(request, self.page_query_param) or 1
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise ApiNotFoundError(
                _("Page %(page)d does not exist; the last page is %(last)d.")
                % {"page": number, "last": paginator.num_pages},
                extra={"page": number, "last_page": paginator.num_pages},
            ) from None
        return list(self.page)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    @classmethod
    def param_names(cls) -> set[str]:
        return {cls.page_query_param, cls.page_size_query_param}


def reject_unknown_params(request: Request, allowed: set[str]) -> None:
    """A misspelt filter must not silently return everything: name it in a 400."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ApplicationError(
            _("Unknown query parameter: %(names)s. Allowed: %(allowed)s.")
            % {"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
            extra={"unknown": unknown, "allowed": sorted(allowed)},
        )
