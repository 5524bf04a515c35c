"""The synthetic jobcenter writes every profile with its first version and the added dimensions."""

import datetime
from collections import Counter

import time_machine

from cases import synthetic
from cases.models import Case
from profiling.models import (
    Need,
    Profile,
    ProfileVersion,
    derived_need_levels,
    validate_other_languages,
)
from profiling.services import profile_snapshot

TODAY = datetime.date(2030, 3, 12)
FROZEN = datetime.datetime(2030, 3, 12, 10, 0, tzinfo=datetime.UTC)


def test_seed_writes_version_one_of_every_profile(db, settings):
    settings.DEMO_MODE = True
    with time_machine.travel(FROZEN, tick=False):
        data = synthetic.generate(customers=200, seed=7, today=TODAY)
        result = synthetic.write(data=data)
    assert result.counts["profile_versions"] == 200
    assert Profile.objects.filter(version=1).count() == 200
    versions = {v.customer_id: v for v in ProfileVersion.objects.all()}
    opened = dict(Case.objects.values_list("customer_id", "opened_at"))
    mobility = Counter()
    for profile in Profile.objects.all():
        version = versions[profile.customer_id]
        assert version.version == 1
        assert version.author is None
        assert version.snapshot == profile_snapshot(profile)
        assert version.valid_from == opened[profile.customer_id]
        validate_other_languages(profile.other_languages)
        profile.full_clean(exclude=["customer"])
        expected = derived_need_levels(
            school=profile.school,
            vocational=profile.vocational,
            german=profile.german,
            work_months_5y=profile.work_months_5y,
        )
        assert {name: getattr(profile, name) for name in expected} == expected
        if profile.public_transport is False and not profile.driving_licence:
            assert profile.mobility_need == Need.HIGH
        mobility[profile.mobility_need] += 1
    assert mobility[Need.NONE] > mobility[Need.HIGH] > 0
