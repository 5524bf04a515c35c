"""Reads of the cooperation plan. Every query starts from the cases the asking user may see."""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404

from cases.models import Case, CooperationPlan, PlanStatus, PlanStep
from cases.selectors import case_visible_to
from organisation.models import User


@dataclass(frozen=True)
class PlanOverview:
    """What the plan page and the API show: the agreed plan, the draft, and every version."""

    case: Case
    agreed: CooperationPlan | None
    draft: CooperationPlan | None
    versions: list[CooperationPlan]


def _plans_with_steps():
    return CooperationPlan.objects.select_related("created_by", "agreed_by").prefetch_related(
        Prefetch("steps", queryset=PlanStep.objects.order_by("position", "id"))
    )


def plan_case_get_for_user(*, user: User, case_id: int) -> Case:
    """The case (with its customer) if the user may see it, else 404."""
    try:
        return case_visible_to(user=user).select_related("customer").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def plan_overview_for_case(*, case: Case) -> PlanOverview:
    """Three queries whatever the number of versions: the versions, the steps of agreed and draft."""
    versions = list(
        CooperationPlan.objects.filter(case=case).select_related("created_by", "agreed_by")
    )
    current_ids = [p.pk for p in versions if p.status in (PlanStatus.AGREED, PlanStatus.DRAFT)]
    current = {plan.pk: plan for plan in _plans_with_steps().filter(pk__in=current_ids)}
    agreed = next((current[p.pk] for p in versions if p.status == PlanStatus.AGREED), None)
    draft = next((current[p.pk] for p in versions if p.status == PlanStatus.DRAFT), None)
    return PlanOverview(case=case, agreed=agreed, draft=draft, versions=versions)


def plan_get_for_case(*, case: Case, plan_id: int) -> CooperationPlan:
    """One version of the case's plan with its steps, or 404."""
    try:
        return _plans_with_steps().get(case=case, pk=plan_id)
    except (CooperationPlan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def plan_step_get_for_case(*, case: Case, step_id: int) -> PlanStep:
    try:
        return PlanStep.objects.select_related("plan").get(plan__case=case, pk=step_id)
    except (PlanStep.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
