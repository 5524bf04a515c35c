"""The cooperation plan: the services (versions, steps, agreement, progress, concurrency, bad input)
and the HTML views (plan page, inline editing with htmx, the plan card on the case page)."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import (
    CaseEvent,
    CasePolicy,
    CooperationPlan,
    Phase,
    PlanStatus,
    PlanStep,
    StepResponsible,
    StepStatus,
)
from cases.services.plans import (
    PlanInputError,
    PlanNotFoundError,
    StepInput,
    plan_agree,
    plan_default_review_date,
    plan_draft_create,
    plan_draft_update,
    plan_step_delete,
    plan_step_progress,
    plan_step_update,
    plan_steps_add,
)
from jobcenter.exceptions import ApplicationError, ConflictError
from tests.cases.factories import CaseFactory
from tests.cases.factories_plans import CooperationPlanFactory, PlanStepFactory

TODAY = datetime.date(2026, 3, 10)
NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client(client):
    """Messages are asserted in English; German is the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ctx(caseworker):
    return AuditContext(actor=caseworker, channel=AuditChannel.UI)


def _step(**overrides) -> StepInput:
    values = {
        "responsible": StepResponsible.CUSTOMER,
        "description": "Fünf Bewerbungen als Lagerlogistiker schreiben",
        "due_date": TODAY + datetime.timedelta(days=30),
    }
    values.update(overrides)
    return StepInput(**values)


def _agreed_plan(ctx, case, steps=1) -> CooperationPlan:
    plan = plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit als Fahrer")
    plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step() for _ in range(steps)])
    plan.refresh_from_db()
    return plan_agree(
        ctx=ctx, case_id=case.pk, lock_version=plan.lock_version, agreement_note="Im Gespräch"
    )


# --- services: drafting -----------------------------------------------------------------------------


def test_draft_create_defaults_the_review_date_from_the_policy(ctx, case, caseworker):
    policy = CasePolicy.current()
    policy.plan_review_months = 3
    policy.save()
    plan = plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal=" Arbeit als Fahrer ")
    assert plan.status == PlanStatus.DRAFT
    assert (plan.cycle, plan.version) == (case.cycle, 1)
    assert plan.integration_goal == "Arbeit als Fahrer"
    assert plan.review_date == datetime.date(2026, 6, 10)
    assert plan.created_by == caseworker
    audit = AuditEvent.objects.get(object_type="cooperation_plan", action=AuditAction.CREATE)
    assert audit.customer_id == case.customer_id
    assert audit.object_id == str(plan.pk)
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PLAN_DRAFTED)
    assert event.actor == caseworker
    assert event.data["plan_id"] == plan.pk


def test_default_review_date_is_six_months_and_clamps_the_month_end(db):
    assert plan_default_review_date(today=datetime.date(2026, 8, 31)) == datetime.date(2027, 2, 28)


@pytest.mark.parametrize(
    ("goal", "review_date", "field"),
    [
        ("", None, "integration_goal"),
        ("   ", None, "integration_goal"),
        ("Arbeit", TODAY, "review_date"),
        ("Arbeit", TODAY - datetime.timedelta(days=1), "review_date"),
    ],
)
def test_draft_create_refuses_bad_input_and_saves_nothing(ctx, case, goal, review_date, field):
    with pytest.raises(PlanInputError) as error:
        plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal=goal, review_date=review_date)
    assert field in error.value.fields
    assert not CooperationPlan.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not CaseEvent.objects.exists()


