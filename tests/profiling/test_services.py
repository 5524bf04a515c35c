"""profile_update and the reads of past versions: versions, locking, validation, audit, timeline."""

import datetime
import importlib

import pytest
import time_machine
from django.apps import apps
from django.http import Http404
from django.utils import translation

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent, Phase
from jobcenter.exceptions import ApplicationError
from profiling.models import PROFILE_FIELDS, Profile, ProfileVersion
from profiling.selectors import profile_get_at, profile_version_list
from profiling.services import (
    ProfileConflictError,
    ProfileInvalidError,
    profile_snapshot,
    profile_update,
)
from tests.cases.factories import CaseFactory, CustomerFactory, ProfileFactory
from tests.profiling.factories import VALID, profile_with_version

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


def _ctx(user) -> AuditContext:
    return AuditContext(actor=user, channel=AuditChannel.UI, ip_address="10.0.0.1")


def test_first_save_creates_profile_version_audit_and_timeline(caseworker, case):
    with time_machine.travel(datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        profile = profile_update(
            ctx=_ctx(caseworker), customer_id=case.customer_id, data=VALID, expected_version=0
        )
    assert profile.version == 1
    assert profile_snapshot(Profile.objects.get(customer=case.customer)) == VALID
    version = ProfileVersion.objects.get(customer=case.customer)
    assert version.version == 1
    assert version.author == caseworker
    assert version.snapshot == VALID
    assert version.changed_fields == list(PROFILE_FIELDS)
    assert version.valid_from == datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN)
    audit = AuditEvent.objects.get(object_type="profile")
    assert audit.action == AuditAction.CREATE
    assert audit.customer_id == case.customer_id
    assert audit.actor == caseworker
    assert audit.detail["version"] == 1
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PROFILE_UPDATED)
    assert event.actor == caseworker
    assert event.data["version"] == 1
    assert event.summary.startswith("Profil")


def test_change_records_changed_fields_and_dimensions(caseworker, case):
    profile_with_version(customer=case.customer)
    with translation.override("en"):
        profile = profile_update(
            ctx=_ctx(caseworker),
            customer_id=case.customer_id,
            data={
                "debt": "high",
                "debt_note": "Schuldnerberatung vereinbart",
                "driving_licence": True,
            },
            expected_version=1,
        )
    assert profile.version == 2
    assert profile.debt == "high"
    assert profile.care == "high"  # not sent: kept
    version = ProfileVersion.objects.get(customer=case.customer, version=2)
    assert version.changed_fields == ["debt", "debt_note", "driving_licence"]
    assert version.changed_dimensions == ["debt", "mobility"]
    assert version.snapshot["debt"] == "high"
    assert ProfileVersion.objects.get(customer=case.customer, version=1).snapshot["debt"] == "none"
    audit = AuditEvent.objects.get(object_type="profile", action=AuditAction.UPDATE)
    assert audit.detail["changed_fields"] == ["debt", "debt_note", "driving_licence"]
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert event.kind == CaseEvent.Kind.PROFILE_UPDATED
    assert event.data["changed_dimensions"] == ["debt", "mobility"]
    assert event.summary == "Profile updated (version 2): debts, mobility."


def test_a_save_based_on_an_older_version_is_refused(caseworker, team_lead, case):
    profile_with_version(customer=case.customer)
    profile_update(
        ctx=_ctx(team_lead), customer_id=case.customer_id, data={"debt": "some"}, expected_version=1
    )
    with pytest.raises(ProfileConflictError) as caught:
        profile_update(
            ctx=_ctx(caseworker),
            customer_id=case.customer_id,
            data={"health": "high"},
            expected_version=1,
        )
    assert caught.value.status_code == 409
    assert caught.value.extra == {"current_version": 2, "expected_version": 1}
    assert "2" in caught.value.message
    profile = Profile.objects.get(customer=case.customer)
    assert (profile.version, profile.health, profile.debt) == (2, "none", "some")
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 2


