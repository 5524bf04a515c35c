"""The "KI-Profiling" card on the case page: access, asking, refusals, deciding, strategies."""
# ruff: noqa: F811 - the fixtures come from test_suggestions

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from cases.models import CustomerGroup, Phase, PlanStep
from profiling.models import ModelStatus, ModelVersion, ProfilingDecision, ProfilingSuggestion
from profiling.services.suggestions import suggestion_create
from tests.cases.factories import CaseFactory
from tests.profiling.factories import profile_with_version
from tests.profiling.test_suggestions import (  # noqa: F401 - fixtures
    TEST_STRATEGY,
    ai,
    ctx_of,
    profiled_case,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Texts are asserted in English, chosen as a user would; German is the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _create(case) -> str:
    return reverse("profiling:suggestion_create", args=[case.pk])


def _decide(case) -> str:
    return reverse("profiling:suggestion_decide", args=[case.pk])


def _plan(case, suggestion, code=TEST_STRATEGY) -> str:
    return reverse("profiling:suggestion_strategy_to_plan", args=[case.pk, suggestion.pk, code])


def _page(case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def _body(response) -> str:
    return response.content.decode()


def _other(group: str) -> str:
    return next(g for g in CustomerGroup.values if g != group)


# --- access ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    for url in (_create(profiled_case), _decide(profiled_case), _plan(profiled_case, suggestion)):
        response = client.post(url, {})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert ProfilingSuggestion.objects.count() == 1


@pytest.mark.parametrize(("persona", "status"), [("other_caseworker", 404), ("admin_user", 403)])
def test_who_must_not_see_the_case_changes_nothing(
    client, request, ai, caseworker, profiled_case, persona, status
):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(request.getfixturevalue(persona))
    data = {
        "suggestion": suggestion.pk,
        "decision": "accept",
        "group": "",
        "reason": "",
    }
    for url, body in (
        (_create(profiled_case), {}),
        (_decide(profiled_case), data),
        (_plan(profiled_case, suggestion), {}),
    ):
        response = client.post(url, body, **HTMX)
        assert response.status_code == status
        assert profiled_case.customer.last_name not in _body(response)
    assert ProfilingSuggestion.objects.count() == 1
    assert not ProfilingDecision.objects.exists()
    assert not PlanStep.objects.exists()


def test_get_is_not_allowed(client, caseworker, profiled_case):
    client.force_login(caseworker)
    assert client.get(_create(profiled_case)).status_code == 405


# --- the card on the case page --------------------------------------------------------------------


def test_the_case_page_offers_the_ai_profiling(client, ai, caseworker, profiled_case):
    client.force_login(caseworker)
    body = _body(client.get(_page(profiled_case)))
    assert 'id="ai-profiling"' in body
    assert "AI profiling" in body
    assert "Request an AI suggestion" in body


def test_without_a_profile_the_card_says_to_record_it(client, ai, caseworker, case):
    client.force_login(caseworker)
    body = _body(client.get(_page(case)))
    assert "There is no profile for this customer yet." in body
    assert "Request an AI suggestion" not in body

    response = client.post(_create(case), **HTMX)
    assert response.status_code == 400
    assert "Record the anamnesis on the profile page first" in _body(response)


def test_without_an_active_model_the_card_says_so(client, db, caseworker, profiled_case):
    client.force_login(caseworker)
    body = _body(client.get(_page(profiled_case)))
    assert "No profiling model is active yet" in body


def test_a_closed_case_gets_no_suggestion(client, ai, caseworker, team):
    case = CaseFactory(team=team, phase=Phase.CLOSED)
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    assert "the AI makes no more suggestions" in _body(client.get(_page(case)))
    response = client.post(_create(case), **HTMX)
    assert response.status_code == 400
    assert not ProfilingSuggestion.objects.exists()


def test_asking_returns_the_card_with_reasons(client, ai, caseworker, profiled_case):
    client.force_login(caseworker)

    response = client.post(_create(profiled_case), **HTMX)

    assert response.status_code == 200
    body = _body(response)
    assert body.lstrip().startswith('<section id="ai-profiling"')
    suggestion = ProfilingSuggestion.objects.get()
    assert f"{round(suggestion.probability * 100)} %" in body
    assert suggestion.get_suggested_group_display() in body
    assert "What raises the chances" in body
    assert "What lowers the chances" in body
    assert "Explanation for the customer (plain language)" in body
    assert "Take into the cooperation plan" in body
    assert "Why it fits:" in body
    assert 'name="decision"' in body
    assert reverse("profiling:model_detail", args=[ai["model"].number]) in body
    assert "Vary" in response
    assert "HX-Request" in response["Vary"]


def test_asking_without_htmx_redirects_to_the_case_page(client, ai, caseworker, profiled_case):
    client.force_login(caseworker)
    response = client.post(_create(profiled_case))
    assert response.status_code == 303
    assert response["Location"] == _page(profiled_case) + "#ai-profiling"
    page = _body(client.get(response["Location"]))
    assert "The AI has made a suggestion." in page
    assert "Latest suggestion" in page


def test_a_refusal_without_htmx_shows_the_case_page_with_the_message(client, ai, caseworker, case):
    client.force_login(caseworker)
    response = client.post(_create(case))
    assert response.status_code == 400
    body = _body(response)
    assert "<h1" in body
    assert "Record the anamnesis on the profile page first" in body
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="case", actor=caseworker
    ).exists()


def test_overriding_without_a_reason_shows_the_error_at_the_field(
    client, ai, caseworker, profiled_case
):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(caseworker)
    other = _other(suggestion.suggested_group)
    data = {"suggestion": suggestion.pk, "decision": "override", "group": other, "reason": ""}

    response = client.post(_decide(profiled_case), data, **HTMX)

    assert response.status_code == 400
    body = _body(response)
    assert 'id="id_ai_reason_error"' in body
    assert "Give a reason for choosing another group" in body
    assert not ProfilingDecision.objects.exists()

    data["reason"] = "Gesundheitliche Lage erst im Frühjahr geklärt."
    response = client.post(_decide(profiled_case), data, **HTMX)
    assert response.status_code == 200
    body = _body(response)
    assert "the AI suggestion was overridden" in body
    assert "Overridden by" in body
    assert "Gesundheitliche Lage erst im Frühjahr geklärt." in body
    # The header badges and the timeline come along, swapped out of band.
    badges = body[body.index('<ul id="case-badges"') :]
    assert badges.startswith('<ul id="case-badges" class="app-badges"')
    assert 'hx-swap-oob="true"' in badges[: badges.index(">")]
    assert f"Customer group: {CustomerGroup(other).label}" in badges
    assert '<section id="case-timeline"' in body
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == other
    assert profiled_case.suggestion_pending is False


def test_accepting_sets_the_suggested_group(client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(caseworker)
    data = {
        "suggestion": suggestion.pk,
        "decision": "accept",
        "group": "",
        "reason": "",
        "strategies": [TEST_STRATEGY],
    }

    response = client.post(_decide(profiled_case), data)

    assert response.status_code == 303
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == suggestion.suggested_group
    assert ProfilingDecision.objects.get().strategies == [TEST_STRATEGY]


def test_a_second_decision_is_refused(client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(caseworker)
    data = {"suggestion": suggestion.pk, "decision": "accept"}
    assert client.post(_decide(profiled_case), data, **HTMX).status_code == 200
    response = client.post(_decide(profiled_case), data, **HTMX)
    assert response.status_code == 409
    assert "already decided on this suggestion" in _body(response)


def test_a_strategy_goes_into_the_plan_with_one_click(client, ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(caseworker)

    response = client.post(_plan(profiled_case, suggestion), **HTMX)

    assert response.status_code == 200
    body = _body(response)
    assert "The step was added to the draft 1.1 of the cooperation plan." in body
    assert reverse("cases:plan_detail", args=[profiled_case.pk]) in body
    assert "In the draft plan" in body
    assert PlanStep.objects.get().description == "An einem Bewerbungscoaching teilnehmen."

    response = client.post(_plan(profiled_case, suggestion), **HTMX)
    assert response.status_code == 409
    assert "already in the draft of the cooperation plan" in _body(response)
    assert PlanStep.objects.count() == 1


def test_the_history_lists_suggestions_and_decisions(client, ai, caseworker, profiled_case):
    first = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    client.force_login(caseworker)
    client.post(_decide(profiled_case), {"suggestion": first.pk, "decision": "accept"}, **HTMX)
    suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    body = _body(client.get(_page(profiled_case)))

    assert "Suggestions and decisions" in body
    assert body.count("model version 1") >= 2
    assert "Accepted" in body or "accepted" in body
    assert "not decided" in body


def test_the_case_page_queries_do_not_grow_with_the_suggestions(
    client, ai, caseworker, profiled_case
):
    client.force_login(caseworker)
    suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_page(profiled_case)).status_code == 200
        return len(queries)

    few = count()
    for _ in range(5):
        suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    assert count() == few


def test_no_model_left_active_is_a_clear_message(client, ai, caseworker, profiled_case):
    ModelVersion.objects.update(status=ModelStatus.RETIRED)
    client.force_login(caseworker)
    response = client.post(_create(profiled_case), **HTMX)
    assert response.status_code == 400
    assert "No profiling model is active yet" in _body(response)
