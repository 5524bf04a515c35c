"""Logging in to the API: username and password in, an expiring token out."""

from axes.helpers import get_client_ip_address, get_cool_off
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from jobcenter.api import THROTTLE_HEADERS, error_response
from jobcenter.exceptions import ApplicationError
from organisation.authentication import token_expires_at
from organisation.services import token_issue
from organisation.views import lockout_message


class LoginLockedOut(exceptions.APIException):
    """django-axes refused the attempt: too many failures for this username from this address."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, request: Request) -> None:
        # The same words as the HTML login page (organisation.views.lockout_response).
        super().__init__(lockout_message())
        cool_off = get_cool_off(request)
        # DRF's exception handler turns `wait` into the Retry-After header.
        self.wait = int(cool_off.total_seconds()) if cool_off else None


class AuthTokenCreateApi(APIView):
    """Exchange username and password for a token; send it as `Authorization: Token <key>`.

    The token stays valid for API_TOKEN_TTL_HOURS; asking again within that time returns the same
    token, asking after it has expired issues a new one. Failed attempts count towards the same
    lockout as the login page (django-axes: five failures per username and address).
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=128, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "AuthTokenCreate"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

        class Meta:
            ref_name = "AuthToken"

    @extend_schema(
        operation_id="auth_token_create",
        request=InputSerializer,
        parameters=THROTTLE_HEADERS,
        responses={
            200: OutputSerializer,
            400: error_response("Wrong username or password, or a field is missing."),
            429: error_response(
                "Too many attempts: throttled, or locked out after repeated failed logins."
            ),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The request goes along so that django-axes can count failures and refuse locked users.
        user = authenticate(request=request, **serializer.validated_data)
        if user is None:
            # Axes flags the request it was given (this DRF request, not the Django one, so its
            # middleware never sees the flag): answer the lockout here.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut(request)
            raise ApplicationError(_("Username and password do not match."))
        if settings.AXES_RESET_ON_SUCCESS:
            # As after a login on the page: the failures counted so far for this username and
            # address are forgotten (axes does that on user_logged_in, which no token login sends).
            axes_reset(ip=get_client_ip_address(request), username=user.get_username())
        token = token_issue(user=user)
        return Response(
            self.OutputSerializer({"token": token.key, "expires_at": token_expires_at(token)}).data
        )