def test_only_one_draft_per_case(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    with pytest.raises(ConflictError):
        plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Anderes")
    assert CooperationPlan.objects.count() == 1


def test_another_teams_case_is_not_found(ctx, other_case):
    with pytest.raises(PlanNotFoundError):
        plan_draft_create(ctx=ctx, case_id=other_case.pk, integration_goal="Arbeit")
    assert not CooperationPlan.objects.exists()


def test_a_closed_case_gets_no_plan(ctx, team):
    closed = CaseFactory(team=team, phase=Phase.CLOSED)
    with pytest.raises(ApplicationError):
        plan_draft_create(ctx=ctx, case_id=closed.pk, integration_goal="Arbeit")


def test_draft_update_changes_goal_and_date_and_raises_the_lock(ctx, case):
    plan = plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    new_date = TODAY + datetime.timedelta(days=90)
    updated = plan_draft_update(
        ctx=ctx,
        case_id=case.pk,
        lock_version=0,
        integration_goal="Ausbildung",
        review_date=new_date,
    )
    assert updated.pk == plan.pk
    assert (updated.integration_goal, updated.review_date, updated.lock_version) == (
        "Ausbildung",
        new_date,
        1,
    )
    audit = AuditEvent.objects.get(object_type="cooperation_plan", action=AuditAction.UPDATE)
    assert audit.detail["changed"]["integration_goal"] is True


def test_second_save_with_an_old_lock_version_is_refused(ctx, case, team_lead):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    lead_ctx = AuditContext(actor=team_lead, channel=AuditChannel.UI)
    plan_draft_update(ctx=lead_ctx, case_id=case.pk, lock_version=0, integration_goal="Lead's")
    with pytest.raises(ConflictError) as error:
        plan_draft_update(ctx=ctx, case_id=case.pk, lock_version=0, integration_goal="Mine")
    assert error.value.status_code == 409
    assert error.value.extra == {"lock_version": 1}
    assert CooperationPlan.objects.get().integration_goal == "Lead's"


def test_draft_update_refuses_an_empty_goal(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    with pytest.raises(PlanInputError):
        plan_draft_update(ctx=ctx, case_id=case.pk, lock_version=0, integration_goal=" ")
    assert CooperationPlan.objects.get().integration_goal == "Arbeit"


# --- services: steps of the draft -------------------------------------------------------------------


def test_steps_add_saves_several_in_order_with_an_audit_row_each(ctx, case):
    plan = plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    steps = plan_steps_add(
        ctx=ctx,
        case_id=case.pk,
        steps=[
            _step(),
            _step(responsible=StepResponsible.THIRD_PARTY, responsible_name=" Bildungswerk "),
        ],
    )
    assert [s.position for s in steps] == [1, 2]
    assert steps[1].responsible_name == "Bildungswerk"
    assert list(plan.steps.values_list("position", flat=True)) == [1, 2]
    assert (
        AuditEvent.objects.filter(object_type="plan_step", action=AuditAction.CREATE).count() == 2
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"responsible": ""}, "responsible"),
        ({"responsible": StepResponsible.THIRD_PARTY, "responsible_name": " "}, "responsible_name"),
        ({"description": "  "}, "description"),
        ({"due_date": TODAY - datetime.timedelta(days=1)}, "due_date"),
    ],
)
def test_a_failing_add_of_several_steps_saves_none(ctx, case, bad, field):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(PlanInputError) as error:
        plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step(), _step(**bad)])
    assert f"steps.1.{field}" in error.value.fields
    assert not PlanStep.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_step_due_today_is_fine(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    (step,) = plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step(due_date=TODAY)])
    assert step.due_date == TODAY


def test_steps_need_a_draft(ctx, case):
    with pytest.raises(PlanNotFoundError):
        plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])


def test_step_update_and_the_conflict_on_an_old_lock(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    (step,) = plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])
    changed = plan_step_update(
        ctx=ctx,
        case_id=case.pk,
        step_id=step.pk,
        lock_version=0,
        step=_step(responsible=StepResponsible.JOBCENTER, description="Gutschein ausstellen"),
    )
    assert (changed.responsible, changed.description, changed.lock_version) == (
        StepResponsible.JOBCENTER,
        "Gutschein ausstellen",
        1,
    )
    with pytest.raises(ConflictError):
        plan_step_update(
            ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, step=_step(description="x")
        )
    assert PlanStep.objects.get().description == "Gutschein ausstellen"


def test_step_update_keeps_an_unchanged_past_due_date(ctx, case):
    """A copied step may be overdue already; editing its text must not be blocked by that."""
    plan = plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    past = TODAY - datetime.timedelta(days=5)
    step = PlanStepFactory(plan=plan, due_date=past)
    changed = plan_step_update(
        ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, step=_step(due_date=past)
    )
    assert changed.due_date == past


