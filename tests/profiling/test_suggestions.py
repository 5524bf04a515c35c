"""The AI suggestion services: ask, decide (accept, override), strategies into the plan, refusals,
the audit log, and that the log cannot be changed and the group only changes by a decision.

The fixtures here (an active model trained on the demo generator's history, the rules, a strategy
that fits everyone) are shared by the other suggestion test files.
"""

import datetime
import functools

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from audit.models import AuditAction, AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent, CustomerGroup, Phase, PlanStatus, PlanStep
from jobcenter.exceptions import ApplicationError, ConflictError
from profiling.explanations import (
    customer_sentence,
    missing_text,
    staff_phrase,
    suggestion_present,
)
from profiling.model.estimator import ProfilingEstimator, artefact_dumps
from profiling.model.features import row_from_profile
from profiling.model.history import demo_history
from profiling.model.runtime import NoActiveModelError, ProfileIncompleteError
from profiling.models import (
    ActionStrategy,
    AppendOnlyError,
    DecisionOutcome,
    ModelSource,
    ModelStatus,
    ModelVersion,
    Profile,
    ProfilingDecision,
    ProfilingSuggestion,
    SegmentRuleSet,
    SuggestionTrigger,
)
from profiling.services.suggestions import (
    SuggestionInputError,
    SuggestionNotFoundError,
    suggestion_create,
    suggestion_decide,
    suggestion_strategy_to_plan,
)
from tests.cases.factories import CaseFactory
from tests.cases.factories_plans import CooperationPlanFactory, PlanStepFactory
from tests.profiling.factories import profile_with_version

TEST_STRATEGY = "bewerbungscoaching-test"
# Everyone with a probability from 20 % is market-near, the rest potential: simple and known.
TEST_RULES = [
    {"group": "market_near", "min_probability": 0.2, "max_probability": None, "conditions": []},
    {"group": "potential", "min_probability": None, "max_probability": None, "conditions": []},
]


@functools.cache
def _artefact() -> tuple[bytes, str, tuple, float, int]:
    """A model trained once per test process on the demo generator's history."""
    data = demo_history(n=4000, seed=11)
    estimator = ProfilingEstimator.fit(data.rows, data.outcomes, seed=0)
    blob, sha = artefact_dumps(estimator)
    return blob, sha, estimator.features, data.base_rate, len(data)


def make_model(*, number: int = 1, status: str = ModelStatus.ACTIVE) -> ModelVersion:
    blob, sha, features, base_rate, rows = _artefact()
    return ModelVersion.objects.create(
        number=number,
        source=ModelSource.SYNTHETIC,
        source_name="tests",
        data_fingerprint="0" * 64,
        rows=rows,
        base_rate=base_rate,
        features=list(features),
        algorithm=ProfilingEstimator.algorithm,
        artefact=blob,
        artefact_sha256=sha,
        status=status,
        activated_at=timezone.now() if status == ModelStatus.ACTIVE else None,
    )


def make_rules(rules=None) -> SegmentRuleSet:
    latest = SegmentRuleSet.objects.order_by("-version").first()
    return SegmentRuleSet.objects.create(
        version=(latest.version + 1) if latest else 1, rules=rules or TEST_RULES
    )


def make_strategy(**changes) -> ActionStrategy:
    values = {
        "name": "Bewerbungscoaching (Test)",
        "description": "Bewerbungsunterlagen und Vorstellungsgespräche üben.",
        "customer_text": "Wir üben mit Ihnen Bewerbungen.",
        "conditions": [],
        "addresses": ["german", "care", "work_months_5y", "months_unemployed"],
        "groups": [],
        "step_text": "An einem Bewerbungscoaching teilnehmen.",
        "step_responsible": "customer",
        "step_due_weeks": 3,
        "priority": 500,  # ranks first whatever the effects
        **changes,
    }
    strategy, _created = ActionStrategy.objects.update_or_create(
        code=changes.pop("code", TEST_STRATEGY), defaults=values
    )
    return strategy


@pytest.fixture
def ai(db):
    """An active model, the test rules in force and a strategy that fits everyone."""
    return {"model": make_model(), "rules": make_rules(), "strategy": make_strategy()}


@pytest.fixture
def profiled_case(case):
    profile_with_version(customer=case.customer)
    return case


