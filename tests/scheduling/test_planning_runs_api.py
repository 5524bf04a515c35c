"""The planning-run API: /api/v1/planning-runs/ and /api/v1/planning-items/."""

import datetime as dt

import pytest
import time_machine
from drf_spectacular.validation import validate_schema

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import (
    Appointment,
    PlanningDecision,
    PlanningRun,
    PlanningRunStatus,
)
from scheduling.services_planning import planning_run_execute, planning_run_start
from tests.api.conftest import api_client, token_client
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import (
    calendar_for,
    due_case,
    make_staff,
    planning_settings,
)

TUESDAY = dt.date(2026, 11, 24)
RUNS = "/api/v1/planning-runs/"

OPERATIONS = {
    ("/api/v1/planning-runs/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/planning-runs/", "post"): {"201", "400", "401", "403", "409"},
    ("/api/v1/planning-runs/{run_id}/", "get"): {"200", "400", "401", "403", "404"},
    ("/api/v1/planning-runs/{run_id}/approve/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-runs/{run_id}/discard/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-items/{item_id}/approve/", "post"): {"200", "401", "403", "404", "409"},
    ("/api/v1/planning-items/{item_id}/reject/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
    },
}


@pytest.fixture(autouse=True)
def at_now(db):
    with time_machine.travel(NOW, tick=False) as traveller:
        planning_settings()
        yield traveller


@pytest.fixture
def proposed(team, team_lead):
    calendar_for(team_lead)
    make_staff(team, "anna")
    cases = [due_case(team, due=TUESDAY) for _ in range(2)]
    run = planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
    return planning_run_execute(run_id=run.pk), cases


@pytest.fixture
def sent(monkeypatch):
    from scheduling import tasks

    calls = []
    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", calls.extend)
    return calls


# --- schema ------------------------------------------------------------------------------------------


def test_the_operations_and_their_errors_are_in_a_valid_schema(db):
    schema = api_client().get("/api/schema/", {"format": "json"}).json()
    validate_schema(schema)
    for (path, method), codes in OPERATIONS.items():
        responses = schema["paths"][path][method]["responses"]
        assert set(responses) == codes, (path, method)
        for code in codes - {"200", "201"}:
            content = responses[code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, code)


# --- access ------------------------------------------------------------------------------------------


def test_anonymous_gets_401(proposed):
    run, _cases = proposed
    assert api_client().get(RUNS).status_code == 401
    assert api_client().get(f"{RUNS}{run.pk}/").status_code == 401


def test_admins_may_not_use_the_planning_api(proposed, admin_user):
    run, _cases = proposed
    client = token_client(admin_user)
    assert client.get(RUNS).status_code == 403
    assert client.get(f"{RUNS}{run.pk}/").status_code == 403
    assert client.post(RUNS, {}, format="json").status_code == 403


