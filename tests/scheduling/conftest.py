"""Fixtures of the scheduling tests: a real Radicale CalDAV server on 127.0.0.1, started once."""

import datetime as dt
import socket
import subprocess
import sys
import time
import uuid

import icalendar
import pytest
from caldav import DAVClient

from scheduling.models import StaffCalendar

NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # a Monday morning


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_radicale(tmp_path, *auth_args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = (tmp_path / "radicale.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and the radicale module
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(tmp_path / "collections"),
            *auth_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((tmp_path / "radicale.log").read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        raise RuntimeError("Radicale did not start in time.")
    return process, f"http://127.0.0.1:{port}/"


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def radicale_url(tmp_path_factory):
    """A Radicale server without authentication: any user name is its own principal."""
    process, url = _start_radicale(tmp_path_factory.mktemp("radicale"), "--auth-type", "none")
    yield url
    _stop(process)


@pytest.fixture(scope="session")
def radicale_htpasswd_url(tmp_path_factory):
    """A Radicale server that checks passwords: user "anna" with password "richtig"."""
    folder = tmp_path_factory.mktemp("radicale_auth")
    htpasswd = folder / "users"
    htpasswd.write_text("anna:richtig\n")
    process, url = _start_radicale(
        folder,
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(htpasswd),
        "--auth-htpasswd-encryption",
        "plain",
    )
    yield url
    _stop(process)


def event_ics(
    start: dt.datetime, end: dt.datetime, *, summary: str = "Besprechung", **extra
) -> str:
    """One VEVENT as iCalendar text (built here: the caldav client's own builder predates
    icalendar 7)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", str(uuid.uuid4()))
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    for key, value in extra.items():
        event.add(key, value)
    calendar.add_component(event)
    return calendar.to_ical().decode()


class RemoteCalendar:
    """A calendar on the Radicale server, filled through the caldav client as a staff member would."""

    def __init__(self, base_url: str, username: str, password: str = "x") -> None:  # noqa: S107 - a test server
        self.base_url = base_url
        self.username = username
        self.password = password
        client = DAVClient(url=base_url, username=username, password=password, timeout=10)
        self.calendar = client.principal().make_calendar(name="Arbeit", cal_id="arbeit")
        self.url = f"{base_url}{username}/arbeit/"

    def add(self, start: dt.datetime, end: dt.datetime, summary: str = "Besprechung", **extra):
        return self.calendar.save_event(event_ics(start, end, summary=summary, **extra))

    def add_ics(self, ics: str):
        return self.calendar.save_event(ics)


@pytest.fixture
def remote_calendar(radicale_url):
    """A fresh calendar of a fresh principal, so tests do not see each other's events."""
    return RemoteCalendar(radicale_url, f"staff-{uuid.uuid4().hex[:10]}")


def consenting_calendar(user, **fields) -> StaffCalendar:
    calendar, _created = StaffCalendar.objects.get_or_create(user=user)
    calendar.consent_given_at = NOW - dt.timedelta(days=1)
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.save()
    return calendar
