"""Planning runs against the database: input from real calendars, the proposal, the decisions."""

import datetime as dt

import pytest
import time_machine

from audit.models import AuditEvent
from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role
from scheduling import planning, services_planning
from scheduling.models import (
    Absence,
    Appointment,
    AppointmentStatus,
    BusyTime,
    ContactAgreement,
    PlanningDecision,
    PlanningOutcome,
    PlanningRun,
    PlanningRunItem,
    PlanningRunStatus,
    PlanningTrigger,
)
from scheduling.services_planning import (
    PlanningPermissionError,
    planning_item_approve,
    planning_item_get_for_user,
    planning_item_reject,
    planning_reason_label,
    planning_run_approve,
    planning_run_discard,
    planning_run_execute,
    planning_run_get_for_user,
    planning_run_list_for_user,
    planning_run_start,
    planning_runs_start_periodic,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import (
    TODAY,
    calendar_for,
    due_case,
    local,
    make_appointment,
    make_group_session,
    make_staff,
    planning_settings,
)

TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)


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


def placed(run: PlanningRun) -> dict[int, Appointment]:
    return {
        item.case_id: item.appointment
        for item in run.items.select_related("appointment")
        if item.outcome == PlanningOutcome.PLACED
    }


def item_of(run: PlanningRun, case) -> PlanningRunItem:
    return run.items.get(case=case)


# --- the input: calendars, busy times, absences, appointments, caps -----------------------------------


def test_run_respects_working_hours_busy_times_absences_and_existing_appointments(team, team_lead):
    anna = make_staff(team, "anna")
    BusyTime.objects.create(
        user=anna, start=local(24, 8), end=local(24, 10), source="upload", synced_at=NOW
    )
    Absence.objects.create(user=anna, start=local(25, 0), end=local(26, 0), kind="vacation")
    make_appointment(CaseFactory(team=team), anna, local(24, 10))
    tuesday = [due_case(team, due=TUESDAY) for _ in range(4)]
    wednesday = due_case(team, due=WEDNESDAY)

    run = run_for(team_lead)

    assert run.status == PlanningRunStatus.PROPOSED
    starts = sorted(a.start for a in placed(run).values())
    # Free on Tuesday: 10:30, 11:00, 11:30 (08-10 busy, 10:00 booked, work ends at 12).
    assert starts == [local(24, 10, 30), local(24, 11), local(24, 11, 30)]
    assert all(
        a.staff_id == anna.pk and a.status == AppointmentStatus.PLANNED
        for a in placed(run).values()
    )
    unplaced = [item_of(run, c) for c in tuesday if c.pk not in placed(run)]
    assert [u.reason for u in unplaced] == [planning.REASON_CAPACITY_EXHAUSTED]
    assert item_of(run, wednesday).outcome == PlanningOutcome.UNPLACED
    assert item_of(run, wednesday).reason == planning.REASON_NO_SLOT_IN_WINDOW
    assert run.due_count == 5
    assert run.placed_count == 3
    assert run.unplaced_count == 2
    assert run.bound == 3
    assert run.metrics["over_capacity"] == 0


def test_existing_appointments_count_against_the_daily_cap(team, team_lead):
    anna = make_staff(team, "anna", daily_cap=2)
    make_appointment(CaseFactory(team=team), anna, local(24, 8))
    cases = [due_case(team, due=TUESDAY) for _ in range(3)]

    run = run_for(team_lead)

    assert len(placed(run)) == 1  # cap 2, one already booked
    assert {item_of(run, c).reason for c in cases if c.pk not in placed(run)} == {
        planning.REASON_CAPACITY_EXHAUSTED
    }


def test_walk_in_reserve_keeps_the_end_of_the_day_free(team, team_lead):
    make_staff(team, "anna", walk_in_reserve_minutes=60)
    for _ in range(8):
        due_case(team, due=TUESDAY)

    run = run_for(team_lead)

    starts = sorted(a.start for a in placed(run).values())
    assert len(starts) == 6  # 08:00-11:00 in half hours; 11:00-12:00 kept for walk-ins
    assert starts[-1] == local(24, 10, 30)