def test_another_teams_caseworker_gets_404(proposed, other_caseworker):
    run, _cases = proposed
    client = token_client(other_caseworker)
    assert client.get(RUNS).json()["results"] == []
    response = client.get(f"{RUNS}{run.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}
    item = run.items.first()
    assert client.post(f"/api/v1/planning-items/{item.pk}/approve/").status_code == 404
    assert client.post(f"{RUNS}{run.pk}/approve/").status_code == 404


# --- reading -------------------------------------------------------------------------------------------


def test_list_and_detail(proposed, caseworker):
    run, cases = proposed
    client = token_client(caseworker)
    listed = client.get(RUNS).json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    assert listed["results"][0]["status"] == "proposed"

    detail = client.get(f"{RUNS}{run.pk}/").json()
    assert detail["placed_count"] == 2
    assert detail["bound"] == 2
    assert {item["case_id"] for item in detail["items"]} == {c.pk for c in cases}
    appointment = detail["items"][0]["appointment"]
    assert appointment["status"] == "planned"
    assert appointment["channel"] == "in_person"
    assert (
        AuditEvent.objects.filter(action="list", channel="api", detail__run_id=run.pk).count() == 2
    )


def test_unknown_query_parameters_are_refused(proposed, caseworker):
    run, _cases = proposed
    assert token_client(caseworker).get(f"{RUNS}{run.pk}/?x=1").status_code == 400


# --- starting ----------------------------------------------------------------------------------------------


def test_team_lead_starts_a_run_that_is_computed_after_commit(
    team, team_lead, django_capture_on_commit_callbacks
):
    make_staff(team, "anna")
    due_case(team, due=TUESDAY)
    client = token_client(team_lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUNS, {}, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "running"
    run = PlanningRun.objects.get(pk=response.json()["id"])
    assert run.status == PlanningRunStatus.PROPOSED  # the eager worker ran after the commit
    assert run.team_id == team.pk
    assert run.requested_by == team_lead


def test_caseworker_and_foreign_team_ids_are_refused(team, caseworker, team_lead, other_team):
    assert token_client(caseworker).post(RUNS, {}, format="json").status_code == 403
    response = token_client(team_lead).post(RUNS, {"team_id": other_team.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "Only the team lead of this team may do this."
    assert not PlanningRun.objects.exists()


def test_a_running_run_is_a_409(team, team_lead):
    planning_run_start(ctx=AuditContext(actor=team_lead, channel="ui"), team_id=team.pk)
    response = token_client(team_lead).post(RUNS, {}, format="json")
    assert response.status_code == 409
    assert set(response.json()) == {"message", "extra"}


def test_a_bad_body_is_a_400(team_lead):
    client = token_client(team_lead)
    assert client.post(RUNS, ["x"], format="json").status_code == 400
    assert client.post(RUNS, {"team_id": "abc"}, format="json").status_code == 400


# --- decisions -----------------------------------------------------------------------------------------------


def test_team_lead_approves_the_run_once(
    proposed, team_lead, sent, django_capture_on_commit_callbacks
):
    run, _cases = proposed
    client = token_client(team_lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{RUNS}{run.pk}/approve/")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert {i["appointment"]["status"] for i in response.json()["items"]} == {"approved"}
    assert len(sent) == 2
    assert client.post(f"{RUNS}{run.pk}/approve/").status_code == 409


def test_caseworker_cannot_approve_or_discard_the_run(proposed, caseworker):
    run, _cases = proposed
    client = token_client(caseworker)
    assert client.post(f"{RUNS}{run.pk}/approve/").status_code == 403
    assert client.post(f"{RUNS}{run.pk}/discard/").status_code == 403
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.PROPOSED


def test_team_lead_discards_the_run(proposed, team_lead):
    run, _cases = proposed
    response = token_client(team_lead).post(f"{RUNS}{run.pk}/discard/")
    assert response.status_code == 200
    assert response.json()["status"] == "discarded"
    # The proposals are withdrawn (no customer heard of them); the items keep them.
    assert {i["appointment"] is None for i in response.json()["items"]} == {True}
    assert all(i["proposal"]["start"] for i in response.json()["items"])
    assert not Appointment.objects.exists()


def test_caseworker_approves_and_rejects_single_items(
    proposed, caseworker, sent, django_capture_on_commit_callbacks
):
    run, _cases = proposed
    first, second = run.items.order_by("id")
    proposed_staff = second.appointment.staff_id
    client = token_client(caseworker)

    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(f"/api/v1/planning-items/{first.pk}/approve/")
    assert approved.status_code == 200
    assert approved.json()["decision"] == PlanningDecision.APPROVED
    assert sent == [first.appointment_id]
    assert client.post(f"/api/v1/planning-items/{first.pk}/approve/").status_code == 409

    no_reason = client.post(f"/api/v1/planning-items/{second.pk}/reject/", {}, format="json")
    assert no_reason.status_code == 400
    blank = client.post(
        f"/api/v1/planning-items/{second.pk}/reject/", {"reason": " "}, format="json"
    )
    assert blank.status_code == 400
    rejected = client.post(
        f"/api/v1/planning-items/{second.pk}/reject/", {"reason": "Umzug"}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["decision"] == PlanningDecision.REJECTED
    assert rejected.json()["appointment"] is None
    assert rejected.json()["proposal"]["staff_id"] == proposed_staff
