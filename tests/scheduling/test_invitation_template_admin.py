"""Admins publish new versions of the invitation text in /admin/; versions are never edited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from organisation.services import admin_grant_configuration_permissions
from scheduling.models import InvitationTemplate

pytestmark = pytest.mark.django_db


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
