"""Clients for the API tests: each persona with a real token, and the anonymous caller."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from organisation.services import token_issue

PERSONAS = ["caseworker", "team_lead", "other_caseworker", "admin_user", "anonymous"]


@pytest.fixture(autouse=True)
def _fresh_throttle(db):
    """DRF keeps throttle counters in the cache, which outlives the test's transaction."""
    cache.clear()
    yield
    cache.clear()


def api_client() -> APIClient:
    """Messages are asserted in English; German is the default (see test_errors)."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def token_client(user) -> APIClient:
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return api_client()


@pytest.fixture
def caseworker_client(caseworker) -> APIClient:
    return token_client(caseworker)


@pytest.fixture
def as_persona(request):
    """`as_persona("team_lead")`: a client authenticated with that persona's token (or none)."""

    def make(name: str) -> APIClient:
        if name == "anonymous":
            return api_client()
        return token_client(request.getfixturevalue(name))

    return make