def test_creating_twice_is_a_conflict(caseworker, case):
    profile_with_version(customer=case.customer)
    with pytest.raises(ProfileConflictError):
        profile_update(
            ctx=_ctx(caseworker), customer_id=case.customer_id, data=VALID, expected_version=0
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"health": "very high"}, "health"),
        ({"qualification_need": "extreme"}, "qualification_need"),
        ({"motivation": "none"}, "motivation"),
        ({"target_kldb": "8210"}, "target_kldb"),
        ({"target_kldb": "82l02"}, "target_kldb"),
        ({"german": "B3"}, "german"),
        ({"other_languages": [{"code": "xx", "level": "B1"}]}, "other_languages"),
        ({"other_languages": [{"code": "ENG", "level": "B1"}]}, "other_languages"),
        ({"other_languages": [{"code": "en", "level": "B7"}]}, "other_languages"),
        ({"other_languages": [{"code": "en"}]}, "other_languages"),
        ({"other_languages": [{"code": "de", "level": "C1"}]}, "other_languages"),
        (
            {"other_languages": [{"code": "en", "level": "B1"}, {"code": "en", "level": "C1"}]},
            "other_languages",
        ),
        ({"other_languages": "en"}, "other_languages"),
        ({"months_unemployed": -1}, "months_unemployed"),
        ({"work_months_5y": 61}, "work_months_5y"),
        ({"school": ""}, "school"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(caseworker, case, changes, field):
    profile_with_version(customer=case.customer)
    before = profile_snapshot(Profile.objects.get(customer=case.customer))
    counts = (CaseEvent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ProfileInvalidError) as caught:
        profile_update(
            ctx=_ctx(caseworker), customer_id=case.customer_id, data=changes, expected_version=1
        )
    assert field in caught.value.extra["fields"]
    assert caught.value.status_code == 400
    profile = Profile.objects.get(customer=case.customer)
    assert profile_snapshot(profile) == before
    assert profile.version == 1
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 1
    assert (CaseEvent.objects.count(), AuditEvent.objects.count()) == counts


def test_incomplete_first_profile_is_refused(caseworker, case):
    with pytest.raises(ProfileInvalidError) as caught:
        profile_update(
            ctx=_ctx(caseworker),
            customer_id=case.customer_id,
            data={"health": "some"},
            expected_version=0,
        )
    assert {"school", "german", "work_months_5y"} <= set(caught.value.extra["fields"])
    assert not Profile.objects.exists()
    assert not ProfileVersion.objects.exists()


def test_unknown_field_is_refused(caseworker, case):
    profile_with_version(customer=case.customer)
    with pytest.raises(ProfileInvalidError) as caught:
        profile_update(
            ctx=_ctx(caseworker), customer_id=case.customer_id, data={"iq": 1}, expected_version=1
        )
    assert "iq" in caught.value.extra["fields"]


def test_unemployed_longer_than_in_benefit_is_allowed(case):
    # Unemployment benefit (SGB III) often comes first: not an impossibility.
    profile = profile_with_version(
        customer=case.customer, months_unemployed=30, months_in_benefit=18
    )
    assert profile.months_unemployed == 30


def test_a_save_that_changes_nothing_writes_nothing(caseworker, case):
    profile_with_version(customer=case.customer)
    audits = AuditEvent.objects.count()
    profile = profile_update(
        ctx=_ctx(caseworker), customer_id=case.customer_id, data=VALID, expected_version=1
    )
    assert profile.version == 1
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 1
    assert AuditEvent.objects.count() == audits


def test_another_teams_customer_cannot_be_changed(other_caseworker, case):
    profile_with_version(customer=case.customer)
    with pytest.raises(ApplicationError) as caught:
        profile_update(
            ctx=_ctx(other_caseworker),
            customer_id=case.customer_id,
            data={"debt": "high"},
            expected_version=1,
        )
    assert not isinstance(caught.value, ProfileConflictError)
    assert Profile.objects.get(customer=case.customer).debt == "none"
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 1


def test_no_timeline_entry_without_an_open_case(caseworker, team):
    customer = CustomerFactory()
    CaseFactory(customer=customer, team=team, phase=Phase.CLOSED)
    profile_update(ctx=_ctx(caseworker), customer_id=customer.pk, data=VALID, expected_version=0)
    assert ProfileVersion.objects.filter(customer=customer).count() == 1
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.PROFILE_UPDATED).exists()


def test_profile_as_of_a_date(caseworker, case):
    with time_machine.travel(datetime.datetime(2030, 1, 5, 10, 0, tzinfo=BERLIN), tick=False):
        profile_with_version(customer=case.customer)
    with time_machine.travel(datetime.datetime(2030, 2, 1, 23, 30, tzinfo=BERLIN), tick=False):
        profile_update(
            ctx=_ctx(caseworker),
            customer_id=case.customer_id,
            data={"housing": "high"},
            expected_version=1,
        )

    def at(day: datetime.date):
        return profile_get_at(user=caseworker, customer_id=case.customer_id, at=day)

    assert at(datetime.date(2030, 1, 4)) is None
    assert at(datetime.date(2030, 1, 5)).version == 1
    first = at(datetime.date(2030, 1, 31))
    assert (first.version, first.snapshot["housing"]) == (1, "none")
    # A date means the end of that day in the jobcenter's time zone: 23:30 still counts.
    second = at(datetime.date(2030, 2, 1))
    assert (second.version, second.snapshot["housing"]) == (2, "high")
    versions = profile_version_list(user=caseworker, customer_id=case.customer_id)
    assert [v.version for v in versions] == [2, 1]


def test_reads_of_another_team_are_404(other_caseworker, admin_user, case):
    profile_with_version(customer=case.customer)
    for user in (other_caseworker, admin_user):
        with pytest.raises(Http404):
            profile_get_at(user=user, customer_id=case.customer_id, at=datetime.date(2030, 1, 1))
        with pytest.raises(Http404):
            profile_version_list(user=user, customer_id=case.customer_id)


def test_migration_records_existing_profiles_as_version_one(db):
    migration = importlib.import_module("profiling.migrations.0003_record_existing_profiles")
    profile = ProfileFactory(german="A2", vocational="none", school="lower", work_months_5y=40)
    assert profile.version == 0
    migration.record_existing(apps, None)
    profile.refresh_from_db()
    assert profile.version == 1
    assert (profile.language_need, profile.qualification_need, profile.work_experience_need) == (
        "high",
        "high",
        "none",
    )
    version = ProfileVersion.objects.get(customer=profile.customer)
    assert version.author is None
    assert version.snapshot == profile_snapshot(profile)
