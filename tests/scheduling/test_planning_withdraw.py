"""Proposals no person approved and no customer heard of disappear when their run is superseded
or discarded (never "cancelled": that would say the customer was told); the run keeps them."""

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    InvitationDelivery,
    PlanningRun,
    PlanningRunItem,
)
from scheduling.selectors import staff_feed_events
from scheduling.services_group_sessions import group_session_free_places
from scheduling.services_planning import (
    planning_run_discard,
    planning_run_execute,
    planning_run_start,
)
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import (
    due_case,
    local,
    make_group_session,
    make_staff,
    planning_settings,
)

TUESDAY = dt.date(2026, 11, 24)


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


def test_three_runs_leave_one_proposal_per_case_and_nothing_cancelled(team, team_lead):
    """Acceptance: case 64 showed 4 "abgesagt" rows, session 1 listed each participant three
    times, the staff feed had 111 CANCELLED events."""
    anna = make_staff(team, "anna")
    session = make_group_session(team, anna, local(24, 9), capacity=3)
    individual = due_case(team, due=TUESDAY)
    participants = [due_case(team, due=TUESDAY, group="administrative") for _ in range(2)]

    for _round in range(3):
        run = run_for(team_lead)

    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()
    assert Appointment.objects.filter(case=individual).count() == 1
    assert session.appointments.count() == 2  # one place each, not three
    assert group_session_free_places(session) == 1
    assert {c.pk for c in participants} == set(session.appointments.values_list("case", flat=True))
    feed = staff_feed_events(user=anna)
    assert [e["status"] for e in feed if e["status"] == "CANCELLED"] == []
    # Earlier runs keep their proposals on the record.
    superseded = PlanningRun.objects.exclude(pk=run.pk)
    kept = PlanningRunItem.objects.filter(run__in=superseded, outcome="placed")
    assert kept.count() == 6
    assert all(item.proposed_start and item.appointment_id is None for item in kept)


def test_discarding_frees_the_group_places_and_keeps_the_run_figures(team, team_lead):
    anna = make_staff(team, "anna")
    session = make_group_session(team, anna, local(24, 9), capacity=3)
    cases = [due_case(team, due=TUESDAY, group="administrative") for _ in range(2)]
    run = run_for(team_lead)
    assert group_session_free_places(session) == 1

    run = planning_run_discard(ctx=ui(team_lead), run_id=run.pk)

    assert group_session_free_places(session) == 3
    assert not Appointment.objects.filter(case__in=cases).exists()
    assert (run.placed_count, run.due_count) == (2, 2)
    items = list(run.items.all())
    assert {item.proposed_group_session_id for item in items} == {session.pk}
    assert AuditEvent.objects.filter(
        object_type="planning_run", detail__status="discarded", detail__withdrawn=2
    ).exists()


def test_the_migration_withdraws_earlier_cancelled_proposals_that_were_never_sent(team, team_lead):
    """Data written by the earlier version: superseded proposals set to cancelled."""
    from tests.scheduling.test_invitations import german_v1_install

    german_v1_install()
    make_staff(team, "anna")
    never_sent, sent_then_cancelled = due_case(team, due=TUESDAY), due_case(team, due=TUESDAY)
    run = run_for(team_lead)
    proposals = {a.case_id: a for a in Appointment.objects.filter(planning_run=run)}
    Appointment.objects.filter(pk=proposals[never_sent.pk].pk).update(status="cancelled")
    sent = proposals[sent_then_cancelled.pk]
    Appointment.objects.filter(pk=sent.pk).update(status="cancelled", approved_at=NOW)
    InvitationDelivery.objects.create(
        appointment=sent,
        channel="letter",
        template_id=apps.get_model("scheduling", "InvitationTemplate").objects.first().pk,
        sent_at=NOW,
        recipient="Musterweg 1",
        status="sent",
    )
    PlanningRunItem.objects.filter(run=run).update(proposed_start=None, proposed_staff=None)

    migration = importlib.import_module("scheduling.migrations.0010_planning_holds")
    migration._withdraw_never_sent_proposals(apps, None)

    assert not Appointment.objects.filter(pk=proposals[never_sent.pk].pk).exists()
    assert Appointment.objects.filter(pk=sent.pk, status="cancelled").exists()  # told: stays
    item = PlanningRunItem.objects.get(run=run, case=never_sent)
    assert item.appointment_id is None
    assert item.proposed_start == proposals[never_sent.pk].start
    assert item.proposed_staff_id == proposals[never_sent.pk].staff_id
    assert AuditEvent.objects.filter(
        object_type="appointment",
        object_id=str(proposals[never_sent.pk].pk),
        action="delete",
        detail__why="never_sent_proposal_withdrawn",
    ).exists()
