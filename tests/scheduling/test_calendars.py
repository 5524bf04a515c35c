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


# --- free/busy data (VFREEBUSY: CalDAV free-busy-query answers, Outlook .vfb files) -----------------


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def spans(busy) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(b.start, b.end) for b in busy]


def vfreebusy(*lines: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VFREEBUSY",
            "DTSTAMP:20261120T080000Z",
            "DTSTART:20261123T000000Z",
            "DTEND:20270118T000000Z",
            *lines,
            "END:VFREEBUSY",
        ]
    )


def test_free_busy_periods_block_in_both_forms_and_several_per_line():
    data = ics(
        vfreebusy(
            "FREEBUSY;FBTYPE=BUSY:20261124T080000Z/20261124T090000Z,20261125T080000Z/PT1H30M",
            "FREEBUSY:20261126T080000Z/PT45M",  # no FBTYPE: BUSY (RFC 5545 3.2.9)
        )
    )

    assert spans(parse(data)) == [
        (utc(2026, 11, 24, 8), utc(2026, 11, 24, 9)),
        (utc(2026, 11, 25, 8), utc(2026, 11, 25, 9, 30)),
        (utc(2026, 11, 26, 8), utc(2026, 11, 26, 8, 45)),
    ]


def test_tentative_and_unavailable_block_free_does_not():
    data = ics(
        vfreebusy(
            "FREEBUSY;FBTYPE=FREE:20261124T080000Z/20261124T170000Z",
            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261125T080000Z/20261125T090000Z",
            "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20261126T000000Z/20261127T000000Z",
            "FREEBUSY;FBTYPE=X-OUT-OF-OFFICE:20261130T080000Z/20261130T090000Z",
        )
    )

    assert spans(parse(data)) == [
        (utc(2026, 11, 25, 8), utc(2026, 11, 25, 9)),
        (utc(2026, 11, 26), utc(2026, 11, 27)),
        (utc(2026, 11, 30, 8), utc(2026, 11, 30, 9)),  # unknown types count as busy (RFC 5545)
    ]


def test_free_busy_periods_outside_the_window_are_left_out():
    data = ics(
        vfreebusy(
            "FREEBUSY:20261101T080000Z/20261101T090000Z",
            "FREEBUSY:20270601T080000Z/20270601T090000Z",
            "FREEBUSY:20261122T220000Z/20261123T010000Z",  # overlaps the window's start
        )
    )

    assert spans(parse(data)) == [(utc(2026, 11, 22, 22), utc(2026, 11, 23, 1))]


def test_an_outlook_vfb_file_with_only_free_busy_is_read():
    # As Outlook publishes it ("Publish free/busy information"), LF line ends and a folded line.
    data = (
        b"BEGIN:VCALENDAR\n"
        b"PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\n"
        b"VERSION:2.0\n"
        b"METHOD:PUBLISH\n"
        b"BEGIN:VFREEBUSY\n"
        b"ORGANIZER:mailto:anna.schmidt@jobcenter.example.de\n"
        b"DTSTART:20261120T000000Z\n"
        b"DTEND:20270120T000000Z\n"
        b"FREEBUSY;FBTYPE=BUSY:20261124T080000Z/20261124T090000Z,20261124T120000Z/2026\n"
        b" 1124T123000Z\n"
        b"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20261127T070000Z/20261127T160000Z\n"
        b"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261130T100000Z/20261130T110000Z\n"
        b"DTSTAMP:20261120T101500Z\n"
        b"END:VFREEBUSY\n"
        b"END:VCALENDAR\n"
    )

    assert spans(parse(data)) == [
        (utc(2026, 11, 24, 8), utc(2026, 11, 24, 9)),
        (utc(2026, 11, 24, 12), utc(2026, 11, 24, 12, 30)),
        (utc(2026, 11, 27, 7), utc(2026, 11, 27, 16)),
        (utc(2026, 11, 30, 10), utc(2026, 11, 30, 11)),
    ]


