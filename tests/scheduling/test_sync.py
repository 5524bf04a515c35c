"""Syncing busy times from a real CalDAV server (Radicale on 127.0.0.1) and ICS feeds."""

import datetime as dt
import uuid

import pytest
import time_machine
from caldav import DAVClient
from caldav.lib import error as caldav_error
from django.test import override_settings
from django.utils import translation

from scheduling.calendars import BusyInterval
from scheduling.models import BusySource, BusyTime, StaffCalendar, SyncStatus
from scheduling.services import (
    CaldavMethod,
    CalendarConsentError,
    CalendarSyncError,
    calendar_sync,
    calendars_sync_all,
)
from scheduling.tasks import scheduling_calendar_sync, scheduling_calendars_sync
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import (
    NOW,
    RemoteCalendar,
    consenting_calendar,
    event_ics,
    free_port,
)
from tests.scheduling.servers import *  # noqa: F403 - the server fixtures

pytestmark = pytest.mark.django_db

TUESDAY_9 = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)


def busy(user, source=None):
    rows = BusyTime.objects.filter(user=user)
    if source:
        rows = rows.filter(source=source)
    return sorted((row.start, row.end) for row in rows)


def test_busy_times_are_read_from_caldav_with_recurrences_and_without_titles(
    caseworker, remote_calendar
):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), summary="Arzttermin")
    remote_calendar.add_ics(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:jour-fixe\r\n"
        "DTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261125T140000\r\n"
        "DTEND;TZID=Europe/Berlin:20261125T150000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "SUMMARY:Jour fixe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    remote_calendar.add(
        TUESDAY_9 + dt.timedelta(hours=3),
        TUESDAY_9 + dt.timedelta(hours=4),
        summary="frei",
        transp="TRANSPARENT",
    )
    consenting_calendar(
        caseworker,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
        caldav_password="x",
    )

    result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.counts == {"caldav": 4}
    rows = busy(caseworker, BusySource.CALDAV)
    assert rows[0] == (TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    assert rows[1][0] == dt.datetime(2026, 11, 25, 13, tzinfo=dt.UTC)  # 14:00 in Berlin
    assert len(rows) == 4
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.OK
    assert calendar.last_sync_at == NOW
    stored = BusyTime.objects.filter(user=caseworker).values()[0]
    assert "Arzttermin" not in str(stored)


def test_a_second_sync_replaces_the_busy_times_of_that_source(caseworker, remote_calendar):
    event = remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    consenting_calendar(
        caseworker, caldav_url=remote_calendar.base_url, caldav_username=remote_calendar.username
    )
    BusyTime.objects.create(
        user=caseworker,
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        source=BusySource.UPLOAD,
        synced_at=NOW,
    )
    calendar_sync(user_id=caseworker.pk, now=NOW)

    event.delete()
    remote_calendar.add(TUESDAY_9 + dt.timedelta(days=1), TUESDAY_9 + dt.timedelta(days=1, hours=2))
    calendar_sync(user_id=caseworker.pk, now=NOW)

    assert busy(caseworker, BusySource.CALDAV) == [
        (TUESDAY_9 + dt.timedelta(days=1), TUESDAY_9 + dt.timedelta(days=1, hours=2))
    ]
    assert len(busy(caseworker, BusySource.UPLOAD)) == 1  # other sources untouched


def test_an_ics_feed_address_is_read_too(caseworker, remote_calendar):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(minutes=45))
    # Radicale answers a GET on a calendar collection with the whole calendar as one ICS file.
    consenting_calendar(caseworker, ics_url=remote_calendar.url)

    result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.counts == {"ics": 1}
    assert busy(caseworker, BusySource.ICS) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(minutes=45))]


def _with_previous_busy_time(user):
    BusyTime.objects.create(
        user=user,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=2),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )


def test_a_server_that_is_down_keeps_the_previous_busy_times_and_records_the_error(caseworker):
    consenting_calendar(
        caseworker, caldav_url=f"http://127.0.0.1:{free_port()}/", caldav_username="anna"
    )
    _with_previous_busy_time(caseworker)

    with pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "CalDAV" in error.value.message
    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.ERROR
    assert calendar.last_sync_message


def test_wrong_credentials_are_reported_and_the_previous_busy_times_kept(
    caseworker, radicale_htpasswd_url
):
    consenting_calendar(
        caseworker,
        caldav_url=radicale_htpasswd_url,
        caldav_username="anna",
        caldav_password="falsch",
    )
    _with_previous_busy_time(caseworker)

    with pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.ERROR
    assert error.value.extra["errors"]["caldav"] == calendar.last_sync_message.removeprefix(
        "CalDAV: "
    )
    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]


