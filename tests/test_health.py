"""/healthz: database and broker reachability, for probes that are neither logged in nor on TLS."""

import socket

import pytest
from django.db import OperationalError, connections

from tests.test_settings import production_env, run_python

CLOSED_PORT_REDIS_URL = "redis://127.0.0.1:1/0"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db
def test_healthy_without_login(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "vendor": connections["default"].vendor},
        "broker": {"ok": True, "mode": "in-process"},
    }


@pytest.mark.django_db
def test_healthy_with_redis(client, settings):
    if not redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI has it)")
    settings.REDIS_URL = "redis://127.0.0.1:6379/14"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "mode": "redis"}


@pytest.mark.django_db
def test_unreachable_database_is_503_naming_the_database(client, settings, monkeypatch):
    settings.REDIS_URL = ""

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "10.1.2.3" failed: password for "jc"')

    monkeypatch.setattr(connections["default"], "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["database"] == {
        "ok": False,
        "vendor": connections["default"].vendor,
        "error": "OperationalError",
    }
    assert body["broker"]["ok"] is True
    # Hosts and users go to the log, not to an unauthenticated caller.
    assert "10.1.2.3" not in response.content.decode()


@pytest.mark.django_db
def test_unreachable_broker_is_503_naming_the_broker(client, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS_URL

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": False, "mode": "redis", "error": "ConnectionError"}


@pytest.mark.django_db
def test_head_is_answered_and_post_is_not(client, settings):
    settings.REDIS_URL = ""

    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_production_does_not_redirect_healthz_to_https():
    """SECURE_SSL_REDIRECT sends everything to https except the probe (Django matches 'healthz')."""
    env = production_env(
        DJANGO_ALLOWED_HOSTS="testserver",
        # Nothing listens on port 1: the probe answers 503 fast, the point is that it answers.
        DATABASE_URL="postgres://postgres@127.0.0.1:1/postgres",
        REDIS_URL=CLOSED_PORT_REDIS_URL,
        LOG_LEVEL="CRITICAL",  # stdout is for the answers below, not for the failure's log line
    )

    result = run_python(
        "from django.test import Client\n"
        "client = Client()\n"
        "print(client.get('/healthz').status_code)\n"
        "login = client.get('/accounts/login/')\n"
        "print(login.status_code, login['Location'])\n",
        env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["503", "301 https://testserver/accounts/login/"]