def test_step_delete(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    (step,) = plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])
    with pytest.raises(ConflictError):
        plan_step_delete(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=5)
    plan_step_delete(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0)
    assert not PlanStep.objects.exists()
    assert AuditEvent.objects.filter(object_type="plan_step", action=AuditAction.DELETE).exists()


# --- services: agreement and versions ---------------------------------------------------------------


def test_agree_needs_a_step_and_a_note(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    with translation.override("en"), pytest.raises(ApplicationError, match="at least one step"):
        plan_agree(ctx=ctx, case_id=case.pk, lock_version=0, agreement_note="Im Gespräch")
    plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])
    with pytest.raises(PlanInputError) as error:
        plan_agree(ctx=ctx, case_id=case.pk, lock_version=0, agreement_note=" ")
    assert "agreement_note" in error.value.fields
    assert CooperationPlan.objects.get().status == PlanStatus.DRAFT


def test_agree_refuses_a_review_date_that_has_passed_meanwhile(ctx, case):
    plan_draft_create(
        ctx=ctx,
        case_id=case.pk,
        integration_goal="Arbeit",
        review_date=TODAY + datetime.timedelta(1),
    )
    plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])
    with (
        time_machine.travel(NOW + datetime.timedelta(days=2), tick=False),
        pytest.raises(PlanInputError) as error,
    ):
        plan_agree(ctx=ctx, case_id=case.pk, lock_version=0, agreement_note="Gespräch")
    assert "review_date" in error.value.fields


def test_agree_records_who_when_how_and_sets_the_case_review(ctx, case, caseworker):
    plan = _agreed_plan(ctx, case)
    assert plan.status == PlanStatus.AGREED
    assert plan.agreed_by == caseworker
    assert plan.agreed_at == NOW
    assert plan.agreement_note == "Im Gespräch"
    case.refresh_from_db()
    assert case.review_due == plan.review_date
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PLAN_AGREED)
    assert "Im Gespräch" in event.summary
    assert AuditEvent.objects.filter(
        object_type="cooperation_plan", action=AuditAction.UPDATE, detail__status="agreed"
    ).exists()


def test_a_change_to_the_agreed_plan_is_a_new_version(ctx, case, team_lead):
    first = _agreed_plan(ctx, case, steps=2)
    PlanStep.objects.filter(plan=first, position=1).update(status=StepStatus.DONE, follow_up="ok")
    draft = plan_draft_create(ctx=ctx, case_id=case.pk)
    assert (draft.version, draft.integration_goal, draft.review_date) == (
        2,
        first.integration_goal,
        first.review_date,
    )
    copied = list(draft.steps.order_by("position"))
    assert [(s.position, s.status, s.follow_up) for s in copied] == [
        (1, StepStatus.DONE, "ok"),
        (2, StepStatus.OPEN, ""),
    ]
    # The agreed one stays current until the new draft is agreed.
    first.refresh_from_db()
    assert first.status == PlanStatus.AGREED
    plan_step_update(
        ctx=ctx,
        case_id=case.pk,
        step_id=copied[1].pk,
        lock_version=0,
        step=_step(description="Neu"),
    )
    first.refresh_from_db()
    assert first.steps.get(position=2).description != "Neu"
    draft.refresh_from_db()
    plan_agree(ctx=ctx, case_id=case.pk, lock_version=draft.lock_version, agreement_note="Telefon")
    first.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED
    assert first.steps.count() == 2
    assert list(case.plans.values_list("version", "status")) == [
        (2, PlanStatus.AGREED),
        (1, PlanStatus.SUPERSEDED),
    ]


def test_content_of_an_agreed_plan_cannot_be_edited(ctx, case):
    plan = _agreed_plan(ctx, case)
    step = plan.steps.get()
    with translation.override("en"), pytest.raises(ApplicationError, match="draft"):
        plan_step_update(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, step=_step())
    with translation.override("en"), pytest.raises(ApplicationError, match="draft"):
        plan_step_delete(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0)
    with pytest.raises(PlanNotFoundError):
        plan_draft_update(
            ctx=ctx, case_id=case.pk, lock_version=plan.lock_version, integration_goal="x"
        )
    assert PlanStep.objects.get().description == _step().description


# --- services: progress on the agreed plan ----------------------------------------------------------