def test_events_and_free_busy_in_one_file_both_block():
    data = ics(
        vevent("a", "DTSTART:20261124T090000Z", "DTEND:20261124T100000Z"),
        vfreebusy("FREEBUSY:20261125T080000Z/20261125T090000Z"),
    )

    assert len(parse(data)) == 2


def test_too_many_free_busy_periods_are_refused(monkeypatch):
    monkeypatch.setattr("scheduling.calendars.MAX_OCCURRENCES", 2)
    data = ics(
        vfreebusy(
            "FREEBUSY:20261124T080000Z/PT1H,20261125T080000Z/PT1H,20261126T080000Z/PT1H",
        )
    )

    with pytest.raises(CalendarDataError):
        parse(data)


def test_a_malformed_free_busy_period_is_refused():
    with pytest.raises(CalendarDataError):
        parse(ics(vfreebusy("FREEBUSY:20261124T080000Z/gestern")))


# --- real exports: Outlook/Exchange, Google, Thunderbird, Nextcloud ---------------------------------

# Outlook writes the Windows name of the zone, with its own VTIMEZONE block (rules from 1601).
OUTLOOK_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
    "DTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE"
)


def outlook_event(uid: str, *lines: str) -> str:
    return vevent(uid, "CLASS:PUBLIC", "PRIORITY:5", "X-MICROSOFT-CDO-IMPORTANCE:1", *lines)


@pytest.mark.parametrize("with_vtimezone", [True, False], ids=["vtimezone", "name-only"])
def test_outlook_windows_time_zone_names_are_understood(with_vtimezone):
    # icalendar 7 maps Windows zone names to IANA ones (icalendar.timezone.windows_to_olson), so
    # a TZID without a VTIMEZONE block is read right too; nothing of our own is needed for it.
    data = ics(
        *([OUTLOOK_VTIMEZONE] if with_vtimezone else []),
        outlook_event(
            "outlook",
            "DTSTART;TZID=W. Europe Standard Time:20261124T090000",
            "DTEND;TZID=W. Europe Standard Time:20261124T100000",
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        ),
        outlook_event(
            "tokyo",
            'DTSTART;TZID="Tokyo Standard Time":20261125T090000',
            'DTEND;TZID="Tokyo Standard Time":20261125T100000',
        ),
    )

    busy = {b.uid: b for b in parse(data)}

    assert busy["outlook"].start == utc(2026, 11, 24, 8)  # 09:00 in Berlin (winter time)
    assert busy["tokyo"].start == utc(2026, 11, 25, 0)  # 09:00 in Tokyo


def test_an_exchange_zone_with_a_display_name_uses_its_vtimezone():
    data = ics(
        OUTLOOK_VTIMEZONE.replace(
            "TZID:W. Europe Standard Time",
            'TZID:"(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien"',
        ),
        outlook_event(
            "owa",
            'DTSTART;TZID="(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien":'
            "20261124T090000",
            'DTEND;TZID="(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien":'
            "20261124T100000",
        ),
    )

    assert spans(parse(data)) == [(utc(2026, 11, 24, 8), utc(2026, 11, 24, 9))]


def test_an_unknown_zone_without_vtimezone_is_read_as_local_time():
    data = ics(
        vevent(
            "mars",
            "DTSTART;TZID=Customized Time Zone:20261124T090000",
            "DTEND;TZID=Customized Time Zone:20261124T100000",
        )
    )

    assert spans(parse(data)) == [(utc(2026, 11, 24, 8), utc(2026, 11, 24, 9))]


