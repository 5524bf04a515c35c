"""Customer rebooking: alternatives, choosing a slot, call-back, the public page, and the race."""

import datetime as dt
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from audit.models import AuditEvent
from cases.models import Channel
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling import services_appointments
from scheduling.models import (
    Absence,
    AbsenceKind,
    Appointment,
    AppointmentStatus,
    BusySource,
    BusyTime,
    CallbackRequest,
    RebookingPolicy,
    StaffCalendar,
)
from scheduling.services_appointments import (
    RebookingLinkOutdatedError,
    SlotChoice,
    rebooking_alternatives,
    rebooking_callback,
    rebooking_choose,
    rebooking_token_make,
    slot_key_parse,
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
    slots = rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
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
    own = starts(rebooking_alternatives(appointment=appointment, limit=500, per_day=None), anna)
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
        own = starts(rebooking_alternatives(appointment=before_christmas, limit=500, per_day=None))
    days = {start.astimezone(local(1, 0).tzinfo).date() for start in own}
    assert dt.date(2026, 12, 24) in days
    assert dt.date(2026, 12, 25) not in days  # Christmas Day (NW)


def test_alternatives_leave_out_colleagues_who_do_not_offer_the_channel(team, anna, at_now):
    video_only = make_staff(team, "carla", channels=["video"])
    case = CaseFactory(team=team, caseworker=anna)
    appointment = make_appointment(case, anna, local(25, 9))
    assert video_only.pk not in {
        s.staff_id for s in rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
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
    assert html.count('type="radio" name="slot"') == 15
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
    unchanged = "Ihr Termin bleibt so, wie er in Ihrem Brief steht."
    at_now.shift(dt.timedelta(days=15))
    response = client.get(f"/scheduling/rebook/{token}/")
    assert response.status_code == 410
    assert unchanged in response.content.decode()  # expired: the letter's time still holds
    at_now.shift(dt.timedelta(days=-15))
    Appointment.objects.filter(pk=appointment.pk).update(sequence=1)
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "callback", "reason": "x"})
    assert response.status_code == 410
    assert not CallbackRequest.objects.exists()
    # Moved since the letter (in another tab, or by staff): the letter's time no longer holds.
    page = response.content.decode()
    assert "seit der Link verschickt wurde" in page
    assert unchanged not in page


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


# --- the planner's rules: walk-in reserve, daily cap, spread (acceptance defect 7) ----------------


def local_time(slot) -> dt.time:
    return slot.start.astimezone(local(1, 0).tzinfo).time()


def local_day(slot) -> dt.date:
    return slot.start.astimezone(local(1, 0).tzinfo).date()


def set_calendar(user, **fields) -> None:
    StaffCalendar.objects.filter(user=user).update(**fields)


def test_alternatives_are_spread_over_several_days_at_most_three_a_day(
    appointment, anna, bert, at_now
):
    slots = rebooking_alternatives(appointment=appointment)
    assert len(slots) == 15
    per_day = Counter(local_day(slot) for slot in slots)
    assert max(per_day.values()) == 3
    assert len(per_day) == 5
    # The earliest days of the window, the usual contact person first, each day spread out.
    assert sorted(per_day) == [dt.date(2026, 11, d) for d in (24, 25, 26, 27, 30)]
    assert all(slot.staff_id == anna.pk and slot.same_caseworker for slot in slots)
    assert starts(slots) == sorted(starts(slots))
    assert [local_time(s) for s in slots[:3]] == [dt.time(8), dt.time(10, 30), dt.time(13)]


def test_colleagues_fill_the_days_the_usual_contact_person_cannot(appointment, anna, bert, at_now):
    Absence.objects.create(
        user=anna, start=local(24, 0), end=local(3, 0, month=12), kind=AbsenceKind.VACATION
    )
    slots = rebooking_alternatives(appointment=appointment)
    assert len(slots) == 15
    assert {slot.staff_id for slot in slots} == {bert.pk}
    assert not any(slot.same_caseworker for slot in slots)


