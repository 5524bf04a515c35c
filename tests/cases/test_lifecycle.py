"""Phase transitions: the service with its guards, and the "Change phase" form on the case page."""

import datetime

import pytest
import time_machine
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import Case, CaseEvent, ClosureReason, Phase, PhaseTransition, PlanStatus
from cases.services.lifecycle import (
    TransitionInputError,
    TransitionRefusedError,
    case_transition,
    case_transition_options,
)
from tests.cases.factories import CaseFactory
from tests.cases.factories_lifecycle import AgreedPlanFactory

BERLIN = datetime.timezone(datetime.timedelta(hours=1))
FROZEN = datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _messages_in_english():
    """The services speak the active language (German by default); these tests read English."""
    with translation.override("en"):
        yield


def _ctx(user) -> AuditContext:
    return AuditContext(actor=user, channel=AuditChannel.UI, ip_address="10.0.0.7")


def _state(case: Case) -> tuple:
    case.refresh_from_db()
    return (
        case.phase,
        case.phase_since,
        case.cycle,
        case.closed_at,
        case.closure_reason,
        case.claimed_by_id,
        PhaseTransition.objects.filter(case=case).count(),
        CaseEvent.objects.filter(case=case).count(),
        AuditEvent.objects.filter(action=AuditAction.UPDATE).count(),
    )


# --- the service ---------------------------------------------------------------------------------


def test_profiling_to_planning_records_everything(caseworker, case):
    with time_machine.travel(FROZEN, tick=False):
        result = case_transition(
            ctx=_ctx(caseworker), case_id=case.pk, to=Phase.PLANNING, reason="Profil fertig"
        )
    case.refresh_from_db()
    assert result.phase == case.phase == Phase.PLANNING
    assert case.phase_since == FROZEN
    assert case.cycle == 1

    transition = PhaseTransition.objects.get(case=case)
    assert (transition.actor, transition.at) == (caseworker, FROZEN)
    assert (transition.from_phase, transition.to_phase) == (Phase.PROFILING, Phase.PLANNING)
    assert transition.reason == "Profil fertig"

    event = CaseEvent.objects.get(case=case)
    assert event.kind == CaseEvent.Kind.PHASE_CHANGED
    assert event.actor == caseworker
    assert event.data["from"] == "profiling"
    assert event.data["to"] == "planning"
    assert event.data["reason"] == "Profil fertig"
    assert event.summary

    audit = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert audit.actor == caseworker
    assert audit.object_type == "case"
    assert audit.object_id == str(case.pk)
    assert audit.customer_id == case.customer_id
    assert audit.detail["operation"] == "transition"
    assert audit.detail["to"] == "planning"


def test_implementation_needs_an_agreed_plan_of_the_current_cycle(caseworker, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    before = _state(case)
    with pytest.raises(TransitionRefusedError) as refused:
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.IMPLEMENTATION)
    assert "cooperation plan" in refused.value.message
    assert refused.value.status_code == 409
    assert _state(case) == before

    # A draft, or an agreed plan of an earlier cycle, is not enough either.
    AgreedPlanFactory(case=case, status=PlanStatus.DRAFT, agreed_at=None, agreed_by=None)
    Case.objects.filter(pk=case.pk).update(cycle=2)
    AgreedPlanFactory(case=case, cycle=1, version=2)
    with pytest.raises(TransitionRefusedError):
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.IMPLEMENTATION)


def test_implementation_with_an_agreed_plan(caseworker, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    AgreedPlanFactory(case=case)
    case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.IMPLEMENTATION)
    case.refresh_from_db()
    assert case.phase == Phase.IMPLEMENTATION


def test_implementation_refused_when_the_plans_review_date_has_passed(caseworker, team):
    with time_machine.travel(FROZEN, tick=False):
        case = CaseFactory(team=team, phase=Phase.PLANNING)
        AgreedPlanFactory(case=case, review_date=FROZEN.date() - datetime.timedelta(days=1))
        before = _state(case)
        with pytest.raises(TransitionRefusedError) as refused:
            case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.IMPLEMENTATION)
    assert "goal review first" in refused.value.message
    assert _state(case) == before


def test_overdue_review_leaves_only_review_or_closing(caseworker, team):
    with time_machine.travel(FROZEN, tick=False):
        case = CaseFactory(
            team=team,
            phase=Phase.IMPLEMENTATION,
            review_due=FROZEN.date() - datetime.timedelta(days=2),
        )
        assert [option.to for option in case_transition_options(case=case)] == [
            Phase.REVIEW,
            Phase.CLOSED,
        ]
        with pytest.raises(TransitionRefusedError):
            case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.PLANNING)
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.REVIEW)
    case.refresh_from_db()
    assert case.phase == Phase.REVIEW


