"""The "My calendar" page and the private feed: who may see and change what."""

import datetime as dt
from decimal import Decimal

import icalendar
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from jobcenter.exceptions import ApplicationError
from scheduling.models import (
    URL_INVALID_MESSAGE,
    Absence,
    BusySource,
    BusyTime,
    StaffCalendar,
)

pytestmark = pytest.mark.django_db

PAGE = "scheduling:calendar_detail"
SETTINGS = {
    "hours_0": "08:00-12:00, 13:00-16:00",
    "hours_1": "8:00-12:00",
    "hours_2": "",
    "hours_3": "",
    "hours_4": "",
    "hours_5": "",
    "hours_6": "",
    "part_time_share": "0.5",
    "channels": ["in_person", "video"],
    "location": "Hauptstelle",
    "rooms": "1.23, 1.24",
    "walk_in_reserve_minutes": "30",
    "daily_cap": "5",
    "caldav_url": "",
    "caldav_username": "",
    "caldav_password": "",
    "ics_url": "",
}


def test_anonymous_visitors_are_sent_to_the_login(client):
    for name in (PAGE, "scheduling:calendar_sync", "scheduling:calendar_consent"):
        response = client.get(reverse(name)) if name == PAGE else client.post(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_page_shows_my_calendar_with_consent_text_and_feed_address(client, caseworker):
    client.force_login(caseworker)

    response = client.get(reverse(PAGE))

    assert response.status_code == 200
    html = response.content.decode()
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.feed_token in html
    assert 'id="consent-text"' in html
    assert 'type="password"' in html


@override_settings(CALENDAR_ALLOWED_HOSTS=["dav.example.org"])
def test_saving_settings_stores_them_and_never_shows_the_password_back(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"),
        {
            **SETTINGS,
            "caldav_url": "https://dav.example.org/",
            "caldav_username": "anna",
            "caldav_password": "geheim-123",
        },
    )

    assert response.status_code == 302
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.working_hours == [
        {"weekday": 0, "start": "08:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "16:00"},
        {"weekday": 1, "start": "08:00", "end": "12:00"},
    ]
    assert calendar.rooms == ["1.23", "1.24"]
    assert calendar.caldav_password == "geheim-123"
    page = client.get(reverse(PAGE)).content.decode()
    assert "geheim-123" not in page
    assert 'id="caldav-password-state"' in page
    assert AuditEvent.objects.filter(object_type="staff_calendar", actor=caseworker).exists()


@override_settings(CALENDAR_ALLOWED_HOSTS=[])
def test_a_refused_calendar_address_is_shown_at_its_field_and_nothing_is_saved(client, caseworker):
    client.force_login(caseworker)

    with translation.override("en"):
        response = client.post(
            reverse("scheduling:calendar_settings_update"),
            {
                **SETTINGS,
                "ics_url": "http://169.254.169.254/latest/meta-data/",
                "caldav_password": "geheim-123",
            },
        )

    assert response.status_code == 400
    field_errors = response.context["settings_form"].errors
    assert list(field_errors) == ["ics_url"]
    assert "169.254.169.254" in field_errors["ics_url"][0]
    assert "geheim-123" not in response.content.decode()
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert (calendar.ics_url, calendar.has_caldav_password) == ("", False)


def test_invalid_working_hours_show_the_error_and_save_nothing(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"), {**SETTINGS, "hours_2": "12:00-09:00"}
    )

    assert response.status_code == 400
    assert 'id="settings-errors"' in response.content.decode()
    assert StaffCalendar.objects.get(user=caseworker).working_hours == []


def test_consent_is_given_and_withdrawn_on_the_page(client, caseworker):
    client.force_login(caseworker)

    client.post(reverse("scheduling:calendar_consent"), {"consent": "on"})
    assert StaffCalendar.objects.get(user=caseworker).has_consent

    BusyTime.objects.create(
        user=caseworker,
        start=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC),
        source=BusySource.UPLOAD,
        synced_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    client.post(reverse("scheduling:calendar_consent"), {})
    assert not StaffCalendar.objects.get(user=caseworker).has_consent
    assert not BusyTime.objects.filter(user=caseworker).exists()


@time_machine.travel(dt.datetime(2029, 12, 1, 9, tzinfo=dt.UTC), tick=False)
def test_absences_are_added_and_another_staff_members_absence_is_not_found(
    client, caseworker, other_caseworker
):
    theirs = Absence.objects.create(
        user=other_caseworker,
        start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2030, 1, 2, tzinfo=dt.UTC),
        kind="vacation",
    )
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:absence_add"),
        {
            "kind": "training",
            "start": "2030-02-03T08:00",
            "end": "2030-02-03T16:00",
            "note": "Schulung",
        },
    )
    assert response.status_code == 302
    mine = Absence.objects.get(user=caseworker)
    assert "Schulung" in client.get(reverse(PAGE)).content.decode()

    assert client.post(reverse("scheduling:absence_remove", args=[theirs.pk])).status_code == 404
    assert Absence.objects.filter(pk=theirs.pk).exists()
    assert client.post(reverse("scheduling:absence_remove", args=[mine.pk])).status_code == 302
    assert not Absence.objects.filter(pk=mine.pk).exists()


