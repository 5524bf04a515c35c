"""A rejected invitation holds the case back: until a date, or until a person lifts the hold or
changes the contact agreement. The next runs list it as not placed with the hold as the reason."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling import planning
from scheduling.models import (
    Appointment,
    ContactAgreement,
    PlanningOutcome,
    PlanningRun,
)
from scheduling.selectors import case_dues_list, case_next_due
from scheduling.services_agreements import contact_agreement_hold_lift, contact_agreement_update
from scheduling.services_planning import (
    planning_hold_text,
    planning_item_reason_text,
    planning_item_reject,
    planning_run_execute,
    planning_run_start,
)
from tests.api.conftest import token_client
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import due_case, make_staff, planning_settings

TODAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
THURSDAY = dt.date(2026, 11, 26)
HTMX = {"HTTP_HX_REQUEST": "true"}
REASON = "Kundin bis Januar im Krankenhaus"


@pytest.fixture(autouse=True)
def at_now(db):
    with time_machine.travel(NOW, tick=False) as traveller:
        planning_settings()
        yield traveller


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


def run_for(team_lead) -> PlanningRun:
    run = planning_run_start(ctx=ui(team_lead), team_id=team_lead.team_id)
    return planning_run_execute(run_id=run.pk)


@pytest.fixture
def rejected(team, team_lead, caseworker):
    """Case 64 of the acceptance test: its invitation rejected with a reason."""
    make_staff(team, "anna")
    case = due_case(team, due=TUESDAY)
    run = run_for(team_lead)
    item = run.items.get(case=case)
    return case, item


def test_rejecting_without_a_date_holds_the_case_until_lifted(rejected, caseworker, team_lead):
    case, item = rejected

    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)

    item.refresh_from_db()
    assert item.detail["rejected"] == {"reason": REASON, "hold_until": None}
    assert planning_item_reason_text(item) == _("Rejected: %(reason)s") % {"reason": REASON}
    agreement = ContactAgreement.objects.get(case=case)
    assert agreement.hold_set_at == NOW
    assert agreement.hold_until is None
    assert agreement.hold_set_by == caseworker
    assert agreement.hold_reason == REASON
    assert agreement.is_held(TODAY)
    event = AuditEvent.objects.get(object_type="contact_agreement", detail__hold__reason=REASON)
    assert event.actor == caseworker
    assert event.customer_id == case.customer_id
    assert CaseEvent.objects.filter(case=case, data__contact_agreement__hold__reason=REASON)
    # Not due any more, whatever the horizon.
    assert case_next_due(case=case, today=TODAY) is None

    second = run_for(team_lead)

    held = second.items.get(case=case)
    assert held.outcome == PlanningOutcome.UNPLACED
    assert held.reason == planning.REASON_HELD
    assert held.appointment is None
    assert held.detail["hold"]["reason"] == REASON
    assert held.detail["hold"]["until"] is None
    assert second.placed_count == 0
    assert second.metrics["held"] == 1
    assert not Appointment.objects.filter(case=case).exists()
    text = planning_item_reason_text(held, second)
    assert text == _(
        "held back until further notice (rejected on %(date)s by %(person)s: %(reason)s)"
    ) % {"date": "23.11.2026", "person": caseworker.get_full_name(), "reason": REASON}


def test_a_hold_with_a_date_moves_the_due_date_there(rejected, caseworker, team_lead):
    case, item = rejected

    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON, hold_until=THURSDAY)

    assert ContactAgreement.objects.get(case=case).hold_until == THURSDAY
    due = case_next_due(case=case, today=TODAY)
    assert (due.due, due.window_start) == (THURSDAY, THURSDAY)
    second = run_for(team_lead)
    placed = second.items.get(case=case)
    assert placed.outcome == PlanningOutcome.PLACED
    assert placed.appointment.start.date() >= THURSDAY


def test_a_hold_beyond_the_horizon_lists_the_case_with_the_date(rejected, caseworker, team_lead):
    case, item = rejected
    january = dt.date(2027, 1, 15)

    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON, hold_until=january)
    second = run_for(team_lead)

    held = second.items.get(case=case)
    assert held.reason == planning.REASON_HELD
    assert held.detail["hold"]["until"] == "2027-01-15"
    assert planning_hold_text(held.detail["hold"]) == _(
        "held back until %(until)s (rejected on %(date)s by %(person)s: %(reason)s)"
    ) % {
        "until": "15.01.2027",
        "date": "23.11.2026",
        "person": caseworker.get_full_name(),
        "reason": REASON,
    }


@pytest.mark.parametrize("until", [TODAY, TODAY - dt.timedelta(days=3), dt.date(2029, 1, 1)])
def test_a_hold_date_must_lie_ahead_but_not_too_far(rejected, caseworker, until):
    case, item = rejected
    with pytest.raises(ApplicationError) as caught:
        planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON, hold_until=until)
    assert caught.value.status_code == 400
    item.refresh_from_db()
    assert item.decision == "pending"
    assert not ContactAgreement.objects.get(case=case).hold_set_at


def test_changing_the_contact_agreement_lifts_the_hold(rejected, caseworker, team_lead):
    case, item = rejected
    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)

    contact_agreement_update(
        ctx=ui(caseworker),
        case_id=case.pk,
        cadence_days=None,
        window_start_days=0,
        window_end_days=0,
        channels=["in_person"],
        duration_minutes=30,
        purpose="Besprechung",
        next_due=THURSDAY,
    )

    agreement = ContactAgreement.objects.get(case=case)
    assert agreement.hold_set_at is None
    assert agreement.hold_reason == ""
    assert AuditEvent.objects.filter(
        object_type="contact_agreement", action="update", detail__hold_lifted=True
    ).exists()
    assert run_for(team_lead).items.get(case=case).outcome == PlanningOutcome.PLACED


def test_lifting_the_hold(rejected, caseworker, other_caseworker):
    case, item = rejected
    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)
    with pytest.raises(ApplicationError):
        contact_agreement_hold_lift(ctx=ui(other_caseworker), case_id=case.pk)

    contact_agreement_hold_lift(ctx=ui(caseworker), case_id=case.pk)

    assert not ContactAgreement.objects.get(case=case).hold_set_at
    event = AuditEvent.objects.get(
        object_type="contact_agreement", detail__hold_lifted__isnull=False
    )
    assert event.detail["hold_lifted"]["reason"] == REASON
    assert case_next_due(case=case, today=TODAY) is not None
    with pytest.raises(ConflictError):
        contact_agreement_hold_lift(ctx=ui(caseworker), case_id=case.pk)


def test_a_hold_whose_date_has_passed_no_longer_holds(team, caseworker):
    case = CaseFactory(team=team)
    ContactAgreement.objects.create(
        case=case,
        next_due=TUESDAY,
        hold_set_at=NOW - dt.timedelta(days=30),
        hold_until=TODAY,
        hold_set_by=caseworker,
        hold_reason=REASON,
    )
    dues = case_dues_list(case_ids=[case.pk], today=TODAY, until=THURSDAY, include_held=True)
    assert [(d.case_id, d.hold) for d in dues] == [(case.pk, None)]


# --- the pages --------------------------------------------------------------------------------------


def test_the_reject_form_takes_a_date_and_the_case_card_shows_the_hold(
    client, rejected, caseworker
):
    case, item = rejected
    client.force_login(caseworker)
    page = client.get(reverse("scheduling:planning_detail", args=[item.run_id])).content.decode()
    assert f'id="planning-item-hold-{item.pk}"' in page
    assert 'name="hold_until"' in page

    response = client.post(
        reverse("scheduling:planning_item_reject", args=[item.pk]),
        {"reason": REASON, "hold_until": "2027-01-15"},
        **HTMX,
    )

    assert response.status_code == 200
    assert ContactAgreement.objects.get(case=case).hold_until == dt.date(2027, 1, 15)
    card = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert 'id="contact-agreement-hold"' in card
    assert escape(REASON) in card
    assert 'id="contact-agreement-hold-lift"' in card


def test_a_bad_hold_date_rerenders_the_items_with_the_error(client, rejected, caseworker):
    case, item = rejected
    client.force_login(caseworker)
    for value in ("15.13.2027", "2020-01-01"):
        response = client.post(
            reverse("scheduling:planning_item_reject", args=[item.pk]),
            {"reason": REASON, "hold_until": value},
            **HTMX,
        )
        assert response.status_code == 400
        assert 'id="planning-item-error"' in response.content.decode()
    item.refresh_from_db()
    assert item.decision == "pending"


def test_lifting_the_hold_on_the_case_page(client, rejected, caseworker):
    case, item = rejected
    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)
    client.force_login(caseworker)
    url = reverse("scheduling:contact_agreement_hold_lift", args=[case.pk])

    response = client.post(url, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="case-appointments"')
    assert 'id="contact-agreement-hold"' not in html
    assert not ContactAgreement.objects.get(case=case).hold_set_at
    again = client.post(url)  # nothing held any more: a redirect with the message
    assert again.status_code == 303


def test_lifting_is_for_the_case_team_only(
    client, rejected, caseworker, other_caseworker, admin_user
):
    case, item = rejected
    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)
    url = reverse("scheduling:contact_agreement_hold_lift", args=[case.pk])
    for user in (other_caseworker, admin_user):
        client.force_login(user)
        assert client.post(url, **HTMX).status_code == 404
    assert ContactAgreement.objects.get(case=case).hold_set_at is not None


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_rejects_with_a_hold_date_and_lifts_the_hold(rejected, caseworker, team_lead):
    case, item = rejected
    client = token_client(caseworker)
    too_far = client.post(
        f"/api/v1/planning-items/{item.pk}/reject/",
        {"reason": REASON, "hold_until": "2099-01-01"},
        format="json",
    )
    assert too_far.status_code == 400
    assert set(too_far.json()) == {"message", "extra"}

    response = client.post(
        f"/api/v1/planning-items/{item.pk}/reject/",
        {"reason": REASON, "hold_until": "2027-01-15"},
        format="json",
    )
    assert response.status_code == 200
    assert ContactAgreement.objects.get(case=case).hold_until == dt.date(2027, 1, 15)
    held = token_client(team_lead).get(f"/api/v1/planning-runs/{run_for(team_lead).pk}/")
    item_json = next(i for i in held.json()["items"] if i["case_id"] == case.pk)
    assert item_json["reason"] == "held"
    assert item_json["hold"]["until"] == "2027-01-15"
    assert REASON in item_json["reason_text"]

    lift = f"/api/v1/cases/{case.pk}/contact-agreement/hold/lift/"
    lifted = client.post(lift)
    assert lifted.status_code == 200
    assert lifted.json()["held"] is False
    assert client.post(lift).status_code == 409


def test_the_lift_api_is_for_the_case_team_only(rejected, caseworker, other_caseworker, admin_user):
    case, item = rejected
    planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason=REASON)
    lift = f"/api/v1/cases/{case.pk}/contact-agreement/hold/lift/"
    assert token_client(other_caseworker).post(lift).status_code == 404
    assert token_client(admin_user).post(lift).status_code == 403
    assert ContactAgreement.objects.get(case=case).hold_set_at is not None
