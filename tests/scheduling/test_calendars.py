"""Reading ICS files into busy times and writing the feed and invitations (scheduling.calendars)."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduling.calendars import (
    MAX_ICS_BYTES,
    CalendarDataError,
    ics_feed,
    ics_invitation,
    ics_parse_busy,
)

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 11, 23, 0, 0, tzinfo=BERLIN)  # Monday
END = START + dt.timedelta(weeks=8)


def ics(*events: str) -> bytes:
    body = "\r\n".join(events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//DE\r\n"
        + body
        + "\r\nEND:VCALENDAR\r\n"
    ).encode()


def vevent(uid: str, *lines: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261101T000000Z",
            "SUMMARY:Privat",
            *lines,
            "END:VEVENT",
        ]
    )


def parse(data: bytes):
    return ics_parse_busy(data, window_start=START, window_end=END)


def test_a_normal_event_blocks_its_time_and_keeps_no_summary():
    busy = parse(ics(vevent("a", "DTSTART:20261124T090000Z", "DTEND:20261124T100000Z")))

    assert [(b.start, b.end, b.uid) for b in busy] == [
        (
            dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC),
            "a",
        )
    ]
    assert not hasattr(busy[0], "summary")


def test_duration_instead_of_an_end():
    busy = parse(ics(vevent("d", "DTSTART:20261124T090000Z", "DURATION:PT90M")))

    assert busy[0].end - busy[0].start == dt.timedelta(minutes=90)


def test_an_all_day_event_blocks_whole_local_days():
    busy = parse(ics(vevent("urlaub", "DTSTART;VALUE=DATE:20261125", "DTEND;VALUE=DATE:20261127")))

    assert (busy[0].start, busy[0].end) == (
        dt.datetime(2026, 11, 25, tzinfo=BERLIN),
        dt.datetime(2026, 11, 27, tzinfo=BERLIN),
    )


def test_a_recurring_event_is_expanded_inside_the_window_with_its_exceptions():
    data = ics(
        vevent(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20261102T140000",
            "DTEND;TZID=Europe/Berlin:20261102T150000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
            "EXDATE;TZID=Europe/Berlin:20261207T140000",
        )
    )

    starts = [b.start for b in parse(data)]

    # Eight Mondays in the window from 23 November, without 7 December; never before the window.
    assert len(starts) == 7
    assert starts[0] == dt.datetime(2026, 11, 23, 14, tzinfo=BERLIN)
    assert dt.datetime(2026, 12, 7, 14, tzinfo=BERLIN) not in starts
    assert all(start.astimezone(BERLIN).hour == 14 for start in starts)


def test_time_zones_are_honoured_and_floating_times_are_local():
    data = ics(
        "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:STANDARD\r\nDTSTART:20071104T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
        "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"
        "END:DAYLIGHT\r\nEND:VTIMEZONE",
        vevent("ny", "DTSTART;TZID=America/New_York:20261124T090000", "DURATION:PT1H"),
        vevent("floating", "DTSTART:20261125T090000", "DTEND:20261125T100000"),
    )

    busy = {b.uid: b for b in parse(data)}

    assert busy["ny"].start == dt.datetime(2026, 11, 24, 14, tzinfo=dt.UTC)
    assert busy["floating"].start == dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)


def test_free_and_cancelled_events_block_nothing():
    data = ics(
        vevent("free", "DTSTART:20261124T090000Z", "DTEND:20261124T100000Z", "TRANSP:TRANSPARENT"),
        vevent(
            "cancelled", "DTSTART:20261124T110000Z", "DTEND:20261124T120000Z", "STATUS:CANCELLED"
        ),
        vevent("busy", "DTSTART:20261124T130000Z", "DTEND:20261124T140000Z", "TRANSP:OPAQUE"),
    )

    assert [b.uid for b in parse(data)] == ["busy"]


def test_events_outside_the_window_are_left_out():
    data = ics(
        vevent("past", "DTSTART:20261101T090000Z", "DTEND:20261101T100000Z"),
        vevent("later", "DTSTART:20270601T090000Z", "DTEND:20270601T100000Z"),
    )

    assert parse(data) == []


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a calendar",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:gestern\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nEND:VCARD\r\n",
        b"",
    ],
    ids=["text", "bad-date", "vcard", "empty"],
)
def test_malformed_data_is_refused_with_a_clear_message(data):
    with pytest.raises(CalendarDataError) as error:
        parse(data)

    assert error.value.message
    assert error.value.status_code == 400


def test_a_huge_file_is_refused_before_it_is_parsed():
    data = ics(
        vevent(
            "x",
            "DTSTART:20261124T090000Z",
            "DTEND:20261124T100000Z",
            "X-PAD:" + "a" * MAX_ICS_BYTES,
        )
    )

    with pytest.raises(CalendarDataError, match="5 MB"):
        parse(data)


def test_too_many_events_in_the_window_are_refused(monkeypatch):
    monkeypatch.setattr("scheduling.calendars.MAX_OCCURRENCES", 50)
    data = ics(vevent("daily", "DTSTART:20261101T090000Z", "DURATION:PT15M", "RRULE:FREQ=DAILY"))

    with pytest.raises(CalendarDataError, match="50"):
        parse(data)


# --- writing ---------------------------------------------------------------------------------------

APPOINTMENT = {
    "uid": "appointment-42@jobcenter.example",
    "start": dt.datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN),
    "end": dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN),
    "summary": "Beratungsgespräch",
    "location": "Raum 1.23",
    "sequence": 0,
    "status": "confirmed",
}


def test_the_feed_is_a_valid_published_calendar_that_parses_back():
    body = ics_feed(events=[APPOINTMENT], name="Termine Anna")

    calendar = icalendar.Calendar.from_ical(body)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert event["UID"] == APPOINTMENT["uid"]
    assert event.decoded("DTSTART") == APPOINTMENT["start"]
    assert event.decoded("DTEND") == APPOINTMENT["end"]
    assert event["SUMMARY"] == "Beratungsgespräch"
    assert event["LOCATION"] == "Raum 1.23"
    assert event["STATUS"] == "CONFIRMED"
    assert "DTSTAMP" in event


def test_an_empty_feed_is_still_a_valid_calendar():
    calendar = icalendar.Calendar.from_ical(ics_feed(events=[]))

    assert calendar.walk("VEVENT") == []
    assert calendar["METHOD"] == "PUBLISH"


def test_an_invitation_keeps_its_uid_and_raises_the_sequence_on_change():
    first = icalendar.Calendar.from_ical(
        ics_invitation(
            event=APPOINTMENT, organizer_email="anna@jc.example", attendee_emails=["k@example.org"]
        )
    )
    moved = dict(
        APPOINTMENT,
        start=APPOINTMENT["start"] + dt.timedelta(days=1),
        end=APPOINTMENT["end"] + dt.timedelta(days=1),
        sequence=1,
    )
    second = icalendar.Calendar.from_ical(
        ics_invitation(event=moved, organizer_email="anna@jc.example")
    )

    one, two = first.walk("VEVENT")[0], second.walk("VEVENT")[0]
    assert first["METHOD"] == second["METHOD"] == "REQUEST"
    assert one["UID"] == two["UID"] == APPOINTMENT["uid"]
    assert (one["SEQUENCE"], two["SEQUENCE"]) == (0, 1)
    assert str(one["ORGANIZER"]) == "mailto:anna@jc.example"
    assert str(one["ATTENDEE"]) == "mailto:k@example.org"


def test_a_cancelled_invitation_says_cancel():
    calendar = icalendar.Calendar.from_ical(
        ics_invitation(event=dict(APPOINTMENT, sequence=2), method="CANCEL")
    )

    assert calendar["METHOD"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["STATUS"] == "CANCELLED"


def test_the_feed_refuses_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        ics_feed(events=[dict(APPOINTMENT, start=dt.datetime(2026, 12, 1, 9, 30))])  # noqa: DTZ001 - on purpose


def test_a_series_repeating_every_second_is_refused_instead_of_expanded_forever():
    data = ics(vevent("sec", "DTSTART:19000101T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY"))

    with pytest.raises(CalendarDataError, match="sec"):
        parse(data)


def test_a_daily_series_from_long_ago_is_expanded_quickly():
    data = ics(vevent("old", "DTSTART:19000101T090000Z", "DURATION:PT30M", "RRULE:FREQ=DAILY"))

    assert len(parse(data)) == 56
