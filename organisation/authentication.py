"""API tokens that expire: `Authorization: Token <key>`, valid for API_TOKEN_TTL_HOURS after issue."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expires_at(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_is_expired(token: Token) -> bool:
    return token_expires_at(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than API_TOKEN_TTL_HOURS.

    It comes first in DEFAULT_AUTHENTICATION_CLASSES so that a request without credentials gets
    401 with `WWW-Authenticate: Token` (DRF takes that header from the first class only; with
    session authentication first it would be a 403).
    """

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            raise exceptions.AuthenticationFailed(
                _("The token has expired. Request a new one at /api/v1/auth/token/.")
            )
        return user, token