def test_outlook_busy_status_free_is_free_and_away_or_tentative_is_busy():
    data = ics(
        outlook_event(
            "free",
            "DTSTART:20261124T090000Z",
            "DTEND:20261124T100000Z",
            "TRANSP:OPAQUE",  # Outlook writes OPAQUE beside FREE at times; the status decides
            "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
        ),
        outlook_event(
            "free-no-transp",
            "DTSTART:20261124T110000Z",
            "DTEND:20261124T120000Z",
            "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
        ),
        outlook_event(
            "oof",
            "DTSTART;VALUE=DATE:20261126",
            "DTEND;VALUE=DATE:20261127",
            "TRANSP:TRANSPARENT",
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
            "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
        ),
        outlook_event(
            "tentative",
            "DTSTART:20261127T090000Z",
            "DTEND:20261127T100000Z",
            "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
        ),
        outlook_event(
            "busy", "DTSTART:20261127T130000Z", "DTEND:20261127T140000Z", "TRANSP:OPAQUE"
        ),
    )

    assert sorted(b.uid for b in parse(data)) == ["busy", "oof", "tentative"]


def test_a_google_calendar_export():
    # Google: X-WR-TIMEZONE, UTC times, all-day events TRANSPARENT unless marked busy, a weekly
    # series with a cancelled and a moved occurrence.
    data = (
        b"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n"
        b"CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:anna.schmidt@example.de\r\n"
        b"X-WR-TIMEZONE:Europe/Berlin\r\n"
        b"BEGIN:VEVENT\r\nDTSTART:20261124T080000Z\r\nDTEND:20261124T090000Z\r\n"
        b"DTSTAMP:20261120T101010Z\r\nUID:0a1b2c@google.com\r\nCREATED:20261101T000000Z\r\n"
        b"LAST-MODIFIED:20261101T000000Z\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\n"
        b"SUMMARY:Zahnarzt\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261130\r\nDTEND;VALUE=DATE:20261201\r\n"
        b"DTSTAMP:20261120T101010Z\r\nUID:birthday@google.com\r\nSUMMARY:Geburtstag\r\n"
        b"TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20261125T140000\r\n"
        b"DTEND;TZID=Europe/Berlin:20261125T150000\r\nRRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=4\r\n"
        b"EXDATE;TZID=Europe/Berlin:20261202T140000\r\nDTSTAMP:20261120T101010Z\r\n"
        b"UID:weekly@google.com\r\nSUMMARY:Teamrunde\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20261209T160000\r\n"
        b"DTEND;TZID=Europe/Berlin:20261209T170000\r\nDTSTAMP:20261120T101010Z\r\n"
        b"UID:weekly@google.com\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261209T140000\r\n"
        b"SUMMARY:Teamrunde (verschoben)\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )

    assert [(b.uid, b.start.astimezone(BERLIN)) for b in parse(data)] == [
        ("0a1b2c@google.com", dt.datetime(2026, 11, 24, 9, tzinfo=BERLIN)),
        ("weekly@google.com", dt.datetime(2026, 11, 25, 14, tzinfo=BERLIN)),
        ("weekly@google.com", dt.datetime(2026, 12, 9, 16, tzinfo=BERLIN)),  # moved
        ("weekly@google.com", dt.datetime(2026, 12, 16, 14, tzinfo=BERLIN)),
    ]


def test_floating_times_follow_x_wr_timezone():
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-TIMEZONE:Europe/London\r\n"
        + vevent("f", "DTSTART:20261124T090000", "DTEND:20261124T100000")
        + "\r\nEND:VCALENDAR\r\n"
    ).encode()

    assert spans(parse(data)) == [(utc(2026, 11, 24, 9), utc(2026, 11, 24, 10))]


