"""Staff calendars over REST: the own calendar (settings, consent, feed, sync, upload, absences),
a staff member's absences and calendar overview; who may see and change what; the audit rows."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from organisation.models import Role
from scheduling.calendars import MAX_ICS_BYTES
from scheduling.models import Absence, BusySource, BusyTime, StaffCalendar, SyncStatus
from tests.api.conftest import api_client, token_client
from tests.organisation.factories import UserFactory
from tests.scheduling.conftest import NOW, consenting_calendar, event_ics

pytestmark = pytest.mark.django_db

CALENDAR = "/api/v1/calendar/"
OWN_ABSENCES = "/api/v1/calendar/absences/"
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(5)]
TUESDAY_9 = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
VACATION = {
    "kind": "vacation",
    "start": "2026-11-30T00:00:00+01:00",
    "end": "2026-12-05T00:00:00+01:00",
    "note": "Urlaub",
}


@pytest.fixture(autouse=True)
def at_now():
    # Ticking: the sync through Radicale needs a running clock (timeouts, HTTP dates).
    with time_machine.travel(NOW) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _calendar_hosts(settings):
    """The example servers may be saved (the test Radicale runs on 127.0.0.1)."""
    settings.CALENDAR_ALLOWED_HOSTS = ["127.0.0.1", "dav.example.org", "example.org"]


@pytest.fixture
def colleague(team):
    """A second caseworker of the caseworker's team."""
    return UserFactory(username="colleague", role=Role.CASEWORKER, team=team)


@pytest.fixture
def other_team_lead(other_team):
    return UserFactory(username="lead_other", role=Role.TEAM_LEAD, team=other_team)


def staff_absences(user) -> str:
    return f"/api/v1/staff/{user.pk}/absences/"


def staff_calendar(user) -> str:
    return f"/api/v1/staff/{user.pk}/calendar/"


def audit_rows(**filters):
    return AuditEvent.objects.filter(channel="api", **filters)


def ics_file(*events: tuple[dt.datetime, dt.datetime], name: str = "k.ics") -> SimpleUploadedFile:
    body = "".join(event_ics(start, end) for start, end in events).encode()
    return SimpleUploadedFile(name, body, "text/calendar")


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("get", CALENDAR),
        ("patch", CALENDAR),
        ("post", "/api/v1/calendar/consent/"),
        ("post", "/api/v1/calendar/feed-token/"),
        ("post", "/api/v1/calendar/sync/"),
        ("post", "/api/v1/calendar/upload/"),
        ("delete", "/api/v1/calendar/upload/"),
        ("get", OWN_ABSENCES),
        ("post", OWN_ABSENCES),
        ("delete", "/api/v1/calendar/absences/1/"),
        ("get", "/api/v1/staff/1/absences/"),
        ("post", "/api/v1/staff/1/absences/"),
        ("delete", "/api/v1/staff/1/absences/1/"),
        ("get", "/api/v1/staff/1/calendar/"),
    ],
)
def test_anonymous_gets_401_everywhere(method, address):
    response = getattr(api_client(), method)(address)

    assert response.status_code == 401
    assert set(response.json()) == {"message", "extra"}
    assert response["WWW-Authenticate"].startswith("Token")
    assert not StaffCalendar.objects.exists()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("caseworker", 200),  # themselves
        ("team_lead", 200),  # the team lead of their team
        ("admin_user", 200),  # all staff calendars (no case contents)
        ("colleague", 403),  # the same team: known, but not theirs to read
        ("other_caseworker", 404),  # another team: indistinguishable from no one
        ("other_team_lead", 404),
    ],
)
def test_who_reads_a_caseworkers_absences_and_calendar(request, caseworker, persona, expected):
    Absence.objects.create(
        user=caseworker, kind="sick", start=TUESDAY_9, end=TUESDAY_9 + dt.timedelta(days=2)
    )
    client = token_client(request.getfixturevalue(persona))

    absences = client.get(staff_absences(caseworker))
    calendar = client.get(staff_calendar(caseworker))

    assert (absences.status_code, calendar.status_code) == (expected, expected)
    if expected != 200:
        assert set(absences.json()) == set(calendar.json()) == {"message", "extra"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("caseworker", 201),
        ("team_lead", 201),
        ("admin_user", 201),
        ("colleague", 403),
        ("other_caseworker", 404),
        ("other_team_lead", 404),
    ],
)
def test_who_records_and_removes_a_caseworkers_absence(request, caseworker, persona, expected):
    actor = request.getfixturevalue(persona)
    client = token_client(actor)
    existing = Absence.objects.create(
        user=caseworker, kind="training", start=TUESDAY_9, end=TUESDAY_9 + dt.timedelta(hours=4)
    )

    created = client.post(staff_absences(caseworker), VACATION, format="json")
    removed = client.delete(f"{staff_absences(caseworker)}{existing.pk}/")

    assert created.status_code == expected
    assert removed.status_code == (204 if expected == 201 else expected)
    if expected == 201:
        absence = Absence.objects.get(pk=created.json()["id"])
        assert (absence.user, absence.created_by) == (caseworker, actor)
        assert audit_rows(action="create", object_type="absence", actor=actor).exists()
        assert audit_rows(
            action="delete", object_type="absence", object_id=str(existing.pk), actor=actor
        ).exists()
        assert not Absence.objects.filter(pk=existing.pk).exists()
    else:
        assert list(Absence.objects.all()) == [existing]
        assert not audit_rows(object_type="absence").exists()


