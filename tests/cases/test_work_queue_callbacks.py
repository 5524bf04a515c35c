"""The work queue's due category "call-back requested" (an open scheduling.CallbackRequest of
the case, asked through the customer's rebooking link, handled by a person of the team)."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit.services import AuditContext
from cases.models import Phase
from cases.selectors import CaseFilters, Due, case_due_counts_for_user, case_list_for_user
from scheduling.models import AppointmentStatus, CallbackRequest
from scheduling.services_appointments import (
    callback_request_handle,
    rebooking_callback,
    rebooking_token_make,
)
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


def asked(case, staff, day: int) -> CallbackRequest:
    appointment = make_appointment(case, staff, local(day, 9), status=AppointmentStatus.SENT)
    return rebooking_callback(token=rebooking_token_make(appointment), reason="Bitte anrufen")


@pytest.fixture
def callback_case(team, anna, caseworker):
    case = CaseFactory(team=team, caseworker=caseworker, phase=Phase.IMPLEMENTATION)
    asked(case, anna, 26)
    return case


@pytest.fixture
def quiet_case(team, caseworker):
    return CaseFactory(team=team, caseworker=caseworker, phase=Phase.IMPLEMENTATION)


def test_the_category_exists():
    assert Due.CALLBACK == "callback_requested"
    assert Due.CALLBACK in Due.CATEGORIES


def test_an_open_request_puts_the_case_into_the_category(team_lead, callback_case, quiet_case):
    cases = list(case_list_for_user(user=team_lead, filters=CaseFilters(due=Due.CALLBACK)))
    assert [case.pk for case in cases] == [callback_case.pk]
    assert cases[0].due_callback_requested is True
    assert cases[0].urgency == 1
    counts = case_due_counts_for_user(user=team_lead)
    assert counts[Due.CALLBACK] == 1
    assert counts[Due.ANY] >= 1


def test_handling_every_request_takes_it_out_again(caseworker, team_lead, callback_case, anna):
    second = asked(callback_case, anna, 27)
    first = CallbackRequest.objects.exclude(pk=second.pk).get()
    callback_request_handle(
        ctx=AuditContext.system(caseworker), callback_id=first.pk, note="Angerufen"
    )
    assert case_due_counts_for_user(user=team_lead)[Due.CALLBACK] == 1  # the second is open
    callback_request_handle(
        ctx=AuditContext.system(caseworker), callback_id=second.pk, note="Angerufen"
    )
    assert not case_list_for_user(user=team_lead, filters=CaseFilters(due=Due.CALLBACK)).exists()
    assert case_due_counts_for_user(user=team_lead)[Due.CALLBACK] == 0


def test_another_teams_caseworker_never_sees_it(other_caseworker, callback_case):
    assert case_due_counts_for_user(user=other_caseworker)[Due.CALLBACK] == 0
    assert not case_list_for_user(
        user=other_caseworker, filters=CaseFilters(due=Due.CALLBACK, queue="all")
    ).exists()


def test_the_queue_page_counts_labels_and_filters_it(client, team_lead, callback_case, quiet_case):
    client.force_login(team_lead)
    response = client.get(URL)
    assert response.status_code == 200
    counts = {value: count for value, _label, count in response.context["due_counts"]}
    assert counts["callback_requested"] == 1
    labels = {value: label for value, label, _count in response.context["due_counts"]}
    with translation.override("en"):  # its German ("Rückruf erbeten") comes with the catalogue
        assert str(labels["callback_requested"]) == "Call-back requested"
    response = client.get(URL, {"due": "callback_requested"})
    assert response.status_code == 200
    shown = {row.pk for row in response.context["page"].object_list}
    assert shown == {callback_case.pk}
    assert f'id="case-row-{callback_case.pk}"' in response.content.decode()


def test_the_queue_query_count_does_not_grow_with_requests(client, team_lead, team, anna):
    client.force_login(team_lead)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    asked(CaseFactory(team=team, phase=Phase.IMPLEMENTATION), anna, 24)
    few = count()
    for day in (25, 26, 27):
        asked(CaseFactory(team=team, phase=Phase.IMPLEMENTATION), anna, day)
    assert count() == few
