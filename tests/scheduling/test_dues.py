"""Which cases are due for an invitation: cadence and window from the agreement or the group."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cases.models import CustomerGroup, Phase
from scheduling.models import AppointmentStatus, ContactAgreement
from scheduling.selectors import add_working_days, case_dues_list, case_next_due
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.test_appointments import local, make_appointment, make_staff

TODAY = dt.date(2026, 11, 23)  # Monday
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(team):
    return make_staff(team, "anna")


def potential_case(team, staff, **fields):
    fields.setdefault("opened_at", NOW - dt.timedelta(days=200))
    return CaseFactory(
        team=team, caseworker=staff, customer_group=CustomerGroup.POTENTIAL, **fields
    )


def test_the_next_invitation_is_due_one_group_cadence_after_the_last_contact(team, staff):
    case = potential_case(team, staff)
    make_appointment(case, staff, local(2, 9), status=AppointmentStatus.ATTENDED)

    due = case_next_due(case=case, today=TODAY)

    # potential: every 28 days (profiling starter settings), fixed caseworker, all four channels
    assert due.due == dt.date(2026, 11, 30)
    assert due.window_start == add_working_days(dt.date(2026, 11, 30), -3) == dt.date(2026, 11, 25)
    assert due.window_end == dt.date(2026, 12, 7)
    assert due.agreement.cadence_from_group
    assert due.agreement.fixed_caseworker
    assert due.caseworker_id == staff.pk
    assert set(due.agreement.channels) == {"in_person", "video", "phone", "outreach"}


def test_the_agreed_cadence_and_window_win_over_the_group(team, staff):
    case = potential_case(team, staff)
    make_appointment(case, staff, local(2, 9), status=AppointmentStatus.ATTENDED)
    ContactAgreement.objects.create(
        case=case, cadence_days=14, window_start_days=0, window_end_days=2, channels=["phone"]
    )

    due = case_next_due(case=case, today=TODAY)

    assert due.due == dt.date(2026, 11, 24)
    assert (due.window_start, due.window_end) == (dt.date(2026, 11, 24), dt.date(2026, 11, 26))
    assert due.agreement.channels == ("phone",)
    assert not due.agreement.cadence_from_group


def test_an_overdue_invitation_counts_from_tomorrow(team, staff):
    case = potential_case(team, staff)  # never invited: due since it was opened

    due = case_next_due(case=case, today=TODAY)

    assert due.due == TOMORROW
    assert due.window_start == TOMORROW
    assert due.window_end == add_working_days(TOMORROW, 5)


def test_no_due_while_an_appointment_is_ahead_or_for_closed_cases(team, staff):
    ahead = potential_case(team, staff)
    make_appointment(ahead, staff, local(26, 9), status=AppointmentStatus.SENT)
    cancelled_only = potential_case(team, staff)
    make_appointment(cancelled_only, staff, local(26, 10), status=AppointmentStatus.CANCELLED)
    closed = potential_case(team, staff, phase=Phase.CLOSED)

    due_ids = {due.case_id for due in case_dues_list(team_id=team.pk, today=TODAY, until=TOMORROW)}

    assert case_next_due(case=ahead, today=TODAY) is None
    assert case_next_due(case=closed, today=TODAY) is None
    assert cancelled_only.pk in due_ids
    assert ahead.pk not in due_ids


def test_the_horizon_limits_the_list_and_the_once_only_date_overrides(team, staff):
    later = potential_case(team, staff)
    make_appointment(later, staff, local(20, 9), status=AppointmentStatus.ATTENDED)  # due 18 Dec
    early = potential_case(team, staff)
    make_appointment(early, staff, local(20, 10), status=AppointmentStatus.ATTENDED)
    ContactAgreement.objects.create(case=early, next_due=dt.date(2026, 12, 1))

    dues = case_dues_list(team_id=team.pk, today=TODAY, until=dt.date(2026, 12, 10))

    assert [due.case_id for due in dues] == [early.pk]
    assert dues[0].due == dt.date(2026, 12, 1)


def test_a_case_without_group_or_cadence_is_not_invited(team, staff):
    case = CaseFactory(team=team, caseworker=staff, customer_group="")

    assert case_next_due(case=case, today=TODAY) is None


def test_administrative_customers_may_go_to_group_sessions_and_keep_only_appointment_channels(
    team, staff
):
    case = CaseFactory(team=team, customer_group=CustomerGroup.ADMINISTRATIVE)

    due = case_next_due(case=case, today=timezone.localdate())

    assert due.agreement.allow_group_session
    assert due.agreement.channels == ("in_person",)  # letter and digital are no appointments
    assert due.agreement.cadence_days == 91


def test_a_due_date_beyond_the_horizon_is_left_to_a_later_run(team, staff):
    """Acceptance run 5: due 06.01.2027, window 01.01.–13.01., horizon until 02.01.: listed as
    not placed in every run. The window starting inside the horizon is not enough."""
    edge = potential_case(team, staff)
    ContactAgreement.objects.create(case=edge, next_due=dt.date(2026, 12, 2))  # window from 27.11.
    inside = potential_case(team, staff)
    ContactAgreement.objects.create(case=inside, next_due=dt.date(2026, 11, 27))

    dues = case_dues_list(team_id=team.pk, today=TODAY, until=dt.date(2026, 11, 28))

    assert [due.case_id for due in dues] == [inside.pk]
    # Once its due date is inside the horizon, the whole window counts again.
    later = case_dues_list(team_id=team.pk, today=TODAY, until=dt.date(2026, 12, 2))
    assert {due.case_id for due in later} == {inside.pk, edge.pk}


def test_a_due_date_saved_far_in_the_future_breaks_nothing(team, staff):
    case = potential_case(team, staff)
    ContactAgreement.objects.create(case=case, next_due=dt.date(9999, 12, 31))

    assert case_next_due(case=case, today=TODAY) is None
    assert case_dues_list(team_id=team.pk, today=TODAY, until=dt.date.max) == []