def test_an_unknown_staff_member_is_a_404(admin_user):
    response = token_client(admin_user).get("/api/v1/staff/999999/calendar/")

    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}


def test_an_absence_of_someone_else_under_this_address_is_a_404(caseworker, colleague, team_lead):
    theirs = Absence.objects.create(
        user=colleague, kind="sick", start=TUESDAY_9, end=TUESDAY_9 + dt.timedelta(days=1)
    )

    as_owner = token_client(caseworker).delete(f"{OWN_ABSENCES}{theirs.pk}/")
    as_lead = token_client(team_lead).delete(f"{staff_absences(caseworker)}{theirs.pk}/")

    assert (as_owner.status_code, as_lead.status_code) == (404, 404)
    assert Absence.objects.filter(pk=theirs.pk).exists()


def test_the_own_calendar_is_anyones_own_and_never_another_persons(
    caseworker, other_caseworker, admin_user
):
    consenting_calendar(other_caseworker, location="Außenstelle Süd")

    mine = token_client(caseworker).get(CALENDAR).json()
    admins = token_client(admin_user).get(CALENDAR).json()

    assert mine["user_id"] == caseworker.pk
    assert admins["user_id"] == admin_user.pk
    assert mine["location"] == admins["location"] == ""


# --- the own calendar: reading and changing the settings -------------------------------------------


def test_reading_the_own_calendar_shows_the_settings_without_the_password(caseworker):
    consenting_calendar(
        caseworker,
        working_hours=WORKING_HOURS,
        caldav_url="https://dav.example.org/",
        caldav_username="anna",
        caldav_password="geheim",
    )

    response = token_client(caseworker).get(CALENDAR)

    assert response.status_code == 200
    data = response.json()
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert data["working_hours"] == WORKING_HOURS
    assert data["weekly_minutes"] == 5 * 8 * 60
    assert data["part_time_share"] == 1.0
    assert data["channels"] == ["in_person", "phone"]
    assert data["caldav_url"] == "https://dav.example.org/"
    assert data["caldav_password_set"] is True
    assert "caldav_password" not in data
    assert "geheim" not in response.content.decode()
    assert data["consent_given"] is True
    assert data["consent_given_at"] is not None
    assert data["consent_text"]
    assert data["last_sync_status"] == "never"
    assert data["feed_url"].endswith(f"/scheduling/feed/{calendar.feed_token}.ics")