def test_an_absence_that_ends_before_it_starts_is_refused(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:absence_add"),
        {"kind": "sick", "start": "2030-02-03T08:00", "end": "2030-02-02T08:00"},
    )

    assert response.status_code == 400
    assert not Absence.objects.exists()


def test_sync_now_without_consent_shows_the_reason(client, caseworker):
    client.force_login(caseworker)

    response = client.post(reverse("scheduling:calendar_sync"), follow=True)

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_a_bad_upload_shows_the_error_next_to_the_field(client, caseworker):
    StaffCalendar.objects.create(
        user=caseworker, consent_given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    )
    client.force_login(caseworker)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("scheduling:calendar_upload"),
        {"file": SimpleUploadedFile("k.ics", b"kaputt", "text/calendar")},
    )

    assert response.status_code == 400
    assert 'id="id_file_error"' in response.content.decode()


def test_the_feed_answers_its_token_without_login_and_a_new_token_ends_the_old(client, caseworker):
    token = StaffCalendar.objects.create(user=caseworker).feed_token

    response = client.get(reverse("scheduling:calendar_feed", args=[token]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert icalendar.Calendar.from_ical(response.content)["METHOD"] == "PUBLISH"

    client.force_login(caseworker)
    client.post(reverse("scheduling:calendar_feed_token_regenerate"))
    client.logout()
    assert client.get(reverse("scheduling:calendar_feed", args=[token])).status_code == 404
    new = StaffCalendar.objects.get(user=caseworker).feed_token
    assert client.get(reverse("scheduling:calendar_feed", args=[new])).status_code == 200


def test_an_unknown_feed_token_is_not_found(client):
    assert client.get(reverse("scheduling:calendar_feed", args=["erraten"])).status_code == 404


def test_my_page_never_shows_another_staff_members_calendar(client, caseworker, other_caseworker):
    theirs = StaffCalendar.objects.create(user=other_caseworker, location="Außenstelle Süd")
    client.force_login(caseworker)

    html = client.get(reverse(PAGE)).content.decode()

    assert theirs.feed_token not in html
    assert "Außenstelle Süd" not in html


def test_sync_now_reads_my_caldav_calendar_and_says_how_many(client, caseworker, remote_calendar):
    remote_calendar.add(
        dt.datetime(2030, 1, 8, 9, tzinfo=dt.UTC), dt.datetime(2030, 1, 8, 10, tzinfo=dt.UTC)
    )
    remote_calendar.add(
        dt.datetime(2030, 1, 9, 9, tzinfo=dt.UTC), dt.datetime(2030, 1, 9, 10, tzinfo=dt.UTC)
    )
    StaffCalendar.objects.create(
        user=caseworker,
        consent_given_at=dt.datetime(2029, 12, 1, tzinfo=dt.UTC),
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
    )
    with time_machine.travel(dt.datetime(2030, 1, 7, 8, tzinfo=dt.UTC), tick=False):
        client.force_login(caseworker)
        response = client.post(reverse("scheduling:calendar_sync"), follow=True)

    assert BusyTime.objects.filter(user=caseworker).count() == 2
    assert response.context["calendar"].last_sync_status == "ok"
    assert 'id="busy-count">2<' in response.content.decode()


def test_the_admin_lists_calendars_without_password_or_feed_token(client, admin_user, caseworker):
    calendar = StaffCalendar.objects.create(user=caseworker, caldav_password="geheim-123")
    # What organisation.services.CONFIGURATION_PERMISSIONS should grant administrators (see report).
    admin_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="scheduling", codename="view_staffcalendar")
    )
    client.force_login(admin_user)

    listing = client.get(reverse("admin:scheduling_staffcalendar_changelist"))
    detail = client.get(reverse("admin:scheduling_staffcalendar_change", args=[calendar.pk]))

    assert listing.status_code == detail.status_code == 200
    assert "geheim-123" not in detail.content.decode()
    assert calendar.feed_token not in detail.content.decode()


