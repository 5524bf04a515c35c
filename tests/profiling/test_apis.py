"""The profile API: GET (now or ?at=), PUT, PATCH with the version lock, and the version list."""

import datetime

import pytest
import time_machine

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent
from profiling.models import Profile, ProfileVersion
from profiling.services import profile_snapshot, profile_update
from tests.api.conftest import PERSONAS
from tests.profiling.factories import VALID, profile_with_version

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


def _url(customer_id: int) -> str:
    return f"/api/v1/customers/{customer_id}/profile/"


def _versions(customer_id: int) -> str:
    return f"/api/v1/customers/{customer_id}/profile/versions/"


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("path", [_url, _versions])
def test_who_may_read(as_persona, persona, path, case):
    profile_with_version(customer=case.customer)
    response = as_persona(persona).get(path(case.customer_id))
    expected = {
        "caseworker": 200,
        "team_lead": 200,
        "other_caseworker": 404,
        "admin_user": 403,
        "anonymous": 401,
    }[persona]
    assert response.status_code == expected
    assert set(response.json()) >= {"message", "extra"} or expected == 200
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, customer_id=case.customer_id)
    assert views.exists() == (expected == 200)


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user", "anonymous"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_who_may_not_write(as_persona, persona, method, case):
    profile_with_version(customer=case.customer)
    body = {**VALID, "debt": "high", "version": 1}
    response = getattr(as_persona(persona), method)(_url(case.customer_id), body, format="json")
    assert (
        response.status_code
        == {"other_caseworker": 404, "admin_user": 403, "anonymous": 401}[persona]
    )
    profile = Profile.objects.get(customer=case.customer)
    assert (profile.version, profile.debt) == (1, "none")


# --- reading -------------------------------------------------------------------------------------


def test_get_current_profile(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.get(_url(case.customer_id))
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == 1
    assert data["customer_id"] == case.customer_id
    assert {k: data[k] for k in VALID} == VALID
    audit = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="profile")
    assert audit.channel == AuditChannel.API
    assert audit.customer_id == case.customer_id


def test_get_without_profile_is_404(caseworker_client, case):
    response = caseworker_client.get(_url(case.customer_id))
    assert response.status_code == 404
    assert response.json()["message"] == "This customer has no profile yet."


def test_get_as_of_a_date(caseworker, caseworker_client, case):
    with time_machine.travel(datetime.datetime(2026, 1, 5, 10, 0, tzinfo=BERLIN), tick=False):
        profile_with_version(customer=case.customer)
    with time_machine.travel(datetime.datetime(2026, 2, 3, 10, 0, tzinfo=BERLIN), tick=False):
        profile_update(
            ctx=AuditContext(actor=caseworker, channel=AuditChannel.UI),
            customer_id=case.customer_id,
            data={"care": "some"},
            expected_version=1,
        )
    old = caseworker_client.get(_url(case.customer_id), {"at": "2026-01-31"})
    assert old.status_code == 200
    assert (old.json()["version"], old.json()["care"]) == (1, "high")
    new = caseworker_client.get(_url(case.customer_id), {"at": "2026-02-03"})
    assert (new.json()["version"], new.json()["care"]) == (2, "some")
    before = caseworker_client.get(_url(case.customer_id), {"at": "2025-12-31"})
    assert before.status_code == 404
    event = AuditEvent.objects.filter(object_type="profile").latest("id")
    assert event.detail == {"at": "2026-02-03"}