def test_a_long_due_gets_a_slot_of_its_length_on_the_grid(team, team_lead):
    make_staff(team, "anna")
    long_case = due_case(team, due=TUESDAY, duration=60)
    short_cases = [due_case(team, due=TUESDAY) for _ in range(6)]

    run = run_for(team_lead)

    appointment = placed(run)[long_case.pk]
    assert appointment.end - appointment.start == dt.timedelta(minutes=60)
    assert appointment.start.minute in (0, 30)
    # 4 hours: one hour for the long one, six half hours for the others; nothing overlaps.
    assert all(c.pk in placed(run) for c in short_cases)
    intervals = sorted((a.start, a.end) for a in placed(run).values())
    assert all(a[1] <= b[0] for a, b in zip(intervals, intervals[1:], strict=False))
    assert run.metrics["passes"] == [60, 30]


def test_channels_must_match(team, team_lead):
    make_staff(team, "anna", channels=["phone"])
    video = due_case(team, due=TUESDAY, channels=("video",))
    phone = due_case(team, due=TUESDAY, channels=("video", "phone"))

    run = run_for(team_lead)

    assert item_of(run, video).reason == planning.REASON_NO_CHANNEL_MATCH
    assert placed(run)[phone.pk].channel == "phone"
    assert placed(run)[phone.pk].location == ""  # a call has no place


def test_potential_customers_go_to_their_own_caseworker(team, team_lead):
    anna = make_staff(team, "anna")
    bert = make_staff(team, "bert")
    carl = make_staff(team, "carl")
    Absence.objects.create(user=carl, start=local(24, 0), end=local(29, 0), kind="sick")
    own = [
        due_case(team, due=TUESDAY, caseworker=bert, group="potential", window=(0, 3))
        for _ in range(3)
    ]
    absent_own = due_case(team, due=TUESDAY, caseworker=carl, group="potential")
    others = [due_case(team, due=TUESDAY, caseworker=bert) for _ in range(3)]

    run = run_for(team_lead)

    assert all(placed(run)[c.pk].staff_id == bert.pk for c in own)
    assert all(item_of(run, c).reason == "" for c in own)
    assert placed(run)[absent_own.pk].staff_id == anna.pk
    assert item_of(run, absent_own).reason == planning.FALLBACK_OWN_UNAVAILABLE
    # market_near customers have no fixed caseworker: spread over the team.
    assert {placed(run)[c.pk].staff_id for c in others} <= {anna.pk, bert.pk}
    assert run.metrics["own_caseworker_share"] == 1.0


def test_administrative_dues_fill_a_group_session_up_to_its_capacity(team, team_lead):
    anna = make_staff(team, "anna")
    session = make_group_session(team, anna, local(24, 9), capacity=3)
    make_appointment(CaseFactory(team=team), anna, session.start, minutes=90, group_session=session)
    cases = [due_case(team, due=TUESDAY, group="administrative") for _ in range(4)]

    run = run_for(team_lead)

    in_session = [c for c in cases if placed(run)[c.pk].group_session_id == session.pk]
    assert len(in_session) == 2  # three places, one taken
    for case in in_session:
        appointment = placed(run)[case.pk]
        assert (appointment.start, appointment.end) == (session.start, session.end)
        assert appointment.location == "Raum 0.01"
    assert session.appointments.filter(status__in=["planned", "approved"]).count() == 3
    individual = [placed(run)[c.pk] for c in cases if c not in in_session]
    # The session holds anna's time 09:00-10:30: the individual ones are outside it.
    assert all(a.end <= session.start or a.start >= session.end for a in individual)


def test_market_near_customers_do_not_go_into_group_sessions(team, team_lead):
    anna = make_staff(team, "anna", channels=["phone"])
    make_group_session(team, anna, local(24, 9), capacity=3)
    case = due_case(team, due=TUESDAY, group="market_near", channels=("in_person",))

    run = run_for(team_lead)

    assert item_of(run, case).outcome == PlanningOutcome.UNPLACED


def test_cadence_from_the_agreement_or_else_the_group(team, team_lead, caseworker):
    anna = make_staff(team, "anna")
    own_cadence = CaseFactory(team=team, customer_group="market_near")
    ContactAgreement.objects.create(case=own_cadence, cadence_days=7)
    group_cadence = CaseFactory(team=team, customer_group="potential")  # 28 days
    later = CaseFactory(team=team, customer_group="potential")
    make_appointment(own_cadence, anna, local(19, 9), status=AppointmentStatus.ATTENDED)
    make_appointment(
        group_cadence,
        anna,
        dt.datetime(2026, 10, 29, 9, tzinfo=dt.UTC),
        status=AppointmentStatus.ATTENDED,
    )
    make_appointment(later, anna, local(19, 10), status=AppointmentStatus.ATTENDED)

    run = run_for(team_lead)

    assert item_of(run, own_cadence).due_date == dt.date(2026, 11, 26)  # 19 + 7
    assert item_of(run, group_cadence).due_date == dt.date(2026, 11, 26)  # 29.10. + 28
    assert not run.items.filter(case=later).exists()  # due 17.12., beyond the horizon