def test_an_unknown_query_parameter_is_a_400(caseworker):
    response = token_client(caseworker).get(CALENDAR, {"user": "2"})

    assert response.status_code == 400
    assert response.json()["extra"]["unknown"] == ["user"]


def test_changing_the_settings_stores_them_and_writes_an_audit_row(caseworker):
    response = token_client(caseworker).patch(
        CALENDAR,
        {
            "working_hours": [
                {"weekday": 1, "start": "13:00", "end": "16:00"},
                {"weekday": 1, "start": "08:00", "end": "12:00"},
            ],
            "part_time_share": 0.5,
            "channels": ["video", "in_person"],
            "rooms": ["1.23", "1.24"],
            "daily_cap": 5,
            "caldav_url": "https://dav.example.org/",
            "caldav_username": "anna",
            "caldav_password": "geheim",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["working_hours"] == [
        {"weekday": 1, "start": "08:00", "end": "12:00"},
        {"weekday": 1, "start": "13:00", "end": "16:00"},
    ]
    assert data["channels"] == ["in_person", "video"]
    assert data["caldav_password_set"] is True
    assert "geheim" not in response.content.decode()
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert str(calendar.part_time_share) == "0.50"
    assert calendar.rooms == ["1.23", "1.24"]
    assert calendar.caldav_password == "geheim"
    row = audit_rows(action="update", object_type="staff_calendar", actor=caseworker).get()
    assert row.detail["user_id"] == caseworker.pk
    assert "caldav_password" in row.detail["fields"]
    assert "geheim" not in str(row.detail)


def test_the_password_is_kept_when_omitted_and_removed_when_empty(caseworker):
    consenting_calendar(
        caseworker,
        caldav_url="https://dav.example.org/",
        caldav_username="anna",
        caldav_password="geheim",
    )
    client = token_client(caseworker)

    kept = client.patch(CALENDAR, {"location": "Hauptstelle"}, format="json")
    assert kept.json()["caldav_password_set"] is True
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == "geheim"

    removed = client.patch(CALENDAR, {"caldav_password": ""}, format="json")
    assert removed.json()["caldav_password_set"] is False
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == ""


def test_overlapping_working_hours_are_a_400_with_the_services_field_errors(caseworker):
    consenting_calendar(caseworker, working_hours=WORKING_HOURS)

    response = token_client(caseworker).patch(
        CALENDAR,
        {
            "working_hours": [
                {"weekday": 0, "start": "08:00", "end": "12:00"},
                {"weekday": 0, "start": "11:00", "end": "13:00"},
            ],
            "location": "Hauptstelle",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("The calendar settings were not saved")
    assert "overlap" in body["extra"]["fields"]["working_hours"][0]
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.working_hours == WORKING_HOURS
    assert calendar.location == ""
    assert not audit_rows(object_type="staff_calendar").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caldav_url": "https://dav.example.org/"}, "caldav_username"),
        ({"caldav_url": "kein Link", "caldav_username": "anna"}, "caldav_url"),
        ({"working_hours": [{"weekday": 0, "start": "8", "end": "12:00"}]}, "working_hours"),
        ({"part_time_share": 1.5}, "part_time_share"),
        ({"part_time_share": "viel"}, "part_time_share"),
        ({"channels": ["letter"]}, "channels"),
        ({"channels": []}, "channels"),  # nothing could be planned with them
        ({"daily_cap": 51}, "daily_cap"),
        ({"location": 5}, "location"),  # JSON types as the schema says, no coercion
        ({"walk_in_reserve_minutes": "30"}, "walk_in_reserve_minutes"),
        ({"working_hours": [{"weekday": True, "start": "08:00", "end": "12:00"}]}, "working_hours"),
        ({"feed_token": "selbst gewählt"}, "feed_token"),
        ({"consent_given_at": "2026-01-01T00:00:00Z"}, "consent_given_at"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field(caseworker, body, field):
    response = token_client(caseworker).patch(CALENDAR, body, format="json")

    assert response.status_code == 400
    payload = response.json()
    assert payload["message"]
    assert field in payload["extra"]["fields"]
    assert not audit_rows(object_type="staff_calendar").exists()


def test_a_body_that_is_not_an_object_is_a_400(caseworker):
    response = token_client(caseworker).patch(CALENDAR, [1, 2], format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}


# --- consent, feed address ------------------------------------------------------------------------


def test_giving_and_withdrawing_consent(caseworker):
    client = token_client(caseworker)

    given = client.post("/api/v1/calendar/consent/", {"given": True}, format="json")

    assert given.status_code == 200
    assert given.json()["consent_given"] is True
    assert given.json()["consent_given_at"] is not None
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.ICS,
        synced_at=NOW,
    )

    withdrawn = client.post("/api/v1/calendar/consent/", {"given": False}, format="json")

    assert withdrawn.status_code == 200
    assert withdrawn.json()["consent_given"] is False
    assert not BusyTime.objects.filter(user=caseworker).exists()
    details = [
        row.detail
        for row in audit_rows(object_type="staff_calendar", actor=caseworker).order_by("id")
    ]
    assert [d["consent"] for d in details] == [True, False]
    assert details[1]["busy_times_deleted"] == 1


@pytest.mark.parametrize(
    "body", [{}, {"given": "vielleicht"}, {"given": None}, {"given": 1}, {"given": "true"}]
)
def test_consent_needs_a_boolean(caseworker, body):
    response = token_client(caseworker).post("/api/v1/calendar/consent/", body, format="json")

    assert response.status_code == 400
    assert "given" in response.json()["extra"]["fields"]
    assert not StaffCalendar.objects.filter(user=caseworker, consent_given_at__isnull=False)


def test_a_new_feed_address_replaces_the_old_one(caseworker):
    old = consenting_calendar(caseworker).feed_token
    client = token_client(caseworker)

    response = client.post("/api/v1/calendar/feed-token/")

    assert response.status_code == 200
    new = StaffCalendar.objects.get(user=caseworker).feed_token
    assert new != old
    assert response.json() == {"feed_url": f"http://testserver/scheduling/feed/{new}.ics"}
    assert client.get(f"/scheduling/feed/{old}.ics").status_code == 404
    assert client.get(f"/scheduling/feed/{new}.ics").status_code == 200
    row = audit_rows(object_type="staff_calendar", actor=caseworker).get()
    assert row.detail == {"user_id": caseworker.pk, "feed_token": "regenerated"}


# --- sync now and upload --------------------------------------------------------------------------


def test_sync_now_reads_the_caldav_account(caseworker, remote_calendar):
    remote_calendar.add(TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1), summary="Arzttermin")
    consenting_calendar(
        caseworker,
        caldav_url=remote_calendar.base_url,
        caldav_username=remote_calendar.username,
        caldav_password="x",
    )

    response = token_client(caseworker).post("/api/v1/calendar/sync/")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["busy_times_read"] == 1
    assert data["counts"] == {"caldav": 1}
    assert data["last_sync_status"] == "ok"
    [row] = BusyTime.objects.filter(user=caseworker)
    assert (row.start, row.end, row.source) == (
        TUESDAY_9,
        TUESDAY_9 + dt.timedelta(hours=1),
        BusySource.CALDAV,
    )


def test_sync_now_without_consent_or_source_is_a_400(caseworker):
    client = token_client(caseworker)

    without_consent = client.post("/api/v1/calendar/sync/")
    consenting_calendar(caseworker)
    without_source = client.post("/api/v1/calendar/sync/")

    assert (without_consent.status_code, without_source.status_code) == (400, 400)
    assert without_consent.json()["message"] != without_source.json()["message"]


def test_a_server_that_is_down_is_a_400_and_keeps_the_busy_times(caseworker):
    from tests.scheduling.conftest import free_port

    consenting_calendar(
        caseworker, caldav_url=f"http://127.0.0.1:{free_port()}/", caldav_username="anna"
    )
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )

    response = token_client(caseworker).post("/api/v1/calendar/sync/")

    assert response.status_code == 400
    assert "caldav" in response.json()["extra"]["errors"]
    assert BusyTime.objects.filter(user=caseworker).count() == 1
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.ERROR


def test_an_upload_replaces_the_uploaded_busy_times(caseworker):
    consenting_calendar(caseworker)
    client = token_client(caseworker)

    response = client.post(
        "/api/v1/calendar/upload/",
        {"file": ics_file((TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2)))},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["busy_times_read"] == 1
    assert response.json()["counts"] == {"upload": 1}
    assert response.json()["last_sync_status"] == "ok"
    [row] = BusyTime.objects.filter(user=caseworker)
    assert (row.start, row.source) == (TUESDAY_9, BusySource.UPLOAD)
    row = audit_rows(object_type="staff_calendar", actor=caseworker).get()
    assert row.detail == {"user_id": caseworker.pk, "upload_busy_times": 1}


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("k.ics", b"kaputt", "text/calendar"),
        SimpleUploadedFile("k.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "text/calendar"),
        SimpleUploadedFile("big.ics", b"x" * (MAX_ICS_BYTES + 1), "text/calendar"),
    ],
    ids=["not-ics", "truncated", "too-big"],
)
def test_a_bad_upload_is_a_400_and_keeps_the_previous_busy_times(caseworker, upload):
    consenting_calendar(caseworker)
    client = token_client(caseworker)
    first = client.post(
        "/api/v1/calendar/upload/",
        {"file": ics_file((TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=2)))},
        format="multipart",
    )
    assert first.status_code == 200

    response = client.post("/api/v1/calendar/upload/", {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json()["message"]
    assert [(r.start, r.source) for r in BusyTime.objects.filter(user=caseworker)] == [
        (TUESDAY_9, BusySource.UPLOAD)
    ]
    assert audit_rows(object_type="staff_calendar").count() == 1  # the first upload only


def test_an_upload_without_a_file_or_consent_is_a_400(caseworker):
    client = token_client(caseworker)

    without_file = client.post("/api/v1/calendar/upload/", {}, format="multipart")
    without_consent = client.post(
        "/api/v1/calendar/upload/",
        {"file": ics_file((TUESDAY_9, TUESDAY_9 + dt.timedelta(hours=1)))},
        format="multipart",
    )

    assert without_file.status_code == 400
    assert "file" in without_file.json()["extra"]["fields"]
    assert without_consent.status_code == 400
    assert not BusyTime.objects.exists()


def test_an_upload_as_json_is_a_415(caseworker):
    consenting_calendar(caseworker)

    response = token_client(caseworker).post(
        "/api/v1/calendar/upload/", {"file": "BEGIN:VCALENDAR"}, format="json"
    )

    assert response.status_code == 415
    assert set(response.json()) == {"message", "extra"}


# --- absences -------------------------------------------------------------------------------------


def test_own_absences_are_recorded_listed_and_removed(caseworker):
    client = token_client(caseworker)

    created = client.post(OWN_ABSENCES, VACATION, format="json")

    assert created.status_code == 201
    absence = created.json()
    assert absence["kind"] == "vacation"
    assert absence["user_id"] == caseworker.pk
    assert absence["created_by"] == caseworker.username
    assert dt.datetime.fromisoformat(absence["start"]) == dt.datetime(
        2026, 11, 29, 23, tzinfo=dt.UTC
    )
    assert absence.pop("appointments_to_move") == []
    listed = client.get(OWN_ABSENCES).json()
    assert listed["count"] == 1
    assert listed["results"] == [absence]
    row = audit_rows(action="create", object_type="absence").get()
    assert (row.actor, row.object_id) == (caseworker, str(absence["id"]))

    removed = client.delete(f"{OWN_ABSENCES}{absence['id']}/")

    assert removed.status_code == 204
    assert not Absence.objects.exists()
    assert audit_rows(action="delete", object_type="absence", actor=caseworker).exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"end": "2026-11-29T00:00:00+01:00"}, None),  # ends before it starts
        ({"end": "2028-01-01T00:00:00+01:00"}, None),  # longer than a year
        ({"kind": "holiday"}, "kind"),
        ({"start": "morgen"}, "start"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_a_bad_absence_is_a_400_and_nothing_is_recorded(caseworker, team_lead, override, field):
    for client, address in (
        (token_client(caseworker), OWN_ABSENCES),
        (token_client(team_lead), staff_absences(caseworker)),
    ):
        response = client.post(address, {**VACATION, **override}, format="json")

        assert response.status_code == 400
        body = response.json()
        assert body["message"]
        if field:
            assert field in body["extra"]["fields"]
    assert not Absence.objects.exists()
    assert not audit_rows(object_type="absence").exists()


def test_the_absence_list_starts_today_by_default_and_takes_a_since_date(caseworker):
    past = Absence.objects.create(
        user=caseworker,
        kind="sick",
        start=NOW - dt.timedelta(days=10),
        end=NOW - dt.timedelta(days=8),
    )
    ahead = Absence.objects.create(
        user=caseworker, kind="training", start=TUESDAY_9, end=TUESDAY_9 + dt.timedelta(hours=8)
    )
    client = token_client(caseworker)

    default = client.get(OWN_ABSENCES).json()
    since = client.get(OWN_ABSENCES, {"since": "2026-11-01"}).json()
    bad = client.get(OWN_ABSENCES, {"since": "gestern"})
    unknown = client.get(OWN_ABSENCES, {"user": caseworker.pk})

    assert [a["id"] for a in default["results"]] == [ahead.pk]
    assert [a["id"] for a in since["results"]] == [past.pk, ahead.pk]
    assert bad.status_code == 400
    assert "since" in bad.json()["extra"]["fields"]
    assert unknown.status_code == 400


def test_a_team_lead_reading_absences_is_audited_the_staff_member_is_not(caseworker, team_lead):
    Absence.objects.create(
        user=caseworker, kind="sick", start=TUESDAY_9, end=TUESDAY_9 + dt.timedelta(days=1)
    )

    token_client(caseworker).get(staff_absences(caseworker))
    assert not audit_rows(object_type="absence").exists()

    response = token_client(team_lead).get(staff_absences(caseworker))

    assert response.status_code == 200
    row = audit_rows(action="list", object_type="absence").get()
    assert row.actor == team_lead
    assert row.detail["user_id"] == caseworker.pk


def test_an_admin_records_an_absence_for_a_team_lead(admin_user, team_lead):
    """The HR or time-keeping system: an admin's token pushing absences of any staff member."""
    response = token_client(admin_user).post(
        staff_absences(team_lead), {**VACATION, "kind": "sick", "note": ""}, format="json"
    )

    assert response.status_code == 201
    absence = Absence.objects.get()
    assert (absence.user, absence.kind, absence.created_by) == (team_lead, "sick", admin_user)
    row = audit_rows(action="create", object_type="absence").get()
    assert row.actor == admin_user
    assert row.detail["user_id"] == team_lead.pk


# --- a staff member's calendar --------------------------------------------------------------------


def test_the_team_lead_sees_a_caseworkers_busy_times_without_addresses(caseworker, team_lead):
    calendar = consenting_calendar(
        caseworker,
        working_hours=WORKING_HOURS,
        caldav_url="https://dav.example.org/",
        caldav_username="anna",
        caldav_password="geheim",
        ics_url="https://example.org/privat-geheim.ics",
        daily_cap=4,
    )
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )

    response = token_client(team_lead).get(staff_calendar(caseworker), {"weeks": 1})

    assert response.status_code == 200
    data = response.json()
    text = response.content.decode()
    for secret in ("geheim", "dav.example.org", "anna", calendar.feed_token):
        assert secret not in text
    assert "feed_url" not in data
    assert (data["user_id"], data["daily_cap"], data["consent_given"]) == (caseworker.pk, 4, True)
    assert (data["has_caldav"], data["has_ics_feed"]) == (True, True)
    busy = [
        (dt.datetime.fromisoformat(i["start"]), dt.datetime.fromisoformat(i["end"]))
        for i in data["busy"]
    ]
    start, end = (dt.datetime.fromisoformat(data[k]) for k in ("window_start", "window_end"))
    assert end - start == dt.timedelta(weeks=1)
    # Tuesday 08:00-16:00 Berlin is 07:00-15:00 UTC; the busy time 09:00-10:00 UTC lies inside.
    tuesday_free = [
        (dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC), TUESDAY_9),
        (TUESDAY_9 + dt.timedelta(hours=1), dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC)),
    ]
    for free_start, free_end in tuesday_free:
        assert not any(s < free_end and e > free_start for s, e in busy)
    assert any(s <= TUESDAY_9 and e >= TUESDAY_9 + dt.timedelta(hours=1) for s, e in busy)
    row = audit_rows(action="view", object_type="staff_calendar").get()
    assert (row.actor, row.detail["user_id"]) == (team_lead, caseworker.pk)