@pytest.mark.parametrize("back_to", [Phase.PROFILING, Phase.PLANNING])
def test_from_review_back_starts_a_new_cycle(caseworker, team, back_to):
    case = CaseFactory(team=team, phase=Phase.REVIEW)
    case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=back_to, reason="Neuer Anlauf")
    case.refresh_from_db()
    assert (case.phase, case.cycle) == (back_to, 2)
    event = CaseEvent.objects.get(case=case)
    assert event.data["cycle"] == 2


@pytest.mark.parametrize(
    "phase", [Phase.PROFILING, Phase.PLANNING, Phase.IMPLEMENTATION, Phase.REVIEW]
)
def test_every_open_phase_can_be_closed_with_a_reason(caseworker, team, phase):
    case = CaseFactory(team=team, phase=phase)
    with time_machine.travel(FROZEN, tick=False):
        case_transition(
            ctx=_ctx(caseworker),
            case_id=case.pk,
            to=Phase.CLOSED,
            closure_reason=ClosureReason.INSURED_EMPLOYMENT,
        )
    case.refresh_from_db()
    assert case.phase == Phase.CLOSED
    assert case.closed_at == FROZEN
    assert case.closure_reason == ClosureReason.INSURED_EMPLOYMENT
    assert PhaseTransition.objects.get(case=case).closure_reason == "insured_employment"
    assert CaseEvent.objects.get(case=case).kind == CaseEvent.Kind.CLOSED


def test_closing_releases_the_claim(caseworker, team):
    case = CaseFactory(team=team, claimed_by=caseworker, claimed_at=timezone.now())
    case_transition(
        ctx=_ctx(caseworker), case_id=case.pk, to=Phase.CLOSED, closure_reason="moved_away"
    )
    case.refresh_from_db()
    assert (case.claimed_by, case.claimed_at) == (None, None)
    assert CaseEvent.objects.get(case=case).data["released_claim_of"] == caseworker.username


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to": Phase.CLOSED}, "closure_reason"),
        ({"to": Phase.CLOSED, "closure_reason": "retired"}, "closure_reason"),
        ({"to": Phase.CLOSED, "closure_reason": "other", "reason": "  "}, "reason"),
        ({"to": Phase.PLANNING, "closure_reason": "moved_away"}, "closure_reason"),
        ({"to": "sleeping"}, "to"),
        ({"to": Phase.PLANNING, "reason": "x" * 2001}, "reason"),
    ],
)
def test_malformed_input_is_a_400_and_changes_nothing(caseworker, case, kwargs, field):
    before = _state(case)
    with pytest.raises(TransitionInputError) as error:
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, **kwargs)
    assert error.value.status_code == 400
    assert field in error.value.extra["fields"]
    assert _state(case) == before


def test_other_closure_reason_with_words(caseworker, case):
    case_transition(
        ctx=_ctx(caseworker),
        case_id=case.pk,
        to=Phase.CLOSED,
        closure_reason=ClosureReason.OTHER,
        reason="Verstorben",
    )
    case.refresh_from_db()
    assert case.closure_reason == "other"


@pytest.mark.parametrize(
    ("phase", "to", "words"),
    [
        (Phase.PROFILING, Phase.PROFILING, "already"),
        (Phase.PROFILING, Phase.IMPLEMENTATION, "Possible from"),
        (Phase.PROFILING, Phase.REVIEW, "Possible from"),
        (Phase.PLANNING, Phase.PROFILING, "Possible from"),
        (Phase.IMPLEMENTATION, Phase.PLANNING, "Possible from"),
        (Phase.CLOSED, Phase.PROFILING, "closed"),
    ],
)
def test_impossible_transitions_say_why_and_change_nothing(caseworker, team, phase, to, words):
    case = CaseFactory(team=team, phase=phase)
    before = _state(case)
    with pytest.raises(TransitionRefusedError) as refused:
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=to)
    assert words in refused.value.message
    assert _state(case) == before


def test_refusal_lists_the_possible_transitions(caseworker, case):
    with translation.override("en"), pytest.raises(TransitionRefusedError) as refused:
        case_transition(ctx=_ctx(caseworker), case_id=case.pk, to=Phase.REVIEW)
    assert refused.value.extra["possible"] == ["planning", "closed"]
    assert "Goal and action planning" in refused.value.message


def test_other_teams_case_is_not_found(other_caseworker, case):
    with pytest.raises(Http404):
        case_transition(ctx=_ctx(other_caseworker), case_id=case.pk, to=Phase.PLANNING)
    assert not PhaseTransition.objects.exists()


def test_admin_cannot_transition(admin_user, case):
    with pytest.raises(Http404):
        case_transition(ctx=_ctx(admin_user), case_id=case.pk, to=Phase.PLANNING)


