from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from cases.models import Phase
from tests.cases.factories import CaseFactory


def test_caseworker_sees_own_team_cases_only(client, caseworker, case, other_case):
    client.force_login(caseworker)
    response = client.get(reverse("cases:work_queue"))
    assert response.status_code == 200
    assert case.customer.customer_number in response.content.decode()
    assert other_case.customer.customer_number not in response.content.decode()


def test_other_team_case_page_is_404(client, other_caseworker, case):
    client.force_login(other_caseworker)
    response = client.get(reverse("cases:case_detail", args=[case.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(customer_id=case.customer_id).exists()


def test_case_page_read_is_audited(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(reverse("cases:case_detail", args=[case.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW, customer_id=case.customer_id)
    assert event.actor == caseworker
    assert event.object_id == str(case.pk)


def test_phase_filter(client, caseworker, team):
    planning = CaseFactory(team=team, phase=Phase.PLANNING)
    profiling = CaseFactory(team=team, phase=Phase.PROFILING)
    client.force_login(caseworker)
    response = client.get(
        reverse("cases:work_queue"), {"phase": "planning"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert planning.customer.customer_number in body
    assert profiling.customer.customer_number not in body
    assert "<html" not in body
