"""Where a login lands: each role on the page it works with."""

from django.urls import reverse

from tests.conftest import PASSWORD
from tests.organisation.factories import AdminFactory

START = reverse("start")


def _log_in(client, username: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD, **extra})


def test_anonymous_is_sent_to_login(client):
    response = client.get(START)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_caseworker_lands_on_the_work_queue(client, caseworker):
    response = _log_in(client, caseworker.username)
    assert response.status_code == 302
    assert response["Location"] == START
    assert client.get(START)["Location"] == reverse("cases:work_queue")


def test_team_lead_lands_on_the_work_queue(client, team_lead):
    _log_in(client, team_lead.username)
    assert client.get(START)["Location"] == reverse("cases:work_queue")


def test_admin_lands_in_the_django_admin_not_on_case_pages(client, admin_user):
    _log_in(client, admin_user.username)
    assert client.get(START)["Location"] == reverse("admin:index")


def test_admin_without_admin_site_access_gets_an_explanation(client, db):
    AdminFactory(username="config", is_staff=False)
    _log_in(client, "config")
    response = client.get(START)
    assert response.status_code == 200
    assert "Ihre Rolle hat keinen Arbeitsvorrat" in response.content.decode()


def test_next_parameter_wins(client, caseworker, case):
    target = reverse("cases:case_detail", args=[case.pk])
    response = _log_in(client, caseworker.username, next=target)
    assert response["Location"] == target


def test_wrong_password_shows_the_error(client, caseworker):
    response = client.post(reverse("login"), {"username": "cw", "password": "wrong"})
    assert response.status_code == 200
    assert "Benutzername und Passwort passen nicht zusammen" in response.content.decode()
