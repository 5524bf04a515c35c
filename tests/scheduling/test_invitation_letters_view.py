"""The letter PDF as it was sent, downloadable by staff of the case's team (audit-logged)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import InvitationDelivery
from scheduling.services_invitations import invitation_send
from tests.scheduling.test_invitations import appointment_make, german_v1_install, staff_make


@pytest.fixture(autouse=True)
def german_v1(db):
    german_v1_install()


@pytest.fixture
def staff(team):
    return staff_make(team)


@pytest.fixture
def appointment(team, staff):
    return appointment_make(team, staff)


@pytest.fixture
def ctx(staff):
    return AuditContext(actor=staff, channel="ui")


@pytest.fixture
def letter(appointment, ctx) -> InvitationDelivery:
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    return InvitationDelivery.objects.get(appointment=appointment, channel="letter")


def _url(appointment_id: int, delivery_id: int) -> str:
    return reverse("scheduling:invitation_letter", args=[appointment_id, delivery_id])


def test_the_url(letter):
    assert _url(letter.appointment_id, letter.pk) == (
        f"/scheduling/appointments/{letter.appointment_id}/letters/{letter.pk}.pdf"
    )


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_staff_of_the_case_team_download_the_letter_as_sent(client, letter, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    response = client.get(_url(letter.appointment_id, letter.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="brief-')
    assert response.content == bytes(letter.document)
    audit = AuditEvent.objects.get(object_type="invitation_letter")
    assert audit.action == "export"
    assert audit.actor == user
    assert audit.object_id == str(letter.pk)
    assert audit.customer_id == letter.appointment.case.customer_id


@pytest.mark.parametrize("persona", ["other_caseworker", "admin_user"])
def test_others_get_404_and_nothing_is_logged(client, letter, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(_url(letter.appointment_id, letter.pk))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(object_type="invitation_letter").exists()


def test_anonymous_visitors_are_sent_to_the_login(client, letter):
    response = client.get(_url(letter.appointment_id, letter.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_e_mail_row_or_a_wrong_appointment_is_not_a_letter(client, letter, caseworker):
    client.force_login(caseworker)
    email = InvitationDelivery.objects.get(appointment=letter.appointment, channel="email")
    assert client.get(_url(letter.appointment_id, email.pk)).status_code == 404
    assert client.get(_url(letter.appointment_id + 1, letter.pk)).status_code == 404
    assert client.post(_url(letter.appointment_id, letter.pk)).status_code == 405
