"""/api/v1/cases/{id}/contact-agreement/, /cases/{id}/appointments/, /appointments/{id}/cancel/,
/appointments/{id}/outcome/, /missed-appointment-reviews/{id}/decide/."""

# ruff: noqa: F811 - the fixtures come from tests.api.conftest
import types

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from organisation.services import token_issue
from scheduling.models import (
    AppointmentStatus,
    ContactAgreement,
    InvitationChannel,
    MissedAppointmentReview,
)
from tests.api.conftest import PERSONAS, _fresh_throttle, as_persona  # noqa: F401 - fixtures
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_deliveries import german_template, record_delivery, record_reminder
from tests.scheduling.test_appointments import local, make_appointment, make_staff

DENIED = {"other_caseworker": 404, "admin_user": 403, "anonymous": 401}
AGREEMENT = {
    "cadence_days": 21,
    "window_start_days": -2,
    "window_end_days": 4,
    "channels": ["phone"],
    "duration_minutes": 30,
    "purpose": "",
}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def no_sending(monkeypatch):
    import scheduling.tasks as tasks

    sent = []
    monkeypatch.setattr(
        tasks, "scheduling_invitation_send", types.SimpleNamespace(delay=sent.append)
    )
    return sent


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"])


@pytest.fixture
def own_case(team, anna):
    return CaseFactory(team=team, caseworker=anna)


@pytest.fixture
def past(own_case, anna):
    return make_appointment(own_case, anna, local(23, 7), status=AppointmentStatus.SENT)


@pytest.fixture
def future(own_case, anna):
    return make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.CONFIRMED)


BOOKING = {
    "staff": None,  # set per test: the case's caseworker
    "start": "2026-11-26T10:00:00+01:00",
    "duration_minutes": 30,
    "channel": "in_person",
    "purpose": "Besprechung der Bewerbungen",
}


