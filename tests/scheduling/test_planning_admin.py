"""Admins change the planning settings and the reminder settings in /admin/ (one row each)."""

import pytest
from django.urls import reverse

from organisation.services import admin_grant_configuration_permissions
from scheduling.models import PlanningSettings, ReminderPolicy

pytestmark = pytest.mark.django_db

PLANNING_FORM = {
    "own_caseworker": "500",
    "due_distance_per_day": "80",
    "load_balance": "3",
    "group_session": "10",
    "horizon_days": "21",
    "periodic_enabled": "on",
}


@pytest.fixture
def configuring_admin(admin_user, client):
    admin_grant_configuration_permissions(user=admin_user)
    client.force_login(admin_user)
    return admin_user


def _change_url(model) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[model.load().pk])


def test_admin_changes_the_planning_weights(client, configuring_admin):
    response = client.post(_change_url(PlanningSettings), PLANNING_FORM)

    assert response.status_code == 302, response.content.decode()[:2000]
    settings_row = PlanningSettings.load()
    assert (
        settings_row.own_caseworker,
        settings_row.due_distance_per_day,
        settings_row.load_balance,
        settings_row.group_session,
        settings_row.horizon_days,
    ) == (500, 80, 3, 10, 21)


def test_a_horizon_of_zero_days_is_refused_with_the_validators_message(client, configuring_admin):
    response = client.post(_change_url(PlanningSettings), {**PLANNING_FORM, "horizon_days": "0"})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "horizon_days" in errors
    # Django's own translated validator message.
    assert "größer oder gleich 1" in errors["horizon_days"][0]
    assert PlanningSettings.load().horizon_days == 28


def test_admin_changes_the_reminder_settings(client, configuring_admin):
    response = client.post(
        _change_url(ReminderPolicy), {"email_hours_before": "72", "sms_hours_before": "0"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ReminderPolicy.load()
    assert (policy.email_hours_before, policy.sms_hours_before) == (72, 0)


def test_a_reminder_more_than_two_weeks_ahead_is_refused(client, configuring_admin):
    response = client.post(
        _change_url(ReminderPolicy), {"email_hours_before": "400", "sms_hours_before": "24"}
    )

    assert response.status_code == 200
    assert "email_hours_before" in response.context["adminform"].form.errors
    assert ReminderPolicy.load().email_hours_before == 48


@pytest.mark.parametrize("model", [PlanningSettings, ReminderPolicy])
def test_the_one_row_is_neither_added_twice_nor_deleted(client, configuring_admin, model):
    model.load()
    meta = model._meta
    add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    delete = client.post(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[1]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert delete.status_code == 403
    assert model.objects.count() == 1


@pytest.mark.parametrize("model", [PlanningSettings, ReminderPolicy])
def test_a_caseworker_cannot_open_the_settings(client, caseworker, model):
    client.force_login(caseworker)

    response = client.get(_change_url(model))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_an_admin_without_the_configuration_permissions_cannot_change_them(client, admin_user):
    client.force_login(admin_user)

    response = client.post(_change_url(PlanningSettings), PLANNING_FORM)

    assert response.status_code == 403
    assert PlanningSettings.load().own_caseworker == 300
