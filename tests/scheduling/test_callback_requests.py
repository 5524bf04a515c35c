# ruff: noqa: F811 - the fixtures come from tests.api.conftest
"""Call-back requests reach staff: asked through the rebooking link (with an optional phone
number), shown on the case's appointments card and in the API, handled with a note by a person of
the team (once), and every customer action through the link leaves a timeline entry."""

import datetime as dt
import types

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent, Phase
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.services import token_issue
from scheduling.models import AppointmentStatus, CallbackRequest
from scheduling.services_appointments import (
    appointment_confirm_by_customer,
    callback_request_handle,
    rebooking_alternatives,
    rebooking_callback,
    rebooking_choose,
    rebooking_token_make,
)
from tests.api.conftest import PERSONAS, _fresh_throttle, as_persona  # noqa: F401 - fixtures
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.test_appointments import local, make_appointment, make_staff

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def no_sending(monkeypatch):
    import scheduling.tasks as tasks

    monkeypatch.setattr(
        tasks, "scheduling_invitation_send", types.SimpleNamespace(delay=lambda _id: None)
    )


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"])


@pytest.fixture
def own_case(team, anna):
    case = CaseFactory(team=team, caseworker=anna, phase=Phase.IMPLEMENTATION)
    case.customer.phone = "030 1234 5678"
    case.customer.preferred_language = "uk"
    case.customer.save()
    return case


@pytest.fixture
def future(own_case, anna):
    return make_appointment(own_case, anna, local(26, 9), status=AppointmentStatus.SENT)


@pytest.fixture
def token(future):
    return rebooking_token_make(future)


def ask(token, reason="Ich bin an dem Tag beim Arzt.", phone=""):
    return rebooking_callback(token=token, reason=reason, phone=phone, ip_address="192.0.2.9")


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def body(response) -> str:
    return response.content.decode()


# --- the customer asks ------------------------------------------------------------------------------


def test_a_request_keeps_case_phone_audit_and_a_german_timeline_entry(own_case, future, token):
    with translation.override("uk"):  # the customer's page language
        request = ask(token, phone=" +49 (30) 123-45/67 ")
    assert (request.case, request.appointment, request.phone) == (
        own_case,
        future,
        "+49 (30) 123-45/67",
    )
    assert request.is_open
    audit = AuditEvent.objects.get(object_type="callback_request")
    assert (audit.channel, audit.actor, audit.customer_id) == (
        "customer",
        None,
        own_case.customer_id,
    )
    event = CaseEvent.objects.get(case=own_case, data__callback_id=request.pk)
    assert event.actor is None
    assert event.data["by"] == "customer"
    assert "Arzt" in event.summary
    assert "26.11.2026" in event.summary  # the staff's German date format, not Ukrainian


@pytest.mark.parametrize("phone", ["12345", "0" * 31, "030 123 abc", "+++---///", "030;1234567"])
def test_a_malformed_phone_number_is_refused(token, phone):
    with pytest.raises(ApplicationError) as refused:
        ask(token, phone=phone)
    assert set(refused.value.extra["fields"]) == {"phone"}
    assert not CallbackRequest.objects.exists()


def test_no_phone_number_is_fine(token):
    assert ask(token, phone="   ").phone == ""


def test_at_most_three_open_requests_per_appointment(token):
    for _ in range(3):
        ask(token)
    with pytest.raises(ConflictError):
        ask(token)
    assert CallbackRequest.objects.count() == 3


def test_confirming_and_moving_through_the_link_leave_timeline_entries(own_case, future, token):
    confirmed = appointment_confirm_by_customer(token=token)
    assert confirmed.status == AppointmentStatus.CONFIRMED
    confirm_event = CaseEvent.objects.get(case=own_case, data__by="customer")
    assert confirm_event.data["appointment_id"] == future.pk
    slot = next(s for s in rebooking_alternatives(appointment=future) if s.staff_id)
    rebooking_choose(token=token, start=slot.start, staff_id=slot.staff_id)
    events = CaseEvent.objects.filter(case=own_case, data__by="customer")
    assert events.count() == 2
    moved = events.exclude(pk=confirm_event.pk).get()
    assert moved.data["moved"]["from"]["start"] == local(26, 9).astimezone(dt.UTC).isoformat()


# --- the rebooking page ------------------------------------------------------------------------------


def test_the_page_hints_at_the_number_on_file_without_showing_it(client, token):
    html = body(client.get(reverse("scheduling:rebook", args=[token]) + "?lang=de"))
    assert 'id="callback-phone"' in html
    assert 'type="tel"' in html
    assert "678" in html  # the last digits only
    assert "1234 5678" not in html
    assert "030" not in html


def test_the_page_posts_the_phone_number(client, token, own_case):
    url = reverse("scheduling:rebook", args=[token])
    response = client.post(
        url, {"action": "callback", "reason": "Bitte anrufen", "phone": "0171 555"}
    )
    assert response.status_code == 200
    assert CallbackRequest.objects.get().phone == "0171 555"


def test_a_bad_number_shows_the_page_again_with_what_was_typed(client, token):
    url = reverse("scheduling:rebook", args=[token])
    response = client.post(url, {"action": "callback", "reason": "Bitte anrufen", "phone": "abc"})
    assert response.status_code == 400
    assert 'value="abc"' in body(response)
    assert "Bitte anrufen" in body(response)
    assert not CallbackRequest.objects.exists()


# --- handling it ---------------------------------------------------------------------------------------