def test_progress_ticks_a_step_done_in_place(ctx, case, caseworker):
    plan = _agreed_plan(ctx, case)
    step = plan.steps.get()
    done = plan_step_progress(
        ctx=ctx,
        case_id=case.pk,
        step_id=step.pk,
        lock_version=0,
        status=StepStatus.DONE,
        follow_up="Bewerbungen liegen vor",
    )
    assert done.status == StepStatus.DONE
    assert done.status_changed_at == NOW
    assert done.follow_up == "10.03.2026 cw: Bewerbungen liegen vor"
    assert CooperationPlan.objects.count() == 1  # no new version
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.STEP_UPDATED)
    assert event.data == {
        "plan_id": plan.pk,
        "step_id": step.pk,
        "status": "done",
        "follow_up": "Bewerbungen liegen vor",
    }
    audit = AuditEvent.objects.get(object_type="plan_step", action=AuditAction.UPDATE)
    assert audit.detail["status"] == ["open", "done"]
    again = plan_step_progress(
        ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=1, follow_up="Zweite Notiz"
    )
    assert again.follow_up.splitlines() == [
        "10.03.2026 cw: Bewerbungen liegen vor",
        "10.03.2026 cw: Zweite Notiz",
    ]


def test_progress_needs_a_change_and_a_current_lock(ctx, case):
    plan = _agreed_plan(ctx, case)
    step = plan.steps.get()
    with pytest.raises(PlanInputError):
        plan_step_progress(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0)
    plan_step_progress(
        ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, status=StepStatus.DROPPED
    )
    with pytest.raises(ConflictError):
        plan_step_progress(
            ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, status=StepStatus.DONE
        )
    assert PlanStep.objects.get().status == StepStatus.DROPPED


def test_progress_is_for_the_agreed_plan_only(ctx, case):
    plan_draft_create(ctx=ctx, case_id=case.pk, integration_goal="Arbeit")
    (step,) = plan_steps_add(ctx=ctx, case_id=case.pk, steps=[_step()])
    with translation.override("en"), pytest.raises(ApplicationError, match="agreed plan"):
        plan_step_progress(
            ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, status=StepStatus.DONE
        )


