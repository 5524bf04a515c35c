"""POST /api/v1/cases/{id}/transition/, /claim/, /release/ and the list's queue and due filters."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import CaseEvent, CustomerGroup, Phase, PhaseTransition
from tests.api.conftest import PERSONAS, token_client
from tests.cases.factories import CaseFactory
from tests.cases.factories_lifecycle import AgreedPlanFactory, IncompleteNoteFactory
from tests.organisation.factories import UserFactory

LIST_URL = reverse("api:case-list")


def transition_url(case_id) -> str:
    return reverse("api:case-transition", args=[case_id])


def claim_url(case_id) -> str:
    return reverse("api:case-claim", args=[case_id])


def release_url(case_id) -> str:
    return reverse("api:case-release", args=[case_id])


STATUS = {
    "caseworker": 200,
    "team_lead": 200,
    "other_caseworker": 404,
    "admin_user": 403,
    "anonymous": 401,
}


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_transition_access(as_persona, persona, case):
    response = as_persona(persona).post(transition_url(case.pk), {"to": "planning"}, format="json")
    assert response.status_code == STATUS[persona]
    case.refresh_from_db()
    if response.status_code == 200:
        assert case.phase == Phase.PLANNING
    else:
        assert set(response.json()) == {"message", "extra"}
        assert case.phase == Phase.PROFILING
        assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_claim_access(as_persona, persona, case):
    response = as_persona(persona).post(claim_url(case.pk))
    assert response.status_code == STATUS[persona]
    case.refresh_from_db()
    assert (case.claimed_by_id is not None) == (response.status_code == 200)


def test_other_teams_case_looks_missing_even_with_a_bad_body(as_persona, case):
    client = as_persona("other_caseworker")
    foreign = client.post(transition_url(case.pk), {"to": "nonsense"}, format="json")
    missing = client.post(transition_url(case.pk + 999), {"to": "nonsense"}, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


# --- transition ----------------------------------------------------------------------------------


def test_transition_returns_the_case_like_the_detail(caseworker_client, case, caseworker):
    response = caseworker_client.post(
        transition_url(case.pk), {"to": "planning", "reason": "Profil fertig"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    detail = caseworker_client.get(reverse("api:case-detail", args=[case.pk])).json()
    assert body == detail
    assert body["phase"] == "planning"
    assert body["cycle"] == 1
    assert body["events"][0]["kind"] == CaseEvent.Kind.PHASE_CHANGED
    transition = PhaseTransition.objects.get(case=case)
    assert (transition.actor, transition.reason) == (caseworker, "Profil fertig")
    update = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert update.channel == AuditChannel.API
    assert update.detail["to"] == "planning"


def test_guard_refusal_is_a_409_with_the_possible_transitions(caseworker_client, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    response = caseworker_client.post(
        transition_url(case.pk), {"to": "implementation"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert "cooperation plan" in body["message"]
    assert body["extra"]["possible"] == ["closed"]
    case.refresh_from_db()
    assert case.phase == Phase.PLANNING
    assert not PhaseTransition.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_with_agreed_plan_implementation_is_possible(caseworker_client, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    AgreedPlanFactory(case=case)
    response = caseworker_client.post(
        transition_url(case.pk), {"to": "implementation"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["phase"] == "implementation"


@pytest.mark.parametrize(
    ("phase", "to"),
    [
        (Phase.PROFILING, "profiling"),
        (Phase.PROFILING, "review"),
        (Phase.CLOSED, "planning"),
    ],
)
def test_impossible_transition_is_a_409(caseworker_client, team, phase, to):
    case = CaseFactory(team=team, phase=phase)
    response = caseworker_client.post(transition_url(case.pk), {"to": to}, format="json")
    assert response.status_code == 409
    assert response.json()["message"]
    assert not PhaseTransition.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "to"),
        ({"to": "sleeping"}, "to"),
        ({"to": "closed"}, "closure_reason"),
        ({"to": "closed", "closure_reason": "retired"}, "closure_reason"),
        ({"to": "closed", "closure_reason": "other"}, "reason"),
        ({"to": "planning", "closure_reason": "moved_away"}, "closure_reason"),
        ({"to": "planning", "reason": "x" * 2001}, "reason"),
    ],
)
def test_malformed_body_is_a_400_and_nothing_changes(caseworker_client, case, payload, field):
    response = caseworker_client.post(transition_url(case.pk), payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["extra"]["fields"]
    case.refresh_from_db()
    assert case.phase == Phase.PROFILING
    assert not PhaseTransition.objects.exists()
    assert not AuditEvent.objects.exists()


def test_close_with_reason(caseworker_client, case):
    response = caseworker_client.post(
        transition_url(case.pk),
        {"to": "closed", "closure_reason": "insured_employment", "reason": ""},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["phase"] == "closed"
    assert body["closure_reason"] == "insured_employment"
    assert body["closed_at"]


# --- claim and release ---------------------------------------------------------------------------


def test_claim_and_release(caseworker_client, caseworker, case):
    claimed = caseworker_client.post(claim_url(case.pk))
    assert claimed.status_code == 200
    assert claimed.json()["claimed_by"]["username"] == caseworker.username
    again = caseworker_client.post(claim_url(case.pk))
    assert again.status_code == 409
    released = caseworker_client.post(release_url(case.pk))
    assert released.status_code == 200
    assert released.json()["claimed_by"] is None


def test_claim_taken_by_someone_else_is_a_409_naming_them(caseworker_client, team, case):
    colleague = UserFactory(username="colleague", role="caseworker", team=team)
    assert token_client(colleague).post(claim_url(case.pk)).status_code == 200
    response = caseworker_client.post(claim_url(case.pk))
    assert response.status_code == 409
    assert response.json()["extra"] == {"claimed_by": "colleague"}
    release = caseworker_client.post(release_url(case.pk))
    assert release.status_code == 409
    case.refresh_from_db()
    assert case.claimed_by == colleague


def test_fixed_case_claim_is_a_409(caseworker_client, caseworker, team):
    case = CaseFactory(team=team, caseworker=caseworker, customer_group=CustomerGroup.POTENTIAL)
    response = caseworker_client.post(claim_url(case.pk))
    assert response.status_code == 409


# --- the list: queue and due ---------------------------------------------------------------------


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_list_queue_filter(caseworker_client, caseworker, team):
    mine = CaseFactory(team=team, caseworker=caseworker, customer_group=CustomerGroup.POTENTIAL)
    free = CaseFactory(team=team)
    claimed = CaseFactory(team=team, claimed_by=caseworker, claimed_at=timezone.now())
    assert _ids(caseworker_client.get(LIST_URL, {"queue": "mine"})) == {mine.pk, claimed.pk}
    assert _ids(caseworker_client.get(LIST_URL, {"queue": "team"})) == {free.pk, claimed.pk}
    assert _ids(caseworker_client.get(LIST_URL, {"queue": "all"})) == {mine.pk, free.pk, claimed.pk}
    assert _ids(caseworker_client.get(LIST_URL)) == {mine.pk, free.pk, claimed.pk}


def test_list_due_filter_and_flags(caseworker_client, team):
    today = timezone.localdate()
    review = CaseFactory(team=team, review_due=today - datetime.timedelta(days=1))
    notes = CaseFactory(team=team)
    IncompleteNoteFactory(case=notes)
    nothing = CaseFactory(team=team)
    response = caseworker_client.get(LIST_URL)
    rows = {row["id"]: row for row in response.json()["results"]}
    assert [row["id"] for row in response.json()["results"]] == [review.pk, notes.pk, nothing.pk]
    assert rows[review.pk]["due"] == {
        "review_due": True,
        "steps_overdue": False,
        "oldest_overdue_step": None,
        "profiling_overdue": False,
        "suggestion_pending": False,
        "missed_appointment": False,
        "callback_requested": False,
        "notes_incomplete": False,
        "urgency": 0,
    }
    assert rows[notes.pk]["due"]["notes_incomplete"] is True
    assert rows[nothing.pk]["due"]["urgency"] == 3
    assert _ids(caseworker_client.get(LIST_URL, {"due": "notes_incomplete"})) == {notes.pk}
    assert _ids(caseworker_client.get(LIST_URL, {"due": "any"})) == {review.pk, notes.pk}


@pytest.mark.parametrize("params", [{"queue": "everyone"}, {"due": "soon"}, {"due": ""}])
def test_list_bad_queue_or_due_is_a_400(caseworker_client, case, params):
    response = caseworker_client.get(LIST_URL, params)
    assert response.status_code == 400
    assert set(response.json()) == {"message", "extra"}
