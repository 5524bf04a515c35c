"""Logging in on the page and for the API: repeated failures lock out (django-axes), tokens expire."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from organisation.authentication import (
    ExpiringTokenAuthentication,
    token_expires_at,
    token_is_expired,
)
from organisation.services import token_issue
from tests.conftest import PASSWORD

LOGIN_URL = reverse("login")
TOKEN_URL = reverse("api:auth-token")
LOCKOUT_MESSAGE = "Too many failed login attempts. Please wait 15 minutes and try again."
START = datetime.datetime(2030, 3, 10, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def browser() -> Client:
    """Messages are asserted in English: the pages follow the language cookie, not the browser."""
    client = Client(REMOTE_ADDR="10.0.0.1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page_login(client: Client, password: str, username: str = "cw"):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def api_login(password: str, username: str = "cw", ip: str = "10.0.0.1"):
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def test_axes_is_wired_in():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][0] == (
        "organisation.authentication.ExpiringTokenAuthentication"
    )


def test_page_login_works(browser, caseworker):
    response = page_login(browser, PASSWORD)
    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(caseworker.pk)


def test_wrong_password_on_the_page_shows_the_form_again(browser, caseworker):
    response = page_login(browser, "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'name="password"' in response.content.decode()
    assert SESSION_KEY not in browser.session


def test_page_locks_out_after_five_failures(browser, caseworker):
    statuses = [page_login(browser, "wrong").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]

    locked = page_login(browser, PASSWORD)

    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/html")
    assert LOCKOUT_MESSAGE in locked.content.decode()
    assert SESSION_KEY not in browser.session


def test_page_lockout_is_per_username_and_address(caseworker, team_lead):
    for _ in range(5):
        page_login(Client(REMOTE_ADDR="10.0.0.1"), "wrong")

    assert page_login(Client(REMOTE_ADDR="10.0.0.1"), PASSWORD).status_code == 429
    assert page_login(Client(REMOTE_ADDR="10.0.0.2"), PASSWORD).status_code == 302
    assert page_login(Client(REMOTE_ADDR="10.0.0.1"), PASSWORD, "lead").status_code == 302


def test_page_lockout_ends_after_the_cool_off(browser, caseworker):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            page_login(browser, "wrong")
        clock.shift(datetime.timedelta(minutes=16))
        assert page_login(browser, PASSWORD).status_code == 302


def test_failures_on_the_page_lock_the_api_too(browser, caseworker):
    for _ in range(5):
        page_login(browser, "wrong")

    response = api_login(PASSWORD)

    assert response.status_code == 429
    assert response.json() == {"message": LOCKOUT_MESSAGE, "extra": {"wait_seconds": 900}}
    assert not Token.objects.exists()


def test_failures_on_the_api_lock_the_page_too(browser, caseworker):
    for _ in range(5):
        api_login("wrong")

    response = page_login(browser, PASSWORD)

    assert response.status_code == 429
    assert LOCKOUT_MESSAGE in response.content.decode()
    assert SESSION_KEY not in browser.session


def test_mixed_failures_add_up(browser, caseworker):
    for _ in range(2):
        page_login(browser, "wrong")
    for _ in range(2):
        api_login("wrong")
    assert page_login(browser, "wrong").status_code == 429
    assert api_login(PASSWORD).status_code == 429


# --- tokens --------------------------------------------------------------------------------------


def test_token_issue_reuses_a_valid_token_and_replaces_an_expired_one(caseworker, settings):
    settings.API_TOKEN_TTL_HOURS = 8
    with time_machine.travel(START, tick=False) as clock:
        first = token_issue(user=caseworker)
        assert token_expires_at(first) == START + datetime.timedelta(hours=8)
        assert token_issue(user=caseworker).key == first.key

        clock.shift(datetime.timedelta(hours=8))
        assert token_is_expired(first)
        second = token_issue(user=caseworker)

    assert second.key != first.key
    assert list(Token.objects.filter(user=caseworker)) == [second]


def test_expired_token_is_refused_by_the_authentication_class(caseworker, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    with time_machine.travel(START, tick=False) as clock:
        token = token_issue(user=caseworker)
        user, _ = ExpiringTokenAuthentication().authenticate_credentials(token.key)
        assert user == caseworker

        clock.shift(datetime.timedelta(hours=1))
        with translation.override("en"), pytest.raises(AuthenticationFailed, match="expired"):
            ExpiringTokenAuthentication().authenticate_credentials(token.key)


def test_first_authentication_class_makes_anonymous_a_401():
    assert ExpiringTokenAuthentication().authenticate_header(None) == "Token"