# --- determinism, idempotence, failures ------------------------------------------------------------


def test_same_input_gives_the_same_fingerprint_and_placements(team, team_lead):
    make_staff(team, "anna")
    make_staff(team, "bert")
    for day in (TUESDAY, WEDNESDAY):
        for _ in range(5):
            due_case(team, due=day, window=(-1, 1))

    first = run_for(team_lead)
    first_plan = {c: (a.staff_id, a.start) for c, a in placed(first).items()}
    planning_run_discard(ctx=ui(team_lead), run_id=first.pk)
    second = run_for(team_lead)

    assert second.fingerprint == first.fingerprint
    assert {c: (a.staff_id, a.start) for c, a in placed(second).items()} == first_plan
    assert second.objective == first.objective


def test_executing_a_finished_run_changes_nothing(team, team_lead):
    make_staff(team, "anna")
    due_case(team, due=TUESDAY)
    run = run_for(team_lead)

    again = planning_run_execute(run_id=run.pk)

    assert again.status == PlanningRunStatus.PROPOSED
    assert Appointment.objects.count() == 1
    assert PlanningRunItem.objects.count() == 1


def test_an_error_fails_the_run_and_writes_nothing(team, team_lead, monkeypatch):
    make_staff(team, "anna")
    due_case(team, due=TUESDAY)

    def broken(*args, **kwargs):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(PlanningRunItem.objects, "bulk_create", broken)
    run = planning_run_start(ctx=ui(team_lead), team_id=team.pk)

    run = planning_run_execute(run_id=run.pk)

    assert run.status == PlanningRunStatus.FAILED
    assert "kaputt" in run.error
    assert Appointment.objects.count() == 0  # the appointments written before were rolled back
    assert PlanningRunItem.objects.count() == 0


def test_a_slot_taken_while_the_plan_is_saved_becomes_unplaced(team, team_lead, monkeypatch):
    anna = make_staff(
        team, "anna", working_hours=[{"weekday": 1, "start": "08:00", "end": "08:30"}]
    )
    case = due_case(team, due=TUESDAY)
    solve = services_planning.planning_solve

    def solve_then_book(data):
        outcome = solve(data)
        make_appointment(CaseFactory(team=team), anna, local(24, 8))  # someone was faster
        return outcome

    monkeypatch.setattr(services_planning, "planning_solve", solve_then_book)

    run = run_for(team_lead)

    assert item_of(run, case).outcome == PlanningOutcome.UNPLACED
    assert item_of(run, case).reason == planning.REASON_SLOT_TAKEN
    assert run.metrics["slot_taken"] == 1
    assert Appointment.objects.filter(planning_run=run).count() == 0


def test_every_reason_code_has_a_german_text():
    codes = [
        planning.REASON_INVALID_WINDOW,
        planning.REASON_NO_SLOT_IN_WINDOW,
        planning.REASON_NO_CHANNEL_MATCH,
        planning.REASON_NO_SLOT_LONG_ENOUGH,
        planning.REASON_CAPACITY_EXHAUSTED,
        planning.FALLBACK_OWN_FULL,
        planning.FALLBACK_OWN_UNAVAILABLE,
        planning.REASON_SLOT_TAKEN,
    ]
    labels = [planning_reason_label(code) for code in codes]
    assert all(label != code for label, code in zip(labels, codes, strict=True))
    assert len(set(labels)) == len(codes)
    assert planning_reason_label("unknown_code") == "unknown_code"


# --- starting: rights, superseding, races -------------------------------------------------------------


def test_start_writes_the_run_and_its_audit_row(team, team_lead):
    run = planning_run_start(ctx=ui(team_lead), team_id=team.pk)

    assert run.status == PlanningRunStatus.RUNNING
    assert run.requested_by == team_lead
    assert (run.horizon_start, run.horizon_end) == (TUESDAY, TODAY + dt.timedelta(days=5))
    assert run.weights["own_caseworker"] == 300
    assert AuditEvent.objects.filter(
        object_type="planning_run", object_id=str(run.pk), action="create", actor=team_lead
    ).exists()


