"""Factories for the lifecycle tests: agreed plans with steps, and notes flagged incomplete.

The plan and notes helpers may bring their own factories; these only build the rows the work
queue and the phase guards read (CooperationPlan, PlanStep, CaseNote).
"""

import datetime

import factory
from django.utils import timezone

from cases.models import (
    CaseNote,
    Channel,
    CooperationPlan,
    NoteType,
    PlanStatus,
    PlanStep,
    StepResponsible,
    StepStatus,
)
from cases.services.plans import case_open_steps_due_refresh
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory


class AgreedPlanFactory(factory.django.DjangoModelFactory):
    """An agreed cooperation plan of the case's current cycle, review in six months."""

    class Meta:
        model = CooperationPlan

    case = factory.SubFactory(CaseFactory)
    cycle = factory.LazyAttribute(lambda o: o.case.cycle)
    version = 1
    status = PlanStatus.AGREED
    integration_goal = "Arbeitsaufnahme als Fachkraft für Lagerlogistik"
    review_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=180))
    created_by = factory.LazyAttribute(lambda o: UserFactory(team=o.case.team))
    agreed_at = factory.LazyFunction(timezone.now)
    agreed_by = factory.LazyAttribute(lambda o: o.created_by)


class PlanStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanStep

    plan = factory.SubFactory(AgreedPlanFactory)
    position = factory.Sequence(lambda n: n + 1)
    responsible = StepResponsible.CUSTOMER
    description = "Drei Bewerbungen pro Monat schreiben"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    status = StepStatus.OPEN

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        """As the plan services do: the case keeps the due date of its next open step."""
        super()._after_postgeneration(instance, create, results)
        if create:
            case_open_steps_due_refresh(case=instance.plan.case)


class IncompleteNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseNote

    case = factory.SubFactory(CaseFactory)
    author = factory.LazyAttribute(lambda o: UserFactory(team=o.case.team))
    note_type = NoteType.CONVERSATION
    channel = Channel.IN_PERSON
    occurred_on = factory.LazyFunction(timezone.localdate)
    text = "Gespräch geführt."
    missing_items = ["goal_discussed"]
    is_incomplete = True