def ctx_of(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def _other_group(group: str) -> str:
    return next(g for g in CustomerGroup.values if g != group)


# --- asking for a suggestion -----------------------------------------------------------------------


def test_a_suggestion_logs_everything_and_leaves_the_group_alone(ai, caseworker, profiled_case):
    case = profiled_case
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=case.pk)

    profile = Profile.objects.get(customer=case.customer)
    assert suggestion.inputs == row_from_profile(
        profile=profile, customer=case.customer, region_unemployment_rate=6.0
    )
    assert "sex" not in suggestion.inputs
    assert "citizenship" not in suggestion.inputs
    assert suggestion.model_version == ai["model"]
    assert suggestion.rule_set == ai["rules"]
    assert suggestion.profile_version == profile.version == 1
    assert suggestion.trigger == SuggestionTrigger.FIRST
    assert suggestion.requested_by == caseworker
    assert 0 < suggestion.probability < 1
    assert suggestion.probability_low == suggestion.probability_high == suggestion.probability
    assert suggestion.missing == []
    expected = "market_near" if suggestion.probability >= 0.2 else "potential"
    assert suggestion.suggested_group == expected
    raising = [f for f in suggestion.factors if f["effect"] > 0]
    lowering = [f for f in suggestion.factors if f["effect"] < 0]
    assert 1 <= len(raising) <= 3
    assert 1 <= len(lowering) <= 3
    effects = [abs(f["effect"]) for f in suggestion.factors]
    assert effects == sorted(effects, reverse=True)
    assert suggestion.strategies[0]["code"] == TEST_STRATEGY
    assert set(suggestion.strategies[0]) == {"code", "name", "score", "reasons"}

    case.refresh_from_db()
    assert case.customer_group == ""  # only a person's decision sets it
    assert case.suggestion_pending is True
    assert suggestion.changed is True
    event = CaseEvent.objects.get(case=case, data__suggestion_id=suggestion.pk)
    assert event.actor == caseworker
    audit = AuditEvent.objects.filter(customer_id=case.customer_id, actor=caseworker)
    assert audit.filter(action=AuditAction.VIEW, object_type="profile").exists()
    assert audit.filter(
        action=AuditAction.CREATE, object_type="profiling_suggestion", object_id=str(suggestion.pk)
    ).exists()


def test_a_second_suggestion_is_requested_and_the_same_group_is_not_pending(
    ai, caseworker, profiled_case
):
    first = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    profiled_case.customer_group = first.suggested_group
    profiled_case.save()

    second = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    assert second.trigger == SuggestionTrigger.REQUESTED
    assert second.probability == pytest.approx(first.probability)
    assert second.changed is False
    profiled_case.refresh_from_db()
    assert profiled_case.suggestion_pending is False


def test_the_team_lead_may_ask_too(ai, team_lead, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(team_lead), case_id=profiled_case.pk)
    assert suggestion.requested_by == team_lead


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user"])
def test_who_cannot_see_the_case_gets_not_found(request, ai, persona, profiled_case):
    user = request.getfixturevalue(persona)
    with pytest.raises(SuggestionNotFoundError):
        suggestion_create(ctx=ctx_of(user), case_id=profiled_case.pk)
    assert not ProfilingSuggestion.objects.exists()


def test_no_profile_is_refused_with_what_to_do(ai, caseworker, case):
    with pytest.raises(ApplicationError) as error:
        suggestion_create(ctx=ctx_of(caseworker), case_id=case.pk)
    assert error.value.extra["code"] == "no_profile"
    # German, the default language (the message is translated when it is raised).
    assert "Erfassen Sie zuerst die Anamnese" in str(error.value.message)
    assert not ProfilingSuggestion.objects.exists()


def test_no_active_model_is_refused(db, caseworker, profiled_case):
    make_rules()
    make_model(status=ModelStatus.CANDIDATE)
    with pytest.raises(NoActiveModelError) as error:
        suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    assert error.value.extra["code"] == "no_active_model"
    assert not ProfilingSuggestion.objects.exists()


def test_a_closed_case_is_refused(ai, caseworker, team):
    case = CaseFactory(team=team, phase=Phase.CLOSED)
    profile_with_version(customer=case.customer)
    with pytest.raises(ApplicationError) as error:
        suggestion_create(ctx=ctx_of(caseworker), case_id=case.pk)
    assert error.value.extra["code"] == "case_closed"


def test_missing_inputs_are_named_with_the_range_they_leave(ai, caseworker, profiled_case):
    Profile.objects.filter(customer=profiled_case.customer).update(motivation="", debt="")

    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    assert suggestion.inputs["motivation"] is None
    assert suggestion.inputs["debt"] is None
    missing = {entry["feature"]: entry for entry in suggestion.missing}
    assert set(missing) == {"motivation", "debt"}
    assert suggestion.probability_low < suggestion.probability < suggestion.probability_high
    motivation = missing["motivation"]
    assert suggestion.probability_low <= motivation["low"] < motivation["high"]
    assert motivation["high"] <= suggestion.probability_high
    assert "motivation" not in {factor["feature"] for factor in suggestion.factors}
    with translation.override("en"):
        text = missing_text(
            motivation,
            probability_low=suggestion.probability_low,
            probability_high=suggestion.probability_high,
        )
    assert text.startswith("Motivation is not recorded: depending on it, the probability lies")
    assert f"{round(motivation['low'] * 100)} %" in text


