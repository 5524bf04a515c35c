"""The AI profiling API: /api/v1/cases/{id}/profiling/ (create, list), .../decision/, strategy to plan."""
# ruff: noqa: F811 - the fixtures come from test_suggestions

import pytest

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import CustomerGroup, PlanStep
from profiling.models import (
    ModelStatus,
    ModelVersion,
    Profile,
    ProfilingDecision,
    ProfilingSuggestion,
)
from profiling.services.suggestions import suggestion_create
from tests.api.conftest import PERSONAS
from tests.profiling.factories import profile_with_version
from tests.profiling.test_suggestions import (  # noqa: F401 - fixtures
    TEST_STRATEGY,
    ai,
    ctx_of,
    profiled_case,
)

DENIED = {"other_caseworker": 404, "admin_user": 403, "anonymous": 401}


def _url(case_id: int) -> str:
    return f"/api/v1/cases/{case_id}/profiling/"


def _decision_url(case_id: int) -> str:
    return f"/api/v1/cases/{case_id}/profiling/decision/"


def _plan_url(case_id: int, suggestion_id: int, code: str = TEST_STRATEGY) -> str:
    return f"/api/v1/cases/{case_id}/profiling/{suggestion_id}/strategies/{code}/plan/"


def _other(group: str) -> str:
    return next(g for g in CustomerGroup.values if g != group)


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_ask_for_a_suggestion(as_persona, persona, ai, profiled_case):
    response = as_persona(persona).post(_url(profiled_case.pk))
    expected = {"caseworker": 201, "team_lead": 201, **DENIED}[persona]
    assert response.status_code == expected
    assert ProfilingSuggestion.objects.exists() == (expected == 201)
    if expected != 201:
        assert set(response.json()) == {"message", "extra"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_list_the_suggestions(as_persona, persona, ai, caseworker, profiled_case):
    suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    response = as_persona(persona).get(_url(profiled_case.pk))
    expected = {"caseworker": 200, "team_lead": 200, **DENIED}[persona]
    assert response.status_code == expected
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="profiling_suggestion")
    assert views.exists() == (expected == 200)


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user", "anonymous"])
def test_who_may_not_decide_or_plan(as_persona, persona, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client = as_persona(persona)
    body = {"suggestion": suggestion.pk, "accepted": True, "group": suggestion.suggested_group}
    assert (
        client.post(_decision_url(profiled_case.pk), body, format="json").status_code
        == (DENIED[persona])
    )
    assert client.post(_plan_url(profiled_case.pk, suggestion.pk)).status_code == DENIED[persona]
    assert not ProfilingDecision.objects.exists()
    assert not PlanStep.objects.exists()
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == ""


# --- creating and listing -------------------------------------------------------------------------


def test_a_suggestion_comes_with_its_reasons_in_words(caseworker_client, ai, profiled_case):
    response = caseworker_client.post(_url(profiled_case.pk))

    assert response.status_code == 201
    data = response.json()
    assert data["model_version"] == ai["model"].number
    assert data["rule_set_version"] == ai["rules"].version
    assert data["profile_version"] == 1
    assert data["trigger"] == "first"
    assert data["requested_by"] == "cw"
    assert data["current_group"] == ""
    assert data["latest"] is True
    assert data["decision"] is None
    assert data["inputs"]["german"] == "B1"
    assert data["missing"] == []
    assert data["range_text"] == ""
    directions = {factor["direction"] for factor in data["factors"]}
    assert directions == {"raises", "lowers"}
    for factor in data["factors"]:
        assert factor["text"]
        assert factor["customer_text"]
        assert factor["label"]
    assert "decides together with you" in data["customer_text"]
    first = data["strategies"][0]
    assert first["code"] == TEST_STRATEGY
    assert first["reason_texts"]
    assert first["in_plan"] is False


def test_missing_inputs_are_listed_with_their_texts(caseworker_client, ai, profiled_case):
    Profile.objects.filter(customer=profiled_case.customer).update(motivation="")

    data = caseworker_client.post(_url(profiled_case.pk)).json()

    assert [entry["feature"] for entry in data["missing"]] == ["motivation"]
    missing = data["missing"][0]
    assert missing["required"] is True
    assert missing["text"].startswith("Motivation is not recorded")
    assert data["probability_low"] < data["probability"] < data["probability_high"]
    assert data["range_text"]


@pytest.mark.parametrize(
    ("setup", "code"),
    [("no_profile", "no_profile"), ("no_model", "no_active_model"), ("closed", "case_closed")],
)
def test_refusals_say_why(caseworker_client, ai, case, setup, code):
    if setup != "no_profile":
        profile_with_version(customer=case.customer)
    if setup == "no_model":
        ModelVersion.objects.update(status=ModelStatus.RETIRED)
    if setup == "closed":
        case.phase = "closed"
        case.closed_at = case.opened_at
        case.save()

    response = caseworker_client.post(_url(case.pk))

    assert response.status_code == 400
    assert response.json()["extra"]["code"] == code
    assert response.json()["message"]


def test_the_list_is_newest_first_with_decisions(caseworker_client, ai, caseworker, profiled_case):
    older = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    newer = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    caseworker_client.post(
        _decision_url(profiled_case.pk),
        {"suggestion": newer.pk, "accepted": True, "group": newer.suggested_group},
        format="json",
    )

    response = caseworker_client.get(_url(profiled_case.pk))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [newer.pk, older.pk]
    assert results[0]["latest"] is True
    assert results[1]["latest"] is False
    assert results[0]["decision"]["outcome"] == "accepted"
    assert results[0]["decision"]["decided_by"] == "cw"
    assert results[1]["decision"] is None
    assert caseworker_client.get(_url(profiled_case.pk), {"sort": "x"}).status_code == 400


# --- deciding -------------------------------------------------------------------------------------


def test_override_without_reason_is_a_400_at_the_field(
    caseworker_client, ai, caseworker, profiled_case
):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    body = {
        "suggestion": suggestion.pk,
        "accepted": False,
        "group": _other(suggestion.suggested_group),
    }

    response = caseworker_client.post(_decision_url(profiled_case.pk), body, format="json")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"reason"}
    body["reason"] = "Kinderbetreuung erst ab Sommer gesichert."
    response = caseworker_client.post(_decision_url(profiled_case.pk), body, format="json")
    assert response.status_code == 201
    assert response.json()["outcome"] == "overridden"
    assert response.json()["reason"] == body["reason"]
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == body["group"]
    decision = AuditEvent.objects.get(object_type="profiling_decision")
    assert decision.channel == AuditChannel.API


