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
)
from tests.cases import factories_plans
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


class PlanStepFactory(factories_plans.PlanStepFactory):
    """A step of an agreed plan (the plan helper's factory makes drafts by default)."""

    plan = factory.SubFactory(AgreedPlanFactory)


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