# --- part-time share, addresses ------------------------------------------------------------------


def test_a_part_time_share_with_a_comma_is_read_and_shown_with_one(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"), {**SETTINGS, "part_time_share": "0,5"}
    )

    assert response.status_code == 302
    assert StaffCalendar.objects.get(user=caseworker).part_time_share == Decimal("0.50")
    html = client.get(reverse(PAGE)).content.decode()
    assert 'name="part_time_share" value="0,50"' in html
    assert 'inputmode="decimal"' in html


@pytest.mark.parametrize("value", ["0", "1,5"])
def test_a_part_time_share_out_of_range_names_the_limits_with_commas(client, caseworker, value):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"), {**SETTINGS, "part_time_share": value}
    )

    assert response.status_code == 400
    [message] = response.context["settings_form"].errors["part_time_share"]
    assert "0,1" in message
    assert "1,0" in message
    assert "0.1" not in message


@override_settings(CALENDAR_ALLOWED_HOSTS=["kalender.example.de"])
def test_a_webcal_feed_address_is_saved_as_https(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"),
        {**SETTINGS, "ics_url": "webcal://kalender.example.de/anna.ics"},
    )

    assert response.status_code == 302
    assert StaffCalendar.objects.get(user=caseworker).ics_url == (
        "https://kalender.example.de/anna.ics"
    )


@override_settings(CALENDAR_ALLOWED_HOSTS=["kalender.example.de"])
def test_a_caldav_address_without_scheme_is_read_as_https(client, caseworker):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:calendar_settings_update"),
        {**SETTINGS, "caldav_url": "kalender.example.de/dav/", "caldav_username": "anna"},
    )

    assert response.status_code == 302
    assert StaffCalendar.objects.get(user=caseworker).caldav_url == (
        "https://kalender.example.de/dav/"
    )


@override_settings(CALENDAR_ALLOWED_HOSTS=[])
@pytest.mark.parametrize(
    ("field", "url", "malformed"),
    [
        ("caldav_url", "ftp://kalender.example.de/dav/", False),
        ("caldav_url", "webcal://", False),
        ("caldav_url", "https://kalen der.example.de/dav/", True),
        ("ics_url", "ftp://kalender.example.de/a.ics", False),
        ("ics_url", "http://exa mple.de/a b.ics", True),
        ("ics_url", "http://", True),
    ],
)
def test_an_address_that_cannot_be_read_is_refused_at_its_field_formally(
    client, caseworker, field, url, malformed
):
    client.force_login(caseworker)
    data = {**SETTINGS, field: url}
    if field == "caldav_url":
        data["caldav_username"] = "anna"

    response = client.post(reverse("scheduling:calendar_settings_update"), data)

    assert response.status_code == 400
    errors = response.context["settings_form"].errors
    assert list(errors) == [field]
    if malformed:  # the model's own message, not Django's "Enter a valid URL."
        assert errors[field] == [str(URL_INVALID_MESSAGE)]
    html = response.content.decode()
    assert "Gib " not in html  # the informal German of another catalogue
    assert StaffCalendar.objects.get(user=caseworker).caldav_url == ""


# --- sync now: in the request, or sent to a worker ----------------------------------------------