def test_handling_records_who_when_and_the_note_once(caseworker, own_case, token):
    request = ask(token)
    handled = callback_request_handle(
        ctx=ui(caseworker), callback_id=request.pk, note="Angerufen, Termin bleibt"
    )
    assert (handled.handled_at, handled.handled_by, handled.handled_note) == (
        NOW,
        caseworker,
        "Angerufen, Termin bleibt",
    )
    audit = AuditEvent.objects.filter(object_type="callback_request", action="update").get()
    assert (audit.actor, audit.detail["note"]) == (caseworker, "Angerufen, Termin bleibt")
    assert CaseEvent.objects.filter(
        case=own_case, actor=caseworker, data__callback_id=request.pk
    ).exists()
    with pytest.raises(ConflictError):
        callback_request_handle(ctx=ui(caseworker), callback_id=request.pk, note="noch mal")


def test_handling_needs_a_note_and_a_person_of_the_team(
    caseworker, other_caseworker, admin_user, token
):
    request = ask(token)
    with pytest.raises(ApplicationError) as refused:
        callback_request_handle(ctx=ui(caseworker), callback_id=request.pk, note="  ")
    assert set(refused.value.extra["fields"]) == {"note"}
    for ctx in (ui(other_caseworker), ui(admin_user), AuditContext.system()):
        with pytest.raises(ApplicationError):
            callback_request_handle(ctx=ctx, callback_id=request.pk, note="erledigt")
    request.refresh_from_db()
    assert request.is_open


# --- the card on the case page --------------------------------------------------------------------------


def handle_url(request) -> str:
    return reverse("scheduling:callback_request_handle", args=[request.pk])


def test_the_card_shows_the_open_request_with_reason_phone_and_time(
    client, caseworker, own_case, token
):
    given = ask(token, reason="Kinderbetreuung fehlt", phone="0171 555 66")
    on_file = ask(token, reason="Zweite Frage")
    client.force_login(caseworker)
    html = body(client.get(reverse("cases:case_detail", args=[own_case.pk])))
    assert 'id="callback-requests"' in html
    assert f'id="callback-request-{given.pk}"' in html
    assert "Kinderbetreuung fehlt" in html
    assert "0171 555 66" in html
    assert 'href="tel:03012345678"' in html  # the number on file for the second one
    assert "23.11.2026" in html  # when it was asked
    assert handle_url(on_file) in html


def test_handling_on_the_card_returns_the_fragment(client, caseworker, token):
    request = ask(token)
    client.force_login(caseworker)
    response = client.post(handle_url(request), {"note": ""}, **HTMX)
    assert response.status_code == 400
    assert f'id="id_callback_{request.pk}_note_error"' in body(response)
    response = client.post(handle_url(request), {"note": "Zurückgerufen"}, **HTMX)
    assert response.status_code == 200
    html = body(response)
    assert html.lstrip().startswith('<section id="case-appointments"')
    assert "<html" not in html
    assert f'id="callback-request-{request.pk}"' not in html
    assert 'hx-swap-oob="true"' in html  # the timeline too
    request.refresh_from_db()
    assert request.handled_by == caseworker
    response = client.post(handle_url(request), {"note": "noch mal"}, **HTMX)
    assert response.status_code == 409


def test_without_htmx_handling_redirects_to_the_card(client, team_lead, own_case, token):
    request = ask(token)
    client.force_login(team_lead)
    response = client.post(handle_url(request), {"note": "Zurückgerufen"})
    assert response.status_code == 303
    assert response["Location"].endswith("#case-appointments")


@pytest.mark.parametrize(("persona", "status"), [("other_caseworker", 404), ("admin_user", 403)])
def test_who_must_not_see_the_case_cannot_handle(client, request, token, own_case, persona, status):
    callback = ask(token)
    client.force_login(request.getfixturevalue(persona))
    response = client.post(handle_url(callback), {"note": "erledigt"}, **HTMX)
    assert response.status_code == status
    assert own_case.customer.last_name not in body(response)
    callback.refresh_from_db()
    assert callback.is_open


# --- the API ---------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


def test_the_api_lists_and_handles_requests(caseworker, own_case, future, token):
    request = ask(token, phone="0171 555")
    client = api(caseworker)
    listing = client.get(f"/api/v1/cases/{own_case.pk}/appointments/").json()["results"]
    assert listing[0]["callback_requests"] == [
        {
            "id": request.pk,
            "appointment_id": future.pk,
            "case_id": own_case.pk,
            "created_at": "2026-11-23T08:00:00+01:00",
            "reason": "Ich bin an dem Tag beim Arzt.",
            "phone": "0171 555",
            "handled_at": None,
            "handled_by": None,
            "handled_note": "",
        }
    ]
    due = client.get("/api/v1/cases/", {"due": "callback_requested"}).json()["results"]
    assert [row["id"] for row in due] == [own_case.pk]
    assert due[0]["due"]["callback_requested"] is True
    url = f"/api/v1/callback-requests/{request.pk}/handle/"
    response = client.post(url, {"note": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"note"}
    response = client.post(url, {"note": "Angerufen"}, format="json")
    assert response.status_code == 200
    assert (response.json()["handled_by"], response.json()["handled_note"]) == (
        caseworker.username,
        "Angerufen",
    )
    assert client.post(url, {"note": "nochmal"}, format="json").status_code == 409
    assert not client.get("/api/v1/cases/", {"due": "callback_requested"}).json()["results"]


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user", "anonymous"])
def test_the_api_refuses_who_must_not_see(as_persona, persona, token):
    request = ask(token)
    response = as_persona(persona).post(
        f"/api/v1/callback-requests/{request.pk}/handle/", {"note": "x"}, format="json"
    )
    assert (
        response.status_code
        == {"other_caseworker": 404, "admin_user": 403, "anonymous": 401}[persona]
    )
    assert set(response.json()) == {"message", "extra"}
    request.refresh_from_db()
    assert request.is_open


def test_personas_exist():
    assert "other_caseworker" in PERSONAS
