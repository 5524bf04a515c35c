"""Customer rebooking: alternatives, choosing a slot, call-back, the public page, and the race."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from audit.models import AuditEvent
from cases.models import Channel
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.models import (
    Absence,
    AbsenceKind,
    Appointment,
    AppointmentStatus,
    BusySource,
    BusyTime,
    CallbackRequest,
    RebookingPolicy,
)
from scheduling.services_appointments import (
    RebookingLinkOutdatedError,
    rebooking_alternatives,
    rebooking_callback,
    rebooking_choose,
    rebooking_token_make,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.test_appointments import local, make_appointment, make_staff


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"])


@pytest.fixture
def bert(team):
    return make_staff(team, "bert", channels=["in_person", "phone"])


@pytest.fixture
def appointment(team, anna):
    case = CaseFactory(team=team, caseworker=anna)
    return make_appointment(case, anna, local(25, 9))  # Wednesday 09:00


def starts(slots, staff=None):
    return [slot.start for slot in slots if staff is None or slot.staff_id == staff.pk]


# --- alternatives ----------------------------------------------------------------------------------


def test_alternatives_start_with_the_same_caseworker_in_time_order(appointment, anna, bert, at_now):
    slots = rebooking_alternatives(appointment=appointment, limit=500)
    own = [slot for slot in slots if slot.staff_id == anna.pk]
    assert slots[: len(own)] == own
    assert own
    assert all(slot.same_caseworker for slot in own)
    assert starts(own) == sorted(starts(own))
    assert bert.pk in {slot.staff_id for slot in slots}
    # Not before 24 hours from now (Tuesday 08:00), not the appointment itself, ±5 working days.
    assert min(starts(slots)) == local(24, 8)
    assert appointment.start not in starts(own)
    assert max(starts(slots)) == local(2, 15, 30, month=12)
    assert rebooking_alternatives(appointment=appointment)[:10] == slots[:10]


def test_alternatives_respect_working_hours_busy_times_absences_and_appointments(
    appointment, anna, at_now
):
    BusyTime.objects.create(
        user=anna, start=local(24, 8), end=local(24, 10), source=BusySource.UPLOAD, synced_at=NOW
    )
    Absence.objects.create(
        user=anna, start=local(26, 0), end=local(27, 0), kind=AbsenceKind.TRAINING
    )
    make_appointment(CaseFactory(team=appointment.case.team), anna, local(24, 11), minutes=60)
    make_appointment(
        CaseFactory(team=appointment.case.team),
        anna,
        local(24, 13),
        status=AppointmentStatus.CANCELLED,
    )
    own = starts(rebooking_alternatives(appointment=appointment, limit=500), anna)
    assert own[0] == local(24, 10)
    assert local(24, 11) not in own
    assert local(24, 11, 30) not in own
    assert local(24, 13) in own
    assert not [start for start in own if local(26, 0) <= start < local(27, 0)]
    assert all(
        dt.time(8) <= start.astimezone(local(1, 0).tzinfo).time() < dt.time(16) for start in own
    )
    assert not [start for start in own if start.astimezone(local(1, 0).tzinfo).weekday() >= 5]


def test_alternatives_skip_public_holidays(team, anna):
    case = CaseFactory(team=team, caseworker=anna)
    before_christmas = make_appointment(case, anna, local(23, 9, month=12))
    with time_machine.travel(local(21, 7, month=12), tick=False):
        own = starts(rebooking_alternatives(appointment=before_christmas, limit=500))
    days = {start.astimezone(local(1, 0).tzinfo).date() for start in own}
    assert dt.date(2026, 12, 24) in days
    assert dt.date(2026, 12, 25) not in days  # Christmas Day (NW)


def test_alternatives_leave_out_colleagues_who_do_not_offer_the_channel(team, anna, at_now):
    video_only = make_staff(team, "carla", channels=["video"])
    case = CaseFactory(team=team, caseworker=anna)
    appointment = make_appointment(case, anna, local(25, 9))
    assert video_only.pk not in {
        s.staff_id for s in rebooking_alternatives(appointment=appointment, limit=500)
    }


# --- choosing and call-back ------------------------------------------------------------------------


def test_customer_moves_the_appointment_once_and_the_old_link_dies(appointment, anna, at_now):
    token = rebooking_token_make(appointment)
    moved = rebooking_choose(
        token=token, start=local(24, 10), staff_id=anna.pk, ip_address="10.0.0.9"
    )
    assert (moved.start, moved.end) == (local(24, 10), local(24, 10, 30))
    assert (moved.status, moved.sequence, moved.rebook_count) == (AppointmentStatus.CONFIRMED, 1, 1)
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(appointment.pk))
    # The customer, not "the system", moved it: no account, the customer channel, their address.
    assert (event.actor, event.actor_username, event.channel, event.ip_address) == (
        None,
        "customer",
        "customer",
        "10.0.0.9",
    )
    assert event.customer_id == appointment.case.customer_id
    with pytest.raises(RebookingLinkOutdatedError):
        rebooking_choose(token=token, start=local(24, 11), staff_id=anna.pk)


def test_customer_cannot_choose_a_time_that_was_not_offered(appointment, anna, at_now):
    token = rebooking_token_make(appointment)
    for start in (local(24, 6), local(24, 10, 10), local(28, 10), local(10, 10, month=12)):
        with pytest.raises(ConflictError):
            rebooking_choose(token=token, start=start, staff_id=anna.pk)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.sequence) == (local(25, 9), 0)


def test_customer_cannot_rebook_too_often_or_too_late(appointment, anna, at_now):
    RebookingPolicy.objects.update_or_create(pk=1, defaults={"max_rebookings": 1})
    moved = rebooking_choose(
        token=rebooking_token_make(appointment), start=local(26, 10), staff_id=anna.pk
    )
    with pytest.raises(ApplicationError, match="oft|often"):
        rebooking_choose(token=rebooking_token_make(moved), start=local(27, 10), staff_id=anna.pk)
    RebookingPolicy.objects.update(max_rebookings=5)
    at_now.move_to(local(25, 12))  # 22 hours before Thursday 10:00
    with pytest.raises(ApplicationError, match="kurzfristig|close"):
        rebooking_choose(token=rebooking_token_make(moved), start=local(27, 10), staff_id=anna.pk)


def test_choosing_a_slot_taken_a_moment_ago_is_a_conflict(appointment, anna, at_now):
    other = make_appointment(CaseFactory(team=appointment.case.team), anna, local(26, 9))
    rebooking_choose(token=rebooking_token_make(other), start=local(24, 10), staff_id=anna.pk)
    with pytest.raises(ConflictError):
        rebooking_choose(
            token=rebooking_token_make(appointment), start=local(24, 10), staff_id=anna.pk
        )


def test_customer_asks_for_a_call_back_with_a_reason(appointment, at_now):
    token = rebooking_token_make(appointment)
    with pytest.raises(ApplicationError):
        rebooking_callback(token=token, reason="   ")
    request = rebooking_callback(token=token, reason="Ich habe an dem Tag einen Arzttermin.")
    assert request.appointment == appointment
    assert request.handled_at is None
    assert CallbackRequest.objects.count() == 1


# --- the page --------------------------------------------------------------------------------------


def test_page_shows_the_appointment_and_alternatives_in_german(client, appointment, at_now):
    response = client.get(f"/scheduling/rebook/{rebooking_token_make(appointment)}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de" dir="ltr">' in html
    assert response["Content-Language"] == "de"
    assert "25. November 2026" in html
    assert "09:00" in html
    assert appointment.purpose in html
    assert html.count('type="radio" name="slot"') == 10
    assert "<legend" in html
    assert 'for="callback-reason"' in html


def test_page_is_in_english_for_a_customer_who_prefers_english(client, team, anna, at_now):
    case = CaseFactory(team=team, caseworker=anna, customer__preferred_language="en")
    appointment = make_appointment(case, anna, local(25, 9))
    response = client.get(f"/scheduling/rebook/{rebooking_token_make(appointment)}/")
    html = response.content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert response["Content-Language"] == "en"
    assert "Nov. 25, 2026" in html
    assert "Choose another time" in html


def test_page_moves_the_appointment_on_post(client, appointment, anna, at_now):
    token = rebooking_token_make(appointment)
    slot = rebooking_alternatives(appointment=appointment)[0]
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "choose", "slot": slot.key})
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.start == slot.start
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_page_shows_fresh_alternatives_when_the_slot_was_just_taken(
    client, appointment, anna, at_now
):
    token = rebooking_token_make(appointment)
    slot = rebooking_alternatives(appointment=appointment)[0]
    make_appointment(CaseFactory(team=appointment.case.team), anna, slot.start)
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "choose", "slot": slot.key})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="rebook-error"' in html
    assert f'value="{slot.key}"' not in html
    assert 'type="radio"' in html
    appointment.refresh_from_db()
    assert appointment.start == local(25, 9)


def test_page_takes_a_call_back_request(client, appointment, at_now):
    token = rebooking_token_make(appointment)
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "callback", "reason": ""})
    assert response.status_code == 400
    response = client.post(
        f"/scheduling/rebook/{token}/", {"action": "callback", "reason": "Bitte anrufen"}
    )
    assert response.status_code == 200
    assert CallbackRequest.objects.get().reason == "Bitte anrufen"


def test_page_explains_expired_tampered_and_outdated_links(client, appointment, at_now):
    token = rebooking_token_make(appointment)
    response = client.get(f"/scheduling/rebook/{token[:-2]}xx/")
    assert response.status_code == 400
    assert 'id="rebook-invalid"' in response.content.decode()
    at_now.shift(dt.timedelta(days=15))
    assert client.get(f"/scheduling/rebook/{token}/").status_code == 410
    at_now.shift(dt.timedelta(days=-15))
    Appointment.objects.filter(pk=appointment.pk).update(sequence=1)
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "callback", "reason": "x"})
    assert response.status_code == 410
    assert not CallbackRequest.objects.exists()


# --- the race --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_customers_racing_for_one_slot_exactly_one_wins(team, anna):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writes; the race needs PostgreSQL's concurrency.")
    days = [local(25, 0), local(26, 0), local(27, 0), local(30, 0)]
    appointments = []
    for n in range(50):
        day = days[n // 16]
        start = day.replace(hour=8) + dt.timedelta(minutes=30 * (n % 16))
        case = CaseFactory(team=team, caseworker=anna)
        appointments.append(make_appointment(case, anna, start, channel=Channel.IN_PERSON))
    target = local(24, 10)
    results: list[str] = []
    barrier = threading.Barrier(50)

    def choose(appointment: Appointment, token: str) -> None:
        try:
            barrier.wait(timeout=30)
            rebooking_choose(token=token, start=target, staff_id=anna.pk)
            results.append("won")
        except ConflictError:
            results.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results.append(repr(error))
        finally:
            connection.close()

    with time_machine.travel(NOW, tick=False):
        tokens = [rebooking_token_make(a) for a in appointments]
        threads = [
            threading.Thread(target=choose, args=pair)
            for pair in zip(appointments, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == ["conflict"] * 49 + ["won"]
    in_slot = Appointment.objects.filter(
        staff=anna, start__lt=target + dt.timedelta(minutes=30), end__gt=target
    )
    assert in_slot.count() == 1
    assert in_slot.get().status == AppointmentStatus.CONFIRMED
