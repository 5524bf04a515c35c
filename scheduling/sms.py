"""Sending SMS through a pluggable backend (setting SMS_BACKEND, env DJANGO_SMS_BACKEND).

- `LogSmsBackend` (the default outside production): writes the message to the log instead of
  sending it and reports that it did not deliver (SmsGatewayMissingError), so a reminder is
  recorded as "not sent: no SMS gateway", never as sent. Right for the demo, development and tests.
  Production requires DJANGO_SMS_BACKEND to be set: a gateway, or "off" (`sms_enabled()` is then
  false and no SMS reminder is made at all).
- `HttpSmsBackend`: POSTs JSON {"to", "text", "sender"} to SMS_GATEWAY_URL with the bearer token
  SMS_GATEWAY_TOKEN; any answer other than 2xx, a timeout or a refused connection raises
  SmsDeliveryError (with the HTTP status where there was one).

A gateway of another shape is a subclass of SmsBackend named in DJANGO_SMS_BACKEND.
"""

import logging
import re

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

MAX_SMS_LENGTH = 459  # three concatenated GSM-7 parts; the gateway splits, we never send more


class SmsDeliveryError(Exception):
    """The SMS could not be handed to the gateway. `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidPhoneNumberError(SmsDeliveryError):
    """The number cannot be an SMS recipient (letters, too short, too long)."""


class SmsGatewayMissingError(SmsDeliveryError):
    """No gateway is configured: the SMS was written to the log and reached nobody."""


def sms_enabled() -> bool:
    """Whether SMS go out at all (DJANGO_SMS_BACKEND is not "off")."""
    return settings.SMS_BACKEND.strip().lower() != "off"


_SEPARATORS = re.compile(r"[\s\-/().]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def phone_normalise(raw: str) -> str:
    """A phone number in E.164 (+4917012345678). German numbers may be written nationally
    (0170 1234567, 030/123456) or with 0049; other countries need their +prefix.

    Raises InvalidPhoneNumberError for anything that is obviously not a phone number.
    """
    number = _SEPARATORS.sub("", raw or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = "+49" + number[1:]
    if number.startswith("+490"):  # +49 (0)30 ... written with the trunk zero
        number = "+49" + number[4:]
    if not _E164.match(number):
        raise InvalidPhoneNumberError(
            _("“%(number)s” is not a valid phone number for SMS.") % {"number": raw}
        )
    return number


def _masked(number: str) -> str:
    """Enough to recognise the number in a log, not enough to read it out."""
    return f"{number[:5]}…{number[-2:]}" if len(number) > 7 else "…"


class SmsBackend:
    """Hands one SMS to a gateway. Raises SmsDeliveryError when it cannot."""

    def send(self, *, to: str, text: str) -> None:
        raise NotImplementedError


class LogSmsBackend(SmsBackend):
    """No gateway: the SMS goes to the log (INFO in the demo, WARNING elsewhere) and the caller
    learns that it was not delivered."""

    def send(self, *, to: str, text: str) -> None:
        level = logging.INFO if getattr(settings, "DEMO_MODE", False) else logging.WARNING
        logger.log(
            level,
            "SMS to %s not sent: no SMS gateway configured (DJANGO_SMS_BACKEND). Text: %s",
            _masked(to),
            text,
        )
        raise SmsGatewayMissingError("no SMS gateway configured (DJANGO_SMS_BACKEND)")


class HttpSmsBackend(SmsBackend):
    """A JSON-over-HTTPS gateway: POST {"to", "text", "sender"} with `Authorization: Bearer`."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = url if url is not None else settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.timeout = timeout if timeout is not None else settings.SMS_GATEWAY_TIMEOUT
        if not self.url:
            raise SmsDeliveryError("SMS_GATEWAY_URL (env DJANGO_SMS_GATEWAY_URL) is not set.")

    def send(self, *, to: str, text: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = requests.post(
                self.url,
                json={"to": to, "text": text, "sender": self.sender},
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise SmsDeliveryError(f"SMS gateway not reachable: {type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            raise SmsDeliveryError(
                f"SMS gateway answered HTTP {response.status_code}: {response.text[:200]}",
                status=response.status_code,
            )


def sms_backend_get() -> SmsBackend:
    if not sms_enabled():
        raise SmsGatewayMissingError("SMS are switched off (DJANGO_SMS_BACKEND=off)")
    return import_string(settings.SMS_BACKEND)()


def sms_send(*, to: str, text: str) -> str:
    """Normalise the number and hand the SMS to the configured backend; returns the number used.
    Raises SmsDeliveryError (InvalidPhoneNumberError for a number that cannot be one,
    SmsGatewayMissingError when no gateway took it)."""
    number = phone_normalise(to)
    sms_backend_get().send(to=number, text=text[:MAX_SMS_LENGTH])
    return number
