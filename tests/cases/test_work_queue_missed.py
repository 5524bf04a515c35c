"""The work queue's due category "missed appointment to review" (Case.missed_appointment_pending,
kept by scheduling.services_appointments)."""

import pytest
import time_machine
from django.urls import reverse

from audit.services import AuditContext
from cases.models import Phase
from cases.selectors import CaseFilters, Due, case_due_counts_for_user, case_list_for_user
from scheduling.models import AppointmentStatus, MissedAppointmentReview, MissedReviewOutcome
from scheduling.services_appointments import appointment_outcome_set, missed_review_decide
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.test_appointments import local, make_appointment, make_staff

URL = reverse("cases:work_queue")


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def anna(team):
    return make_staff(team, "anna")


@pytest.fixture
def missed_case(team, anna, caseworker):
    """A case whose appointment this morning was recorded as missed (through the service)."""
    case = CaseFactory(team=team, caseworker=caseworker, phase=Phase.IMPLEMENTATION)
    appointment = make_appointment(case, anna, local(23, 7), status=AppointmentStatus.SENT)
    appointment_outcome_set(
        ctx=AuditContext.system(caseworker),
        appointment_id=appointment.pk,
        outcome=AppointmentStatus.MISSED,
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def quiet_case(team, caseworker):
    return CaseFactory(team=team, caseworker=caseworker, phase=Phase.IMPLEMENTATION)


def test_the_category_exists():
    assert Due.MISSED == "missed_appointment"
    assert Due.MISSED in Due.CATEGORIES


def test_a_missed_appointment_puts_the_case_into_the_category(team_lead, missed_case, quiet_case):
    cases = list(case_list_for_user(user=team_lead, filters=CaseFilters(due=Due.MISSED)))
    assert [case.pk for case in cases] == [missed_case.pk]
    assert cases[0].due_missed_appointment is True
    assert cases[0].urgency == 1
    counts = case_due_counts_for_user(user=team_lead)
    assert counts[Due.MISSED] == 1
    assert counts[Due.ANY] >= 1


def test_deciding_the_review_takes_it_out_again(caseworker, team_lead, missed_case):
    review = MissedAppointmentReview.objects.get(case=missed_case)
    missed_review_decide(
        ctx=AuditContext.system(caseworker),
        review_id=review.pk,
        outcome=MissedReviewOutcome.GOOD_REASON,
    )
    assert not case_list_for_user(user=team_lead, filters=CaseFilters(due=Due.MISSED)).exists()
    assert case_due_counts_for_user(user=team_lead)[Due.MISSED] == 0


def test_another_teams_caseworker_never_sees_it(other_caseworker, missed_case):
    assert case_due_counts_for_user(user=other_caseworker)[Due.MISSED] == 0
    assert not case_list_for_user(
        user=other_caseworker, filters=CaseFilters(due=Due.MISSED, queue="all")
    ).exists()


def test_the_queue_page_counts_and_labels_it(client, team_lead, missed_case, quiet_case):
    client.force_login(team_lead)
    response = client.get(URL)
    assert response.status_code == 200
    counts = {value: count for value, _label, count in response.context["due_counts"]}
    assert counts["missed_appointment"] == 1
    labels = {value: str(label) for value, label, _count in response.context["due_counts"]}
    assert labels["missed_appointment"] == "Versäumter Termin zu prüfen"
    assert "Versäumter Termin zu prüfen" in response.content.decode()


def test_the_queue_filters_by_it(client, team_lead, missed_case, quiet_case):
    """Needs Due.MISSED in cases.forms.DUE_LABELS (the filter form's choices)."""
    client.force_login(team_lead)
    response = client.get(URL, {"due": "missed_appointment"})
    assert response.status_code == 200
    shown = {row.pk for row in response.context["page"].object_list}
    assert shown == {missed_case.pk}
