"""The team calendar (*Team-Kalender*): team leads see their team's staff and record or remove
their absences; admins any team; caseworkers nobody's; another team's staff member is a 404."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from organisation.models import Role
from scheduling.models import Absence, AppointmentStatus, StaffCalendar, SyncStatus
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory
from tests.scheduling.factories_planning import make_appointment

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC)
TEAM = reverse("scheduling:team_calendar")
SICK = {"kind": "sick", "start": "2026-12-09T00:00", "end": "2026-12-10T00:00", "note": ""}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def member_url(user) -> str:
    return reverse("scheduling:team_member", args=[user.pk])


def add_url(user) -> str:
    return reverse("scheduling:team_member_absence_add", args=[user.pk])


def remove_url(user, absence) -> str:
    return reverse("scheduling:team_member_absence_remove", args=[user.pk, absence.pk])


def test_anonymous_visitors_are_sent_to_the_login(client, caseworker):
    for response in (
        client.get(TEAM),
        client.get(member_url(caseworker)),
        client.post(add_url(caseworker), SICK),
    ):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_caseworkers_may_not_open_the_team_calendar(client, caseworker, team_lead):
    client.force_login(caseworker)

    assert client.get(TEAM).status_code == 403
    assert client.get(member_url(team_lead)).status_code == 403
    assert client.post(add_url(team_lead), SICK).status_code == 403
    assert not Absence.objects.exists()


def test_the_team_lead_sees_the_team_with_share_consent_sync_and_absences(
    client, team_lead, caseworker, other_caseworker
):
    StaffCalendar.objects.create(
        user=caseworker,
        part_time_share=Decimal("0.50"),
        consent_given_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        last_sync_at=dt.datetime(2026, 12, 5, 8, tzinfo=dt.UTC),
        last_sync_status=SyncStatus.ERROR,
        last_sync_message="Der Server hat die Verbindung abgelehnt.",
    )
    Absence.objects.create(
        user=caseworker,
        start=dt.datetime(2026, 12, 21, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 24, tzinfo=dt.UTC),
        kind="vacation",
    )
    client.force_login(team_lead)

    response = client.get(TEAM)

    assert response.status_code == 200
    html = response.content.decode()
    assert {member.pk for member in response.context["members"]} == {caseworker.pk, team_lead.pk}
    assert "0,50" in html
    assert "02.11.2026" in html  # consent given
    assert "Der Server hat die Verbindung abgelehnt." in html
    assert "21.12.2026" in html
    assert member_url(caseworker) in html
    assert member_url(other_caseworker) not in html
    row = AuditEvent.objects.get(object_type="staff_calendar", action="list")
    assert row.actor == team_lead
    assert set(row.detail["user_ids"]) == {caseworker.pk, team_lead.pk}


def test_a_team_lead_cannot_open_another_team(client, team_lead, other_team, other_caseworker):
    client.force_login(team_lead)

    assert client.get(TEAM, {"team": other_team.pk}).status_code == 404
    assert client.get(TEAM, {"team": "x"}).status_code == 404
    assert client.get(member_url(other_caseworker)).status_code == 404
    assert client.post(add_url(other_caseworker), SICK).status_code == 404
    assert not Absence.objects.exists()


def test_the_team_lead_records_a_sick_day_and_sees_the_appointments_to_move(
    client, team_lead, caseworker, team
):
    case = CaseFactory(team=team, caseworker=caseworker)
    nine = dt.datetime(2026, 12, 9, 8, tzinfo=dt.UTC)
    for hour, status in enumerate(
        (
            AppointmentStatus.SENT,
            AppointmentStatus.SENT,
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CONFIRMED,
        )
    ):
        make_appointment(case, caseworker, nine + dt.timedelta(hours=hour), status=status)
    client.force_login(team_lead)

    response = client.post(add_url(caseworker), {**SICK, "note": "krank gemeldet"}, follow=True)

    absence = Absence.objects.get()
    assert (absence.user, absence.created_by, absence.kind) == (caseworker, team_lead, "sick")
    row = AuditEvent.objects.get(object_type="absence", action="create")
    assert (row.actor, row.detail["user_id"], len(row.detail["appointments_to_move"])) == (
        team_lead,
        caseworker.pk,
        4,
    )
    html = response.content.decode()
    assert 'id="appointments-to-move"' in html
    assert html.count(reverse("cases:case_detail", args=[case.pk])) == 4
    assert any(m.level_tag == "warning" for m in response.context["messages"])
    overview = client.get(TEAM).content.decode()
    assert f'{member_url(caseworker)}#appointments-to-move"><strong>4<' in overview


def test_the_team_lead_removes_an_absence_of_the_team_only(
    client, team_lead, caseworker, other_caseworker
):
    mine = Absence.objects.create(
        user=caseworker,
        start=dt.datetime(2026, 12, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 10, tzinfo=dt.UTC),
        kind="sick",
    )
    theirs = Absence.objects.create(
        user=other_caseworker,
        start=dt.datetime(2026, 12, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 10, tzinfo=dt.UTC),
        kind="sick",
    )
    client.force_login(team_lead)

    assert client.post(remove_url(other_caseworker, theirs)).status_code == 404
    assert client.post(remove_url(caseworker, theirs)).status_code == 404  # not this person's
    assert client.post(remove_url(caseworker, mine)).status_code == 302
    assert list(Absence.objects.all()) == [theirs]
    row = AuditEvent.objects.get(object_type="absence", action="delete")
    assert row.actor == team_lead


def test_a_refused_absence_is_shown_in_the_form(client, team_lead, caseworker):
    client.force_login(team_lead)
    client.post(add_url(caseworker), SICK)

    response = client.post(
        add_url(caseworker),
        {"kind": "training", "start": "2026-12-09T08:00", "end": "2026-12-09T12:00"},
    )

    assert response.status_code == 400
    assert 'id="absence-errors"' in response.content.decode()
    assert Absence.objects.count() == 1


def test_an_admin_chooses_any_team_and_records_absences_there(
    client, admin_user, other_team, other_caseworker
):
    client.force_login(admin_user)

    choice = client.get(TEAM)
    assert choice.status_code == 200
    assert 'id="team-choice"' in choice.content.decode()
    assert choice.context["members"] == []

    response = client.get(TEAM, {"team": other_team.pk})
    assert member_url(other_caseworker) in response.content.decode()

    assert client.post(add_url(other_caseworker), SICK).status_code == 302
    assert Absence.objects.get().created_by == admin_user
    assert client.get(TEAM, {"team": 999999}).status_code == 404


def test_the_navigation_shows_the_team_calendar_to_team_leads_only(client, caseworker, team_lead):
    client.force_login(caseworker)
    assert TEAM not in client.get(reverse("scheduling:calendar_detail")).content.decode()

    client.force_login(team_lead)
    assert TEAM in client.get(reverse("scheduling:calendar_detail")).content.decode()


def test_the_team_list_costs_the_same_queries_however_many_staff(
    client, team_lead, team, django_assert_max_num_queries
):
    client.force_login(team_lead)
    client.get(TEAM)  # session, permissions: warm

    def add_staff(count: int, offset: int) -> None:
        for number in range(count):
            user = UserFactory(username=f"staff{offset + number}", role=Role.CASEWORKER, team=team)
            StaffCalendar.objects.create(user=user)
            Absence.objects.create(
                user=user,
                start=dt.datetime(2026, 12, 21, tzinfo=dt.UTC),
                end=dt.datetime(2026, 12, 22, tzinfo=dt.UTC),
                kind="vacation",
            )

    add_staff(2, 0)
    with django_assert_max_num_queries(20) as few:
        client.get(TEAM)
    add_staff(10, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(TEAM)