def test_a_staff_member_without_a_calendar_is_busy_all_the_time_and_no_row_is_made(
    admin_user, caseworker
):
    response = token_client(admin_user).get(staff_calendar(caseworker))

    assert response.status_code == 200
    data = response.json()
    assert data["consent_given"] is False
    assert [(i["start"], i["end"]) for i in data["busy"]] == [
        (data["window_start"], data["window_end"])
    ]
    assert not StaffCalendar.objects.exists()


@pytest.mark.parametrize("query", [{"weeks": "0"}, {"weeks": "9"}, {"weeks": "x"}, {"from": "1"}])
def test_a_bad_window_is_a_400(caseworker, team_lead, query):
    response = token_client(team_lead).get(staff_calendar(caseworker), query)

    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}


# --- sync with a worker, removing uploads, addresses --------------------------------------------


def test_sync_now_with_a_worker_is_a_202_and_the_calendar_says_it_waits(
    caseworker, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(
        "scheduling.tasks.scheduling_calendar_sync.delay", lambda user_id: sent.append(user_id)
    )
    consenting_calendar(caseworker, ics_url="https://example.org/a.ics")
    client = token_client(caseworker)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/calendar/sync/")

    assert response.status_code == 202
    data = response.json()
    assert (data["sync_pending"], data["busy_times_read"], data["counts"]) == (True, 0, {})
    assert sent == [caseworker.pk]
    assert client.get(CALENDAR).json()["sync_pending"] is True
    row = audit_rows(object_type="staff_calendar", actor=caseworker).get()
    assert row.detail == {"user_id": caseworker.pk, "sync": "queued"}


def test_sync_now_without_a_worker_answers_with_the_result_and_is_audited(caseworker):
    from tests.scheduling.conftest import free_port

    consenting_calendar(caseworker, ics_url=f"http://127.0.0.1:{free_port()}/a.ics")

    response = token_client(caseworker).post("/api/v1/calendar/sync/")

    assert response.status_code == 400
    assert "refused the connection" in response.json()["extra"]["errors"]["ics"]
    assert "HTTPConnectionPool" not in response.json()["message"]
    row = audit_rows(object_type="staff_calendar", actor=caseworker).get()
    assert row.detail == {"user_id": caseworker.pk, "sync": "in_request"}


def test_uploaded_busy_times_are_removed_and_the_others_stay(caseworker):
    consenting_calendar(caseworker)
    for source in (BusySource.UPLOAD, BusySource.CALDAV):
        BusyTime.objects.create(
            user=caseworker,
            start=TUESDAY_9,
            end=TUESDAY_9 + dt.timedelta(hours=1),
            source=source,
            synced_at=NOW,
        )

    response = token_client(caseworker).delete("/api/v1/calendar/upload/")

    assert response.status_code == 200
    assert response.json() == {"busy_times_deleted": 1}
    assert list(BusyTime.objects.values_list("source", flat=True)) == ["caldav"]
    row = audit_rows(object_type="staff_calendar", action="delete").get()
    assert row.detail == {"user_id": caseworker.pk, "upload_busy_times_deleted": 1}


def test_removing_uploads_touches_only_the_callers_own(caseworker, team_lead):
    consenting_calendar(caseworker)
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.UPLOAD,
        synced_at=NOW,
    )

    response = token_client(team_lead).delete("/api/v1/calendar/upload/")

    assert response.json() == {"busy_times_deleted": 0}
    assert BusyTime.objects.count() == 1


