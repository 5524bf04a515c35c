"""The customer API: /api/v1/customers/ and /api/v1/customers/<id>/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import Phase
from tests.api.conftest import PERSONAS
from tests.cases.factories import CaseFactory, CustomerFactory, HouseholdFactory

LIST_URL = reverse("api:customer-list")


def detail_url(customer_id) -> str:
    return reverse("api:customer-detail", args=[customer_id])


def result_ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


LIST_STATUS = {
    "caseworker": 200,
    "team_lead": 200,
    "other_caseworker": 200,
    "admin_user": 403,
    "anonymous": 401,
}
DETAIL_STATUS = {
    "caseworker": 200,
    "team_lead": 200,
    "other_caseworker": 404,
    "admin_user": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_access(as_persona, persona, case, other_case):
    response = as_persona(persona).get(LIST_URL)

    assert response.status_code == LIST_STATUS[persona]
    if response.status_code == 200:
        visible = {"caseworker": case, "team_lead": case, "other_caseworker": other_case}[persona]
        assert result_ids(response) == [visible.customer_id]
    else:
        assert set(response.json()) == {"message", "extra"}
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_access(as_persona, persona, case):
    response = as_persona(persona).get(detail_url(case.customer_id))

    assert response.status_code == DETAIL_STATUS[persona]
    body = response.json()
    if response.status_code == 200:
        assert body["customer_number"] == case.customer.customer_number
    else:
        assert set(body) == {"message", "extra"}
        assert not AuditEvent.objects.exists()


def test_anonymous_gets_401_with_authenticate_header(anonymous_client, case):
    for url in (LIST_URL, detail_url(case.customer_id)):
        response = anonymous_client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_admin_is_refused_with_a_reason(as_persona, case):
    for url in (LIST_URL, detail_url(case.customer_id)):
        response = as_persona("admin_user").get(url)
        assert response.status_code == 403
        assert "does not read case contents" in response.json()["message"]


def test_other_team_customer_looks_like_a_missing_one(as_persona, case, other_case):
    client = as_persona("other_caseworker")
    foreign = client.get(detail_url(case.customer_id))
    missing = client.get(detail_url(max(case.customer_id, other_case.customer_id) + 1000))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_customer_with_cases_in_two_teams_is_listed_once_by_each(as_persona, team, other_team):
    customer = CustomerFactory()
    CaseFactory(team=team, customer=customer, phase=Phase.CLOSED)
    CaseFactory(team=team, customer=customer, phase=Phase.CLOSED)
    CaseFactory(team=other_team, customer=customer)

    for persona in ("caseworker", "other_caseworker"):
        response = as_persona(persona).get(LIST_URL)
        assert result_ids(response) == [customer.pk]
        assert response.json()["count"] == 1


def test_customer_without_case_is_nobodys(caseworker_client, case):
    stranger = CustomerFactory()

    assert result_ids(caseworker_client.get(LIST_URL)) == [case.customer_id]
    assert caseworker_client.get(detail_url(stranger.pk)).status_code == 404


def test_list_fields_order_and_search(caseworker_client, team):
    household = HouseholdFactory(adults=1, children=2, youngest_child_age=4)
    zeller = CaseFactory(
        team=team,
        customer=CustomerFactory(last_name="Zeller", first_name="Ute", customer_number="777D1"),
    ).customer
    adam = CaseFactory(
        team=team,
        customer=CustomerFactory(last_name="Adam", first_name="Eva", household=household),
    ).customer

    body = caseworker_client.get(LIST_URL).json()
    assert [row["id"] for row in body["results"]] == [adam.pk, zeller.pk]
    assert body["results"][0]["household"]["children"] == 2
    assert body["results"][0]["household"]["youngest_child_age"] == 4

    assert result_ids(caseworker_client.get(LIST_URL, {"q": "zell"})) == [zeller.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"q": "ute zeller"})) == [zeller.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"q": "777D"})) == [zeller.pk]


@pytest.mark.parametrize(
    ("params", "status", "key"),
    [
        ({"phase": "planning"}, 400, "unknown"),
        ({"page_size": 1000}, 400, "fields"),
        ({"q": "x" * 101}, 400, "fields"),
        ({"page": 5}, 404, "last_page"),
    ],
)
def test_errors(caseworker_client, case, params, status, key):
    response = caseworker_client.get(LIST_URL, params)

    assert response.status_code == status
    body = response.json()
    assert body["message"]
    assert key in body["extra"]
    assert not AuditEvent.objects.exists()


def test_non_numeric_id_is_json_404(caseworker_client):
    response = caseworker_client.get("/api/v1/customers/x1/")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}


def test_detail_writes_one_view_row(caseworker_client, caseworker, case):
    caseworker_client.get(detail_url(case.customer_id))

    event = AuditEvent.objects.get()
    assert (event.action, event.channel, event.object_type) == (
        AuditAction.VIEW,
        AuditChannel.API,
        "customer",
    )
    assert event.actor == caseworker
    assert event.customer_id == case.customer_id
    assert event.object_id == str(case.customer_id)


def test_list_writes_one_row_per_returned_customer_in_one_query(caseworker_client, team):
    customers = [CaseFactory(team=team).customer for _ in range(3)]

    with CaptureQueriesContext(connection) as queries:
        caseworker_client.get(LIST_URL)

    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len(inserts) == 1
    events = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="customer")
    assert sorted(e.customer_id for e in events) == sorted(c.pk for c in customers)


def _list_query_count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_customers(caseworker_client, team):
    for _ in range(3):
        CaseFactory(team=team)
    few = _list_query_count(caseworker_client)

    for _ in range(27):
        CaseFactory(team=team)
    many = _list_query_count(caseworker_client)

    assert few == many
    assert AuditEvent.objects.filter(object_type="customer").count() == 3 + 30
