"""Admins publish new versions of the invitation text in /admin/; versions are never edited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from organisation.services import admin_grant_configuration_permissions
from scheduling.models import InvitationTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def german_v1(db):
    from tests.scheduling.test_invitations import german_v1_install

    german_v1_install()


@pytest.fixture
def configuring_admin(admin_user, client):
    admin_grant_configuration_permissions(user=admin_user)
    client.force_login(admin_user)
    return admin_user


def test_adding_publishes_the_next_version_and_logs_it(client, configuring_admin):
    current = InvitationTemplate.objects.filter(language="de").order_by("-version").first()

    response = client.post(
        reverse("admin:scheduling_invitationtemplate_add"),
        {
            "language": "de",
            "subject": "Einladung zum Gespräch",
            "body": "Guten Tag {name}, bitte kommen Sie am {date} um {time} ({place}).",
            "legal_notice": current.legal_notice,
            "valid_from_0": "01.01.2026",
            "valid_from_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    newest = InvitationTemplate.objects.filter(language="de").order_by("-version").first()
    assert newest.version == current.version + 1
    assert newest.created_by == configuring_admin
    assert InvitationTemplate.objects.get(pk=current.pk).subject == current.subject
    assert AuditEvent.objects.filter(actor=configuring_admin, action="create").exists()


def test_a_published_version_cannot_be_changed_or_deleted(client, configuring_admin):
    version = InvitationTemplate.objects.filter(language="de").first()

    change = client.post(
        reverse("admin:scheduling_invitationtemplate_change", args=[version.pk]),
        {"language": "de", "subject": "Anders", "body": "x", "legal_notice": "y"},
    )
    delete = client.post(
        reverse("admin:scheduling_invitationtemplate_delete", args=[version.pk]), {"post": "yes"}
    )

    assert change.status_code == 403
    assert delete.status_code == 403
    assert InvitationTemplate.objects.get(pk=version.pk).subject == version.subject


def _post(client, **fields):
    current = InvitationTemplate.objects.filter(language="de").order_by("-version").first()
    data = {
        "language": "de",
        "subject": "Einladung",
        "body": "Guten Tag {name}",
        "legal_notice": current.legal_notice,
        "valid_from_0": "01.01.2026",
        "valid_from_1": "00:00:00",
        **fields,
    }
    return client.post(reverse("admin:scheduling_invitationtemplate_add"), data)


def test_a_dangerous_placeholder_is_refused_in_the_form_naming_it(client, configuring_admin):
    versions = InvitationTemplate.objects.count()

    response = _post(client, body="{name!r:>1000000000} {rebook_url}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "{name!r:&gt;1000000000}" in html
    assert "ist nicht erlaubt" in html or "is not allowed" in html
    assert InvitationTemplate.objects.count() == versions
    assert not AuditEvent.objects.filter(object_type="invitation_template").exists()


def test_the_language_is_chosen_from_german_and_the_customer_languages(
    client, configuring_admin, settings
):
    page = client.get(reverse("admin:scheduling_invitationtemplate_add")).content.decode()
    for code in settings.CUSTOMER_LANGUAGES:
        assert f'<option value="{code}"' in page
    versions = InvitationTemplate.objects.count()

    refused = _post(client, language="xx")

    assert refused.status_code == 200
    assert InvitationTemplate.objects.count() == versions
    assert not InvitationTemplate.objects.filter(language="xx").exists()

    accepted = _post(client, language="uk", body="Добрий день, {name}")
    assert accepted.status_code == 302
    assert InvitationTemplate.objects.filter(language="uk").order_by("-version").first().body == (
        "Добрий день, {name}"
    )


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_case_roles_cannot_publish_a_template(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    versions = InvitationTemplate.objects.count()

    response = _post(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert InvitationTemplate.objects.count() == versions