def test_alternatives_keep_the_walk_in_reserve_at_the_end_of_the_day(appointment, anna, at_now):
    set_calendar(anna, walk_in_reserve_minutes=60)
    # On Thursday the calendar is busy from 15:00: the reserve is the last hour still free.
    BusyTime.objects.create(
        user=anna, start=local(26, 15), end=local(26, 16), source=BusySource.UPLOAD, synced_at=NOW
    )
    slots = rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
    assert slots
    assert max(local_time(slot) for slot in slots) == dt.time(14, 30)
    thursday = [local_time(s) for s in slots if local_day(s) == dt.date(2026, 11, 26)]
    assert max(thursday) == dt.time(13, 30)
    token = rebooking_token_make(appointment)
    for start in (local(27, 15, 30), local(27, 15), local(26, 14)):
        with pytest.raises(ConflictError):
            rebooking_choose(token=token, start=start, staff_id=anna.pk)
    moved = rebooking_choose(token=token, start=local(27, 14, 30), staff_id=anna.pk)
    assert moved.start == local(27, 14, 30)


def test_alternatives_respect_the_daily_cap_counting_the_days_appointments(
    appointment, anna, at_now
):
    set_calendar(anna, daily_cap=1)
    for hour in (10, 14):
        make_appointment(CaseFactory(team=appointment.case.team), anna, local(24, hour))
    slots = rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
    days = {local_day(slot) for slot in slots}
    assert dt.date(2026, 11, 24) not in days
    # The appointment being moved does not count against its own day.
    assert dt.date(2026, 11, 25) in days
    assert dt.date(2026, 11, 26) in days
    with pytest.raises(ConflictError):
        rebooking_choose(
            token=rebooking_token_make(appointment), start=local(24, 8), staff_id=anna.pk
        )
    appointment.refresh_from_db()
    assert appointment.start == local(25, 9)


def test_the_daily_cap_is_scaled_by_the_part_time_share(appointment, anna, at_now):
    set_calendar(anna, daily_cap=4, part_time_share=Decimal("0.50"))  # 2 a day
    make_appointment(CaseFactory(team=appointment.case.team), anna, local(24, 10))
    make_appointment(CaseFactory(team=appointment.case.team), anna, local(26, 10))
    make_appointment(CaseFactory(team=appointment.case.team), anna, local(26, 11))
    days = {
        local_day(slot)
        for slot in rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
    }
    assert dt.date(2026, 11, 24) in days
    assert dt.date(2026, 11, 26) not in days
    # Cancelled appointments do not count.
    Appointment.objects.filter(start=local(26, 11)).update(status=AppointmentStatus.CANCELLED)
    days = {
        local_day(slot)
        for slot in rebooking_alternatives(appointment=appointment, limit=500, per_day=None)
    }
    assert dt.date(2026, 11, 26) in days


def test_the_usual_contact_person_must_offer_the_channel(team, anna, bert, at_now):
    case = CaseFactory(team=team, caseworker=anna)
    video = make_appointment(case, anna, local(25, 9), channel="video")
    make_staff(team, "carla", channels=["video"])
    slots = rebooking_alternatives(appointment=video, limit=500, per_day=None)
    assert slots
    assert {slot.staff_id for slot in slots} == {
        StaffCalendar.objects.get(user__username="carla").user_id
    }


def test_customer_may_choose_any_time_the_rules_offer_not_only_the_listed_ones(
    appointment, anna, at_now
):
    listed = {slot.start for slot in rebooking_alternatives(appointment=appointment)}
    assert local(24, 8, 30) not in listed
    moved = rebooking_choose(
        token=rebooking_token_make(appointment), start=local(24, 8, 30), staff_id=anna.pk
    )
    assert moved.start == local(24, 8, 30)


