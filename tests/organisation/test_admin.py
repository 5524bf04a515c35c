"""The admin configures the organisation; it shows no customer data; the audit log is read-only."""

import pytest
from django.contrib.auth.models import Permission

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import AuditContext, audit_record
from organisation.models import Role, Team, User
from organisation.services import (
    CONFIGURATION_PERMISSIONS,
    NotAnAdministratorError,
    admin_grant_configuration_permissions,
)
from tests.organisation.factories import AdminFactory, JobcenterFactory, UserFactory


@pytest.fixture
def configuring_admin(admin_user):
    admin_grant_configuration_permissions(user=admin_user)
    return User.objects.get(pk=admin_user.pk)


@pytest.fixture
def admin_client(client, configuring_admin):
    client.force_login(configuring_admin)
    return client


# Access


def test_admin_opens_the_teams_and_adds_one(admin_client, team):
    response = admin_client.get("/admin/organisation/team/")
    assert response.status_code == 200
    assert "Team Nord" in response.content.decode()

    response = admin_client.post(
        "/admin/organisation/team/add/", {"jobcenter": team.jobcenter_id, "name": "Team Ost"}
    )

    assert response.status_code == 302
    assert Team.objects.filter(jobcenter=team.jobcenter, name="Team Ost").exists()


def test_admin_without_the_permissions_sees_nothing(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/admin/organisation/team/").status_code == 403
    assert client.get("/admin/audit/auditevent/").status_code == 403


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_case_roles_cannot_open_the_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get("/admin/organisation/team/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/cases/case/",
        "/admin/cases/customer/",
        "/admin/cases/household/",
        "/admin/cases/casenote/",
        "/admin/cases/cooperationplan/",
        "/admin/profiling/profile/",
    ],
)
def test_customer_data_is_not_in_the_admin(admin_client, url):
    assert admin_client.get(url).status_code == 404


def test_the_admin_index_lists_configuration_only(admin_client):
    body = admin_client.get("/admin/").content.decode()

    assert "/admin/organisation/team/" in body
    assert "/admin/organisation/user/" in body
    # The cases app shows only its configuration (tags, note templates, case work rules).
    assert "/admin/cases/tag/" in body
    for customer_data in ("case", "customer", "household", "casenote", "cooperationplan"):
        assert f"/admin/cases/{customer_data}/" not in body


# Staff