def test_clearing_the_feed_address_deletes_its_busy_times(caseworker):
    consenting_calendar(caseworker, ics_url="https://example.org/a.ics")
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.ICS,
        synced_at=NOW,
    )

    response = token_client(caseworker).patch(CALENDAR, {"ics_url": ""}, format="json")

    assert response.status_code == 200
    assert not BusyTime.objects.exists()
    row = audit_rows(object_type="staff_calendar").get()
    assert row.detail["busy_times_deleted"] == {"ics": 1}


@pytest.mark.parametrize(
    ("body", "field", "stored"),
    [
        ({"ics_url": "webcal://example.org/a.ics"}, None, "https://example.org/a.ics"),
        ({"caldav_url": "ftp://dav.example.org/", "caldav_username": "anna"}, "caldav_url", ""),
        ({"ics_url": "http://exa mple.org/a b.ics"}, "ics_url", ""),
    ],
)
def test_addresses_through_the_api_as_through_the_page(caseworker, body, field, stored):
    response = token_client(caseworker).patch(CALENDAR, body, format="json")

    if field is None:
        assert response.status_code == 200
        assert response.json()["ics_url"] == stored
    else:
        assert response.status_code == 400
        assert field in response.json()["extra"]["fields"]
        assert "Gib " not in response.content.decode()
        assert not StaffCalendar.objects.filter(user=caseworker).exclude(**{field: ""}).exists()