def test_the_right_credentials_work_on_the_same_server(caseworker, radicale_htpasswd_url):
    client = DAVClient(url=radicale_htpasswd_url, username="anna", password="richtig", timeout=10)
    remote = client.principal().make_calendar(
        name="Dienst", cal_id=f"dienst-{uuid.uuid4().hex[:6]}"
    )
    remote.save_event(event_ics(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), summary="x"))
    consenting_calendar(
        caseworker,
        caldav_url=radicale_htpasswd_url,
        caldav_username="anna",
        caldav_password="richtig",
    )

    result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.counts["caldav"] >= 1


def test_malformed_feed_data_keeps_the_previous_busy_times(caseworker, remote_calendar):
    consenting_calendar(
        caseworker, ics_url=remote_calendar.base_url
    )  # the server root is no calendar
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=2),
        source=BusySource.ICS,
        synced_at=NOW,
    )

    with pytest.raises(CalendarSyncError):
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert len(busy(caseworker, BusySource.ICS)) == 1
    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == SyncStatus.ERROR


def test_a_huge_feed_is_refused_and_the_previous_busy_times_kept(
    caseworker, remote_calendar, monkeypatch
):
    monkeypatch.setattr("scheduling.calendars.MAX_ICS_BYTES", 200)
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), summary="x" * 300)
    consenting_calendar(
        caseworker,
        ics_url=remote_calendar.url,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
    )
    _with_previous_busy_time(caseworker)

    with translation.override("en"), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert set(error.value.extra["errors"]) == {"caldav", "ics"}
    assert "too big" in error.value.extra["errors"]["ics"]
    assert "too big" in error.value.extra["errors"]["caldav"]
    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]


def test_without_consent_nothing_is_synced(caseworker, remote_calendar):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    StaffCalendar.objects.create(
        user=caseworker,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
    )

    with pytest.raises(CalendarConsentError):
        calendar_sync(user_id=caseworker.pk, now=NOW)
    assert busy(caseworker) == []


def test_syncing_everyone_who_agreed_one_failure_stops_no_one(team, remote_calendar):
    down, ok, not_agreed = (UserFactory(team=team) for _ in range(3))
    consenting_calendar(down, caldav_url=f"http://127.0.0.1:{free_port()}/", caldav_username="x")
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    consenting_calendar(
        ok, caldav_url=remote_calendar.base_url, caldav_username=remote_calendar.username
    )
    StaffCalendar.objects.create(
        user=not_agreed,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
    )

    assert calendars_sync_all(now=NOW) == {"ok": 1, "error": 1}
    assert len(busy(ok)) == 1
    assert busy(not_agreed) == []
    assert StaffCalendar.objects.get(user=not_agreed).last_sync_status == SyncStatus.NEVER


def test_the_periodic_task_sends_one_sync_per_consenting_staff_member(team, remote_calendar):
    down, ok, not_agreed = (UserFactory(team=team) for _ in range(3))
    consenting_calendar(down, caldav_url=f"http://127.0.0.1:{free_port()}/", caldav_username="x")
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    consenting_calendar(
        ok, caldav_url=remote_calendar.base_url, caldav_username=remote_calendar.username
    )
    StaffCalendar.objects.create(user=not_agreed, ics_url=remote_calendar.url)

    # Eager in tests: the per-user tasks run inline; on a worker they run side by side. The task
    # reads from "now" on: the clock is set so that the event lies ahead.
    with time_machine.travel(NOW):
        assert scheduling_calendars_sync.delay().get() == 2

    assert len(busy(ok)) == 1
    assert busy(not_agreed) == []
    statuses = dict(StaffCalendar.objects.values_list("user_id", "last_sync_status"))
    assert statuses == {
        down.pk: SyncStatus.ERROR,
        ok.pk: SyncStatus.OK,
        not_agreed.pk: SyncStatus.NEVER,
    }
    assert (
        scheduling_calendar_sync.delay(not_agreed.pk).get() == "error"
    )  # no consent: nothing read
    assert busy(not_agreed) == []


def test_another_principal_on_the_same_server_is_not_read(caseworker, radicale_url):
    mine = RemoteCalendar(radicale_url, f"mine-{uuid.uuid4().hex[:6]}")
    theirs = RemoteCalendar(radicale_url, f"theirs-{uuid.uuid4().hex[:6]}")
    theirs.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    consenting_calendar(caseworker, caldav_url=radicale_url, caldav_username=mine.username)

    assert calendar_sync(user_id=caseworker.pk, now=NOW).counts == {"caldav": 0}


