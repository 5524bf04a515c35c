"""The profile page: access, the form by dimension, saving, conflicts, history, as of a date."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent
from profiling.forms import ProfileForm
from profiling.models import Profile, ProfileVersion
from profiling.services import profile_snapshot, profile_update
from tests.cases.factories import CaseFactory, CustomerFactory, ProfileFactory
from tests.profiling.factories import VALID, profile_with_version

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Texts are asserted in English, chosen as a user would; German is the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _page(case) -> str:
    return reverse("profiling:profile_detail", args=[case.pk])


def _save(case) -> str:
    return reverse("profiling:profile_update", args=[case.pk])


def _post_data(values: dict, version: int) -> dict:
    """What the browser sends for a profile: the form's initial data, as strings."""
    data = {}
    for key, value in ProfileForm.initial_for(values, version).items():
        if isinstance(value, bool):
            if key == "public_transport":
                data[key] = "true" if value else "false"
            elif value:
                data[key] = "on"
        elif value is None:
            data[key] = "unknown"
        else:
            data[key] = str(value)
    return data


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, case):
    for response in (client.get(_page(case)), client.post(_save(case), {})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.exists()


def test_admin_gets_403(client, admin_user, case):
    profile_with_version(customer=case.customer)
    client.force_login(admin_user)
    assert client.get(_page(case)).status_code == 403
    data = _post_data({**VALID, "debt": "high"}, 1)
    assert client.post(_save(case), data).status_code == 403
    assert Profile.objects.get(customer=case.customer).debt == "none"
    assert not AuditEvent.objects.filter(actor=admin_user).exists()


def test_other_team_gets_404_and_changes_nothing(client, other_caseworker, case):
    profile_with_version(customer=case.customer)
    client.force_login(other_caseworker)
    response = client.get(_page(case))
    assert response.status_code == 404
    assert case.customer.last_name not in response.content.decode()
    data = _post_data({**VALID, "debt": "high"}, 1)
    assert client.post(_save(case), data).status_code == 404
    assert Profile.objects.get(customer=case.customer).debt == "none"
    assert not AuditEvent.objects.filter(actor=other_caseworker).exists()


def test_get_only_and_post_only(client, caseworker, case):
    client.force_login(caseworker)
    assert client.post(_page(case)).status_code == 405
    assert client.get(_save(case)).status_code == 405


# --- reading -------------------------------------------------------------------------------------


def test_page_shows_the_form_by_dimension_and_is_audited(client, team_lead, case):
    profile_with_version(customer=case.customer)
    client.force_login(team_lead)
    response = client.get(_page(case))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "German language skills",
        "Kita-Platz fehlt",
        "Health restrictions",
        'name="health" value="high"',
        'name="version" value="1"',
        "Turkish",
        "82102",
    ):
        assert text in body, text
    assert body.count('<fieldset class="kern-fieldset app-profile-section"') == 10
    event = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="profile")
    assert (event.actor, event.customer_id) == (team_lead, case.customer_id)


def test_case_page_card_links_to_the_profile(client, caseworker, case):
    client.force_login(caseworker)
    body = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert _page(case) in body
    profile_with_version(customer=case.customer, mobility_need="high")
    body = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert _page(case) in body
    assert "Mobility" in body
    assert "Version 1" in body


def test_case_page_query_count_is_the_same_with_and_without_a_profile(client, caseworker, team):
    client.force_login(caseworker)
    without = CaseFactory(team=team)
    with_profile = CaseFactory(team=team, customer=CustomerFactory())
    profile_with_version(customer=with_profile.customer)

    def count(case) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 200
        return len(queries)

    assert count(with_profile) == count(without)


def test_history_and_profile_as_of_a_date(client, caseworker, case):
    with time_machine.travel(datetime.datetime(2030, 1, 5, 10, 0, tzinfo=BERLIN), tick=False):
        profile_with_version(customer=case.customer)
    with time_machine.travel(datetime.datetime(2030, 2, 3, 11, 0, tzinfo=BERLIN), tick=False):
        profile_update(
            ctx=AuditContext(actor=caseworker, channel="ui"),
            customer_id=case.customer_id,
            data={"housing": "high", "housing_note": "Räumungsklage"},
            expected_version=1,
        )
    with time_machine.travel(datetime.datetime(2030, 3, 1, 9, 0, tzinfo=BERLIN), tick=False):
        client.force_login(caseworker)
        body = client.get(_page(case)).content.decode()
        assert "Version 2" in body
        assert "01/05/2030" in body
        assert "02/03/2030" in body
        assert "?at=2030-01-05" in body

        response = client.get(_page(case), {"at": "2030-01-20"})
        body = response.content.decode()
        assert response.status_code == 200
        assert "The profile as of 01/20/2030" in body
        as_of = body[body.index('id="profile-as-of"') : body.index('id="profile-workspace"')]
        assert "Räumungsklage" not in as_of
        assert "Kita-Platz fehlt" in as_of

        as_of = client.get(_page(case), {"at": "2030-02-03"}).content.decode()
        as_of = as_of[as_of.index('id="profile-as-of"') : as_of.index('id="profile-workspace"')]
        assert "Räumungsklage" in as_of

        body = client.get(_page(case), {"at": "2029-12-31"}).content.decode()
        assert "no profile had been recorded yet" in body
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="profile").latest("id")
    assert event.detail == {"at": "2029-12-31"}


