"""SMS: phone numbers in E.164, the log backend, and the HTTP gateway backend against a real local
HTTP server (http.server in a thread on 127.0.0.1)."""

import contextlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from scheduling.sms import (
    HttpSmsBackend,
    InvalidPhoneNumberError,
    LogSmsBackend,
    SmsDeliveryError,
    SmsGatewayMissingError,
    phone_normalise,
    sms_backend_get,
    sms_enabled,
    sms_send,
)
from tests.test_settings import production_env, run_manage


class GatewayHandler(BaseHTTPRequestHandler):
    """Records each request; answers with the server's `status` (and sleeps `delay` seconds)."""

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        if self.server.delay:
            threading.Event().wait(self.server.delay)
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "gateway broken"}' if self.server.status >= 400 else b"{}")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def gateway_serve():
    """A local SMS gateway: `.url`, `.requests` (what came in), `.status` and `.delay` to set."""
    server = HTTPServer(("127.0.0.1", 0), GatewayHandler)
    server.requests = []
    server.status = 202
    server.delay = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def gateway():
    with gateway_serve() as server:
        yield server


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0170 1234567", "+491701234567"),
        ("030/123 456-78", "+493012345678"),
        ("+49 (0)30 1234567", "+49301234567"),
        ("0049 170 1234567", "+491701234567"),
        ("+90 532 123 45 67", "+905321234567"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert phone_normalise(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "abc", "0170 1", "110", "+49 170 1234567890123456", "+0170123456"]
)
def test_obviously_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidPhoneNumberError):
        phone_normalise(raw)


def test_the_log_backend_is_the_default_logs_a_masked_number_and_reports_no_delivery(
    caplog, settings
):
    settings.DEMO_MODE = False
    assert isinstance(sms_backend_get(), LogSmsBackend)
    with (
        caplog.at_level(logging.INFO, logger="scheduling.sms"),
        pytest.raises(SmsGatewayMissingError, match="no SMS gateway"),
    ):
        sms_send(to="0170 1234567", text="Hallo")
    record = caplog.records[-1]
    assert record.levelno == logging.WARNING  # outside the demo: no gateway is worth a warning
    assert "Hallo" in record.getMessage()
    assert "+491701234567" not in record.getMessage()


def test_http_backend_posts_json_with_the_bearer_token(gateway, settings):
    settings.SMS_BACKEND = "scheduling.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = "geheim"  # noqa: S105 - a test value
    settings.SMS_SENDER = "JC Nord"

    sms_send(to="0170 1234567", text="Erinnerung")

    assert gateway.requests == [
        {
            "path": "/v1/sms",
            "authorization": "Bearer geheim",
            "content_type": "application/json",
            "body": {"to": "+491701234567", "text": "Erinnerung", "sender": "JC Nord"},
        }
    ]


def test_http_backend_turns_a_500_into_a_delivery_error_with_the_status(gateway):
    gateway.status = 500
    backend = HttpSmsBackend(url=gateway.url, token="t", sender="JC", timeout=5)
    with pytest.raises(SmsDeliveryError) as caught:
        backend.send(to="+491701234567", text="x")
    assert caught.value.status == 500
    assert "HTTP 500" in str(caught.value)


def test_http_backend_turns_a_timeout_into_a_delivery_error(gateway):
    gateway.delay = 2
    backend = HttpSmsBackend(url=gateway.url, token="t", sender="JC", timeout=0.3)
    with pytest.raises(SmsDeliveryError) as caught:
        backend.send(to="+491701234567", text="x")
    assert caught.value.status is None
    assert "not reachable" in str(caught.value)


def test_http_backend_without_an_address_is_refused(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(SmsDeliveryError):
        HttpSmsBackend()


def _sms_lines(result) -> list[str]:
    output = f"{result.stdout}\n{result.stderr}"
    return [line for line in output.splitlines() if "sms" in line.lower()]


def test_sms_switched_off_sends_nothing_and_says_so(settings, gateway):
    settings.SMS_BACKEND = "off"
    settings.SMS_GATEWAY_URL = gateway.url
    assert not sms_enabled()
    with pytest.raises(SmsGatewayMissingError, match="switched off"):
        sms_send(to="0170 1234567", text="Hallo")
    assert gateway.requests == []


def test_production_requires_an_explicit_sms_choice_and_off_passes_the_deploy_check():
    # SMS reminders are switched off explicitly (DJANGO_SMS_BACKEND=off in production_env): the
    # whole deploy check stays clean (tests/test_settings.py asserts it at WARNING).
    result = run_manage("check", "--deploy", env=production_env())
    assert result.returncode == 0, result.stderr
    assert _sms_lines(result) == []

    env = production_env()
    env.pop("DJANGO_SMS_BACKEND")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SMS_BACKEND must say how SMS reminders go out" in result.stderr


def test_production_refuses_the_http_backend_without_its_address():
    env = production_env(DJANGO_SMS_BACKEND="scheduling.sms.HttpSmsBackend")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SMS_GATEWAY_URL" in result.stderr

    env = production_env(
        DJANGO_SMS_BACKEND="scheduling.sms.HttpSmsBackend",
        DJANGO_SMS_GATEWAY_URL="https://sms.example.de/v1/sms",
    )
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode == 0, result.stderr
    assert _sms_lines(result) == []