def test_consent_withdrawn_while_the_server_is_read_wins(caseworker, monkeypatch):
    consenting_calendar(caseworker, ics_url="https://calendar.example.invalid/anna.ics")

    def slow_fetch(url, start, end):
        StaffCalendar.objects.filter(user=caseworker).update(consent_given_at=None)
        return [BusyInterval(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), "x")]

    monkeypatch.setattr("scheduling.services._fetch_ics_url", slow_fetch)

    with pytest.raises(CalendarConsentError):
        calendar_sync(user_id=caseworker.pk, now=NOW)
    assert busy(caseworker) == []


def test_an_address_cleared_while_it_is_read_gets_no_busy_times_back(caseworker, monkeypatch):
    consenting_calendar(caseworker, ics_url="https://calendar.example.invalid/anna.ics")

    def slow_fetch(url, start, end):
        StaffCalendar.objects.filter(user=caseworker).update(ics_url="")
        return [BusyInterval(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), "x")]

    monkeypatch.setattr("scheduling.services._fetch_ics_url", slow_fetch)

    result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.counts == {"ics": 0}
    assert busy(caseworker) == []


# --- free/busy first, events where the server has no free/busy query --------------------------------


def test_caldav_is_read_as_free_busy_without_any_event_details(caseworker, remote_calendar):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), summary="Arzttermin")
    remote_calendar.add(
        TUESDAY_9 + dt.timedelta(days=1),
        TUESDAY_9 + dt.timedelta(days=1, hours=1),
        summary="vielleicht",
        status="TENTATIVE",
    )
    remote_calendar.add(
        TUESDAY_9 + dt.timedelta(hours=3),
        TUESDAY_9 + dt.timedelta(hours=4),
        summary="frei",
        transp="TRANSPARENT",
    )
    consenting_calendar(
        caseworker, caldav_url=remote_calendar.base_url, caldav_username=remote_calendar.username
    )

    with translation.override("en"):
        result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.methods == {"caldav": CaldavMethod.FREE_BUSY}
    assert busy(caseworker, BusySource.CALDAV) == [
        (TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1)),
        (TUESDAY_9 + dt.timedelta(days=1), TUESDAY_9 + dt.timedelta(days=1, hours=1)),
    ]
    # A free/busy answer has no events: no UIDs either.
    assert set(BusyTime.objects.filter(user=caseworker).values_list("uid", flat=True)) == {""}
    message = StaffCalendar.objects.get(user=caseworker).last_sync_message
    assert "free/busy" in message


def test_a_server_that_denies_reading_events_still_gives_its_free_busy_times(
    caseworker, radicale_freebusy_only_url
):
    remote = RemoteCalendar(radicale_freebusy_only_url, f"fb-{uuid.uuid4().hex[:8]}")
    remote.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2), summary="vertraulich")
    # The premise: this account may not read the events.
    with pytest.raises(caldav_error.AuthorizationError):
        remote.calendar.search(start=NOW, end=NOW + dt.timedelta(days=7), event=True)
    consenting_calendar(
        caseworker, caldav_url=radicale_freebusy_only_url, caldav_username=remote.username
    )

    result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.methods == {"caldav": CaldavMethod.FREE_BUSY}
    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]