def test_a_thunderbird_export_with_its_vtimezone_and_a_moved_occurrence():
    data = (
        b"BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
        b"VERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
        b"X-LIC-LOCATION:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
        b"TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
        b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
        b"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
        b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        b"BEGIN:VEVENT\r\nCREATED:20261101T100000Z\r\nLAST-MODIFIED:20261101T100000Z\r\n"
        b"DTSTAMP:20261101T100000Z\r\nUID:3f6e-thunderbird\r\nSUMMARY:Sprechstunde\r\n"
        b"RRULE:FREQ=DAILY;COUNT=3\r\nDTSTART;TZID=Europe/Berlin:20261124T100000\r\n"
        b"DTEND;TZID=Europe/Berlin:20261124T113000\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nDTSTAMP:20261101T100000Z\r\nUID:3f6e-thunderbird\r\n"
        b"RECURRENCE-ID;TZID=Europe/Berlin:20261125T100000\r\nSUMMARY:Sprechstunde\r\n"
        b"DTSTART;TZID=Europe/Berlin:20261125T150000\r\nDTEND;TZID=Europe/Berlin:20261125T163000\r\n"
        b"SEQUENCE:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )

    assert [b.start.astimezone(BERLIN).strftime("%d %H:%M") for b in parse(data)] == [
        "24 10:00",
        "25 15:00",  # the moved occurrence, not 10:00
        "26 10:00",
    ]


def test_a_nextcloud_export_with_custom_zone_utc_times_until_in_another_zone_and_exdates():
    # A custom VTIMEZONE (its own name, constant +05:00), a series ending with an UNTIL in UTC
    # for a series in New York time, EXDATE as a list and in two lines, DURATION, folded lines.
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//IDN nextcloud.com//Calendar app 4.7.16//EN\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Custom/Plus5\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:custom-zone\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART;TZID=Custom/Plus5:20261124T130000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:new-york\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART;TZID=America/New_York:20261130T090000\r\n"
        "DTEND;TZID=America/New_York:20261130T100000\r\n"
        "RRULE:FREQ=DAILY;UNTIL=20261205T140000Z\r\n"
        "EXDATE;TZID=America/New_York:20261201T090000,20261202T090000\r\n"
        "EXDATE;TZID=America/New_York:20261203T090000\r\n"
        "SUMMARY:Ein sehr langer Titel\\, der über die Zeilenlänge hinausgeht und darum gef\r\n"
        " altet wird\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:utc\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:20261126T060000Z\r\nDTEND:20261126T063000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:leave\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261221\r\nDTEND;VALUE=DATE:20270102\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()

    busy = parse(data)

    by_uid: dict[str, list] = {}
    for item in busy:
        by_uid.setdefault(item.uid, []).append((item.start, item.end))
    assert by_uid["custom-zone"] == [(utc(2026, 11, 24, 8), utc(2026, 11, 24, 9))]
    # 30 Nov, 4 and 5 Dec (09:00 New York = 14:00 UTC, UNTIL inclusive); 1-3 Dec excluded.
    assert [start for start, _end in by_uid["new-york"]] == [
        utc(2026, 11, 30, 14),
        utc(2026, 12, 4, 14),
        utc(2026, 12, 5, 14),
    ]
    assert by_uid["utc"] == [(utc(2026, 11, 26, 6), utc(2026, 11, 26, 6, 30))]
    # An all-day leave over twelve days blocks them whole, in local time.
    assert by_uid["leave"] == [
        (dt.datetime(2026, 12, 21, tzinfo=BERLIN), dt.datetime(2027, 1, 2, tzinfo=BERLIN))
    ]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with its byte order mark, as Windows tools write it
    ],
    ids=["utf-8-bom", "utf-16"],
)
def test_a_byte_order_mark_is_no_problem(encode):
    text = ics(
        vevent("bom", "DTSTART:20261124T090000Z", "DTEND:20261124T100000Z", "LOCATION:Büro")
    ).decode()

    assert [b.uid for b in parse(encode(text))] == ["bom"]


def test_folded_lines_and_lf_line_ends_are_read():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:fo\n ld\nDTSTAMP:20261101T000000Z\n"
        b"DTSTART;TZID=Europe/Ber\n lin:20261124T090000\nDTEND;TZID=Europe/Berlin:20261124T100000\n"
        b"END:VEVENT\nEND:VCALENDAR\n"
    )

    busy = parse(data)

    assert [(b.uid, b.start) for b in busy] == [("fold", utc(2026, 11, 24, 8))]
