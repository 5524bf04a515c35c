"""The case page's card "Termine und Einladungen" and the customer's confirmation on the
rebooking page: htmx fragments, errors inline, access, and the same services as the API."""

import datetime as dt
import types

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Phase
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    ContactAgreement,
    InvitationChannel,
    MissedAppointmentReview,
)
from scheduling.services_appointments import rebooking_token_make
from tests.browser.conftest import browser, page  # noqa: F401 - the browser fixtures
from tests.browser.helpers import (
    assert_accessible,
    assert_only_local_requests,
    log_in_anywhere,
    screenshot,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_deliveries import LETTER_PDF, record_delivery, record_reminder
from tests.scheduling.test_appointments import local, make_appointment, make_staff

HTMX = {"HTTP_HX_REQUEST": "true"}
AGREEMENT = {
    "cadence_days": "14",
    "window_start_days": "-3",
    "window_end_days": "5",
    "channels": ["in_person", "phone"],
    "duration_minutes": "30",
    "purpose": "",
    "next_due": "",
}


@pytest.fixture(autouse=True)
def at_now(request):
    if request.node.get_closest_marker("browser"):
        yield None  # the browser test runs on the real clock (a live server and a browser)
        return
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def no_sending(monkeypatch):
    """The invitation task is recorded, not run (its own tests are elsewhere)."""
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
    return CaseFactory(team=team, caseworker=anna, phase=Phase.IMPLEMENTATION)


@pytest.fixture
def past(own_case, anna):
    return make_appointment(own_case, anna, local(23, 7), status=AppointmentStatus.SENT)


@pytest.fixture
def future(own_case, anna):
    return make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.SENT)