def test_only_the_team_lead_of_the_team_starts_a_run(team, caseworker, other_team):
    from tests.organisation.factories import UserFactory

    other_lead = UserFactory(username="lead2", role=Role.TEAM_LEAD, team=other_team)
    with pytest.raises(PlanningPermissionError) as caught:
        planning_run_start(ctx=ui(caseworker), team_id=team.pk)
    assert caught.value.status_code == 403
    with pytest.raises(PlanningPermissionError):
        planning_run_start(ctx=ui(other_lead), team_id=team.pk)
    with pytest.raises(PlanningPermissionError):
        planning_run_start(ctx=AuditContext.system(), team_id=team.pk)
    assert not PlanningRun.objects.exists()


def test_a_running_run_blocks_a_second_start(team, team_lead):
    planning_run_start(ctx=ui(team_lead), team_id=team.pk)
    with pytest.raises(ConflictError):
        planning_run_start(ctx=ui(team_lead), team_id=team.pk)
    assert PlanningRun.objects.count() == 1


def test_a_new_run_supersedes_the_proposed_one(team, team_lead, caseworker):
    make_staff(team, "anna")
    kept, dropped = due_case(team, due=TUESDAY), due_case(team, due=TUESDAY)
    first = run_for(team_lead)
    planning_item_approve(ctx=ui(caseworker), item_id=item_of(first, kept).pk)
    dropped_appointment = placed(first)[dropped.pk]

    second = run_for(team_lead)

    first.refresh_from_db()
    assert first.status == PlanningRunStatus.SUPERSEDED
    # Never approved, never sent: withdrawn (deleted), not "cancelled"; the item keeps it.
    assert not Appointment.objects.filter(pk=dropped_appointment.pk).exists()
    dropped_item = item_of(first, dropped)
    assert dropped_item.decision == PlanningDecision.PENDING  # decisions stay
    assert dropped_item.appointment is None
    assert (dropped_item.proposed_start, dropped_item.proposed_staff_id) == (
        dropped_appointment.start,
        dropped_appointment.staff_id,
    )
    assert item_of(first, kept).appointment.status == AppointmentStatus.APPROVED
    # The approved one is an appointment ahead: the new run plans only the other case.
    assert set(second.items.values_list("case_id", flat=True)) == {dropped.pk}
    assert AuditEvent.objects.filter(
        object_type="appointment",
        object_id=str(dropped_appointment.pk),
        action="delete",
        detail__why="planning_run_superseded",
    ).exists()


def test_periodic_start_opens_one_run_per_team_with_staff(team, other_team, team_lead):
    make_staff(team, "anna")
    make_staff(other_team, "zora")
    open_run = planning_run_start(ctx=ui(team_lead), team_id=team.pk)

    ids = planning_runs_start_periodic()

    runs = PlanningRun.objects.filter(pk__in=ids)
    assert [run.team_id for run in runs] == [other_team.pk]  # team has an open run
    assert runs[0].trigger == PlanningTrigger.PERIODIC
    assert runs[0].requested_by is None
    assert open_run.pk not in ids


def test_periodic_start_can_be_switched_off(team):
    make_staff(team, "anna")
    planning_settings(periodic_enabled=False)
    assert planning_runs_start_periodic() == []


def test_the_periodic_task_executes_the_runs(team):
    from scheduling.tasks import scheduling_planning_runs_periodic

    make_staff(team, "anna")
    due_case(team, due=TUESDAY)

    assert scheduling_planning_runs_periodic() == 1  # Celery runs eagerly in the tests

    run = PlanningRun.objects.get()
    assert run.status == PlanningRunStatus.PROPOSED
    assert run.placed_count == 1


# --- decisions ---------------------------------------------------------------------------------------


@pytest.fixture
def proposed(team, team_lead):
    calendar_for(team_lead)
    make_staff(team, "anna")
    cases = [due_case(team, due=TUESDAY) for _ in range(3)]
    return run_for(team_lead), cases


