"""Reading calendars that fail: a total deadline for slow servers, and messages in words.

Servers on 127.0.0.1 misbehave on purpose: one trickles a byte at a time, one never answers, one
is a plain web page, one has an internal error; no one listens on a free port. The messages must
say what a caseworker can do about it, never quote Python exceptions or the bytes received.
"""

import datetime as dt
import socket
import threading
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import translation

from scheduling import services, urlguard
from scheduling.calendars import CalendarDataError
from scheduling.models import BusySource, BusyTime, StaffCalendar, SyncStatus
from scheduling.services import CalendarSyncError, calendar_sync
from scheduling.tasks import scheduling_calendar_sync
from scheduling.urlguard import FetchDeadlineExceededError, guarded_session
from tests.scheduling.conftest import NOW, consenting_calendar, free_port
from tests.scheduling.servers import *  # noqa: F403 - the server fixtures

pytestmark = pytest.mark.django_db

DEADLINE = 2
TECHNICAL = ("HTTPConnectionPool", "Max retries", "Error(", "Errno", "reason", "Traceback")


def raw_server(handler) -> tuple[int, socket.socket]:
    """A TCP server on a free port of 127.0.0.1 that hands each connection to `handler`."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(20)

    def accept() -> None:
        while True:
            try:
                connection, _address = server.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server


def _trickle(connection: socket.socket) -> None:
    try:
        connection.recv(65536)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n"
        )
        for _byte in range(600):
            connection.sendall(b"X")
            time.sleep(0.1)
    except OSError:
        pass
    finally:
        connection.close()


def _silent(connection: socket.socket) -> None:
    time.sleep(30)
    connection.close()


def _answer(status: bytes, content_type: bytes, body: bytes):
    def handler(connection: socket.socket) -> None:
        try:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: "
                + content_type
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
        finally:
            connection.close()

    return handler


@pytest.fixture(scope="module")
def trickle_port():
    port, server = raw_server(_trickle)
    yield port
    server.close()


@pytest.fixture(scope="module")
def silent_port():
    port, server = raw_server(_silent)
    yield port
    server.close()


@pytest.fixture(scope="module")
def web_page_port():
    port, server = raw_server(
        _answer(b"200 OK", b"text/html", b"<html><body>\x00\xff Willkommen</body></html>")
    )
    yield port
    server.close()


@pytest.fixture(scope="module")
def broken_server_port():
    port, server = raw_server(_answer(b"503 Service Unavailable", b"text/plain", b"down"))
    yield port
    server.close()


@pytest.fixture(autouse=True)
def _short_deadline(settings):
    settings.CALENDAR_FETCH_DEADLINE_SECONDS = DEADLINE
    settings.CALENDAR_ALLOWED_HOSTS = ["127.0.0.1", "kalender.invalid"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def sync_error(user) -> tuple[str, float]:
    """The sync's message (as on the page) and how long it took."""
    started = time.monotonic()
    with pytest.raises((CalendarSyncError, CalendarDataError)):
        calendar_sync(user_id=user.pk, now=NOW)
    calendar = StaffCalendar.objects.get(user=user)
    assert calendar.last_sync_status == SyncStatus.ERROR
    for technical in TECHNICAL:
        assert technical not in calendar.last_sync_message
    return calendar.last_sync_message, time.monotonic() - started


def caldav(user, url: str) -> StaffCalendar:
    return consenting_calendar(user, caldav_url=url, caldav_username="anna", caldav_password="x")


# --- the deadline ----------------------------------------------------------------------------------


def test_the_guarded_session_stops_a_body_that_trickles_at_the_deadline(trickle_port):
    session = guarded_session(deadline_seconds=1, max_bytes=1024 * 1024)
    started = time.monotonic()
    with pytest.raises(FetchDeadlineExceededError):
        session.get(f"http://127.0.0.1:{trickle_port}/a.ics", timeout=15)
    session.close()

    assert time.monotonic() - started < 3  # not the 60 s of trickling, nor the 15 s read timeout


def test_without_a_deadline_each_byte_in_time_keeps_the_fetch_going(trickle_port, monkeypatch):
    # What the deadline is for: per-operation timeouts alone never fire on a trickle.
    session = guarded_session(max_bytes=1024 * 1024)
    response = session.get(f"http://127.0.0.1:{trickle_port}/a.ics", timeout=0.5, stream=True)
    started = time.monotonic()
    received = b""
    for chunk in response.iter_content(chunk_size=1):
        received += chunk
        if time.monotonic() - started > 1.5:
            break
    session.close()

    assert len(received) >= 5


@pytest.mark.parametrize("port_fixture", ["trickle_port", "silent_port"])
def test_an_ics_feed_that_is_too_slow_is_stopped_at_the_deadline(caseworker, request, port_fixture):
    port = request.getfixturevalue(port_fixture)
    consenting_calendar(caseworker, ics_url=f"http://127.0.0.1:{port}/a.ics")

    message, seconds = sync_error(caseworker)

    assert seconds < DEADLINE + 2
    assert f"within {DEADLINE} seconds" in message


@pytest.mark.parametrize("port_fixture", ["trickle_port", "silent_port"])
def test_a_caldav_server_that_is_too_slow_is_stopped_at_the_deadline(
    caseworker, request, port_fixture
):
    caldav(caseworker, f"http://127.0.0.1:{request.getfixturevalue(port_fixture)}/dav/")

    message, seconds = sync_error(caseworker)

    assert seconds < DEADLINE + 2
    assert f"within {DEADLINE} seconds" in message


