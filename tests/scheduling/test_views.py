"""The "My calendar" page and the private feed: who may see and change what."""

import datetime as dt

import icalendar
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from scheduling.models import Absence, BusySource, BusyTime, StaffCalendar

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
