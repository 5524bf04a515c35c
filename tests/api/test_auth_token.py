"""POST /api/v1/auth/token/: tokens, their expiry, wrong credentials, throttling and lockout."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle

from tests.api.conftest import PERSONAS, api_client
from tests.conftest import PASSWORD

TOKEN_URL = reverse("api:auth-token")
CASES_URL = reverse("api:case-list")
LOCKOUT_MESSAGE = "Too many failed login attempts. Please wait 15 minutes and try again."
START = datetime.datetime(2030, 3, 10, 8, 0, tzinfo=datetime.UTC)


def post_token(username: str, password: str, *, ip: str = "10.0.0.1"):
    return api_client().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def get_cases(key: str):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(CASES_URL)


def test_token_is_issued_and_works(caseworker, case):
    with time_machine.travel(START, tick=False):
        response = post_token("cw", PASSWORD)

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"token", "expires_at"}
        token = Token.objects.get(user=caseworker)
        assert body["token"] == token.key
        assert datetime.datetime.fromisoformat(body["expires_at"]) == START + datetime.timedelta(
            hours=8
        )
        assert get_cases(body["token"]).status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_logs_in_with_its_own_password_only(request, persona):
    if persona == "anonymous":
        response = api_client().post(TOKEN_URL, {}, format="json")
        assert response.status_code == 400
        return
    user = request.getfixturevalue(persona)

    assert post_token(user.username, PASSWORD).status_code == 200
    assert post_token(user.username, "cw-password").status_code == 400
    assert Token.objects.get().user == user


def test_asking_again_returns_the_same_token(caseworker):
    first = post_token("cw", PASSWORD).json()
    second = post_token("cw", PASSWORD).json()
    assert first == second
    assert Token.objects.filter(user=caseworker).count() == 1


def test_expired_token_is_401_and_a_new_one_is_issued(caseworker, case, settings):
    settings.API_TOKEN_TTL_HOURS = 2
    with time_machine.travel(START, tick=False) as clock:
        old = post_token("cw", PASSWORD).json()["token"]

        clock.shift(datetime.timedelta(hours=1, minutes=59))
        assert get_cases(old).status_code == 200

        clock.shift(datetime.timedelta(minutes=1))
        expired = get_cases(old)
        assert expired.status_code == 401
        assert expired["WWW-Authenticate"] == "Token"
        assert "expired" in expired.json()["message"]

        fresh = post_token("cw", PASSWORD).json()
        assert fresh["token"] != old
        assert datetime.datetime.fromisoformat(fresh["expires_at"]) == timezone.now() + (
            datetime.timedelta(hours=2)
        )
        assert get_cases(fresh["token"]).status_code == 200
        assert get_cases(old).status_code == 401
        assert list(Token.objects.values_list("key", flat=True)) == [fresh["token"]]


def test_unknown_token_is_401(case):
    response = get_cases("0" * 40)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid token.", "extra": {}}


@pytest.mark.parametrize(
    ("username", "password"), [("cw", "wrong-password"), ("nobody", PASSWORD), ("CW", PASSWORD)]
)
def test_wrong_credentials_are_400_and_change_nothing(caseworker, username, password):
    response = post_token(username, password)

    assert response.status_code == 400
    assert response.json() == {"message": "Username and password do not match.", "extra": {}}
    assert not Token.objects.exists()
    caseworker.refresh_from_db()
    assert caseworker.last_login is None


def test_inactive_user_gets_no_token(caseworker):
    caseworker.is_active = False
    caseworker.save()
    assert post_token("cw", PASSWORD).status_code == 400
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"username": "cw"}, "password"), ({"password": PASSWORD}, "username"), ({}, "username")],
)
def test_missing_field_is_400(caseworker, payload, field):
    response = api_client().post(TOKEN_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_malformed_json_is_400():
    response = api_client().post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}


def test_admin_gets_a_token_but_reads_no_cases(admin_user, case):
    key = post_token("admin", PASSWORD).json()["token"]
    assert get_cases(key).status_code == 403


# --- lockout (django-axes) and throttling --------------------------------------------------------


def test_fifth_failure_locks_the_username_from_that_address(caseworker):
    statuses = [post_token("cw", "wrong").status_code for _ in range(5)]

    assert statuses == [400, 400, 400, 400, 429]
    locked = post_token("cw", PASSWORD)
    assert locked.status_code == 429
    assert locked.json() == {"message": LOCKOUT_MESSAGE, "extra": {"wait_seconds": 900}}
    assert locked["Retry-After"] == "900"
    assert locked["Content-Type"] == "application/json"
    assert not Token.objects.exists()


def test_lockout_is_per_username_and_address(caseworker, team_lead):
    for _ in range(5):
        post_token("cw", "wrong", ip="10.0.0.1")

    assert post_token("cw", PASSWORD, ip="10.0.0.1").status_code == 429
    assert post_token("cw", PASSWORD, ip="10.0.0.2").status_code == 200
    assert post_token("lead", PASSWORD, ip="10.0.0.1").status_code == 200


def test_lockout_ends_after_the_cool_off(caseworker):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            post_token("cw", "wrong")
        assert post_token("cw", PASSWORD).status_code == 429

        clock.shift(datetime.timedelta(minutes=16))
        assert post_token("cw", PASSWORD).status_code == 200


def test_success_forgets_earlier_failures(caseworker):
    for _ in range(4):
        post_token("cw", "wrong")
    assert post_token("cw", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username="cw").exists()

    assert [post_token("cw", "wrong").status_code for _ in range(4)] == [400] * 4
    assert post_token("cw", PASSWORD).status_code == 200


def test_token_endpoint_is_throttled(caseworker, monkeypatch):
    # The rates are read into the class when DRF loads; the configured one is checked below.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth_token": "3/min"})

    statuses = [post_token(f"user{n}", "wrong").status_code for n in range(3)]
    throttled = post_token("cw", PASSWORD)

    assert statuses == [400, 400, 400]
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["message"].startswith("Request was throttled.")
    assert 0 < body["extra"]["wait_seconds"] <= 60
    assert throttled["Retry-After"] == str(body["extra"]["wait_seconds"])
    assert not Token.objects.exists()


def test_token_throttle_rate_is_configured(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"] == "20/min"
    assert ScopedRateThrottle.THROTTLE_RATES["auth_token"] == "20/min"