def test_approving_a_run_approves_every_pending_invitation_and_sends_after_commit(
    proposed, team_lead, monkeypatch, django_capture_on_commit_callbacks
):
    from scheduling import tasks

    run, cases = proposed
    ContactAgreement.objects.filter(case=cases[0]).update(next_due=TUESDAY)
    sent = []
    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", sent.extend)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()

    appointments = list(Appointment.objects.filter(planning_run=run))
    assert sorted(sent) == sorted(a.pk for a in appointments)
    assert len(sent) == 3
    assert all(a.status == AppointmentStatus.APPROVED for a in appointments)
    assert all(a.approved_by == team_lead and a.approved_at == NOW for a in appointments)
    assert run.status == PlanningRunStatus.APPROVED
    assert run.approved_by == team_lead
    assert set(run.items.values_list("decision", flat=True)) == {PlanningDecision.APPROVED}
    assert ContactAgreement.objects.get(case=cases[0]).next_due is None
    assert (
        AuditEvent.objects.filter(
            object_type="appointment", detail__status="approved", actor=team_lead
        ).count()
        == 3
    )
    assert AuditEvent.objects.filter(
        object_type="planning_run", object_id=str(run.pk), detail__status="approved"
    ).exists()


def test_an_approved_run_reaches_the_customers_through_the_real_worker(
    proposed, team_lead, mailoutbox, django_capture_on_commit_callbacks
):
    """No stand-in: approval → the eager Celery task → invitation_send → letter (and e-mail with
    the ICS invitation where there is an address) recorded, status sent."""
    from scheduling.models import InvitationDelivery, Reminder

    run, cases = proposed
    cases[0].customer.email = "kundin@example.org"
    cases[0].customer.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        planning_run_approve(ctx=ui(team_lead), run_id=run.pk)

    appointments = list(Appointment.objects.filter(planning_run=run).order_by("case_id"))
    assert {a.status for a in appointments} == {AppointmentStatus.SENT}
    channels = sorted(
        InvitationDelivery.objects.filter(appointment__in=appointments).values_list(
            "channel", flat=True
        )
    )
    assert channels == ["email", "letter", "letter", "letter"]
    assert [message.to for message in mailoutbox] == [["kundin@example.org"]]
    ics = [a for a in mailoutbox[0].attachments if a[0].endswith(".ics")][0][1]
    assert "METHOD:REQUEST" in (ics if isinstance(ics, str) else ics.decode())
    # Tuesday 08:00 is closer than the 48 hours of the e-mail reminder: the invitation itself is
    # the reminder, none is scheduled in the past.
    assert not Reminder.objects.filter(appointment__case=cases[0]).exists()


def test_approving_twice_is_a_conflict(proposed, team_lead, monkeypatch):
    from scheduling import tasks

    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", lambda _ids: None)
    run, _cases = proposed
    planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    with pytest.raises(ConflictError) as caught:
        planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    assert caught.value.status_code == 409


def test_caseworker_approves_a_single_invitation_but_not_the_run(
    proposed, caseworker, monkeypatch, django_capture_on_commit_callbacks
):
    from scheduling import tasks

    run, cases = proposed
    sent = []
    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", sent.extend)
    with pytest.raises(PlanningPermissionError):
        planning_run_approve(ctx=ui(caseworker), run_id=run.pk)
    with pytest.raises(PlanningPermissionError):
        planning_run_discard(ctx=ui(caseworker), run_id=run.pk)

    item = item_of(run, cases[0])
    with django_capture_on_commit_callbacks(execute=True):
        item = planning_item_approve(ctx=ui(caseworker), item_id=item.pk)

    assert item.decision == PlanningDecision.APPROVED
    assert item.decided_by == caseworker
    assert item.appointment.status == AppointmentStatus.APPROVED
    assert sent == [item.appointment_id]
    run.refresh_from_db()
    assert run.status == PlanningRunStatus.PROPOSED
    with pytest.raises(ConflictError):
        planning_item_approve(ctx=ui(caseworker), item_id=item.pk)


def test_another_teams_caseworker_decides_nothing(proposed, other_caseworker):
    run, cases = proposed
    with pytest.raises(PlanningPermissionError):
        planning_item_approve(ctx=ui(other_caseworker), item_id=item_of(run, cases[0]).pk)


def test_rejecting_needs_a_reason_and_withdraws_the_proposal(proposed, caseworker):
    run, cases = proposed
    item = item_of(run, cases[0])
    with pytest.raises(ApplicationError) as caught:
        planning_item_reject(ctx=ui(caseworker), item_id=item.pk, reason="  ")
    assert str(caught.value.message) == "Bitte geben Sie einen Grund für die Ablehnung an."

    item = planning_item_reject(
        ctx=ui(caseworker), item_id=item.pk, reason="Kunde ist im Krankenhaus"
    )

    assert item.decision == PlanningDecision.REJECTED
    assert item.decided_by == caseworker
    assert item.appointment is None  # withdrawn: the customer never heard of it
    assert item.proposed_start is not None
    assert not Appointment.objects.filter(case=cases[0]).exists()
    event = AuditEvent.objects.get(object_type="appointment", detail__planning_item_id=item.pk)
    assert event.action == "delete"
    assert event.detail["rejected"] == "Kunde ist im Krankenhaus"
    assert event.customer_id == cases[0].customer_id