def english(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


def german(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="de")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


def agreement_url(case) -> str:
    return f"/api/v1/cases/{case.pk}/contact-agreement/"


# --- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_the_agreement_and_the_appointments(as_persona, persona, own_case, past):
    client = as_persona(persona)
    expected = {"caseworker": 200, "team_lead": 200, **DENIED}[persona]
    response = client.get(agreement_url(own_case))
    assert response.status_code == expected
    listing = client.get(f"/api/v1/cases/{own_case.pk}/appointments/")
    assert listing.status_code == expected
    if expected != 200:
        assert set(response.json()) == {"message", "extra"}
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user", "anonymous"])
def test_who_may_not_write_changes_nothing(as_persona, persona, own_case, past, future):
    client = as_persona(persona)
    review = MissedAppointmentReview.objects.create(appointment=past, case=own_case)
    for method, url, data in (
        ("put", agreement_url(own_case), AGREEMENT),
        ("post", f"/api/v1/appointments/{future.pk}/cancel/", {"reason": "weg"}),
        ("post", f"/api/v1/appointments/{past.pk}/outcome/", {"outcome": "attended"}),
        (
            "post",
            f"/api/v1/missed-appointment-reviews/{review.pk}/decide/",
            {"outcome": "good_reason"},
        ),
        ("post", f"/api/v1/cases/{own_case.pk}/appointments/", BOOKING),
        ("post", f"/api/v1/appointments/{future.pk}/move/", {"start": "2026-11-26T10:00:00+01:00"}),
    ):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == DENIED[persona]
        assert set(response.json()) == {"message", "extra"}
    assert not ContactAgreement.objects.exists()
    past.refresh_from_db()
    future.refresh_from_db()
    review.refresh_from_db()
    assert (past.status, future.status, review.outcome) == ("sent", "confirmed", "")
    assert (future.start, future.sequence) == (local(25, 9), 0)
    assert own_case.appointments.count() == 2


# --- the contact agreement -------------------------------------------------------------------------


def test_get_without_an_own_agreement_shows_the_defaults(caseworker, own_case):
    response = german(caseworker).get(agreement_url(own_case))
    assert response.status_code == 200
    data = response.json()
    assert data["own"] is None
    assert data["effective"]["window_start_days"] == -3
    assert data["effective"]["cadence_from_group"] is True
    event = AuditEvent.objects.get(object_type="contact_agreement")
    assert event.action == AuditAction.VIEW


def test_put_saves_and_returns_the_agreement(caseworker, own_case):
    response = german(caseworker).put(agreement_url(own_case), AGREEMENT, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["own"]["cadence_days"] == 21
    assert data["own"]["updated_by"] == caseworker.username
    assert data["effective"]["channels"] == ["phone"]
    assert data["next_due"]["due"]  # opened, never invited: due at once
    assert ContactAgreement.objects.get(case=own_case).cadence_days == 21
    assert AuditEvent.objects.filter(
        object_type="contact_agreement", action=AuditAction.CREATE
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cadence_days": 0}, "cadence_days", "Der Rhythmus muss mindestens einen Tag betragen."),
        (
            {"window_start_days": 3, "window_end_days": 1},
            "window_end_days",
            "Das Zeitfenster endet, bevor es beginnt.",
        ),
    ],
)
def test_put_refuses_a_broken_rule_with_400_and_the_message(
    caseworker, own_case, changes, field, message
):
    response = german(caseworker).put(
        agreement_url(own_case), {**AGREEMENT, **changes}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"message": message, "extra": {"fields": {field: [message]}}}
    assert not ContactAgreement.objects.exists()
    assert not AuditEvent.objects.filter(object_type="contact_agreement").exists()


def test_put_with_a_missing_field_is_a_400(caseworker, own_case):
    body = {key: value for key, value in AGREEMENT.items() if key != "window_end_days"}
    response = german(caseworker).put(agreement_url(own_case), body, format="json")
    assert response.status_code == 400
    assert "window_end_days" in response.json()["extra"]["fields"]


# --- appointments ----------------------------------------------------------------------------------


def test_list_shows_the_appointments_newest_first(caseworker, own_case, past, future):
    response = german(caseworker).get(f"/api/v1/cases/{own_case.pk}/appointments/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [future.pk, past.pk]
    assert results[0]["status"] == "confirmed"
    assert results[0]["deliveries_sent"] == 0
    assert results[0]["missed_review"] is None
    assert (
        AuditEvent.objects.filter(object_type="appointment", action=AuditAction.LIST).count() == 2
    )


def test_cancel_needs_a_reason_then_cancels(caseworker, future, no_sending):
    client = german(caseworker)
    url = f"/api/v1/appointments/{future.pk}/cancel/"
    response = client.post(url, {"reason": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"reason"}
    response = client.post(url, {"reason": "Kunde verzogen"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["sequence"]) == ("cancelled", 1)
    response = client.post(url, {"reason": "noch mal"}, format="json")
    assert response.status_code == 400


def test_outcome_missed_then_decide(caseworker, own_case, past):
    client = german(caseworker)
    response = client.post(
        f"/api/v1/appointments/{past.pk}/outcome/", {"outcome": "missed"}, format="json"
    )
    assert response.status_code == 200
    review = response.json()["missed_review"]
    assert review["outcome"] == ""
    own_case.refresh_from_db()
    assert own_case.missed_appointment_pending is True
    url = f"/api/v1/missed-appointment-reviews/{review['id']}/decide/"
    response = client.post(url, {"outcome": "no_action"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"note"}
    response = client.post(url, {"outcome": "good_reason", "note": "Attest"}, format="json")
    assert response.status_code == 200
    assert response.json()["decided_by"] == caseworker.username
    own_case.refresh_from_db()
    assert own_case.missed_appointment_pending is False
    response = client.post(url, {"outcome": "good_reason"}, format="json")
    assert response.status_code == 409


def test_outcome_before_the_start_is_a_400(caseworker, future):
    response = german(caseworker).post(
        f"/api/v1/appointments/{future.pk}/outcome/", {"outcome": "attended"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Das Ergebnis kann erst erfasst werden, wenn der Termin begonnen hat."
    )
    future.refresh_from_db()
    assert future.status == AppointmentStatus.CONFIRMED


def test_an_unknown_outcome_is_a_400(caseworker, past):
    response = german(caseworker).post(
        f"/api/v1/appointments/{past.pk}/outcome/", {"outcome": "sanction"}, format="json"
    )
    assert response.status_code == 400
    past.refresh_from_db()
    assert past.status == AppointmentStatus.SENT


# --- what was sent ---------------------------------------------------------------------------------


def test_list_returns_the_deliveries_with_the_letter_url(caseworker, own_case, future):
    letter = record_delivery(future, at=local(20, 10))
    record_delivery(
        future,
        at=local(20, 10),
        channel=InvitationChannel.EMAIL,
        status="failed",
        recipient="kundin@example.org",
        error="SMTP 550",
    )
    reminder = record_reminder(future, at=local(24, 9))
    client = german(caseworker)
    item = client.get(f"/api/v1/cases/{own_case.pk}/appointments/").json()["results"][0]
    assert (item["deliveries_sent"], item["deliveries_total"]) == (1, 2)
    letter_row, email_row, reminder_row = item["deliveries"]
    template = german_template()
    assert letter_row == {
        "id": letter.pk,
        "kind": "invitation",
        "channel": "letter",
        "at": "2026-11-20T10:00:00+01:00",
        "status": "sent",
        "error": "",
        "recipient": "Frau Muster, Musterstraße 1, 12345 Berlin",
        "template_language": "de",
        "template_version": template.version,
        "language": "de",
        "sequence": 0,
        "letter_url": f"/scheduling/appointments/{future.pk}/letters/{letter.pk}.pdf",
    }
    assert (email_row["status"], email_row["error"], email_row["letter_url"]) == (
        "failed",
        "SMTP 550",
        None,
    )
    assert (reminder_row["id"], reminder_row["kind"], reminder_row["channel"]) == (
        reminder.pk,
        "reminder",
        "sms",
    )
    staff = APIClient()
    staff.force_login(caseworker)
    assert staff.get(letter_row["letter_url"]).status_code == 200


def test_the_review_carries_the_invitation_record_and_a_hearing_needs_it(
    caseworker, own_case, past
):
    client = english(caseworker)
    response = client.post(
        f"/api/v1/appointments/{past.pk}/outcome/", {"outcome": "missed"}, format="json"
    )
    review = response.json()["missed_review"]
    assert review["invitation_deliveries"] == []
    url = f"/api/v1/missed-appointment-reviews/{review['id']}/decide/"
    response = client.post(url, {"outcome": "hearing", "note": "Anhörung"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"outcome"}
    letter = record_delivery(past, at=local(18, 10))
    listing = client.get(f"/api/v1/cases/{own_case.pk}/appointments/").json()["results"]
    proof = next(item for item in listing if item["id"] == past.pk)["missed_review"]
    assert [d["id"] for d in proof["invitation_deliveries"]] == [letter.pk]
    response = client.post(url, {"outcome": "hearing", "note": "Anhörung"}, format="json")
    assert response.status_code == 200
    assert response.json()["invitation_deliveries"][0]["channel"] == "letter"


# --- making and moving by hand -----------------------------------------------------------------------


def test_create_makes_an_approved_appointment_and_sends(
    caseworker, own_case, anna, no_sending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = english(caseworker).post(
            f"/api/v1/cases/{own_case.pk}/appointments/",
            {**BOOKING, "staff": anna.pk},
            format="json",
        )
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["staff"], data["start"]) == (
        "approved",
        anna.username,
        "2026-11-26T10:00:00+01:00",
    )
    assert no_sending == [data["id"]]
    # The id as bookings and moves take it, and the name as people read it.
    assert (data["staff_id"], data["staff_name"]) == (anna.pk, anna.get_full_name())


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"start": "2026-11-26T19:00:00+01:00"}, 400, "start"),
        ({"start": "2026-11-20T10:00:00+01:00"}, 400, "start"),
        ({"duration_minutes": 500}, 400, "duration_minutes"),
        ({"channel": "video"}, 400, "channel"),
        ({"purpose": ""}, 400, "purpose"),
        ({"start": "2026-11-25T09:00:00+01:00"}, 409, None),  # `future` is there
    ],
)
def test_create_refuses_what_the_rules_or_the_calendar_do_not_allow(
    caseworker, own_case, anna, future, changes, status, field
):
    response = english(caseworker).post(
        f"/api/v1/cases/{own_case.pk}/appointments/",
        {**BOOKING, "staff": anna.pk, **changes},
        format="json",
    )
    assert response.status_code == status
    if field:
        assert set(response.json()["extra"]["fields"]) == {field}
    assert own_case.appointments.count() == 1


def test_move_moves_and_sends_the_invitation_again(
    caseworker, future, no_sending, django_capture_on_commit_callbacks
):
    client = english(caseworker)
    url = f"/api/v1/appointments/{future.pk}/move/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"start": "2026-11-26T10:00:00+01:00"}, format="json")
    assert response.status_code == 200
    assert (response.json()["sequence"], response.json()["status"]) == (1, "sent")
    assert no_sending == [future.pk]
    response = client.post(url, {"start": "2026-11-26T21:00:00+01:00"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"start"}
    response = client.post(url, {"start": "not a time"}, format="json")
    assert response.status_code == 400


def test_the_list_queries_do_not_grow_with_the_appointments(caseworker, own_case, anna):
    client = german(caseworker)
    url = f"/api/v1/cases/{own_case.pk}/appointments/"

    def appointment_with_records(day: int) -> None:
        appointment = make_appointment(
            own_case, anna, local(day, 9), status=AppointmentStatus.MISSED
        )
        MissedAppointmentReview.objects.create(appointment=appointment, case=own_case)
        record_delivery(appointment, at=local(day - 3, 10))
        record_reminder(appointment, at=local(day - 1, 9))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    appointment_with_records(16)
    few = count()
    for day in (17, 18, 19):
        appointment_with_records(day)
    assert count() == few