def test_as_of_htmx_returns_only_the_fragment(client, caseworker, case):
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    response = client.get(
        _page(case), {"at": timezone.localdate().isoformat()}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="profile-as-of"')
    assert "<html" not in body
    assert 'id="profile-form"' not in body


@pytest.mark.parametrize("at", ["gestern", "2030-02-30", "2999-01-01"])
def test_bad_as_of_date_is_400(client, caseworker, case, at):
    client.force_login(caseworker)
    response = client.get(_page(case), {"at": at})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


# --- saving --------------------------------------------------------------------------------------


def test_recording_a_new_profile_without_javascript(client, caseworker, case):
    client.force_login(caseworker)
    data = _post_data(VALID, 0)
    response = client.post(_save(case), data)
    assert response.status_code == 303
    assert response["Location"] == _page(case)
    profile = Profile.objects.get(customer=case.customer)
    assert profile_snapshot(profile) == VALID
    assert profile.version == 1
    assert ProfileVersion.objects.get(customer=case.customer).author == caseworker
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PROFILE_UPDATED).exists()
    assert "The profile has been saved." in client.get(response["Location"]).content.decode()


def test_editing_languages_rows(client, caseworker, case):
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    data = _post_data(VALID, 1)
    data.update({"language_2_code": "en", "language_2_level": "B2"})
    assert client.post(_save(case), data).status_code == 303
    assert Profile.objects.get(customer=case.customer).other_languages == [
        {"code": "tr", "level": "native"},
        {"code": "en", "level": "B2"},
    ]


def test_saving_with_htmx_returns_the_workspace_with_the_new_version(client, caseworker, case):
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    data = _post_data({**VALID, "digital": "high"}, 1)
    response = client.post(_save(case), data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="profile-workspace"')
    assert "<html" not in body
    assert 'name="version" value="2"' in body
    assert "The profile has been saved." in body
    assert Profile.objects.get(customer=case.customer).digital == "high"


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"target_kldb": "821"}, "id_target_kldb", "five digits"),
        ({"work_months_5y": "61"}, "id_work_months_5y", "60"),
        ({"months_unemployed": "-3"}, "id_months_unemployed", ""),
        ({"health": "sehr hoch"}, "id_health", ""),
        ({"language_1_level": ""}, "id_language_1_level", ""),
        ({"language_1_code": "xx"}, "id_language_1_code", ""),
        ({"german": "B9"}, "id_german", ""),
    ],
)
def test_bad_input_shows_the_error_at_the_field_and_saves_nothing(
    client, caseworker, case, changes, field_id, message
):
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    data = {**_post_data(VALID, 1), **changes}
    response = client.post(_save(case), data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 400
    assert f'id="{field_id}_error"' in body
    assert 'role="alert"' in body
    assert message in body
    assert Profile.objects.get(customer=case.customer).version == 1
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 1


def test_second_of_two_concurrent_saves_is_refused(client, caseworker, team_lead, case):
    profile_with_version(customer=case.customer)
    client.force_login(team_lead)
    assert client.post(_save(case), _post_data({**VALID, "debt": "high"}, 1)).status_code == 303
    client.force_login(caseworker)
    response = client.post(
        _save(case), _post_data({**VALID, "health": "high"}, 1), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: someone else changed the profile" in body
    assert "now version 2" in body
    # What the caseworker entered is still there for them to compare, nothing was saved.
    assert (
        'name="health" value="high" class="kern-form-check__radio" id="id_health_2" required checked'
        in body
    )
    profile = Profile.objects.get(customer=case.customer)
    assert (profile.version, profile.debt, profile.health) == (2, "high", "none")


def test_profile_created_elsewhere_meanwhile_is_a_conflict(client, caseworker, case):
    client.force_login(caseworker)
    profile_with_version(customer=case.customer)
    response = client.post(_save(case), _post_data(VALID, 0))
    assert response.status_code == 409
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 1


def test_old_profile_without_versions_can_be_edited(client, caseworker, team):
    profile = ProfileFactory()
    case = CaseFactory(team=team, customer=profile.customer)
    client.force_login(caseworker)
    body = client.get(_page(case)).content.decode()
    assert 'name="version" value="0"' in body
    data = _post_data({**profile_snapshot(profile), "debt": "some"}, 0)
    assert client.post(_save(case), data).status_code == 303
    profile.refresh_from_db()
    assert (profile.version, profile.debt) == (1, "some")


def test_refused_save_that_shows_the_profile_again_is_audited_as_a_read(client, caseworker, case):
    profile_with_version(customer=case.customer)
    client.force_login(caseworker)
    data = {**_post_data(VALID, 1), "target_kldb": "1"}
    assert client.post(_save(case), data).status_code == 400
    event = AuditEvent.objects.get(actor=caseworker)
    assert (event.action, event.object_type, event.customer_id) == (
        AuditAction.VIEW,
        "profile",
        case.customer_id,
    )