def test_discarding_withdraws_pending_proposals_only(proposed, team_lead, caseworker):
    run, cases = proposed
    approved = planning_item_approve(ctx=ui(caseworker), item_id=item_of(run, cases[0]).pk)

    run = planning_run_discard(ctx=ui(team_lead), run_id=run.pk)

    assert run.status == PlanningRunStatus.DISCARDED
    assert run.discarded_by == team_lead
    statuses = dict(Appointment.objects.filter(planning_run=run).values_list("case_id", "status"))
    assert statuses == {cases[0].pk: AppointmentStatus.APPROVED}  # the others are withdrawn
    assert (
        AuditEvent.objects.filter(
            object_type="appointment", action="delete", detail__why="planning_run_discarded"
        ).count()
        == 2
    )
    assert all(item.proposed_start for item in run.items.all())
    assert approved.appointment.status == AppointmentStatus.APPROVED
    with pytest.raises(ConflictError):
        planning_item_approve(ctx=ui(caseworker), item_id=item_of(run, cases[1]).pk)


def test_the_planner_appointments_are_audited_per_customer(proposed):
    run, cases = proposed
    events = AuditEvent.objects.filter(object_type="appointment", detail__planning_run_id=run.pk)
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(
        c.customer_id for c in cases
    )


# --- who sees runs -------------------------------------------------------------------------------------


def test_runs_are_visible_to_the_own_team_only(
    proposed, caseworker, team_lead, other_caseworker, admin_user
):
    from django.http import Http404

    run, cases = proposed
    assert list(planning_run_list_for_user(user=caseworker)) == [run]
    assert planning_run_get_for_user(user=team_lead, run_id=run.pk) == run
    assert not planning_run_list_for_user(user=other_caseworker).exists()
    assert not planning_run_list_for_user(user=admin_user).exists()
    for user in (other_caseworker, admin_user):
        with pytest.raises(Http404):
            planning_run_get_for_user(user=user, run_id=run.pk)
        with pytest.raises(Http404):
            planning_item_get_for_user(user=user, item_id=item_of(run, cases[0]).pk)


def test_the_reason_says_when_only_part_of_the_window_lay_in_the_run(team, team_lead):
    """A due inside the horizon whose window reaches beyond it: only the part inside was searched
    (acceptance run 5 said "nobody has free time inside the window")."""
    from django.utils.translation import gettext as _

    from scheduling.services_planning import planning_item_reason_text

    make_staff(team, "anna", working_hours=[])  # nobody works
    case = due_case(team, due=dt.date(2026, 11, 27), window=(0, 5))

    run = run_for(team_lead)

    item = item_of(run, case)
    assert item.window_end > run.horizon_end
    assert item.reason == planning.REASON_NO_SLOT_IN_WINDOW
    assert planning_item_reason_text(item, run) == " ".join(
        [
            planning_reason_label(planning.REASON_NO_SLOT_IN_WINDOW),
            _(
                "Only the part of the window up to %(end)s lies in this run; the next run looks "
                "at the rest."
            )
            % {"end": "28.11.2026"},
        ]
    )
    inside = due_case(team, due=TUESDAY)
    item = item_of(run_for(team_lead), inside)
    assert planning_item_reason_text(item) == planning_reason_label(item.reason)


def test_a_locked_sqlite_database_is_the_conflict_of_a_second_start(team, team_lead, monkeypatch):
    """Three parallel starts on SQLite gave HTML 500 "database is locked"; PostgreSQL queues them
    on the team row and answers the second with 409. Both answer 409 now."""
    from django.db import OperationalError, connection

    from scheduling.services_planning import planning_run_request

    def locked(**_kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services_planning, "planning_run_start", locked)
    if connection.vendor == "sqlite":
        with pytest.raises(ConflictError) as caught:
            planning_run_request(ctx=ui(team_lead), team_id=team.pk)
        assert caught.value.status_code == 409
    else:  # not SQLite's waiting: a real database error stays one
        with pytest.raises(OperationalError):
            planning_run_request(ctx=ui(team_lead), team_id=team.pk)