def test_a_slow_source_keeps_its_busy_times_and_the_other_source_is_still_read(
    caseworker, trickle_port, redirector
):
    from tests.scheduling.conftest import event_ics

    consenting_calendar(
        caseworker,
        caldav_url=f"http://127.0.0.1:{trickle_port}/dav/",
        caldav_username="anna",
        caldav_password="x",
        ics_url=redirector.body(
            event_ics(NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1, hours=1)).encode()
        ),
    )
    BusyTime.objects.create(
        user=caseworker,
        start=NOW + dt.timedelta(days=2),
        end=NOW + dt.timedelta(days=2, hours=1),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )

    with pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert error.value.extra["counts"] == {"ics": 1}
    assert BusyTime.objects.filter(user=caseworker, source=BusySource.CALDAV).count() == 1


def test_the_deadline_is_a_setting(settings):
    settings.CALENDAR_FETCH_DEADLINE_SECONDS = 7
    assert services.fetch_deadline_seconds() == 7


# --- messages in words -----------------------------------------------------------------------------


def test_a_connection_refused_is_said_in_words(caseworker):
    consenting_calendar(caseworker, ics_url=f"http://127.0.0.1:{free_port()}/a.ics")

    message, _seconds = sync_error(caseworker)

    assert "refused the connection" in message


def test_a_server_name_that_does_not_exist_is_named(caseworker):
    # On the allow-list, so the check when saving does not resolve it; the fetch cannot.
    caldav(caseworker, "https://kalender.invalid/dav/")

    message, _seconds = sync_error(caseworker)

    assert "The server name kalender.invalid was not found" in message


def test_a_failed_tls_handshake_is_said_in_words(caseworker, radicale_url):
    caldav(caseworker, radicale_url.replace("http://", "https://"))

    message, _seconds = sync_error(caseworker)

    assert "secure connection (TLS)" in message


def test_a_wrong_caldav_path_is_a_404_in_words(caseworker, radicale_url):
    caldav(caseworker, radicale_url + "gibt/es/nicht/")

    message, _seconds = sync_error(caseworker)

    assert "Nothing was found at this address (HTTP 404)" in message
    assert "NotFoundError" not in message


def test_a_web_page_is_not_a_caldav_server(caseworker, web_page_port):
    caldav(caseworker, f"http://127.0.0.1:{web_page_port}/")

    message, _seconds = sync_error(caseworker)

    assert "does not lead to a CalDAV server" in message
    assert "Willkommen" not in message
    assert "html" not in message.lower()


def test_a_web_page_as_ics_feed_is_not_icalendar_and_its_bytes_are_not_echoed(
    caseworker, web_page_port
):
    consenting_calendar(caseworker, ics_url=f"http://127.0.0.1:{web_page_port}/a.ics")

    message, _seconds = sync_error(caseworker)

    assert "not iCalendar data" in message
    assert "Willkommen" not in message


@pytest.mark.parametrize("source", ["caldav", "ics"])
def test_a_server_error_is_said_with_its_status(caseworker, broken_server_port, source):
    url = f"http://127.0.0.1:{broken_server_port}/x"
    if source == "caldav":
        caldav(caseworker, url)
    else:
        consenting_calendar(caseworker, ics_url=url)

    message, _seconds = sync_error(caseworker)

    assert "error of its own (HTTP 503)" in message


def test_a_missing_feed_is_a_404_in_words(caseworker, redirector):
    consenting_calendar(caseworker, ics_url=redirector.base_url + "nicht-da.ics")

    message, _seconds = sync_error(caseworker)

    assert "HTTP 404" in message


def test_the_technical_detail_goes_to_the_log_only(caseworker, caplog):
    consenting_calendar(caseworker, ics_url=f"http://127.0.0.1:{free_port()}/a.ics")

    with caplog.at_level("INFO", logger="scheduling.services"):
        message, _seconds = sync_error(caseworker)

    assert "ConnectionRefused" not in message
    assert "Connection refused" in caplog.text or "ConnectionRefused" in caplog.text


# --- the task's own time limit ---------------------------------------------------------------------


def test_the_task_records_an_error_when_it_reaches_its_time_limit(caseworker, monkeypatch):
    consenting_calendar(caseworker, ics_url="http://127.0.0.1:1/a.ics")

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr("scheduling.tasks.calendar_sync", too_long)

    assert scheduling_calendar_sync.run(caseworker.pk) == "error"
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.ERROR
    assert "took too long" in calendar.last_sync_message
    assert calendar.last_sync_at is not None


def test_the_task_records_an_unexpected_error_and_logs_it(caseworker, monkeypatch, caplog):
    consenting_calendar(caseworker, ics_url="http://127.0.0.1:1/a.ics")

    def broken(**kwargs):
        raise KeyError("bug")

    monkeypatch.setattr("scheduling.tasks.calendar_sync", broken)

    assert scheduling_calendar_sync.run(caseworker.pk) == "error"
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert (calendar.last_sync_status, "unexpected error" in calendar.last_sync_message) == (
        SyncStatus.ERROR,
        True,
    )
    assert "KeyError" in caplog.text


def test_the_deadline_timer_is_stopped_when_the_session_closes():
    session = guarded_session(deadline_seconds=30)
    adapter = session.get_adapter("https://")
    session.close()

    assert not adapter.deadline._timer.is_alive()
    assert isinstance(adapter, urlguard.GuardedAdapter)
