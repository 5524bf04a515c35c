"""The demo seeds a first profiling model, trained here from synthetic history, and uses it."""

import io

import pytest
from django.core.management import call_command

from cases.models import Case
from profiling.models import ModelSource, ModelStatus, ModelVersion, ProfilingSuggestion

pytestmark = pytest.mark.django_db


def test_seed_demo_trains_activates_and_suggests_without_changing_groups(settings):
    settings.DEMO_MODE = True
    out = io.StringIO()

    call_command("seed_demo", customers=150, seed=11, model_rows=3000, stdout=out)

    active = ModelVersion.objects.get(status=ModelStatus.ACTIVE)
    assert active.source == ModelSource.SYNTHETIC
    assert active.rows == 3000
    assert f"Profiling model v{active.number} trained on 3000 synthetic rows" in out.getvalue()
    with_profile = Case.objects.open().filter(customer__profile__isnull=False)
    assert ProfilingSuggestion.objects.count() == with_profile.count() > 0
    # The batch never sets a group: the generator's groups stay; differing cases wait for a person.
    for suggestion in ProfilingSuggestion.objects.select_related("case"):
        assert suggestion.changed == (suggestion.suggested_group != suggestion.case.customer_group)
        assert suggestion.case.suggestion_pending == suggestion.changed