def test_deciding_twice_or_an_older_suggestion_is_a_409(
    caseworker_client, ai, caseworker, profiled_case
):
    older = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    latest = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    url = _decision_url(profiled_case.pk)

    response = caseworker_client.post(
        url, {"suggestion": older.pk, "accepted": True, "group": older.suggested_group}, "json"
    )
    assert response.status_code == 409
    assert response.json()["extra"]["latest_suggestion"] == latest.pk

    body = {"suggestion": latest.pk, "accepted": True, "group": latest.suggested_group}
    assert caseworker_client.post(url, body, format="json").status_code == 201
    assert caseworker_client.post(url, body, format="json").status_code == 409


def test_a_malformed_decision_is_a_400(caseworker_client, ai, caseworker, profiled_case):
    suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    response = caseworker_client.post(
        _decision_url(profiled_case.pk), {"accepted": "maybe", "group": "vip"}, format="json"
    )
    assert response.status_code == 400
    assert {"suggestion", "accepted"} <= set(response.json()["extra"]["fields"])


def test_an_unknown_group_is_a_400_at_the_field(caseworker_client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    body = {"suggestion": suggestion.pk, "accepted": False, "group": "vip", "reason": "x"}
    response = caseworker_client.post(_decision_url(profiled_case.pk), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"group"}


# --- strategies into the plan ---------------------------------------------------------------------


def test_a_strategy_into_the_plan_with_one_call(caseworker_client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    response = caseworker_client.post(_plan_url(profiled_case.pk, suggestion.pk))

    assert response.status_code == 201
    data = response.json()
    assert data["plan_version"] == "1.1"
    assert data["step"]["description"] == "An einem Bewerbungscoaching teilnehmen."
    again = caseworker_client.post(_plan_url(profiled_case.pk, suggestion.pk))
    assert again.status_code == 409
    assert caseworker_client.post(_plan_url(profiled_case.pk, suggestion.pk, "x")).status_code == (
        404
    )
    listed = caseworker_client.get(_url(profiled_case.pk)).json()["results"][0]
    assert listed["strategies"][0]["in_plan"] is True
