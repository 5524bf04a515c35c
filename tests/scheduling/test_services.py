"""Calendar settings, consent, absences and holidays (scheduling.services) and the busy selector."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.utils import translation

from audit.models import AuditChannel, AuditEvent
from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError
from organisation.models import FederalState, Role
from scheduling.calendars import CalendarDataError
from scheduling.models import Absence, BusySource, BusyTime, StaffCalendar, SyncStatus
from scheduling.selectors import staff_busy_intervals, staff_busy_intervals_many
from scheduling.services import (
    CalendarAccessError,
    CalendarConsentError,
    absence_add,
    absence_remove,
    appointments_to_move,
    calendar_upload_ics,
    calendar_upload_remove,
    holidays_for,
    staff_calendar_consent_set,
    staff_calendar_feed_token_regenerate,
    staff_calendar_update,
)
from tests.organisation.factories import JobcenterFactory, TeamFactory, UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar

BERLIN = ZoneInfo("Europe/Berlin")
MORNINGS = [{"weekday": day, "start": "08:00", "end": "12:00"} for day in range(5)]


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel=AuditChannel.UI)


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CALENDAR_ALLOWED_HOSTS=["dav.example.org"])
def test_a_staff_member_saves_their_settings_and_the_change_is_logged_without_the_password(
    caseworker,
):
    calendar = staff_calendar_update(
        ctx=ui(caseworker),
        user_id=caseworker.pk,
        data={
            "working_hours": [*MORNINGS, {"weekday": 0, "start": "13:00", "end": "16:00"}],
            "part_time_share": "0.75",
            "channels": ["video", "in_person"],
            "rooms": ["1.23"],
            "daily_cap": 6,
            "caldav_url": "https://dav.example.org/",
            "caldav_username": "anna",
        },
        caldav_password="geheim",
    )

    calendar.refresh_from_db()
    assert calendar.part_time_share == Decimal("0.75")
    assert calendar.channels == ["in_person", "video"]
    assert calendar.weekly_minutes == 5 * 240 + 180
    assert calendar.caldav_password == "geheim"
    assert "geheim" not in calendar.caldav_password_encrypted  # encrypted at rest
    event = AuditEvent.objects.get(object_type="staff_calendar")
    assert event.actor == caseworker
    assert "caldav_password" in event.detail["fields"]
    assert "geheim" not in str(event.detail)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"working_hours": [{"weekday": 1, "start": "12:00", "end": "08:00"}]},
            "must be before the end",
        ),
        (
            {
                "working_hours": [
                    {"weekday": 2, "start": "08:00", "end": "12:00"},
                    {"weekday": 2, "start": "11:00", "end": "14:00"},
                ]
            },
            "overlap",
        ),
        ({"working_hours": [{"weekday": 7, "start": "08:00", "end": "12:00"}]}, "weekday"),
        ({"working_hours": [{"weekday": 1, "start": "8 Uhr", "end": "12:00"}]}, "HH:MM"),
        ({"part_time_share": "0.05"}, "0.1"),
        ({"part_time_share": "1.5"}, "1.0"),
        ({"channels": ["letter"]}, "offered"),
        ({"caldav_url": "https://dav.example.org/"}, "user name"),
    ],
    ids=[
        "start-after-end",
        "overlap",
        "weekday",
        "time-format",
        "share-low",
        "share-high",
        "channel",
        "caldav-user",
    ],
)
def test_invalid_settings_are_refused_and_nothing_changes(caseworker, data, message):
    StaffCalendar.objects.create(user=caseworker)

    with translation.override("en"), pytest.raises(ApplicationError) as error:
        staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data=data)

    assert any(word in error.value.message for word in message.split("|")), error.value.message
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.working_hours == []
    assert calendar.part_time_share == Decimal("1.00")
    assert not AuditEvent.objects.filter(object_type="staff_calendar").exists()


@pytest.mark.django_db
def test_an_empty_password_keeps_the_stored_one_and_an_empty_string_removes_it(caseworker):
    staff_calendar_update(
        ctx=ui(caseworker), user_id=caseworker.pk, data={}, caldav_password="geheim"
    )
    staff_calendar_update(
        ctx=ui(caseworker), user_id=caseworker.pk, data={"location": "Haus A"}, caldav_password=None
    )
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == "geheim"

    staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data={}, caldav_password="")
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == ""


@pytest.mark.django_db
@override_settings(CALENDAR_ALLOWED_HOSTS=[])
@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("caldav_url", "http://127.0.0.1:5232/"),
        ("caldav_url", "http://169.254.169.254/latest/meta-data/"),
        ("ics_url", "http://localhost/anna.ics"),
        ("ics_url", "https://kalender.example.invalid/anna.ics"),
        ("ics_url", "ftp://files.example.de/anna.ics"),
    ],
)
def test_a_calendar_address_the_worker_must_not_fetch_is_refused_naming_the_field(
    caseworker, field, url
):
    StaffCalendar.objects.create(user=caseworker, location="Haus A")

    with translation.override("en"), pytest.raises(ApplicationError) as error:
        staff_calendar_update(
            ctx=ui(caseworker),
            user_id=caseworker.pk,
            data={field: url, "caldav_username": "anna", "location": "Haus B"},
        )

    label = {"caldav_url": "CalDAV address", "ics_url": "ICS feed address"}[field]
    assert error.value.message.startswith(label)
    assert list(error.value.extra["fields"]) == [field]
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert (calendar.location, getattr(calendar, field)) == ("Haus A", "")
    assert not AuditEvent.objects.filter(object_type="staff_calendar").exists()


@pytest.mark.django_db
@override_settings(CALENDAR_ALLOWED_HOSTS=["*.example.de"])
def test_a_webcal_address_is_stored_as_https_and_an_unchanged_one_is_not_checked_again(
    caseworker,
):
    staff_calendar_update(
        ctx=ui(caseworker),
        user_id=caseworker.pk,
        data={"ics_url": "webcal://kalender.example.de/anna.ics"},
    )
    assert StaffCalendar.objects.get(user=caseworker).ics_url == (
        "https://kalender.example.de/anna.ics"
    )

    # The list changes; saving other settings with the same address is no new check.
    with override_settings(CALENDAR_ALLOWED_HOSTS=["dav.example.org"]):
        staff_calendar_update(
            ctx=ui(caseworker),
            user_id=caseworker.pk,
            data={"ics_url": "webcal://kalender.example.de/anna.ics", "location": "Haus C"},
        )
    event = AuditEvent.objects.filter(object_type="staff_calendar").latest("pk")
    assert event.detail["fields"] == ["location"]


@pytest.mark.django_db
def test_another_staff_member_cannot_change_my_calendar_but_an_admin_can(
    caseworker, team_lead, admin_user
):
    with pytest.raises(CalendarAccessError):
        staff_calendar_update(ctx=ui(team_lead), user_id=caseworker.pk, data={"location": "Keller"})

    staff_calendar_update(ctx=ui(admin_user), user_id=caseworker.pk, data={"location": "Haus B"})
    assert StaffCalendar.objects.get(user=caseworker).location == "Haus B"


@pytest.mark.django_db
def test_a_new_feed_token_replaces_the_old_one(caseworker, other_caseworker):
    old = StaffCalendar.objects.create(user=caseworker).feed_token

    new = staff_calendar_feed_token_regenerate(ctx=ui(caseworker), user_id=caseworker.pk).feed_token

    assert new != old
    assert len(new) >= 40
    with pytest.raises(CalendarAccessError):
        staff_calendar_feed_token_regenerate(ctx=ui(other_caseworker), user_id=caseworker.pk)


# --- consent ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_staff_member_gives_consent_not_even_an_admin(caseworker, admin_user, team_lead):
    for someone_else in (admin_user, team_lead):
        with pytest.raises(CalendarAccessError):
            staff_calendar_consent_set(ctx=ui(someone_else), user_id=caseworker.pk, given=True)

    calendar = staff_calendar_consent_set(ctx=ui(caseworker), user_id=caseworker.pk, given=True)

    assert calendar.consent_given_at is not None
    assert AuditEvent.objects.get(object_type="staff_calendar").detail["consent"] is True


@pytest.mark.django_db
def test_withdrawing_consent_deletes_the_busy_times_and_blocks_planning(caseworker):
    consenting_calendar(caseworker, working_hours=MORNINGS)
    BusyTime.objects.create(
        user=caseworker,
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        source=BusySource.ICS,
        synced_at=NOW,
    )

    staff_calendar_consent_set(ctx=ui(caseworker), user_id=caseworker.pk, given=False)

    assert not BusyTime.objects.filter(user=caseworker).exists()
    window = (NOW, NOW + dt.timedelta(days=7))
    assert staff_busy_intervals(user=caseworker, start=window[0], end=window[1]) == [window]


@pytest.mark.django_db
def test_uploading_without_consent_is_refused(caseworker):
    StaffCalendar.objects.create(user=caseworker)

    with pytest.raises(CalendarConsentError):
        calendar_upload_ics(
            ctx=ui(caseworker), user_id=caseworker.pk, data=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        )


UPLOAD = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20261101T000000Z\r\n"
    b"DTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Arzt\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.django_db
def test_an_upload_replaces_the_uploaded_busy_times_and_a_bad_file_keeps_them(caseworker):
    consenting_calendar(caseworker)
    BusyTime.objects.create(
        user=caseworker,
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        source=BusySource.UPLOAD,
        uid="old",
        synced_at=NOW,
    )
    BusyTime.objects.create(
        user=caseworker,
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        source=BusySource.CALDAV,
        uid="dav",
        synced_at=NOW,
    )

    assert calendar_upload_ics(ctx=ui(caseworker), user_id=caseworker.pk, data=UPLOAD, now=NOW) == 1
    assert sorted(BusyTime.objects.values_list("source", "uid")) == [
        ("caldav", "dav"),
        ("upload", "u1"),
    ]

    with pytest.raises(CalendarDataError):
        calendar_upload_ics(ctx=ui(caseworker), user_id=caseworker.pk, data=b"kaputt", now=NOW)
    assert sorted(BusyTime.objects.values_list("source", "uid")) == [
        ("caldav", "dav"),
        ("upload", "u1"),
    ]
    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == SyncStatus.ERROR


@pytest.mark.django_db
def test_an_uploaded_outlook_free_busy_file_is_read(caseworker):
    consenting_calendar(caseworker)
    vfb = (
        b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN"
        b"\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VFREEBUSY\r\n"
        b"DTSTART:20261120T000000Z\r\nDTEND:20270120T000000Z\r\n"
        b"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20261124T070000Z/20261124T160000Z\r\n"
        b"FREEBUSY;FBTYPE=FREE:20261125T070000Z/20261125T160000Z\r\n"
        b"END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    )

    assert calendar_upload_ics(ctx=ui(caseworker), user_id=caseworker.pk, data=vfb, now=NOW) == 1
    row = BusyTime.objects.get(user=caseworker)
    assert (row.source, row.start, row.end) == (
        BusySource.UPLOAD,
        dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 24, 16, tzinfo=dt.UTC),
    )


# --- absences --------------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_absences_are_recorded_by_self_or_team_lead_not_by_another_team(
    caseworker, team_lead, other_caseworker
):
    start = dt.datetime(2026, 12, 1, tzinfo=BERLIN)
    mine = absence_add(
        ctx=ui(caseworker),
        user_id=caseworker.pk,
        start=start,
        end=start + dt.timedelta(days=3),
        kind="vacation",
    )
    sick = absence_add(
        ctx=ui(team_lead),
        user_id=caseworker.pk,
        start=start + dt.timedelta(days=7),
        end=start + dt.timedelta(days=8),
        kind="sick",
    )
    assert sick.created_by == team_lead

    with pytest.raises(CalendarAccessError):
        absence_add(
            ctx=ui(other_caseworker),
            user_id=caseworker.pk,
            start=start,
            end=start + dt.timedelta(days=1),
            kind="sick",
        )
    with pytest.raises(CalendarAccessError):
        absence_remove(ctx=ui(other_caseworker), absence_id=mine.pk)

    absence_remove(ctx=ui(caseworker), absence_id=mine.pk)
    assert list(Absence.objects.all()) == [sick]
    assert list(
        AuditEvent.objects.filter(object_type="absence")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == ["create", "create", "delete"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_absence_must_end_after_it_starts(caseworker):
    with translation.override("en"), pytest.raises(ApplicationError, match="end after it starts"):
        absence_add(ctx=ui(caseworker), user_id=caseworker.pk, start=NOW, end=NOW, kind="vacation")


# --- holidays and the busy selector ----------------------------------------------------------------


def test_holidays_differ_between_the_federal_states():
    nw = holidays_for(year=2026, state=FederalState.NW)
    by = holidays_for(year=2026, state=FederalState.BY)
    sn = holidays_for(year=2026, state=FederalState.SN)

    corpus_christi = dt.date(2026, 6, 4)
    reformation_day = dt.date(2026, 10, 31)
    epiphany = dt.date(2026, 1, 6)
    has = {
        day: (day in nw, day in by, day in sn)
        for day in (corpus_christi, reformation_day, epiphany)
    }
    assert has[corpus_christi] == (True, True, False)  # Fronleichnam: NW and BY, not Saxony
    assert has[epiphany] == (False, True, False)  # Heilige Drei Könige: Bavaria only
    assert has[reformation_day] == (False, False, True)  # Reformationstag: Saxony, not NW or BY
    assert nw[dt.date(2026, 12, 25)] == "Erster Weihnachtstag"
    assert nw[dt.date(2026, 10, 3)] == "Tag der Deutschen Einheit"


@pytest.mark.django_db
def test_busy_intervals_merge_busy_times_absences_holidays_and_time_off(caseworker):
    consenting_calendar(caseworker, working_hours=MORNINGS)
    monday = dt.datetime(
        2026, 12, 21, tzinfo=BERLIN
    )  # Christmas week: 25 and 26 December are holidays
    BusyTime.objects.create(
        user=caseworker,
        start=monday.replace(hour=9),
        end=monday.replace(hour=10),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )
    Absence.objects.create(
        user=caseworker,
        start=monday + dt.timedelta(days=1),
        end=monday + dt.timedelta(days=2),
        kind="training",
    )

    busy = staff_busy_intervals(user=caseworker, start=monday, end=monday + dt.timedelta(days=7))

    free = []
    cursor = monday
    for start, end in busy:
        if start > cursor:
            free.append((cursor, start))
        cursor = end
    assert free == [
        (monday.replace(hour=8), monday.replace(hour=9)),
        (monday.replace(hour=10), monday.replace(hour=12)),
        # Tuesday absent; Wednesday and Thursday mornings free; Friday 25 December a holiday.
        (
            (monday + dt.timedelta(days=2)).replace(hour=8),
            (monday + dt.timedelta(days=2)).replace(hour=12),
        ),
        (
            (monday + dt.timedelta(days=3)).replace(hour=8),
            (monday + dt.timedelta(days=3)).replace(hour=12),
        ),
    ]


@pytest.mark.django_db
def test_holidays_follow_the_jobcenter_of_the_staff_member(django_assert_max_num_queries):
    """Epiphany (6 January) is a holiday in Bavaria, not in North Rhine-Westphalia."""
    nw_user = UserFactory(
        role=Role.CASEWORKER,
        team=TeamFactory(jobcenter=JobcenterFactory(code="NW1", federal_state="NW")),
    )
    by_user = UserFactory(
        role=Role.CASEWORKER,
        team=TeamFactory(jobcenter=JobcenterFactory(code="BY1", federal_state="BY")),
    )
    for user in (nw_user, by_user):
        consenting_calendar(user, working_hours=MORNINGS)
    day = dt.datetime(2027, 1, 6, tzinfo=BERLIN)  # a Wednesday

    from organisation.models import User

    users = User.objects.filter(pk__in=[nw_user.pk, by_user.pk]).select_related("team__jobcenter")
    with django_assert_max_num_queries(4):  # the users, then three
        busy = staff_busy_intervals_many(users=users, start=day, end=day + dt.timedelta(days=1))

    assert busy[by_user.pk] == [(day, day + dt.timedelta(days=1))]
    assert busy[nw_user.pk] == [
        (day, day.replace(hour=8)),
        (day.replace(hour=12), day + dt.timedelta(days=1)),
    ]


# --- removing a calendar source, removing uploads ----------------------------------------------


def _busy(user, source, day: int) -> BusyTime:
    start = dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC)
    return BusyTime.objects.create(
        user=user, start=start, end=start + dt.timedelta(hours=1), source=source, synced_at=NOW
    )


@pytest.mark.django_db
@override_settings(CALENDAR_ALLOWED_HOSTS=["dav.example.org", "example.org"])
def test_clearing_an_address_deletes_the_busy_times_of_that_source_only(caseworker):
    consenting_calendar(
        caseworker,
        caldav_url="https://dav.example.org/",
        caldav_username="anna",
        ics_url="https://example.org/a.ics",
    )
    _busy(caseworker, BusySource.CALDAV, 24)
    _busy(caseworker, BusySource.ICS, 25)
    _busy(caseworker, BusySource.ICS, 26)
    _busy(caseworker, BusySource.UPLOAD, 27)

    staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data={"ics_url": ""})

    assert sorted(BusyTime.objects.values_list("source", flat=True)) == ["caldav", "upload"]
    row = AuditEvent.objects.get(object_type="staff_calendar")
    assert row.detail == {
        "user_id": caseworker.pk,
        "fields": ["ics_url"],
        "busy_times_deleted": {"ics": 2},
    }

    staff_calendar_update(
        ctx=ui(caseworker), user_id=caseworker.pk, data={"caldav_url": "", "caldav_username": ""}
    )

    assert list(BusyTime.objects.values_list("source", flat=True)) == ["upload"]


@pytest.mark.django_db
@override_settings(CALENDAR_ALLOWED_HOSTS=["example.org"])
def test_changing_other_settings_keeps_the_busy_times(caseworker):
    consenting_calendar(caseworker, ics_url="https://example.org/a.ics")
    _busy(caseworker, BusySource.ICS, 24)

    staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data={"daily_cap": 3})

    assert BusyTime.objects.count() == 1
    assert "busy_times_deleted" not in AuditEvent.objects.get().detail


@pytest.mark.django_db
def test_uploaded_busy_times_are_removed_by_the_staff_member_only(caseworker, team_lead):
    consenting_calendar(caseworker)
    _busy(caseworker, BusySource.UPLOAD, 24)
    _busy(caseworker, BusySource.UPLOAD, 25)
    _busy(caseworker, BusySource.ICS, 26)

    with pytest.raises(CalendarAccessError):
        calendar_upload_remove(ctx=ui(team_lead), user_id=caseworker.pk)
    assert calendar_upload_remove(ctx=ui(caseworker), user_id=caseworker.pk) == 2

    assert list(BusyTime.objects.values_list("source", flat=True)) == ["ics"]
    row = AuditEvent.objects.get(object_type="staff_calendar")
    assert (row.action, row.actor, row.detail) == (
        "delete",
        caseworker,
        {"user_id": caseworker.pk, "upload_busy_times_deleted": 2},
    )
    # Nothing left to remove: no change, no audit row.
    assert calendar_upload_remove(ctx=ui(caseworker), user_id=caseworker.pk) == 0
    assert AuditEvent.objects.filter(object_type="staff_calendar").count() == 1


# --- absences: range, overlaps, appointments inside ------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.datetime(1, 1, 1, tzinfo=BERLIN), dt.datetime(1, 1, 2, tzinfo=BERLIN)),
        (dt.datetime(9999, 12, 30, tzinfo=BERLIN), dt.datetime(9999, 12, 31, tzinfo=BERLIN)),
        (dt.datetime(2025, 11, 1, tzinfo=BERLIN), dt.datetime(2025, 11, 2, tzinfo=BERLIN)),
        (dt.datetime(2028, 12, 1, tzinfo=BERLIN), dt.datetime(2028, 12, 2, tzinfo=BERLIN)),
    ],
    ids=["year-1", "year-9999", "over-a-year-back", "over-two-years-ahead"],
)
def test_an_absence_outside_the_sane_range_is_refused(caseworker, start, end):
    with translation.override("en"), pytest.raises(ApplicationError) as error:
        absence_add(ctx=ui(caseworker), user_id=caseworker.pk, start=start, end=end, kind="sick")

    assert "Absences can be recorded from 11/23/2025 to 11/23/2028." in error.value.message
    assert not Absence.objects.exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_absence_a_few_weeks_back_is_recorded(caseworker):
    start = dt.datetime(2026, 10, 5, tzinfo=BERLIN)

    absence_add(
        ctx=ui(caseworker),
        user_id=caseworker.pk,
        start=start,
        end=start + dt.timedelta(days=3),
        kind="sick",
    )

    assert Absence.objects.count() == 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_overlapping_absence_is_refused_naming_the_existing_one(caseworker, team_lead):
    start = dt.datetime(2026, 12, 7, tzinfo=BERLIN)
    absence_add(
        ctx=ui(caseworker),
        user_id=caseworker.pk,
        start=start,
        end=start + dt.timedelta(days=5),
        kind="vacation",
    )

    with translation.override("en"), pytest.raises(ApplicationError) as error:
        absence_add(
            ctx=ui(team_lead),
            user_id=caseworker.pk,
            start=start + dt.timedelta(days=2),
            end=start + dt.timedelta(days=3),
            kind="sick",
        )

    assert error.value.message.startswith(
        "This absence overlaps one already recorded: Vacation from 12/07/2026"
    )
    assert "until 12/12/2026" in error.value.message
    assert Absence.objects.count() == 1
    # Back to back is no overlap.
    absence_add(
        ctx=ui(team_lead),
        user_id=caseworker.pk,
        start=start + dt.timedelta(days=5),
        end=start + dt.timedelta(days=6),
        kind="sick",
    )
    assert Absence.objects.count() == 2


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_recording_an_absence_returns_the_active_appointments_inside_it(
    caseworker, team_lead, team
):
    from scheduling.models import AppointmentStatus
    from tests.cases.factories import CaseFactory
    from tests.scheduling.factories_planning import make_appointment

    case = CaseFactory(team=team, caseworker=caseworker)
    day = dt.datetime(2026, 12, 9, tzinfo=BERLIN)
    sent = make_appointment(case, caseworker, day.replace(hour=9), status=AppointmentStatus.SENT)
    confirmed = make_appointment(
        case, caseworker, day.replace(hour=11), status=AppointmentStatus.CONFIRMED
    )
    make_appointment(case, caseworker, day.replace(hour=13), status=AppointmentStatus.CANCELLED)
    make_appointment(case, caseworker, day + dt.timedelta(days=1, hours=9))  # the day after
    make_appointment(case, team_lead, day.replace(hour=9))  # someone else's

    absence = absence_add(
        ctx=ui(team_lead),
        user_id=caseworker.pk,
        start=day,
        end=day + dt.timedelta(days=1),
        kind="sick",
    )

    assert absence.appointments_to_move == [sent, confirmed]
    # Still booked: moving them is a person's decision (and tells the customer).
    sent.refresh_from_db()
    assert sent.status == AppointmentStatus.SENT
    row = AuditEvent.objects.get(object_type="absence")
    assert row.detail["appointments_to_move"] == [sent.pk, confirmed.pk]
    assert appointments_to_move(user_id=caseworker.pk) == [sent, confirmed]