def test_progress_on_another_teams_step_is_not_found(ctx, case, other_case):
    plan = CooperationPlanFactory(case=other_case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    with pytest.raises(PlanNotFoundError):
        plan_step_progress(
            ctx=ctx, case_id=other_case.pk, step_id=step.pk, lock_version=0, status="done"
        )
    # Nor through the caseworker's own case with the other team's step id.
    with pytest.raises(PlanNotFoundError):
        plan_step_progress(ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, status="done")
    assert PlanStep.objects.get().status == StepStatus.OPEN


# --- views: access ----------------------------------------------------------------------------------


def _plan_url(case) -> str:
    return reverse("cases:plan_detail", args=[case.pk])


def test_anonymous_is_sent_to_login(client, case):
    response = client.get(_plan_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_admin_gets_403(client, admin_user, case):
    client.force_login(admin_user)
    assert client.get(_plan_url(case)).status_code == 403
    response = client.post(
        reverse("cases:plan_draft_create", args=[case.pk]), {"integration_goal": "x"}
    )
    assert response.status_code == 403
    assert not CooperationPlan.objects.exists()


def test_other_team_gets_404_everywhere(client, other_caseworker, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    client.force_login(other_caseworker)
    assert client.get(_plan_url(case)).status_code == 404
    assert client.get(reverse("cases:plan_version", args=[case.pk, plan.pk])).status_code == 404
    assert client.get(reverse("cases:plan_pdf", args=[case.pk, "de"])).status_code == 404
    response = client.post(
        reverse("cases:plan_step_progress", args=[case.pk, step.pk]),
        {f"progress-{step.pk}-lock_version": 0, f"progress-{step.pk}-status": "done"},
    )
    assert response.status_code == 404
    assert PlanStep.objects.get().status == StepStatus.OPEN
    assert not AuditEvent.objects.filter(customer_id=case.customer_id).exists()


# --- views: the flow without JavaScript -------------------------------------------------------------


def test_the_plan_page_without_a_plan_offers_to_start_one(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(_plan_url(case))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("cases:plan_draft_create", args=[case.pk]) in body
    # The review date is prefilled with today + six months.
    assert 'value="2026-09-10"' in body
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="cooperation_plan", customer_id=case.customer_id
    ).exists()


def test_draft_edit_and_agree_by_posting_forms(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_draft_create", args=[case.pk]),
        {"integration_goal": "Arbeit als Fahrer", "review_date": "2026-09-01"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(_plan_url(case))
    response = client.post(
        reverse("cases:plan_step_add", args=[case.pk]),
        {
            "new-responsible": "third_party",
            "new-responsible_name": "Fahrschule Nord",
            "new-description": "Führerschein Klasse C",
            "new-due_date": "2026-05-01",
        },
    )
    assert response.status_code == 302
    step = PlanStep.objects.get()
    response = client.post(
        reverse("cases:plan_agree", args=[case.pk]),
        {"lock_version": 0, "agreement_note": "Im Gespräch am 10.03."},
    )
    assert response.status_code == 302
    plan = CooperationPlan.objects.get()
    assert plan.status == PlanStatus.AGREED
    page = client.get(_plan_url(case)).content.decode()
    assert "Führerschein Klasse C" in page
    assert reverse("cases:plan_pdf", args=[case.pk, "de"]) in page
    assert reverse("cases:plan_version", args=[case.pk, plan.pk]) in page
    # The case page shows the plan card with the step and its inline forms.
    case_page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert 'id="plan-card"' in case_page
    assert reverse("cases:plan_step_progress", args=[case.pk, step.pk]) in case_page


def test_bad_step_input_shows_the_errors_next_to_the_fields(client, caseworker, case):
    CooperationPlanFactory(case=case)
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_step_add", args=[case.pk]),
        {
            "new-responsible": "third_party",
            "new-responsible_name": "",
            "new-description": "Kurs",
            "new-due_date": "2026-03-01",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_new-responsible_name_error"' in body
    assert "Name the third party who is responsible." in body
    assert "The due date must not be in the past." in body
    assert not PlanStep.objects.exists()


def test_conflict_on_the_draft_is_a_409_with_the_message(client, caseworker, case):
    plan = CooperationPlanFactory(case=case, lock_version=3)
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_draft_update", args=[case.pk]),
        {"lock_version": 2, "integration_goal": "Überschrieben?", "review_date": "2026-09-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "Someone else has changed this plan" in response.content.decode()
    plan.refresh_from_db()
    assert plan.integration_goal != "Überschrieben?"


# --- views: htmx fragments --------------------------------------------------------------------------


def test_htmx_step_add_returns_only_the_draft_fragment(client, caseworker, case):
    CooperationPlanFactory(case=case)
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_step_add", args=[case.pk]),
        {
            "new-responsible": "customer",
            "new-description": "Lebenslauf aktualisieren",
            "new-due_date": "2026-04-01",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="plan-draft"')
    assert "<html" not in body
    assert "Lebenslauf aktualisieren" in body


def test_htmx_tick_done_on_the_case_card(client, caseworker, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan, description="Bewerbungen schreiben")
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_step_progress", args=[case.pk, step.pk]),
        {
            f"progress-{step.pk}-lock_version": 0,
            f"progress-{step.pk}-status": "done",
            f"progress-{step.pk}-follow_up": "erledigt im Gespräch",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="plan-card"')
    assert "<html" not in body
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    assert "erledigt im Gespräch" in step.follow_up


def test_htmx_stale_tick_is_refused_next_to_the_step(client, caseworker, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan, lock_version=1)
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_step_progress", args=[case.pk, step.pk]),
        {f"progress-{step.pk}-lock_version": 0, f"progress-{step.pk}-status": "dropped"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    step.refresh_from_db()
    assert step.status == StepStatus.OPEN


def test_progress_without_javascript_redirects_to_the_step(client, caseworker, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_step_progress", args=[case.pk, step.pk]),
        {f"progress-{step.pk}-lock_version": 0, f"progress-{step.pk}-status": "done"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#plan-step-{step.pk}")


def test_version_page_shows_an_old_version(client, caseworker, case):
    old = CooperationPlanFactory(case=case, status=PlanStatus.SUPERSEDED, integration_goal="Alt")
    PlanStepFactory(plan=old, description="Alter Schritt")
    CooperationPlanFactory(case=case, status=PlanStatus.AGREED, version=2)
    client.force_login(caseworker)
    response = client.get(reverse("cases:plan_version", args=[case.pk, old.pk]))
    assert response.status_code == 200
    assert "Alter Schritt" in response.content.decode()


def test_pdf_download_is_audited_as_export(client, caseworker, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    PlanStepFactory(plan=plan)
    client.force_login(caseworker)
    response = client.get(reverse("cases:plan_pdf", args=[case.pk, "de"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_id=str(plan.pk)).exists()
    assert client.get(reverse("cases:plan_pdf", args=[case.pk, "xx"])).status_code == 404


def test_pdf_without_an_agreed_plan_is_404(client, caseworker, case):
    CooperationPlanFactory(case=case)
    client.force_login(caseworker)
    assert client.get(reverse("cases:plan_pdf", args=[case.pk, "de"])).status_code == 404


def test_plan_page_query_count_does_not_grow_with_versions_and_steps(client, caseworker, case):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_plan_url(case)).status_code == 200
        return len(queries)

    client.force_login(caseworker)
    agreed = CooperationPlanFactory(case=case, status=PlanStatus.AGREED, version=2)
    draft = CooperationPlanFactory(case=case, version=3)
    PlanStepFactory(plan=agreed)
    PlanStepFactory(plan=draft)
    before = count()
    CooperationPlanFactory(case=case, status=PlanStatus.SUPERSEDED, version=1)
    for _ in range(5):
        PlanStepFactory(plan=agreed)
        PlanStepFactory(plan=draft)
    assert count() == before


def test_htmx_draft_start_reloads_the_page(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_draft_create", args=[case.pk]),
        {"integration_goal": "Arbeit"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == _plan_url(case)
    assert CooperationPlan.objects.get().status == PlanStatus.DRAFT


def test_htmx_draft_start_with_an_empty_goal_returns_the_fragment_with_the_error(
    client, caseworker, case
):
    client.force_login(caseworker)
    response = client.post(
        reverse("cases:plan_draft_create", args=[case.pk]),
        {"integration_goal": " "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="plan-draft"')
    assert "Write down the integration goal." in body
    assert not CooperationPlan.objects.exists()


def test_progress_on_the_agreed_plan_reaches_the_unchanged_copy_in_a_new_draft(ctx, case):
    agreed = _agreed_plan(ctx, case, steps=2)
    draft = plan_draft_create(ctx=ctx, case_id=case.pk)
    first, second = agreed.steps.order_by("position")
    draft_first, draft_second = draft.steps.order_by("position")
    plan_step_update(
        ctx=ctx,
        case_id=case.pk,
        step_id=draft_second.pk,
        lock_version=0,
        step=_step(description="Geänderter Schritt"),
    )
    for step in (first, second):
        plan_step_progress(
            ctx=ctx,
            case_id=case.pk,
            step_id=step.pk,
            lock_version=0,
            status=StepStatus.DONE,
            follow_up="erledigt",
        )
    draft_first.refresh_from_db()
    draft_second.refresh_from_db()
    assert (draft_first.status, draft_first.follow_up) == (
        StepStatus.DONE,
        "10.03.2026 cw: erledigt",
    )
    # The copy the caseworker changed in the draft is theirs: left as it is.
    assert (draft_second.status, draft_second.follow_up) == (StepStatus.OPEN, "")
    audit = AuditEvent.objects.get(
        object_type="plan_step", object_id=str(first.pk), action=AuditAction.UPDATE
    )
    assert audit.detail["draft_step_id"] == draft_first.pk


def test_the_plan_of_a_closed_case_cannot_change(ctx, case):
    plan = CooperationPlanFactory(case=case, status=PlanStatus.AGREED)
    step = PlanStepFactory(plan=plan)
    case.phase = Phase.CLOSED
    case.closed_at = NOW
    case.save()
    with translation.override("en"), pytest.raises(ApplicationError, match="closed"):
        plan_step_progress(
            ctx=ctx, case_id=case.pk, step_id=step.pk, lock_version=0, status=StepStatus.DONE
        )
    assert PlanStep.objects.get().status == StepStatus.OPEN
