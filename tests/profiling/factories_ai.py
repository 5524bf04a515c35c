"""Rows of the AI part for tests: a model version, suggestions, and the starter configuration.

The starter configuration (groups, rules v1, strategy catalogue) comes from migration 0006. Tests
that run in a transaction of their own (browser tests) empty the database afterwards, so the
tests that need it call `segment_defaults_install()`, which puts it back if it is missing.
"""

import importlib

import factory
from django.apps import apps

from profiling.models import ModelVersion, ProfilingSuggestion, SegmentRuleSet
from tests.cases.factories import CaseFactory

DEFAULTS_MIGRATION = importlib.import_module(
    "profiling.migrations.0006_segment_and_strategy_defaults"
)

INPUTS = {
    "school": "middle",
    "vocational": "apprenticeship",
    "german": "native",
    "work_months_5y": 24,
    "months_unemployed": 12,
    "months_in_benefit": 12,
    "health": "none",
    "care": "none",
    "single_parent": 0,
    "driving_licence": 1,
    "debt": "none",
    "housing": "none",
    "motivation": "high",
    "region_unemployment_rate": 6.0,
    "target_kldb": "82102",
}


def segment_defaults_install() -> SegmentRuleSet:
    """The starter configuration of migration 0006 where it is missing; the current rule set."""
    DEFAULTS_MIGRATION.install_defaults(apps)
    return SegmentRuleSet.objects.order_by("-version").first()


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    number = factory.Sequence(lambda n: n + 1)
    source = "synthetic"
    source_name = "tests"
    data_fingerprint = "0" * 64
    rows = 1000
    base_rate = 0.3
    features = list(INPUTS)
    algorithm = "test"
    artefact = b"x"
    artefact_sha256 = "0" * 64


class SuggestionFactory(factory.django.DjangoModelFactory):
    """A logged suggestion; `rule_set` defaults to the current one (install the defaults first)."""

    class Meta:
        model = ProfilingSuggestion

    case = factory.SubFactory(CaseFactory)
    customer = factory.LazyAttribute(lambda o: o.case.customer)
    model_version = factory.SubFactory(ModelVersionFactory)
    rule_set = factory.LazyFunction(lambda: SegmentRuleSet.objects.order_by("-version").first())
    trigger = "requested"
    profile_version = 1
    inputs = factory.LazyFunction(lambda: dict(INPUTS))
    probability = 0.3
    probability_low = factory.LazyAttribute(lambda o: o.probability)
    probability_high = factory.LazyAttribute(lambda o: o.probability)
    suggested_group = "potential"
    factors = factory.LazyFunction(list)
    strategies = factory.LazyFunction(list)