def case_url(case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def agreement_url(case) -> str:
    return reverse("scheduling:contact_agreement_update", args=[case.pk])


def outcome_url(appointment) -> str:
    return reverse("scheduling:appointment_outcome", args=[appointment.pk])


def cancel_url(appointment) -> str:
    return reverse("scheduling:appointment_cancel", args=[appointment.pk])


def decide_url(review) -> str:
    return reverse("scheduling:missed_review_decide", args=[review.pk])


def book_url(case) -> str:
    return reverse("scheduling:appointment_book", args=[case.pk])


def move_url(appointment) -> str:
    return reverse("scheduling:appointment_move", args=[appointment.pk])


def card_url(case) -> str:
    return reverse("scheduling:case_appointments", args=[case.pk])


def book_data(staff, **changes) -> dict:
    return {
        "staff": str(staff.pk),
        "day": "2026-11-26",
        "time": "10:00",
        "duration_minutes": "30",
        "channel": "in_person",
        "purpose": "Besprechung der Bewerbungen",
        "location": "",
        **changes,
    }


def body(response) -> str:
    return response.content.decode()


# --- access ----------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, own_case, past):
    review = MissedAppointmentReview.objects.create(appointment=past, case=own_case)
    for url in (agreement_url(own_case), outcome_url(past), cancel_url(past), decide_url(review)):
        response = client.post(url, {"reason": "x", "outcome": "attended"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.get(reverse("scheduling:case_appointments", args=[own_case.pk]), **HTMX)
    assert response.status_code == 204  # htmx is told to load the login page
    assert response["HX-Redirect"].startswith(reverse("login"))
    past.refresh_from_db()
    assert past.status == AppointmentStatus.SENT


@pytest.mark.parametrize(("persona", "status"), [("other_caseworker", 404), ("admin_user", 403)])
def test_who_must_not_see_the_case_changes_nothing(
    client, request, own_case, past, future, persona, status
):
    review = MissedAppointmentReview.objects.create(appointment=past, case=own_case)
    client.force_login(request.getfixturevalue(persona))
    for url, data in (
        (agreement_url(own_case), AGREEMENT),
        (outcome_url(past), {"outcome": "attended"}),
        (cancel_url(future), {"reason": "weg"}),
        (decide_url(review), {"outcome": "good_reason"}),
        (book_url(own_case), book_data(own_case.caseworker)),
        (move_url(future), {"day": "2026-11-26", "time": "10:00"}),
    ):
        response = client.post(url, data, **HTMX)
        assert response.status_code == status
        assert own_case.customer.last_name not in body(response)
    response = client.get(reverse("scheduling:case_appointments", args=[own_case.pk]), **HTMX)
    assert response.status_code == status
    assert not ContactAgreement.objects.exists()
    past.refresh_from_db()
    future.refresh_from_db()
    review.refresh_from_db()
    assert (past.status, future.status, review.outcome) == ("sent", "sent", "")
    assert (future.start, Appointment.objects.count()) == (local(25, 9), 2)
    # The free times are not offered either.
    response = client.get(card_url(own_case), {"move": future.pk}, **HTMX)
    assert response.status_code == status


def test_get_is_not_allowed_on_the_forms(client, caseworker, own_case, past):
    client.force_login(caseworker)
    assert client.get(agreement_url(own_case)).status_code == 405
    assert client.get(outcome_url(past)).status_code == 405


# --- the card --------------------------------------------------------------------------------------


def test_the_case_page_shows_the_card(client, caseworker, own_case, past, future):
    client.force_login(caseworker)
    response = client.get(case_url(own_case))
    assert response.status_code == 200
    html = body(response)
    assert 'id="case-appointments"' in html
    assert "Termine und Einladungen" in html
    assert f'id="appointment-{past.pk}"' in html
    assert f'id="appointment-{future.pk}"' in html
    # Outcome only for the one that has begun; cancel only for the active ones.
    assert outcome_url(past) in html
    assert outcome_url(future) not in html
    assert cancel_url(future) in html
    assert 'id="contact-agreement"' in html


def test_the_card_alone_for_htmx(client, caseworker, own_case, past):
    client.force_login(caseworker)
    url = reverse("scheduling:case_appointments", args=[own_case.pk])
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="case-appointments"')
    assert "<html" not in body(response)
    assert "HX-Request" in response["Vary"]
    assert AuditEvent.objects.filter(
        object_type="case", object_id=str(own_case.pk), action="view"
    ).exists()
    plain = client.get(url)
    assert plain.status_code == 302
    assert plain["Location"].endswith("#case-appointments")


def test_saving_the_agreement_returns_the_card(client, caseworker, own_case):
    client.force_login(caseworker)
    response = client.post(agreement_url(own_case), AGREEMENT, **HTMX)
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="case-appointments"')
    assert 'hx-swap-oob="true"' in body(response)  # the timeline too
    agreement = ContactAgreement.objects.get(case=own_case)
    assert (agreement.cadence_days, agreement.channels) == (14, ["in_person", "phone"])
    assert agreement.updated_by == caseworker


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"cadence_days": "0"},
            "cadence_days",
            "Der Rhythmus muss mindestens einen Tag betragen.",
        ),
        (
            {"window_start_days": "2", "window_end_days": "-1"},
            "window_end_days",
            "Das Zeitfenster endet, bevor es beginnt.",
        ),
    ],
)
def test_a_broken_rule_shows_the_message_at_the_field_and_saves_nothing(
    client, caseworker, own_case, changes, field, message
):
    client.force_login(caseworker)
    response = client.post(agreement_url(own_case), {**AGREEMENT, **changes}, **HTMX)
    assert response.status_code == 400
    html = body(response)
    assert f'id="id_agreement_{field}_error"' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert not ContactAgreement.objects.exists()


def test_a_refusal_without_htmx_shows_the_case_page_with_the_message(client, caseworker, own_case):
    client.force_login(caseworker)
    response = client.post(agreement_url(own_case), {**AGREEMENT, "cadence_days": "0"})
    assert response.status_code == 400
    assert "<html" in body(response)
    assert 'id="id_agreement_cadence_days_error"' in body(response)
    assert not ContactAgreement.objects.exists()