def test_admin_adds_a_caseworker_with_a_password(admin_client, team):
    response = admin_client.post(
        "/admin/organisation/user/add/",
        {
            "username": "neu",
            "usable_password": "true",
            "password1": "Ein-sicheres-Passwort-2030",
            "password2": "Ein-sicheres-Passwort-2030",
            "first_name": "Nora",
            "last_name": "Neumann",
            "email": "nora.neumann@example.de",
            "role": Role.CASEWORKER,
            "team": team.pk,
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="neu")
    assert (user.role, user.team, user.is_staff) == (Role.CASEWORKER, team, False)
    assert user.check_password("Ein-sicheres-Passwort-2030")


def test_a_caseworker_without_a_team_is_refused_with_the_reason(admin_client):
    response = admin_client.post(
        "/admin/organisation/user/add/",
        {
            "username": "ohneteam",
            "usable_password": "false",
            "role": Role.CASEWORKER,
            "team": "",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    # The UI is German whatever the browser asks for (GermanByDefaultMiddleware).
    assert errors == ["Integrationsfachkräfte und Führungskräfte gehören zu einem Team."]
    assert not User.objects.filter(username="ohneteam").exists()


def test_admin_changes_a_password_through_the_standard_form(admin_client, caseworker):
    response = admin_client.post(
        f"/admin/organisation/user/{caseworker.pk}/password/",
        {
            "usable_password": "true",
            "password1": "Neues-Passwort-2030",
            "password2": "Neues-Passwort-2030",
        },
    )

    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert caseworker.check_password("Neues-Passwort-2030")


def test_an_admin_cannot_make_anyone_a_superuser(admin_client, configuring_admin):
    url = f"/admin/organisation/user/{configuring_admin.pk}/change/"
    form = admin_client.get(url).context["adminform"].form

    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert "groups" not in form.fields


def test_a_superuser_hands_out_permissions(client, caseworker):
    superuser = User.objects.create_superuser("root", "root@example.de", None, role=Role.ADMIN)
    client.force_login(superuser)

    form = client.get(f"/admin/organisation/user/{caseworker.pk}/change/").context["adminform"].form

    assert {"is_superuser", "groups", "user_permissions"} <= set(form.fields)


def test_an_admin_cannot_change_a_superuser(admin_client, db):
    superuser = User.objects.create_superuser(
        "root", "root@example.de", "Root-Passwort-2030", role=Role.ADMIN
    )

    response = admin_client.get(f"/admin/organisation/user/{superuser.pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False

    response = admin_client.post(
        f"/admin/organisation/user/{superuser.pk}/password/",
        {"usable_password": "true", "password1": "Gekapert-2030!", "password2": "Gekapert-2030!"},
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password("Root-Passwort-2030")


def test_staff_list_query_count_does_not_grow(admin_client, team, django_assert_max_num_queries):
    UserFactory.create_batch(3, team=team)
    with django_assert_max_num_queries(12) as few:
        admin_client.get("/admin/organisation/user/")
    UserFactory.create_batch(20, team=team)

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get("/admin/organisation/user/")


# Audit log


@pytest.fixture
def events(caseworker, other_caseworker):
    audit_record(
        ctx=AuditContext(actor=caseworker, channel=AuditChannel.UI),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=11,
        customer_id=4711,
    )
    audit_record(
        ctx=AuditContext(actor=other_caseworker, channel=AuditChannel.API),
        action=AuditAction.LIST,
        object_type="case",
        object_id=12,
        customer_id=815,
    )


def test_audit_log_is_listed_filtered_and_searched(admin_client, events):
    assert admin_client.get("/admin/audit/auditevent/").context["cl"].result_count == 2

    def found(query: str) -> set[int]:
        response = admin_client.get(f"/admin/audit/auditevent/?{query}")
        assert response.status_code == 200
        return {event.customer_id for event in response.context["cl"].result_list}

    assert found("q=4711") == {4711}
    assert found("q=cw_other") == {815}
    assert found("q=nobody") == set()
    assert found("action__exact=list") == {815}
    assert found("channel__exact=ui") == {4711}
    assert found("at__gte=2000-01-01%2000:00:00%2B00:00") == {4711, 815}
    assert found("at__lt=2000-01-01%2000:00:00%2B00:00") == set()


def test_audit_log_is_read_only(admin_client, events):
    event = AuditEvent.objects.first()

    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    detail = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/change/", {}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.count() == 2


def test_audit_log_needs_exactly_its_view_permission(client, events):
    """Django would also let `change` in; here only `view` (or a superuser) reads the log."""
    admin = AdminFactory(username="admin2")
    admin.user_permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="change_auditevent")
    )
    client.force_login(admin)

    assert client.get("/admin/audit/auditevent/").status_code == 403


# The service


@pytest.mark.django_db
def test_grant_gives_exactly_the_configuration_permissions():
    admin = AdminFactory(username="admin3")

    admin_grant_configuration_permissions(user=admin)
    admin_grant_configuration_permissions(user=admin)  # idempotent

    granted = set(admin.user_permissions.values_list("content_type__app_label", "codename"))
    assert granted == set(CONFIGURATION_PERMISSIONS)
    assert admin.has_perm("organisation.add_team")
    assert not admin.has_perm("organisation.delete_user")


def test_grant_refuses_a_case_role(caseworker):
    with pytest.raises(NotAnAdministratorError):
        admin_grant_configuration_permissions(user=caseworker)

    assert not caseworker.user_permissions.exists()


def test_jobcenters_are_configured_too(admin_client):
    jobcenter = JobcenterFactory()

    assert admin_client.get("/admin/organisation/jobcenter/").status_code == 200
    response = admin_client.post(
        f"/admin/organisation/jobcenter/{jobcenter.pk}/change/",
        {
            "name": "Jobcenter Neustadt",
            "code": jobcenter.code,
            "federal_state": "BY",
            "region_unemployment_rate": "5.2",
        },
    )
    assert response.status_code == 302
    jobcenter.refresh_from_db()
    assert (jobcenter.name, jobcenter.federal_state) == ("Jobcenter Neustadt", "BY")


def test_createsuperuser_takes_the_admin_role_without_a_team(db, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Ein-sicheres-Passwort-2030")
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@example.de",
        role=Role.ADMIN,
        verbosity=0,
    )
    root = User.objects.get(username="root")
    assert (root.role, root.team, root.is_superuser) == (Role.ADMIN, None, True)