def test_without_a_free_busy_query_the_events_are_read_and_the_status_says_so(
    caseworker, radicale_without_freebusy_url
):
    remote = RemoteCalendar(radicale_without_freebusy_url, f"ev-{uuid.uuid4().hex[:8]}")
    remote.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    remote.add_ics(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:serie\r\n"
        "DTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261125T140000\r\n"
        "DTEND;TZID=Europe/Berlin:20261125T150000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    # The premise: this server answers the free-busy-query with an error.
    with pytest.raises(caldav_error.DAVError):
        remote.calendar.freebusy_request(NOW, NOW + dt.timedelta(days=7))
    consenting_calendar(
        caseworker, caldav_url=radicale_without_freebusy_url, caldav_username=remote.username
    )

    with translation.override("en"):
        result = calendar_sync(user_id=caseworker.pk, now=NOW)

    assert result.methods == {"caldav": CaldavMethod.EVENTS}
    assert result.counts == {"caldav": 3}
    assert busy(caseworker)[0] == (TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    assert "events" in StaffCalendar.objects.get(user=caseworker).last_sync_message


def test_a_server_that_lets_the_account_read_neither_says_so(
    caseworker, radicale_freebusy_only_url
):
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    RemoteCalendar(radicale_freebusy_only_url, owner)
    # Another account's calendar home: Radicale refuses every look into it.
    consenting_calendar(
        caseworker,
        caldav_url=f"{radicale_freebusy_only_url}{owner}/",
        caldav_username=f"someone-{uuid.uuid4().hex[:6]}",
    )

    with pytest.raises(CalendarSyncError):
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == SyncStatus.ERROR


# --- an ICS feed that publishes free/busy only (Outlook .vfb) --------------------------------------


VFB = (
    b"BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
    b"VERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VFREEBUSY\r\n"
    b"DTSTART:20261120T000000Z\r\nDTEND:20270120T000000Z\r\n"
    b"FREEBUSY;FBTYPE=BUSY:20261124T090000Z/20261124T100000Z,20261125T090000Z/PT30M\r\n"
    b"END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
)


def test_an_outlook_free_busy_feed_is_read(caseworker, redirector):
    consenting_calendar(caseworker, ics_url=redirector.body(VFB, content_type="text/calendar"))

    assert calendar_sync(user_id=caseworker.pk, now=NOW).counts == {"ics": 2}
    assert busy(caseworker)[1] == (
        TUESDAY_9 + dt.timedelta(days=1),
        TUESDAY_9 + dt.timedelta(days=1, minutes=30),
    )


# --- redirects: at most three, each checked ---------------------------------------------------------


def test_a_feed_behind_three_redirects_is_read(caseworker, redirector):
    consenting_calendar(caseworker, ics_url=redirector.chain(redirector.body(VFB), hops=3))

    assert calendar_sync(user_id=caseworker.pk, now=NOW).counts == {"ics": 2}


def test_a_fourth_redirect_is_not_followed(caseworker, redirector):
    consenting_calendar(caseworker, ics_url=redirector.chain(redirector.body(VFB), hops=4))

    with translation.override("en"), pytest.raises(CalendarSyncError):
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "more than 3" in StaffCalendar.objects.get(user=caseworker).last_sync_message


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "file:///etc/passwd",
    ],
    ids=["cloud-metadata", "localhost", "ipv6-loopback", "file"],
)
def test_a_feed_redirecting_to_a_refused_address_is_not_followed(caseworker, redirector, target):
    # The test settings allow 127.0.0.1 only; the redirect target is checked before it is fetched.
    target = target.format(port=free_port())
    consenting_calendar(caseworker, ics_url=redirector.redirect(target))
    _with_previous_busy_time(caseworker)

    with pytest.raises(CalendarSyncError):
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]
    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == SyncStatus.ERROR


@pytest.mark.parametrize("status", ["301 Moved Permanently", "307 Temporary Redirect"])
def test_a_caldav_server_redirecting_to_a_refused_address_is_not_followed(
    caseworker, redirector, status
):
    consenting_calendar(
        caseworker,
        caldav_url=redirector.redirect("http://169.254.169.254/latest/", status=status),
        caldav_username="anna",
        caldav_password="geheim",
    )

    with translation.override("en"), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "not allowed" in error.value.extra["errors"]["caldav"]


def test_a_caldav_redirect_to_another_server_does_not_take_the_password_along(
    caseworker, redirector, radicale_htpasswd_url
):
    consenting_calendar(
        caseworker,
        # 308 keeps the method (PROPFIND). The target is another origin (port): requests drops
        # the credentials there, so the login fails instead of the password going elsewhere.
        caldav_url=redirector.redirect(radicale_htpasswd_url, status="308 Permanent Redirect"),
        caldav_username="anna",
        caldav_password="richtig",
    )

    with translation.override("en"), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "refused the login" in error.value.extra["errors"]["caldav"]


def test_the_address_is_checked_again_when_it_is_fetched(caseworker, remote_calendar):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1))
    consenting_calendar(
        caseworker,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
        ics_url=remote_calendar.url,
    )
    _with_previous_busy_time(caseworker)

    # Saved while allowed; now the allow-list is gone and 127.0.0.1 is loopback, so refused.
    with override_settings(CALENDAR_ALLOWED_HOSTS=[]), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert set(error.value.extra["errors"]) == {"caldav", "ics"}
    assert busy(caseworker) == [(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2))]


def test_a_huge_caldav_answer_is_cut_off_and_refused(caseworker, remote_calendar, monkeypatch):
    monkeypatch.setattr("scheduling.services.CALDAV_MAX_RESPONSE_BYTES", 300)
    for day in range(3):
        remote_calendar.add(
            TUESDAY_9 + dt.timedelta(days=day), TUESDAY_9 + dt.timedelta(days=day, hours=1)
        )
    consenting_calendar(
        caseworker, caldav_url=remote_calendar.base_url, caldav_username=remote_calendar.username
    )

    with translation.override("en"), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "too big" in error.value.extra["errors"]["caldav"]