def test_too_little_known_is_a_refusal_not_a_guess(ai, caseworker, profiled_case):
    Profile.objects.filter(customer=profiled_case.customer).update(
        school="", vocational="", german="", health="", motivation=""
    )
    with pytest.raises(ProfileIncompleteError) as error:
        suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    assert set(error.value.extra["missing"]) == {
        "school",
        "vocational",
        "german",
        "health",
        "motivation",
    }
    assert not ProfilingSuggestion.objects.exists()


# --- the decision ---------------------------------------------------------------------------------


def test_accepting_sets_the_suggested_group(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    decision = suggestion_decide(
        ctx=ctx_of(caseworker),
        case_id=profiled_case.pk,
        suggestion_id=suggestion.pk,
        accepted=True,
        group=suggestion.suggested_group,
        reason="",
        strategies=[TEST_STRATEGY],
    )

    assert decision.outcome == DecisionOutcome.ACCEPTED
    assert decision.decided_by == caseworker
    assert decision.strategies == [TEST_STRATEGY]
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == suggestion.suggested_group
    assert profiled_case.suggestion_pending is False
    event = CaseEvent.objects.get(case=profiled_case, kind=CaseEvent.Kind.GROUP_CHANGED)
    assert event.actor == caseworker
    assert event.data["ai_followed"] is True
    assert event.data["to"] == suggestion.suggested_group
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="profiling_decision", object_id=str(decision.pk)
    ).exists()


