"""The case page: who may open it, what it shows, the audit row and the query count."""

import datetime

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditAction, AuditChannel, AuditEvent
from cases.models import Case, CaseEvent, EmploymentSpell, Phase
from profiling.models import Need
from tests.cases.factories import (
    CaseEventFactory,
    CaseFactory,
    CustomerFactory,
    HouseholdFactory,
    ProfileFactory,
)

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


def _url(case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def _body(response) -> str:
    return response.content.decode()


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, case):
    response = client.get(_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.exists()


def test_admin_gets_403_and_reads_nothing(client, admin_user, case):
    client.force_login(admin_user)
    response = client.get(_url(case))
    assert response.status_code == 403
    assert case.customer.last_name not in _body(response)
    # The 403 page offers the way to where an admin works.
    assert reverse("admin:index") in _body(response)
    assert not AuditEvent.objects.exists()


def test_other_team_case_is_404_and_not_audited(client, other_caseworker, case):
    client.force_login(other_caseworker)
    response = client.get(_url(case))
    assert response.status_code == 404
    assert case.customer.last_name not in _body(response)
    assert not AuditEvent.objects.filter(customer_id=case.customer_id).exists()


def test_missing_case_is_404(client, caseworker):
    client.force_login(caseworker)
    assert client.get(reverse("cases:case_detail", args=[987654])).status_code == 404


def test_team_lead_opens_a_team_case(client, team_lead, case):
    client.force_login(team_lead)
    response = client.get(_url(case))
    assert response.status_code == 200
    assert case.customer.full_name in _body(response)


def test_case_page_read_is_audited(client, caseworker, case):
    client.force_login(caseworker)
    response = client.get(_url(case))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW, customer_id=case.customer_id)
    assert event.actor == caseworker
    assert event.channel == AuditChannel.UI
    assert event.object_type == "case"
    assert event.object_id == str(case.pk)


# --- content -------------------------------------------------------------------------------------


