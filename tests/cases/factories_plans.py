"""Factories for cooperation plans and their steps."""

import datetime

import factory
from django.utils import timezone

from cases.models import CooperationPlan, PlanStatus, PlanStep, StepResponsible
from cases.services.plans import case_open_steps_due_refresh
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory


class CooperationPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CooperationPlan

    case = factory.SubFactory(CaseFactory)
    cycle = factory.LazyAttribute(lambda o: o.case.cycle)
    version = 1
    status = PlanStatus.DRAFT
    integration_goal = "Beschäftigung als Lagerlogistiker in Vollzeit"
    review_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=180))
    created_by = factory.SubFactory(UserFactory)
    agreed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status != PlanStatus.DRAFT else None
    )
    agreed_by = factory.LazyAttribute(
        lambda o: o.created_by if o.status != PlanStatus.DRAFT else None
    )
    agreement_note = factory.LazyAttribute(
        lambda o: "Im Gespräch vereinbart" if o.status != PlanStatus.DRAFT else ""
    )


class PlanStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanStep

    plan = factory.SubFactory(CooperationPlanFactory)
    position = factory.Sequence(lambda n: n + 1)
    responsible = StepResponsible.CUSTOMER
    description = factory.Sequence(lambda n: f"Fünf Bewerbungen schreiben ({n})")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        """As the plan services do: the case keeps the due date of its next open step."""
        super()._after_postgeneration(instance, create, results)
        if create:
            case_open_steps_due_refresh(case=instance.plan.case)