@pytest.mark.parametrize(
    "params", [{"at": "31.01.2026"}, {"at": "2026-02-30"}, {"at": ""}, {"when": "x"}]
)
def test_bad_query_is_400(caseworker_client, case, params):
    profile_with_version(customer=case.customer)
    response = caseworker_client.get(_url(case.customer_id), params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_version_list(caseworker, caseworker_client, case):
    profile_with_version(customer=case.customer)
    profile_update(
        ctx=AuditContext(actor=caseworker, channel=AuditChannel.UI),
        customer_id=case.customer_id,
        data={"motivation": "medium", "motivation_note": "Erschöpft"},
        expected_version=1,
    )
    response = caseworker_client.get(_versions(case.customer_id))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    newest, first = data["results"]
    assert newest["version"] == 2
    assert newest["author"] == caseworker.username
    assert newest["changed_fields"] == ["motivation", "motivation_note"]
    assert newest["changed_dimensions"] == ["motivation"]
    assert newest["profile"]["motivation"] == "medium"
    assert first["author"] is None
    assert first["profile"]["motivation"] == "high"


def test_version_list_pages(caseworker_client, case):
    profile_with_version(customer=case.customer)
    assert caseworker_client.get(_versions(case.customer_id), {"page": 2}).status_code == 404
    assert caseworker_client.get(_versions(case.customer_id), {"page_size": 0}).status_code == 400
    assert caseworker_client.get(_versions(case.customer_id), {"sort": "x"}).status_code == 400


# --- writing -------------------------------------------------------------------------------------


def test_put_creates_a_profile(caseworker, caseworker_client, case):
    response = caseworker_client.put(_url(case.customer_id), {**VALID, "version": 0}, format="json")
    assert response.status_code == 201
    assert response.json()["version"] == 1
    profile = Profile.objects.get(customer=case.customer)
    assert profile_snapshot(profile) == VALID
    version = ProfileVersion.objects.get(customer=case.customer)
    assert version.author == caseworker
    audit = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="profile")
    assert audit.channel == AuditChannel.API
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PROFILE_UPDATED).exists()


def test_put_needs_every_field(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.put(
        _url(case.customer_id), {"debt": "high", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert "school" in response.json()["extra"]["fields"]
    assert Profile.objects.get(customer=case.customer).debt == "none"


def test_patch_changes_some_fields(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.patch(
        _url(case.customer_id),
        {"debt": "high", "other_languages": [{"code": "ar", "level": "B1"}], "version": 1},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["version"], data["debt"], data["care"]) == (2, "high", "high")
    assert data["other_languages"] == [{"code": "ar", "level": "B1"}]
    audit = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="profile")
    assert audit.detail["changed_fields"] == ["other_languages", "debt"]


def test_patch_needs_the_version(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.patch(_url(case.customer_id), {"debt": "high"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["extra"]["fields"]


def test_stale_version_is_409_and_nothing_saved(caseworker_client, team_lead, case):
    profile_with_version(customer=case.customer)
    profile_update(
        ctx=AuditContext(actor=team_lead, channel=AuditChannel.UI),
        customer_id=case.customer_id,
        data={"housing": "some"},
        expected_version=1,
    )
    response = caseworker_client.patch(
        _url(case.customer_id), {"housing": "high", "version": 1}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["extra"] == {"current_version": 2, "expected_version": 1}
    assert "version 2" in body["message"]
    assert Profile.objects.get(customer=case.customer).housing == "some"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"health": "extreme"}, "health"),
        ({"mobility_need": "HIGH"}, "mobility_need"),
        ({"target_kldb": "1234"}, "target_kldb"),
        ({"target_kldb": "123456"}, "target_kldb"),
        ({"german": "D1"}, "german"),
        ({"other_languages": [{"code": "e1", "level": "B1"}]}, "other_languages"),
        ({"other_languages": [{"code": "en", "level": "C3"}]}, "other_languages"),
        ({"months_in_benefit": -2}, "months_in_benefit"),
        ({"work_months_5y": 72}, "work_months_5y"),
        ({"public_transport": "maybe"}, "public_transport"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_input_is_400_with_the_field_and_nothing_saved(caseworker_client, case, changes, field):
    profile_with_version(customer=case.customer)
    before = profile_snapshot(Profile.objects.get(customer=case.customer))
    response = caseworker_client.patch(
        _url(case.customer_id), {**changes, "version": 1}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"]
    assert field in body["extra"]["fields"]
    profile = Profile.objects.get(customer=case.customer)
    assert profile_snapshot(profile) == before
    assert profile.version == 1
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_body_that_is_not_an_object_is_400(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.patch(_url(case.customer_id), [1, 2], format="json")
    assert response.status_code == 400


def test_a_day_in_the_future_gives_the_current_version(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.get(_url(case.customer_id), {"at": "2999-01-01"})
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_nul_characters_are_refused(caseworker_client, case):
    profile_with_version(customer=case.customer)
    response = caseworker_client.patch(
        _url(case.customer_id), {"care_note": "a\x00b", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert "care_note" in response.json()["extra"]["fields"]
    assert Profile.objects.get(customer=case.customer).version == 1


def test_patch_without_a_profile_is_404(caseworker_client, case):
    response = caseworker_client.patch(
        _url(case.customer_id), {"debt": "high", "version": 0}, format="json"
    )
    assert response.status_code == 404
    assert "PUT" in response.json()["message"]
    assert not Profile.objects.exists()