def test_shows_customer_household_and_case(client, caseworker, team):
    household = HouseholdFactory(
        number="BG12345678",
        street="Hafenstraße 7",
        postal_code="20457",
        city="Hamburg",
        adults=1,
        children=2,
        youngest_child_age=4,
    )
    customer = CustomerFactory(
        first_name="Aylin",
        last_name="Kaya",
        customer_number="123D456789",
        date_of_birth=datetime.date(1990, 6, 1),
        phone="040 123456",
        email="aylin@example.org",
        preferred_language="tr",
        household=household,
    )
    case = CaseFactory(team=team, customer=customer, phase=Phase.PLANNING, caseworker=caseworker)
    with time_machine.travel(datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        client.force_login(caseworker)
        body = _body(client.get(_url(case)))
    for text in (
        "Aylin Kaya",
        "123D456789",
        "01.06.1990",
        "39 Jahre",
        "040 123456",
        "aylin@example.org",
        "Türkisch",
        "BG12345678",
        "Hafenstraße 7",
        "20457 Hamburg",
        "Ziel- und Handlungsplanung",
        str(caseworker),
        "alleinerziehend",
    ):
        assert text in body, text


def test_unassigned_case_shows_team_queue_and_no_group(client, caseworker, team):
    case = CaseFactory(team=team, caseworker=None, customer_group="")
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    assert "Teamvorrat" in body
    assert "noch nicht zugeordnet" in body


def test_overdue_review_is_marked_in_words(client, caseworker, team):
    with time_machine.travel(datetime.datetime(2030, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        case = CaseFactory(team=team, review_due=timezone.localdate() - datetime.timedelta(days=3))
        client.force_login(caseworker)
        body = _body(client.get(_url(case)))
    assert "Zielüberprüfung überfällig" in body


def test_shows_profile_with_needs(client, caseworker, team):
    customer = CustomerFactory()
    ProfileFactory(customer=customer, health=Need.HIGH, debt=Need.SOME, own_goals="Pflegehelferin")
    case = CaseFactory(team=team, customer=customer)
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    assert "Gesundheitliche Einschränkungen" in body
    assert "kern-badge--danger" in body  # high need
    assert "Pflegehelferin" in body


def test_without_profile_says_so(client, caseworker, case):
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    assert "Noch kein Profil" in body


def test_shows_employment_history(client, caseworker, case):
    EmploymentSpell.objects.create(
        customer=case.customer,
        kind=EmploymentSpell.Kind.INSURED,
        occupation="Lagerlogistik",
        start=datetime.date(2019, 4, 1),
        end=datetime.date(2022, 3, 31),
    )
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    assert "Lagerlogistik" in body
    assert "31.03.2022" in body


def test_timeline_newest_first(client, caseworker, case):
    now = timezone.now()
    CaseEventFactory(case=case, summary="Erstgespräch geführt", at=now - datetime.timedelta(days=9))
    CaseEventFactory(
        case=case,
        kind=CaseEvent.Kind.PHASE_CHANGED,
        summary="Phase gewechselt",
        at=now - datetime.timedelta(days=1),
        actor=caseworker,
    )
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    assert body.index("Phase gewechselt") < body.index("Erstgespräch geführt")


def test_number_of_queries_does_not_grow_with_the_timeline(client, caseworker, team):
    customer = CustomerFactory()
    ProfileFactory(customer=customer)
    case = CaseFactory(team=team, customer=customer)
    client.force_login(caseworker)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(case)).status_code == 200
        return len(queries)

    CaseEventFactory.create_batch(2, case=case, actor=caseworker)
    few = count_queries()
    CaseEventFactory.create_batch(30, case=case, actor=caseworker)
    for year in range(2000, 2010):
        EmploymentSpell.objects.create(
            customer=customer,
            kind=EmploymentSpell.Kind.MINIJOB,
            occupation=f"Aushilfe {year}",
            start=datetime.date(year, 1, 1),
            end=datetime.date(year, 12, 31),
        )
    many = count_queries()
    assert many == few


# --- lifecycle: the Case card, the phase form, claims --------------------------------------------


def test_case_card_shows_cycle_claim_and_closure(client, caseworker, team):
    claimed = CaseFactory(team=team, cycle=2, claimed_by=caseworker, claimed_at=timezone.now())
    client.force_login(caseworker)
    body = _body(client.get(_url(claimed)))
    assert 'id="case-lifecycle"' in body
    assert 'id="case-claim"' in body
    assert str(caseworker) in body.split('id="case-claim"', 1)[1].split("</dd>", 1)[0]
    assert reverse("cases:case_release", args=[claimed.pk]) in body
    with translation.override("de"):
        assert gettext("cycle %(cycle)s") % {"cycle": 2} in body

    closed = CaseFactory(team=team, phase=Phase.CLOSED, closure_reason="moved_away")
    body = _body(client.get(_url(closed)))
    assert "Umzug (Wegzug)" in body
    assert 'id="case-transition-form"' not in body
    assert reverse("cases:case_claim", args=[closed.pk]) not in body


def test_the_transition_form_works_without_javascript(client, caseworker, case):
    client.force_login(caseworker)
    body = _body(client.get(_url(case)))
    form = body.split('id="case-transition-form"', 1)[1].split("</form>", 1)[0]
    assert f'action="{reverse("cases:case_transition", args=[case.pk])}"' in body
    opening_tag = body.split('id="case-transition-form"', 1)[1].split(">", 1)[0]
    assert 'method="post"' in opening_tag
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<label class="kern-label" for="id_transition_to">' in form
    assert '<label class="kern-label" for="id_transition_reason">' in form


def test_number_of_queries_is_the_same_with_a_claim_and_a_plan(client, caseworker, team):
    case = CaseFactory(team=team, phase=Phase.PLANNING)
    client.force_login(caseworker)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(case)).status_code == 200
        return len(queries)

    few = count_queries()
    Case.objects.filter(pk=case.pk).update(claimed_by=caseworker, claimed_at=timezone.now())
    CaseEventFactory.create_batch(10, case=case, actor=caseworker)
    many = count_queries()
    assert many == few