# --- malformed slot keys (acceptance defect 18) ----------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "abc",
        "2_99999999999999999999",
        "2_-5",
        "-2_1796806800",
        "99999999999999999999_1796806800",
        "2147483648_1796806800",
        "0_1796806800",
        "2_253402300799",  # 31.12.9999
        "2_0",
        "2_1.5",
        "2_1796806800_3",
        "2_\uff11\uff17\uff19\uff16\uff18\uff10\uff16\uff18\uff10\uff10",  # full-width digits
        "g_1796806800",
        "g99999999999_1796806800",
        "G1_1796806800",
    ],
)
def test_malformed_slot_keys_are_no_choice(key):
    assert slot_key_parse(key) is None


def test_slot_keys_read_back():
    start = local(24, 10).astimezone(dt.UTC)
    assert slot_key_parse(f"7_{int(start.timestamp())}") == SlotChoice(start=start, staff_id=7)
    assert slot_key_parse(f"g3_{int(start.timestamp())}") == SlotChoice(
        start=start, group_session_id=3
    )


@pytest.mark.parametrize(
    "key",
    ["2_99999999999999999999", "2_-5", "99999999999999999999_1796806800", "2_253402300799", "x"],
)
def test_page_answers_a_malformed_slot_with_400_and_fresh_times(client, appointment, at_now, key):
    token = rebooking_token_make(appointment)
    response = client.post(f"/scheduling/rebook/{token}/", {"action": "choose", "slot": key})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="rebook-error"' in html
    assert "Bitte wählen Sie einen der angebotenen Termine." in html
    assert 'type="radio"' in html
    appointment.refresh_from_db()
    assert (appointment.start, appointment.sequence) == (local(25, 9), 0)


def test_page_refuses_a_well_formed_slot_that_was_never_offered(client, appointment, anna, at_now):
    set_calendar(anna, walk_in_reserve_minutes=60)
    token = rebooking_token_make(appointment)
    reserve = int(local(26, 15, 30).timestamp())
    response = client.post(
        f"/scheduling/rebook/{token}/", {"action": "choose", "slot": f"{anna.pk}_{reserve}"}
    )
    assert response.status_code == 409
    appointment.refresh_from_db()
    assert appointment.start == local(25, 9)


# --- the refusal texts read as whole sentences (acceptance defect 25) ------------------------------


def test_refusals_offer_the_call_back_in_one_sentence(client, appointment, at_now):
    RebookingPolicy.objects.update_or_create(pk=1, defaults={"max_rebookings": 0})
    html = client.get(f"/scheduling/rebook/{rebooking_token_make(appointment)}/").content.decode()
    assert 'id="rebook-refusal"' in html
    assert "Please ask for a call-back" not in html
    assert "Bitte bitten" not in html


@pytest.mark.django_db(transaction=True)
def test_customers_racing_for_the_last_place_of_a_day_under_the_cap_one_wins(
    team, anna, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writes; the race needs PostgreSQL's concurrency.")
    set_calendar(anna, daily_cap=1)
    # Widen the window between the check and the write: without the staff row lock both
    # customers would pass the check and the day would get two appointments.
    checked = services_appointments._slot_is_offered

    def slow_check(**kwargs):
        offered = checked(**kwargs)
        time.sleep(0.3)
        return offered

    monkeypatch.setattr(services_appointments, "_slot_is_offered", slow_check)
    RebookingPolicy.load()  # made now: creating it in both threads would serialise them
    appointments = [
        make_appointment(CaseFactory(team=team, caseworker=anna), anna, local(day, 9))
        for day in (25, 26, 27, 30)
    ]
    # Four customers, four different times on Tuesday, which has room for one appointment.
    targets = [local(24, hour) for hour in (8, 10, 12, 14)]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def choose(token: str, target: dt.datetime) -> None:
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
            threading.Thread(target=choose, args=pair) for pair in zip(tokens, targets, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == ["conflict"] * 3 + ["won"]
    tuesday = Appointment.objects.filter(staff=anna, start__gte=local(24, 0), end__lte=local(25, 0))
    assert tuesday.count() == 1