def test_the_whole_cycle(caseworker, team):
    case = CaseFactory(team=team)
    ctx = _ctx(caseworker)
    case_transition(ctx=ctx, case_id=case.pk, to=Phase.PLANNING)
    AgreedPlanFactory(case=case)
    case_transition(ctx=ctx, case_id=case.pk, to=Phase.IMPLEMENTATION)
    case_transition(ctx=ctx, case_id=case.pk, to=Phase.REVIEW)
    case_transition(ctx=ctx, case_id=case.pk, to=Phase.PLANNING)
    case.refresh_from_db()
    assert case.cycle == 2
    # The plan of cycle 1 does not carry implementation in cycle 2.
    with pytest.raises(TransitionRefusedError):
        case_transition(ctx=ctx, case_id=case.pk, to=Phase.IMPLEMENTATION)
    case_transition(
        ctx=ctx, case_id=case.pk, to=Phase.CLOSED, closure_reason=ClosureReason.TRAINING
    )
    path = list(
        PhaseTransition.objects.filter(case=case)
        .order_by("at", "id")
        .values_list("from_phase", "to_phase")
    )
    assert path == [
        ("profiling", "planning"),
        ("planning", "implementation"),
        ("implementation", "review"),
        ("review", "planning"),
        ("planning", "closed"),
    ]


# --- the form on the case page -------------------------------------------------------------------


def _url(case) -> str:
    return reverse("cases:case_transition", args=[case.pk])


def _page(case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def test_form_offers_only_possible_transitions(client, caseworker, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    client.force_login(caseworker)
    body = client.get(_page(case)).content.decode()
    form = body.split('id="case-transition-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="closed"' in form
    assert 'value="implementation"' not in form  # no agreed plan yet
    assert 'value="review"' not in form

    AgreedPlanFactory(case=case)
    body = client.get(_page(case)).content.decode()
    form = body.split('id="case-transition-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="implementation"' in form


def test_post_without_javascript_redirects_to_the_case(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(_url(case), {"to": "planning", "reason": "Profil fertig"})
    assert response.status_code == 302
    assert response["Location"] == _page(case)
    case.refresh_from_db()
    assert case.phase == Phase.PLANNING
    page = client.get(_page(case)).content.decode()
    # The timeline shows the transition with its reason.
    assert "Profil fertig" in page
    assert PhaseTransition.objects.get(case=case).actor == caseworker


def test_htmx_post_returns_the_lifecycle_fragment_with_timeline_out_of_band(
    client, caseworker, case
):
    client.force_login(caseworker)
    response = client.post(_url(case), {"to": "planning"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith('<div id="case-lifecycle"')
    assert "<html" not in body
    assert '<section id="case-timeline"' in body
    assert 'id="case-badges"' in body
    assert body.count('hx-swap-oob="true"') == 2
    assert 'role="status"' in body
    # The new form no longer offers planning, and offers closing.
    form = body.split('id="case-transition-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="planning"' not in form
    assert 'value="closed"' in form
    # Showing the case again is a read: logged as such, beside the change.
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, customer_id=case.customer_id).count()
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == 1


def test_refused_transition_shows_the_message_next_to_the_field(client, caseworker, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    client.force_login(caseworker)
    response = client.post(_url(case), {"to": "implementation"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="case-lifecycle"')
    assert 'id="id_transition_to_error"' in body
    assert 'aria-invalid="true"' in body
    assert 'role="alert"' in body
    case.refresh_from_db()
    assert case.phase == Phase.PLANNING
    assert not PhaseTransition.objects.exists()


def test_closing_without_reason_is_a_400_without_javascript(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(_url(case), {"to": "closed"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<html" in body  # the whole case page, with the error beside the field
    assert 'id="id_transition_closure_reason_error"' in body
    case.refresh_from_db()
    assert case.phase == Phase.PROFILING


def test_close_from_the_page(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(
        _url(case),
        {"to": "closed", "closure_reason": "self_employment", "reason": "Gründung"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.phase, case.closure_reason) == (Phase.CLOSED, "self_employment")
    assert 'id="case-transition-form"' not in response.content.decode()


def test_unknown_phase_in_the_form_is_a_400(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(_url(case), {"to": "sleeping"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'id="id_transition_to_error"' in response.content.decode()
    assert not PhaseTransition.objects.exists()


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, case):
    response = client.post(_url(case), {"to": "planning"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not PhaseTransition.objects.exists()


def test_other_team_gets_404(client, other_caseworker, case):
    client.force_login(other_caseworker)
    assert client.post(_url(case), {"to": "planning"}).status_code == 404
    assert not PhaseTransition.objects.exists()
    assert not AuditEvent.objects.exists()


def test_admin_gets_403(client, admin_user, case):
    client.force_login(admin_user)
    assert client.post(_url(case), {"to": "planning"}).status_code == 403
    assert not PhaseTransition.objects.exists()


def test_get_is_not_allowed(client, caseworker, case):
    client.force_login(caseworker)
    assert client.get(_url(case)).status_code == 405