# --- absences: range, overlaps, appointments inside --------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00", "0001-01-02T00:00"),
        ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00+01:00"),
        ("9999-12-30T00:00", "9999-12-31T00:00"),
    ],
)
def test_an_absence_far_out_of_range_is_a_400_not_a_crash(caseworker, start, end):
    response = token_client(caseworker).post(
        OWN_ABSENCES, {"kind": "sick", "start": start, "end": end}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}
    assert not Absence.objects.exists()


def test_an_overlapping_absence_is_a_400_naming_the_existing_one(caseworker, team_lead):
    first = token_client(caseworker).post(OWN_ABSENCES, VACATION, format="json").json()

    response = token_client(team_lead).post(
        staff_absences(caseworker),
        {"kind": "sick", "start": "2026-12-01T00:00:00+01:00", "end": "2026-12-02T00:00:00+01:00"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert "overlaps one already recorded: Vacation" in body["message"]
    assert body["extra"]["overlaps"] == first["id"]


def test_an_absence_over_booked_appointments_lists_them_to_be_moved(caseworker, team_lead, team):
    from scheduling.models import AppointmentStatus
    from tests.cases.factories import CaseFactory
    from tests.scheduling.factories_planning import make_appointment

    case = CaseFactory(team=team, caseworker=caseworker)
    appointment = make_appointment(
        case,
        caseworker,
        dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        status=AppointmentStatus.CONFIRMED,
    )

    response = token_client(team_lead).post(staff_absences(caseworker), VACATION, format="json")

    assert response.status_code == 201
    [listed] = response.json()["appointments_to_move"]
    assert (listed["id"], listed["case_id"], listed["status"]) == (
        appointment.pk,
        case.pk,
        "confirmed",
    )
    assert listed["customer_number"] == case.customer.customer_number
    assert listed["case_url"].endswith(f"/cases/{case.pk}/")
    own = token_client(caseworker).get(CALENDAR).json()
    assert [item["id"] for item in own["appointments_to_move"]] == [appointment.pk]