@pytest.fixture
def with_worker(settings, monkeypatch):
    """A broker is configured: "Sync now" sends the task (recorded here instead of sent)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(
        "scheduling.tasks.scheduling_calendar_sync.delay", lambda user_id: sent.append(user_id)
    )
    return sent


@time_machine.travel(dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC), tick=False)
def test_sync_now_with_a_worker_sends_the_task_and_the_status_polls(
    client, caseworker, with_worker, django_capture_on_commit_callbacks
):
    from scheduling.services import calendar_sync

    StaffCalendar.objects.create(
        user=caseworker,
        consent_given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ics_url="http://127.0.0.1:1/a.ics",
    )
    client.force_login(caseworker)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scheduling:calendar_sync"), follow=True)

    assert with_worker == [caseworker.pk]
    html = response.content.decode()
    assert 'hx-get="/scheduling/calendar/sync/state/"' in html
    assert 'hx-trigger="every 2s"' in html
    row = AuditEvent.objects.get(object_type="staff_calendar", actor=caseworker)
    assert row.detail == {"user_id": caseworker.pk, "sync": "queued"}

    polled = client.get(reverse("scheduling:calendar_sync_state"), headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert polled.content.decode().lstrip().startswith('<div id="calendar-sync-state"')
    assert "every 2s" in polled.content.decode()

    # The worker runs the sync (it fails here: nobody listens) and records the outcome.
    with pytest.raises(ApplicationError):
        calendar_sync(user_id=caseworker.pk)
    polled = client.get(reverse("scheduling:calendar_sync_state"), headers={"HX-Request": "true"})
    fragment = polled.content.decode()
    assert "every 2s" not in fragment
    assert 'id="sync-error"' in fragment
    assert "<html" not in fragment


def test_sync_now_with_htmx_answers_with_the_status_fragment(client, caseworker, with_worker):
    StaffCalendar.objects.create(
        user=caseworker,
        consent_given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ics_url="http://127.0.0.1:1/a.ics",
    )
    client.force_login(caseworker)

    response = client.post(reverse("scheduling:calendar_sync"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="calendar-sync-state"')
    assert 'id="sync-notice"' in fragment
    assert "<html" not in fragment


def test_sync_now_with_htmx_and_no_consent_answers_400_with_the_reason(client, caseworker):
    client.force_login(caseworker)

    response = client.post(reverse("scheduling:calendar_sync"), headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert 'id="sync-error"' in response.content.decode()


def test_the_sync_state_without_htmx_is_the_page_and_needs_a_login(client, caseworker):
    assert client.get(reverse("scheduling:calendar_sync_state")).status_code == 302
    client.force_login(caseworker)

    response = client.get(reverse("scheduling:calendar_sync_state"))

    assert response.status_code == 302
    assert response["Location"] == reverse(PAGE)


def test_sync_now_in_the_request_records_who_asked(client, caseworker, monkeypatch):
    StaffCalendar.objects.create(
        user=caseworker,
        consent_given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ics_url="http://127.0.0.1:1/a.ics",
    )
    client.force_login(caseworker)

    response = client.post(reverse("scheduling:calendar_sync"), follow=True)

    row = AuditEvent.objects.get(object_type="staff_calendar", actor=caseworker)
    assert row.detail == {"user_id": caseworker.pk, "sync": "in_request"}
    assert 'id="sync-status"' in response.content.decode()
    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == "error"


# --- uploads -------------------------------------------------------------------------------------


def test_uploaded_busy_times_are_removed_from_the_page(client, caseworker):
    StaffCalendar.objects.create(
        user=caseworker, consent_given_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    )
    for source in (BusySource.UPLOAD, BusySource.ICS):
        BusyTime.objects.create(
            user=caseworker,
            start=dt.datetime(2099, 12, 1, 9, tzinfo=dt.UTC),
            end=dt.datetime(2099, 12, 1, 10, tzinfo=dt.UTC),
            source=source,
            synced_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        )
    client.force_login(caseworker)
    assert 'id="upload-remove"' in client.get(reverse(PAGE)).content.decode()

    response = client.post(reverse("scheduling:calendar_upload_remove"), follow=True)

    assert list(BusyTime.objects.values_list("source", flat=True)) == ["ics"]
    assert 'id="upload-remove"' not in response.content.decode()
    assert AuditEvent.objects.filter(object_type="staff_calendar", action="delete").exists()


def test_removing_uploads_needs_a_login_and_a_post(client, caseworker):
    assert client.post(reverse("scheduling:calendar_upload_remove")).status_code == 302
    client.force_login(caseworker)
    assert client.get(reverse("scheduling:calendar_upload_remove")).status_code == 405


# --- absences ------------------------------------------------------------------------------------

NOW_PAGE = dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC)


@time_machine.travel(NOW_PAGE, tick=False)
def test_an_absence_in_the_past_is_listed_and_can_be_removed(client, caseworker):
    client.force_login(caseworker)

    client.post(
        reverse("scheduling:absence_add"),
        {"kind": "sick", "start": "2026-11-23T00:00", "end": "2026-11-25T00:00"},
    )
    absence = Absence.objects.get(user=caseworker)
    old = Absence.objects.create(
        user=caseworker,
        start=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 10, 2, tzinfo=dt.UTC),
        kind="training",
    )

    html = client.get(reverse(PAGE)).content.decode()

    assert reverse("scheduling:absence_remove", args=[absence.pk]) in html
    assert reverse("scheduling:absence_remove", args=[old.pk]) not in html  # over 30 days ago
    assert client.post(reverse("scheduling:absence_remove", args=[absence.pk])).status_code == 302
    assert not Absence.objects.filter(pk=absence.pk).exists()


@time_machine.travel(NOW_PAGE, tick=False)
def test_an_overlapping_absence_is_refused_on_the_page(client, caseworker):
    client.force_login(caseworker)
    first = {"kind": "vacation", "start": "2026-12-14T00:00", "end": "2026-12-19T00:00"}
    assert client.post(reverse("scheduling:absence_add"), first).status_code == 302

    response = client.post(
        reverse("scheduling:absence_add"),
        {"kind": "sick", "start": "2026-12-15T00:00", "end": "2026-12-16T00:00"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="absence-errors"' in html
    assert "14.12.2026" in html  # the existing absence is named
    assert Absence.objects.count() == 1


@time_machine.travel(NOW_PAGE, tick=False)
@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01T00:00", "0001-01-02T00:00"), ("9999-12-30T00:00", "9999-12-31T00:00")],
)
def test_an_absence_in_year_1_or_9999_is_an_inline_error(client, caseworker, start, end):
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:absence_add"), {"kind": "sick", "start": start, "end": end}
    )

    assert response.status_code == 400
    assert 'id="absence-errors"' in response.content.decode()
    assert not Absence.objects.exists()


@time_machine.travel(NOW_PAGE, tick=False)
def test_recording_an_absence_over_booked_appointments_warns_and_lists_them(
    client, caseworker, team
):
    from scheduling.models import AppointmentStatus
    from tests.cases.factories import CaseFactory
    from tests.scheduling.factories_planning import make_appointment

    case = CaseFactory(team=team, caseworker=caseworker)
    start = dt.datetime(2026, 12, 9, 9, tzinfo=dt.UTC)
    for hour, status in ((0, AppointmentStatus.SENT), (2, AppointmentStatus.CONFIRMED)):
        make_appointment(case, caseworker, start + dt.timedelta(hours=hour), status=status)
    client.force_login(caseworker)

    response = client.post(
        reverse("scheduling:absence_add"),
        {"kind": "sick", "start": "2026-12-09T00:00", "end": "2026-12-10T00:00"},
        follow=True,
    )

    html = response.content.decode()
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "2" in warnings[0]
    assert 'id="appointments-to-move"' in html
    assert html.count(reverse("cases:case_detail", args=[case.pk])) == 2


def test_the_feed_answers_head_requests(client, caseworker):
    token = StaffCalendar.objects.create(user=caseworker).feed_token

    response = client.head(reverse("scheduling:calendar_feed", args=[token]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert client.post(reverse("scheduling:calendar_feed", args=[token])).status_code == 405
