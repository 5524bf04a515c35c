"""The contact agreement service: clear German refusals, nothing saved on error, audit, timeline."""

import datetime as dt

import pytest
import time_machine

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent
from jobcenter.exceptions import ApplicationError
from scheduling.models import ContactAgreement
from scheduling.selectors import case_next_due, contact_agreement_effective
from scheduling.services_agreements import contact_agreement_update
from tests.scheduling.conftest import NOW

VALID = {
    "cadence_days": 14,
    "window_start_days": -2,
    "window_end_days": 3,
    "channels": ["phone", "in_person"],
    "duration_minutes": 45,
    "purpose": "Besprechung Ihrer Bewerbungen",
}


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def update(user, case, **changes):
    return contact_agreement_update(
        ctx=AuditContext.system(user), case_id=case.pk, **{**VALID, **changes}
    )


def test_saves_the_agreement_with_audit_and_timeline(caseworker, case, at_now):
    agreement = update(caseworker, case, agreed_with_customer=True)
    agreement.refresh_from_db()
    assert (agreement.cadence_days, agreement.window_start_days, agreement.window_end_days) == (
        14,
        -2,
        3,
    )
    assert agreement.channels == ["phone", "in_person"]
    assert agreement.agreed_with_customer_at == NOW
    assert agreement.updated_by == caseworker
    event = AuditEvent.objects.get(object_type="contact_agreement")
    assert event.action == "create"
    assert event.customer_id == case.customer_id
    assert event.detail["changed"]["cadence_days"] == {"from": None, "to": 14}
    assert event.detail["agreed_with_customer"] is True
    timeline = CaseEvent.objects.get(case=case)
    assert timeline.kind == CaseEvent.Kind.CONTACT
    assert timeline.actor == caseworker


def test_a_change_records_only_the_changed_fields(caseworker, case, at_now):
    update(caseworker, case)
    update(caseworker, case, cadence_days=None, window_end_days=5)
    event = AuditEvent.objects.filter(object_type="contact_agreement").latest("id")
    assert event.action == "update"
    assert event.detail["changed"] == {
        "cadence_days": {"from": 14, "to": None},
        "window_end_days": {"from": 3, "to": 5},
    }
    assert ContactAgreement.objects.get(case=case).cadence_days is None


def test_saving_the_same_values_again_writes_nothing(caseworker, case, at_now):
    update(caseworker, case)
    update(caseworker, case)
    assert AuditEvent.objects.filter(object_type="contact_agreement").count() == 1
    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("cadence", [0, -7])
def test_a_cadence_of_zero_or_less_is_refused_in_german_and_nothing_is_saved(
    caseworker, case, cadence, at_now
):
    with pytest.raises(ApplicationError) as refused:
        update(caseworker, case, cadence_days=cadence)
    assert refused.value.message == "Der Rhythmus muss mindestens einen Tag betragen."
    assert refused.value.extra["fields"] == {
        "cadence_days": ["Der Rhythmus muss mindestens einen Tag betragen."]
    }
    assert not ContactAgreement.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(object_type="contact_agreement").exists()
    assert not CaseEvent.objects.filter(case=case).exists()


def test_a_window_that_ends_before_it_starts_is_refused_and_the_old_agreement_kept(
    caseworker, case, at_now
):
    update(caseworker, case)
    with pytest.raises(ApplicationError) as refused:
        update(caseworker, case, window_start_days=2, window_end_days=-1, cadence_days=30)
    assert refused.value.message == "Das Zeitfenster endet, bevor es beginnt."
    assert set(refused.value.extra["fields"]) == {"window_end_days"}
    agreement = ContactAgreement.objects.get(case=case)
    assert (agreement.cadence_days, agreement.window_start_days) == (14, -2)
    assert AuditEvent.objects.filter(object_type="contact_agreement").count() == 1


def test_several_broken_rules_are_reported_per_field(caseworker, case, at_now):
    with pytest.raises(ApplicationError) as refused:
        update(
            caseworker,
            case,
            cadence_days=0,
            channels=["phone", "fax"],
            duration_minutes=5,
            window_start_days=-40,
            purpose="x" * 301,
            next_due=dt.date(2026, 11, 1),
        )
    assert set(refused.value.extra["fields"]) == {
        "cadence_days",
        "channels",
        "duration_minutes",
        "window_start_days",
        "purpose",
        "next_due",
    }
    assert "fax" in refused.value.extra["fields"]["channels"][0]
    assert not ContactAgreement.objects.filter(case=case).exists()


@pytest.mark.parametrize("minutes", [14, 241])
def test_a_length_out_of_range_is_refused(caseworker, case, minutes, at_now):
    with pytest.raises(ApplicationError) as refused:
        update(caseworker, case, duration_minutes=minutes)
    assert set(refused.value.extra["fields"]) == {"duration_minutes"}


def test_staff_of_another_team_and_the_planner_may_not_change_it(other_caseworker, case, at_now):
    with pytest.raises(ApplicationError):
        update(other_caseworker, case)
    with pytest.raises(ApplicationError):
        contact_agreement_update(ctx=AuditContext.system(), case_id=case.pk, **VALID)
    assert not ContactAgreement.objects.filter(case=case).exists()


def test_team_lead_may_change_it(team_lead, case, at_now):
    assert update(team_lead, case).updated_by == team_lead


def test_the_agreement_is_what_the_planner_and_the_card_read(caseworker, case, at_now):
    update(caseworker, case, next_due=dt.date(2026, 12, 2))
    effective = contact_agreement_effective(case=case)
    assert (effective.cadence_days, effective.cadence_from_group) == (14, False)
    assert effective.channels == ("phone", "in_person")
    due = case_next_due(case=case)
    assert due.due == dt.date(2026, 12, 2)
    assert (due.window_start, due.window_end) == (dt.date(2026, 11, 30), dt.date(2026, 12, 7))


@pytest.mark.parametrize("next_due", [dt.date(9999, 12, 31), dt.date(2028, 11, 24)])
def test_a_next_due_date_too_far_ahead_is_refused(caseworker, case, at_now, next_due):
    with pytest.raises(ApplicationError) as caught:
        update(caseworker, case, next_due=next_due)
    assert list(caught.value.extra["fields"]) == ["next_due"]
    assert not ContactAgreement.objects.filter(case=case).exists()
    update(caseworker, case, next_due=dt.date(2028, 11, 22))  # two years ahead is fine
