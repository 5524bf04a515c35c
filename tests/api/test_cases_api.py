"""The case API: /api/v1/cases/ and /api/v1/cases/<id>/."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import CustomerGroup, Phase
from tests.api.conftest import PERSONAS, token_client
from tests.cases.factories import CaseEventFactory, CaseFactory, CustomerFactory

LIST_URL = reverse("api:case-list")
ADMIN_MESSAGE = "Your role configures the system and does not read case contents."


def detail_url(case_id) -> str:
    return reverse("api:case-detail", args=[case_id])


def result_ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- who may see what ---------------------------------------------------------------------------

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
        assert result_ids(response) == [visible.pk]
    else:
        assert set(response.json()) == {"message", "extra"}
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_access(as_persona, persona, case):
    response = as_persona(persona).get(detail_url(case.pk))

    assert response.status_code == DETAIL_STATUS[persona]
    body = response.json()
    if response.status_code == 200:
        assert body["id"] == case.pk
        assert body["customer"]["customer_number"] == case.customer.customer_number
    else:
        assert set(body) == {"message", "extra"}
        assert body["message"]
        assert not AuditEvent.objects.filter(customer_id=case.customer_id).exists()


def test_anonymous_gets_401_with_authenticate_header(anonymous_client, case):
    for url in (LIST_URL, detail_url(case.pk)):
        response = anonymous_client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["message"]


def test_admin_is_refused_with_a_reason(as_persona, case):
    client = as_persona("admin_user")
    for url in (LIST_URL, detail_url(case.pk)):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json() == {"message": ADMIN_MESSAGE, "extra": {}}


def test_other_team_case_looks_like_a_missing_one(as_persona, case, other_case):
    client = as_persona("other_caseworker")
    missing_id = max(case.pk, other_case.pk) + 1000

    foreign = client.get(detail_url(case.pk))
    missing = client.get(detail_url(missing_id))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign["Content-Type"] == missing["Content-Type"] == "application/json"
    assert not AuditEvent.objects.exists()


def test_session_login_works_too(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert result_ids(response) == [case.pk]


def test_expired_session_is_401(client, caseworker, case):
    client.force_login(caseworker)
    session = client.session
    session.set_expiry(-1)
    session.save()

    response = client.get(LIST_URL)

    assert response.status_code == 401
    assert response.json()["message"]
    assert not AuditEvent.objects.exists()


# --- the list: shape, order, filters -----------------------------------------------------------


def test_list_envelope_and_fields(caseworker_client, case):
    CaseEventFactory(case=case)
    response = caseworker_client.get(LIST_URL)

    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    row = body["results"][0]
    assert row["team"] == case.team.name
    assert row["phase"] == Phase.PROFILING
    assert row["customer_group"] is None
    assert row["overdue"] is False
    assert row["caseworker"] is None
    assert "events" not in row


def test_list_is_soonest_review_first_and_open_only(caseworker_client, team):
    today = timezone.localdate()
    later = CaseFactory(team=team, review_due=today + datetime.timedelta(days=20))
    sooner = CaseFactory(team=team, review_due=today + datetime.timedelta(days=2))
    CaseFactory(team=team, phase=Phase.CLOSED)

    response = caseworker_client.get(LIST_URL)

    assert result_ids(response) == [sooner.pk, later.pk]


def test_phase_filter(caseworker_client, team):
    planning = CaseFactory(team=team, phase=Phase.PLANNING)
    CaseFactory(team=team, phase=Phase.PROFILING)
    closed = CaseFactory(team=team, phase=Phase.CLOSED)

    assert result_ids(caseworker_client.get(LIST_URL, {"phase": "planning"})) == [planning.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"phase": "closed"})) == [closed.pk]


def test_customer_group_filter_including_none(caseworker_client, team):
    potential = CaseFactory(team=team, customer_group=CustomerGroup.POTENTIAL)
    undecided = CaseFactory(team=team, customer_group="")
    CaseFactory(team=team, customer_group=CustomerGroup.MARKET_NEAR)

    assert result_ids(caseworker_client.get(LIST_URL, {"customer_group": "potential"})) == [
        potential.pk
    ]
    response = caseworker_client.get(LIST_URL, {"customer_group": "none"})
    assert result_ids(response) == [undecided.pk]
    assert response.json()["results"][0]["customer_group"] is None


def test_overdue_filter(caseworker, team):
    with time_machine.travel(datetime.datetime(2030, 3, 10, 9, 0, tzinfo=datetime.UTC)):
        caseworker_client = token_client(caseworker)
        overdue = CaseFactory(team=team, review_due=datetime.date(2030, 3, 9))
        CaseFactory(team=team, review_due=datetime.date(2030, 3, 10))
        CaseFactory(team=team, review_due=None)

        response = caseworker_client.get(LIST_URL, {"overdue": "true"})
        assert result_ids(response) == [overdue.pk]
        assert response.json()["results"][0]["overdue"] is True
        assert len(result_ids(caseworker_client.get(LIST_URL, {"overdue": "false"}))) == 3


def test_search_by_name_and_customer_number(caseworker_client, team):
    meyer = CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Anna", last_name="Meyer", customer_number="123D1"),
    )
    CaseFactory(
        team=team,
        customer=CustomerFactory(first_name="Ben", last_name="Schulz", customer_number="456D2"),
    )

    assert result_ids(caseworker_client.get(LIST_URL, {"q": "meyer"})) == [meyer.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"q": "anna MEY"})) == [meyer.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"q": "123D"})) == [meyer.pk]
    assert result_ids(caseworker_client.get(LIST_URL, {"q": "nobody"})) == []
    assert len(result_ids(caseworker_client.get(LIST_URL, {"q": "   "}))) == 2


def test_filters_never_reach_another_team(caseworker_client, other_team):
    foreign = CaseFactory(
        team=other_team,
        phase=Phase.PLANNING,
        customer=CustomerFactory(last_name="Fremd"),
    )
    for params in ({"phase": "planning"}, {"q": "Fremd"}, {"q": foreign.customer.customer_number}):
        assert result_ids(caseworker_client.get(LIST_URL, params)) == []


# --- paging --------------------------------------------------------------------------------------


def test_paging(caseworker_client, team):
    today = timezone.localdate()
    cases = [
        CaseFactory(team=team, review_due=today + datetime.timedelta(days=n)) for n in range(5)
    ]

    first = caseworker_client.get(LIST_URL, {"page_size": 2}).json()
    last = caseworker_client.get(LIST_URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [row["id"] for row in first["results"]] == [cases[0].pk, cases[1].pk]
    assert "page=2" in first["next"]
    assert first["previous"] is None
    assert [row["id"] for row in last["results"]] == [cases[4].pk]
    assert last["next"] is None


def test_page_past_the_end_is_404_with_message(caseworker_client, case):
    response = caseworker_client.get(LIST_URL, {"page": 7})

    assert response.status_code == 404
    assert response.json() == {
        "message": "Page 7 does not exist; the last page is 1.",
        "extra": {"page": 7, "last_page": 1},
    }
    assert not AuditEvent.objects.exists()


def test_empty_list_is_page_one_not_404(caseworker_client):
    response = caseworker_client.get(LIST_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 0


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"phase": "foo"}, "phase"),
        ({"phase": ""}, "phase"),
        ({"customer_group": ""}, "customer_group"),
        ({"customer_group": "vip"}, "customer_group"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"q": "x" * 101}, "q"),
        ({"q": ""}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"page_size": 1000}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "abc"}, "page"),
    ],
)
def test_malformed_values_are_400(caseworker_client, case, params, field):
    response = caseworker_client.get(LIST_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(f"{field}: ")
    assert field in body["extra"]["fields"]
    assert not AuditEvent.objects.exists()


def test_unknown_parameter_is_400_and_named(caseworker_client, case):
    response = caseworker_client.get(LIST_URL, {"phse": "planning", "team": "1"})

    assert response.status_code == 400
    body = response.json()
    assert "phse, team" in body["message"]
    assert body["extra"]["unknown"] == ["phse", "team"]
    assert not AuditEvent.objects.exists()


def test_non_numeric_id_is_json_404(caseworker_client):
    response = caseworker_client.get("/api/v1/cases/abc/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "extra"}


def test_writing_is_not_allowed(caseworker_client, case):
    for response in (
        caseworker_client.post(LIST_URL, {}, format="json"),
        caseworker_client.delete(detail_url(case.pk)),
    ):
        assert response.status_code == 405
        assert set(response.json()) == {"message", "extra"}
    case.refresh_from_db()
    assert case.phase == Phase.PROFILING


# --- audit ---------------------------------------------------------------------------------------


def test_detail_writes_one_view_row(caseworker, case):
    response = token_client(caseworker).get(detail_url(case.pk), REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.VIEW
    assert event.channel == AuditChannel.API
    assert event.actor == caseworker
    assert event.actor_username == "cw"
    assert event.object_type == "case"
    assert event.object_id == str(case.pk)
    assert event.customer_id == case.customer_id
    assert event.ip_address == "10.1.2.3"
    assert abs(event.at - timezone.now()) < datetime.timedelta(minutes=1)


def test_list_writes_one_row_per_returned_case_in_one_query(caseworker_client, team, other_case):
    today = timezone.localdate()
    cases = [
        CaseFactory(team=team, review_due=today + datetime.timedelta(days=n)) for n in range(4)
    ]

    with CaptureQueriesContext(connection) as queries:
        response = caseworker_client.get(LIST_URL, {"page_size": 3})

    assert response.status_code == 200
    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len(inserts) == 1
    events = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="case")
    assert sorted(e.customer_id for e in events) == sorted(c.customer_id for c in cases[:3])
    assert {e.object_id for e in events} == {str(c.pk) for c in cases[:3]}
    assert {e.actor_username for e in events} == {"cw"}
    assert not AuditEvent.objects.filter(customer_id=other_case.customer_id).exists()


def test_case_detail_shows_the_timeline(caseworker_client, case, caseworker):
    CaseEventFactory(case=case, actor=caseworker, summary="Termin vereinbart")

    body = caseworker_client.get(detail_url(case.pk)).json()

    assert body["events"] == [
        {
            "at": body["events"][0]["at"],
            "kind": "opened",
            "summary": "Termin vereinbart",
            "actor": "cw",
        }
    ]


# --- queries -------------------------------------------------------------------------------------


def _list_query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_cases(caseworker_client, team, caseworker):
    for _ in range(3):
        CaseFactory(team=team, caseworker=caseworker)
    few = _list_query_count(caseworker_client, LIST_URL)

    for _ in range(27):
        CaseFactory(team=team, caseworker=caseworker)
    many = _list_query_count(caseworker_client, LIST_URL)

    assert few == many
    assert AuditEvent.objects.count() == 3 + 30


def test_detail_query_count_does_not_grow_with_events(caseworker_client, case, caseworker):
    CaseEventFactory(case=case, actor=caseworker)
    with CaptureQueriesContext(connection) as few:
        caseworker_client.get(detail_url(case.pk))
    for _ in range(10):
        CaseEventFactory(case=case, actor=caseworker)
    with CaptureQueriesContext(connection) as many:
        caseworker_client.get(detail_url(case.pk))
    assert len(few) == len(many)