def test_overriding_needs_a_reason_and_is_logged_with_it(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    other = _other_group(suggestion.suggested_group)

    with pytest.raises(SuggestionInputError) as error:
        suggestion_decide(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            accepted=False,
            group=other,
            reason="   ",
            strategies=[],
        )
    assert set(error.value.extra["fields"]) == {"reason"}
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == ""
    assert not ProfilingDecision.objects.exists()

    decision = suggestion_decide(
        ctx=ctx_of(caseworker),
        case_id=profiled_case.pk,
        suggestion_id=suggestion.pk,
        accepted=False,
        group=other,
        reason="Pflegt die Mutter, Teilzeit nur vormittags möglich.",
        strategies=[],
    )
    assert decision.outcome == DecisionOutcome.OVERRIDDEN
    assert decision.reason == "Pflegt die Mutter, Teilzeit nur vormittags möglich."
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == other
    event = CaseEvent.objects.get(case=profiled_case, kind=CaseEvent.Kind.GROUP_CHANGED)
    assert event.data["ai_followed"] is False
    assert event.data["reason"] == decision.reason


@pytest.mark.parametrize(
    ("accepted", "same_group", "field"),
    [(True, False, "group"), (False, True, "group")],
)
def test_accepted_must_agree_with_the_group(
    ai, caseworker, profiled_case, accepted, same_group, field
):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    group = suggestion.suggested_group if same_group else _other_group(suggestion.suggested_group)
    with pytest.raises(SuggestionInputError) as error:
        suggestion_decide(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            accepted=accepted,
            group=group,
            reason="egal",
            strategies=[],
        )
    assert error.value.status_code == 400
    assert field in error.value.extra["fields"]


def test_only_suggested_strategies_can_be_chosen(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    with pytest.raises(SuggestionInputError) as error:
        suggestion_decide(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            accepted=True,
            group=suggestion.suggested_group,
            strategies=["erfunden"],
        )
    assert set(error.value.extra["fields"]) == {"strategies"}


def test_only_the_latest_suggestion_can_be_decided_and_only_once(ai, caseworker, profiled_case):
    older = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    latest = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    decide = functools.partial(
        suggestion_decide, ctx=ctx_of(caseworker), case_id=profiled_case.pk, accepted=True
    )

    with pytest.raises(ConflictError) as error:
        decide(suggestion_id=older.pk, group=older.suggested_group)
    assert error.value.status_code == 409
    assert error.value.extra["latest_suggestion"] == latest.pk

    decide(suggestion_id=latest.pk, group=latest.suggested_group)
    with pytest.raises(ConflictError):
        decide(suggestion_id=latest.pk, group=latest.suggested_group)
    assert ProfilingDecision.objects.count() == 1


def test_a_suggestion_of_another_case_is_not_found(ai, caseworker, profiled_case, team):
    other_case = CaseFactory(team=team)
    profile_with_version(customer=other_case.customer)
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=other_case.pk)
    with pytest.raises(SuggestionNotFoundError):
        suggestion_decide(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            accepted=True,
            group=suggestion.suggested_group,
        )


def test_the_group_only_changes_through_a_decision(ai, caseworker, profiled_case):
    profiled_case.customer_group = CustomerGroup.ADMINISTRATIVE
    profiled_case.save()
    for _ in range(2):
        suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    profiled_case.refresh_from_db()
    assert profiled_case.customer_group == CustomerGroup.ADMINISTRATIVE


# --- strategies into the plan ---------------------------------------------------------------------


def test_a_strategy_goes_into_a_new_draft_plan(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    step = suggestion_strategy_to_plan(
        ctx=ctx_of(caseworker),
        case_id=profiled_case.pk,
        suggestion_id=suggestion.pk,
        code=TEST_STRATEGY,
    )

    assert step.description == "An einem Bewerbungscoaching teilnehmen."
    assert step.responsible == "customer"
    assert step.due_date == timezone.localdate() + datetime.timedelta(weeks=3)
    plan = step.plan
    assert (plan.status, plan.version) == (PlanStatus.DRAFT, 1)
    assert "Altenpflegehelferin" in plan.integration_goal  # from the profile's target occupation
    assert AuditEvent.objects.filter(object_type="plan_step", object_id=str(step.pk)).exists()

    with pytest.raises(ConflictError) as error:
        suggestion_strategy_to_plan(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            code=TEST_STRATEGY,
        )
    assert error.value.extra["code"] == "already_in_plan"
    assert PlanStep.objects.filter(plan__case=profiled_case).count() == 1


def test_a_strategy_into_an_agreed_plan_starts_a_new_version(ai, caseworker, profiled_case):
    agreed = CooperationPlanFactory(
        case=profiled_case, status=PlanStatus.AGREED, created_by=caseworker
    )
    PlanStepFactory(plan=agreed, description="Fünf Bewerbungen schreiben")
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)

    step = suggestion_strategy_to_plan(
        ctx=ctx_of(caseworker),
        case_id=profiled_case.pk,
        suggestion_id=suggestion.pk,
        code=TEST_STRATEGY,
    )

    draft = step.plan
    assert draft.version == 2
    assert draft.status == PlanStatus.DRAFT
    assert list(draft.steps.values_list("description", flat=True)) == [
        "Fünf Bewerbungen schreiben",
        "An einem Bewerbungscoaching teilnehmen.",
    ]
    agreed.refresh_from_db()
    assert agreed.status == PlanStatus.AGREED  # in force until the new version is agreed


def test_a_strategy_not_suggested_is_not_found(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    with pytest.raises(SuggestionNotFoundError):
        suggestion_strategy_to_plan(
            ctx=ctx_of(caseworker),
            case_id=profiled_case.pk,
            suggestion_id=suggestion.pk,
            code="erfunden",
        )


# --- the log cannot be changed --------------------------------------------------------------------


def test_the_log_cannot_be_edited(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    suggestion.suggested_group = _other_group(suggestion.suggested_group)
    with pytest.raises(AppendOnlyError):
        suggestion.save()
    with pytest.raises(AppendOnlyError):
        ProfilingSuggestion.objects.filter(pk=suggestion.pk).update(probability=0.99)
    with pytest.raises(AppendOnlyError):
        suggestion.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_a_raw_update_of_the_log(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE profiling_profilingsuggestion SET probability = 0.99 WHERE id = %s",
                [suggestion.pk],
            )
    assert ProfilingSuggestion.objects.get(pk=suggestion.pk).probability < 0.99


# --- the texts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("german", "A2", "German at level A2"),
        ("german", "native", "German as native language"),
        ("months_unemployed", 36, "unemployed for 3 years"),
        ("months_unemployed", 7, "unemployed for 7 months"),
        ("vocational", "apprenticeship", "completed vocational training"),
        ("single_parent", 1, "single parent"),
        ("target_kldb", "82102", "target occupation 82102 (area: health, social work, teaching"),
    ],
)
def test_staff_phrases(feature, value, text):
    with translation.override("en"):
        assert staff_phrase(feature, value).startswith(text)


def test_customer_sentences_say_what_helps_and_what_makes_it_harder():
    with translation.override("en"):
        assert customer_sentence("vocational", 0.4) == (
            "Your vocational training helps you in your search."
        )
        assert "language course" in customer_sentence("german", -0.3)


def test_the_presentation_has_texts_for_everything(ai, caseworker, profiled_case):
    suggestion = suggestion_create(ctx=ctx_of(caseworker), case_id=profiled_case.pk)
    with translation.override("en"):
        shown = suggestion_present(suggestion, catalogue={}, in_draft=set(), latest=True)
    assert shown["probability"].endswith(" %")
    assert all(factor["text"] and factor["customer_text"] for factor in shown["factors"])
    assert shown["customer"]["helps"]
    assert shown["customer"]["harder"]
    assert "decides together with you" in shown["customer_text"]
    strategy = shown["strategies"][0]
    assert strategy["reason_texts"]
    assert all(strategy["reason_texts"])