def test_without_htmx_a_save_redirects_to_the_card(client, caseworker, own_case):
    client.force_login(caseworker)
    response = client.post(agreement_url(own_case), AGREEMENT)
    assert response.status_code == 303
    assert response["Location"] == case_url(own_case) + "#case-appointments"


def test_recording_missed_shows_the_review_with_the_no_sanction_notice(
    client, caseworker, own_case, past
):
    client.force_login(caseworker)
    response = client.post(outcome_url(past), {"outcome": "missed"}, **HTMX)
    assert response.status_code == 200
    html = body(response)
    review = MissedAppointmentReview.objects.get(appointment=past)
    assert f'id="missed-review-{review.pk}"' in html
    assert 'id="missed-reviews-notice"' in html
    assert "never reduces benefits" in html or "kürzt niemals" in html
    own_case.refresh_from_db()
    assert own_case.missed_appointment_pending is True


def test_an_outcome_before_the_start_is_refused_in_the_row(client, caseworker, future):
    client.force_login(caseworker)
    response = client.post(outcome_url(future), {"outcome": "missed"}, **HTMX)
    assert response.status_code == 400
    assert f'id="appointment-{future.pk}-error"' in body(response)
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SENT


def test_deciding_a_review_needs_a_note_for_a_hearing(client, caseworker, own_case, past):
    record_delivery(past, at=local(18, 10))
    client.force_login(caseworker)
    client.post(outcome_url(past), {"outcome": "missed"}, **HTMX)
    review = MissedAppointmentReview.objects.get()
    response = client.post(decide_url(review), {"outcome": "hearing", "note": ""}, **HTMX)
    assert response.status_code == 400
    assert f'id="id_review_{review.pk}_note_error"' in body(response)
    review.refresh_from_db()
    assert review.is_open
    response = client.post(
        decide_url(review), {"outcome": "hearing", "note": "Anhörung eingeleitet"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="missed-review-{review.pk}"' not in body(response)
    review.refresh_from_db()
    assert (review.outcome, review.decided_by) == ("hearing", caseworker)
    own_case.refresh_from_db()
    assert own_case.missed_appointment_pending is False


def test_cancelling_needs_a_reason_and_then_cancels(client, caseworker, future, no_sending):
    client.force_login(caseworker)
    response = client.post(cancel_url(future), {"reason": ""}, **HTMX)
    assert response.status_code == 400
    assert f'id="appointment-{future.pk}-error"' in body(response)
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SENT
    response = client.post(cancel_url(future), {"reason": "Kunde krank"}, **HTMX)
    assert response.status_code == 200
    future.refresh_from_db()
    assert future.status == AppointmentStatus.CANCELLED
    assert cancel_url(future) not in body(response)


def test_the_case_page_queries_do_not_grow_with_the_appointments(
    client, caseworker, own_case, anna
):
    client.force_login(caseworker)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(case_url(own_case)).status_code == 200
        return len(queries)

    def appointment_with_records(day: int) -> None:
        appointment = make_appointment(
            own_case, anna, local(day, 9), status=AppointmentStatus.ATTENDED
        )
        record_delivery(appointment, at=local(day - 3, 10))
        record_delivery(appointment, at=local(day - 3, 10), channel=InvitationChannel.EMAIL)
        record_reminder(appointment, at=local(day - 1, 9))
        CallbackRequest.objects.create(appointment=appointment, case=own_case, reason="Frage")

    appointment_with_records(16)
    few = count()
    for day in (17, 18, 19):
        appointment_with_records(day)
    assert count() == few


# --- what was sent: deliveries, letters, reminders ----------------------------------------------------


def test_the_card_lists_what_was_sent_with_the_letter_pdf(client, caseworker, own_case, future):
    letter = record_delivery(future, at=local(20, 10))
    failed = record_delivery(
        future,
        at=local(20, 10),
        channel=InvitationChannel.EMAIL,
        status="failed",
        recipient="kundin@example.org",
        error="SMTPRecipientsRefused: 550",
    )
    reminder = record_reminder(future, at=local(24, 9), recipient="+49 170 1234567")
    client.force_login(caseworker)
    html = body(client.get(case_url(own_case)))
    assert f'id="delivery-invitation-{letter.pk}"' in html
    assert f'id="delivery-invitation-{failed.pk}"' in html
    assert f'id="delivery-reminder-{reminder.pk}"' in html
    assert "Frau Muster, Musterstraße 1, 12345 Berlin" in html  # the address, on one line
    assert "SMTPRecipientsRefused: 550" in html
    assert "+49 170 1234567" in html
    letter_url = reverse(
        "scheduling:invitation_letter",
        kwargs={"appointment_id": future.pk, "delivery_id": letter.pk},
    )
    assert f'href="{letter_url}"' in html
    assert html.count(f"/appointments/{future.pk}/letters/") == 1  # the e-mail has no letter
    response = client.get(letter_url)
    assert response.status_code == 200
    assert b"".join(response) == LETTER_PDF


def test_an_appointment_without_deliveries_says_so(client, caseworker, own_case, future):
    client.force_login(caseworker)
    html = body(client.get(case_url(own_case)))
    assert f'id="appointment-{future.pk}-deliveries"' not in html


# --- a hearing needs a recorded invitation -----------------------------------------------------------


def test_the_review_shows_the_invitation_record_or_its_absence(client, caseworker, own_case, past):
    client.force_login(caseworker)
    client.post(outcome_url(past), {"outcome": "missed"}, **HTMX)
    review = MissedAppointmentReview.objects.get()
    html = body(client.get(card_url(own_case), **HTMX))
    block = html.split(f'id="missed-review-{review.pk}-invitation"')[1].split("</form>")[0]
    assert "kern-alert--warning" in block
    record_delivery(past, at=local(18, 10))
    html = body(client.get(card_url(own_case), **HTMX))
    block = html.split(f'id="missed-review-{review.pk}-invitation"')[1].split("</ul>")[0]
    assert "18.11.2026 10:00" in block
    assert "kern-alert--warning" not in block


def test_a_hearing_without_an_invitation_is_refused_at_the_decision(
    client, caseworker, own_case, past
):
    client.force_login(caseworker)
    client.post(outcome_url(past), {"outcome": "missed"}, **HTMX)
    review = MissedAppointmentReview.objects.get()
    response = client.post(decide_url(review), {"outcome": "hearing", "note": "Anhörung"}, **HTMX)
    assert response.status_code == 400
    assert f'id="id_review_{review.pk}_outcome_error"' in body(response)
    assert "§ 32 SGB II" in body(response)
    review.refresh_from_db()
    assert review.is_open
    response = client.post(decide_url(review), {"outcome": "good_reason"}, **HTMX)
    assert response.status_code == 200


# --- making and moving appointments by hand ----------------------------------------------------------


def test_making_an_appointment_on_the_card(client, caseworker, own_case, anna, no_sending):
    client.force_login(caseworker)
    html = body(client.get(case_url(own_case)))
    assert 'id="appointment-book"' in html
    assert f'<option value="{anna.pk}" selected>' in html  # the case's caseworker first
    response = client.post(book_url(own_case), book_data(anna), **HTMX)
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="case-appointments"')
    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.approved_by) == ("approved", caseworker)
    assert appointment.start == local(26, 10)
    assert f'id="appointment-{appointment.pk}"' in body(response)


def test_a_refused_booking_shows_the_message_at_the_field(client, caseworker, own_case, anna):
    client.force_login(caseworker)
    response = client.post(book_url(own_case), book_data(anna, time="18:00"), **HTMX)
    assert response.status_code == 400
    html = body(response)
    assert 'id="id_book_day_error"' in html
    assert 'id="appointment-book" open' in html
    assert not Appointment.objects.exists()
    response = client.post(book_url(own_case), book_data(anna, duration_minutes="5"), **HTMX)
    assert response.status_code == 400
    assert 'id="id_book_duration_minutes_error"' in body(response)
    response = client.post(book_url(own_case), book_data(anna), **HTMX)
    assert response.status_code == 200


def test_free_times_are_offered_on_demand_and_a_move_takes_one(
    client, caseworker, own_case, future, no_sending, django_capture_on_commit_callbacks
):
    client.force_login(caseworker)
    html = body(client.get(case_url(own_case)))
    assert f'id="appointment-{future.pk}-alternatives-link"' in html
    assert f'id="move-{future.pk}-slot-1"' not in html  # not computed until asked for
    response = client.get(card_url(own_case), {"move": future.pk}, **HTMX)
    html = body(response)
    assert f'id="appointment-{future.pk}-move" open' in html
    slot = html.split(f'id="move-{future.pk}-slot-1" value="')[1].split('"')[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(move_url(future), {"slot": slot}, **HTMX)
    assert response.status_code == 200
    future.refresh_from_db()
    assert (future.sequence, future.status) == (1, AppointmentStatus.SENT)
    assert no_sending == [future.pk]  # the invitation again, with the new time


def test_the_free_times_without_htmx_open_on_the_case_page(client, caseworker, own_case, future):
    client.force_login(caseworker)
    html = body(client.get(case_url(own_case), {"move": future.pk}))
    assert f'id="move-{future.pk}-slot-1"' in html


def test_a_move_to_a_time_entered(client, caseworker, own_case, future, anna):
    client.force_login(caseworker)
    data = {"day": "2026-11-26", "time": "11:00", "staff": str(anna.pk)}
    response = client.post(move_url(future), data)
    assert response.status_code == 303
    future.refresh_from_db()
    assert future.start == local(26, 11)


def test_a_refused_move_shows_the_message_in_the_row(client, caseworker, own_case, future):
    client.force_login(caseworker)
    response = client.post(move_url(future), {"day": "2026-11-26", "time": "19:00"}, **HTMX)
    assert response.status_code == 400
    html = body(response)
    assert f'id="appointment-{future.pk}-error"' in html
    assert f'id="appointment-{future.pk}-move" open' in html
    response = client.post(move_url(future), {"slot": "garbage"}, **HTMX)
    assert response.status_code == 400
    future.refresh_from_db()
    assert (future.start, future.sequence) == (local(25, 9), 0)


# --- the customer confirms on the rebooking page ----------------------------------------------------


def test_the_customer_confirms_on_the_rebooking_page(client, future):
    url = reverse("scheduling:rebook", args=[rebooking_token_make(future)])
    html = body(client.get(url))
    assert 'id="rebook-confirm"' in html
    assert "Termin bestätigen" in html
    response = client.post(url, {"action": "confirm"})
    assert response.status_code == 200
    assert 'id="rebook-confirmed"' in body(response)
    assert 'id="rebook-confirm"' not in body(response)
    future.refresh_from_db()
    assert future.status == AppointmentStatus.CONFIRMED
    # Again: still confirmed, the page says so.
    response = client.post(url, {"action": "confirm"})
    assert response.status_code == 200
    assert 'id="rebook-is-confirmed"' in body(response)


def test_opening_the_link_is_logged_as_a_read_by_the_customer(client, future):
    url = reverse("scheduling:rebook", args=[rebooking_token_make(future)])
    assert client.get(url, REMOTE_ADDR="192.0.2.7").status_code == 200
    event = AuditEvent.objects.get(object_type="appointment", action="view")
    assert (event.actor, event.actor_username, event.channel, event.ip_address) == (
        None,
        "customer",
        "customer",
        "192.0.2.7",
    )
    assert (event.object_id, event.customer_id) == (str(future.pk), future.case.customer_id)


def test_a_planned_appointment_offers_no_confirmation(client, own_case, anna):
    planned = make_appointment(own_case, anna, local(26, 9))
    url = reverse("scheduling:rebook", args=[rebooking_token_make(planned)])
    assert 'id="rebook-confirm"' not in body(client.get(url))
    response = client.post(url, {"action": "confirm"})
    assert response.status_code == 400
    planned.refresh_from_db()
    assert planned.status == AppointmentStatus.PLANNED


# --- in a real browser (htmx swaps, errors announced, axe) ----------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_card_in_the_browser(page, live_server, caseworker, own_case, anna):  # noqa: F811
    began = timezone.now() - dt.timedelta(hours=1)
    appointment = make_appointment(own_case, anna, began, status=AppointmentStatus.SENT)
    log_in_anywhere(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{case_url(own_case)}")
    assert_accessible(page)

    page.locator("#contact-agreement-edit summary").click()
    page.locator("#id_agreement_cadence_days").fill("0")
    page.locator("#contact-agreement-edit button[type=submit]").click()
    page.wait_for_selector("#id_agreement_cadence_days_error")
    assert page.locator("#id_agreement_cadence_days").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    assert not ContactAgreement.objects.exists()

    page.locator(f"#outcome-{appointment.pk}").select_option("missed")
    page.locator(f"#appointment-{appointment.pk} form button[type=submit]").first.click()
    page.wait_for_selector("#missed-reviews-notice")
    page.locator("#case-appointments").scroll_into_view_if_needed()
    screenshot(page, "case_appointments_card")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)
    review = MissedAppointmentReview.objects.get(appointment=appointment)
    assert review.is_open


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_booking_moving_and_call_backs_in_the_browser(
    page,  # noqa: F811 - the browser fixture
    live_server,
    caseworker,
    own_case,
    anna,
    no_sending,
):
    """The new forms of the card with htmx: a refused booking shows its message at the field, the
    free times load into the row, a call-back is marked done; axe finds nothing."""
    day = timezone.localdate() + dt.timedelta(days=2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    appointment = make_appointment(own_case, anna, start, status=AppointmentStatus.SENT)
    record_delivery(appointment, at=timezone.now() - dt.timedelta(hours=1))
    callback = CallbackRequest.objects.create(
        appointment=appointment, case=own_case, reason="Bitte vormittags anrufen", phone="0171 555"
    )
    log_in_anywhere(page, live_server, caseworker.username)
    page.goto(f"{live_server.url}{case_url(own_case)}")

    page.locator("#appointment-book summary").click()
    page.locator("#id_book_day").fill(day.isoformat())
    page.locator("#id_book_time").fill("19:00")
    page.locator("#appointment-book button[type=submit]").click()
    page.wait_for_selector("#id_book_day_error")
    assert page.locator("#id_book_day").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.locator(f"#appointment-{appointment.pk}-deliveries summary").click()
    page.locator(f"#appointment-{appointment.pk}-move summary").click()
    page.locator(f"#appointment-{appointment.pk}-alternatives-link").click()
    page.wait_for_selector(
        f"#move-{appointment.pk}-slot-1, #appointment-{appointment.pk}-no-alternatives"
    )
    assert_accessible(page)

    page.locator(f"#id_callback_{callback.pk}_note").fill("Zurückgerufen, Termin bleibt")
    page.locator(f"#callback-request-{callback.pk} button[type=submit]").click()
    page.wait_for_selector("#case-appointments-message")
    assert page.locator(f"#callback-request-{callback.pk}").count() == 0
    screenshot(page, "case_appointments_card_by_hand")
    assert_accessible(page)
    assert_only_local_requests(page, live_server)
    callback.refresh_from_db()
    assert callback.handled_by == caseworker
