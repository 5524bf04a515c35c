"""Approving planned invitations re-checks them against the calendar as it is now, and the sending
goes to the workers in batches after the commit (with progress on the run page)."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.services import AuditContext
from scheduling import services_planning, tasks, views_planning
from scheduling.models import (
    Absence,
    Appointment,
    AppointmentStatus,
    BusyTime,
    InvitationDelivery,
    PlanningDecision,
    PlanningRun,
    PlanningRunStatus,
    StaffCalendar,
)
from scheduling.services_planning import (
    ProposalConflictError,
    planning_item_approve,
    planning_item_reason_text,
    planning_run_approve,
    planning_run_execute,
    planning_run_sending,
    planning_run_start,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_planning import (
    due_case,
    local,
    make_appointment,
    make_group_session,
    make_staff,
    planning_settings,
)

TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def at_now(db):
    with time_machine.travel(NOW, tick=False) as traveller:
        planning_settings()
        yield traveller


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel="ui")


@pytest.fixture
def anna(team):
    return make_staff(team, "anna")


def run_for(team_lead) -> PlanningRun:
    run = planning_run_start(ctx=ui(team_lead), team_id=team_lead.team_id)
    return planning_run_execute(run_id=run.pk)


@pytest.fixture
def sent(monkeypatch):
    calls: list[list[int]] = []
    monkeypatch.setattr(tasks.scheduling_invitations_send, "delay", calls.append)
    return calls


def item_of(run, case):
    return run.items.select_related("appointment").get(case=case)


def absent_text(staff) -> str:
    conflict = {"code": "absent", "staff": staff.get_full_name(), "start": local(24, 8).isoformat()}
    return services_planning.planning_conflict_text({**conflict, "kind": _("Sick")})


def absent_message(staff) -> str:
    # The messages are compared as the user reads them, in whatever language the catalogue has.
    return _(
        "This invitation can no longer be approved: %(why)s Please reject it; the next run plans "
        "the case again."
    ) % {"why": absent_text(staff)}


def sending_text(sent: int, total: int) -> str:
    return ngettext(
        "%(sent)s of %(total)s approved invitation sent",
        "%(sent)s of %(total)s approved invitations sent",
        total,
    ) % {"sent": sent, "total": total}


# --- a single approval: refused with the reason ------------------------------------------------


def test_a_sick_day_recorded_after_planning_refuses_the_single_approval(
    team, team_lead, caseworker, anna, sent, django_capture_on_commit_callbacks
):
    case = due_case(team, due=TUESDAY)
    run = run_for(team_lead)
    item = item_of(run, case)
    assert item.appointment.start == local(24, 8)
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ProposalConflictError) as caught,
    ):
        planning_item_approve(ctx=ui(caseworker), item_id=item.pk)

    assert caught.value.status_code == 409
    conflict = caught.value.extra["conflict"]
    assert conflict["code"] == services_planning.CONFLICT_ABSENT
    assert caught.value.message == absent_message(anna)
    item.refresh_from_db()
    assert item.decision == PlanningDecision.PENDING
    assert Appointment.objects.get(pk=item.appointment_id).status == AppointmentStatus.PLANNED
    assert sent == []
    assert not AuditEvent.objects.filter(object_type="appointment", detail__status="approved")


CHANGES = [
    ("busy", services_planning.CONFLICT_BUSY),
    ("hours", services_planning.CONFLICT_OFF_HOURS),
    ("consent", services_planning.CONFLICT_NO_CONSENT),
    ("session", services_planning.CONFLICT_GROUP_SESSION),
    ("cap", services_planning.CONFLICT_DAILY_CAP),
    ("past", services_planning.CONFLICT_PAST),
]
if connection.vendor != "postgresql":
    # PostgreSQL's exclusion constraint refuses an appointment overlapping the proposal at all.
    CHANGES.append(("appointment", services_planning.CONFLICT_APPOINTMENT))


@pytest.mark.parametrize(("change", "code"), CHANGES)
def test_each_calendar_change_is_named(team, team_lead, caseworker, anna, at_now, change, code):
    case = due_case(team, due=TUESDAY)
    item = item_of(run_for(team_lead), case)
    start = item.appointment.start
    if change == "busy":
        BusyTime.objects.create(
            user=anna,
            start=start,
            end=start + dt.timedelta(hours=1),
            source="upload",
            synced_at=NOW,
        )
    elif change == "hours":
        StaffCalendar.objects.filter(user=anna).update(
            working_hours=[{"weekday": 1, "start": "10:00", "end": "12:00"}]
        )
    elif change == "consent":
        StaffCalendar.objects.filter(user=anna).update(consent_given_at=None)
    elif change == "appointment":
        # Made on a database without the overlap constraint, or starting inside the proposal.
        make_appointment(
            CaseFactory(team=team), anna, start + dt.timedelta(minutes=15), status="approved"
        )
    elif change == "session":
        make_group_session(team, anna, start - dt.timedelta(minutes=30))
    elif change == "cap":
        StaffCalendar.objects.filter(user=anna).update(daily_cap=1)
        make_appointment(CaseFactory(team=team), anna, local(24, 11), status="sent")
    elif change == "past":
        at_now.move_to(start + dt.timedelta(minutes=1))

    with pytest.raises(ProposalConflictError) as caught:
        planning_item_approve(ctx=ui(caseworker), item_id=item.pk)

    conflict = caught.value.extra["conflict"]
    assert conflict["code"] == code
    assert services_planning.planning_conflict_text(conflict) in caught.value.message


def test_a_proposal_that_still_fits_is_approved(team, team_lead, caseworker, anna, sent):
    case = due_case(team, due=TUESDAY)
    item = item_of(run_for(team_lead), case)
    # Changes elsewhere do not matter: another day, another staff member.
    Absence.objects.create(user=anna, start=local(25, 0), end=local(26, 0), kind="sick")
    item = planning_item_approve(ctx=ui(caseworker), item_id=item.pk)
    assert item.decision == PlanningDecision.APPROVED


def test_a_group_place_needs_its_session_still_open(team, team_lead, caseworker, anna):
    session = make_group_session(team, anna, local(24, 9))
    case = due_case(team, due=TUESDAY, group="administrative")
    item = item_of(run_for(team_lead), case)
    assert item.appointment.group_session_id == session.pk
    session.start = local(24, 10)  # moved since
    session.end = local(24, 11)
    session.save()

    with pytest.raises(ProposalConflictError) as caught:
        planning_item_approve(ctx=ui(caseworker), item_id=item.pk)
    assert caught.value.extra["conflict"]["code"] == services_planning.CONFLICT_SESSION_GONE


def test_the_api_answers_409_with_the_reason(team, team_lead, caseworker, anna):
    from tests.api.conftest import token_client

    case = due_case(team, due=TUESDAY)
    item = item_of(run_for(team_lead), case)
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")

    response = token_client(caseworker).post(f"/api/v1/planning-items/{item.pk}/approve/")

    assert response.status_code == 409
    with translation.override("en"):  # the API clients of the tests ask for English
        assert response.json()["message"] == absent_message(anna)
    assert response.json()["extra"]["conflict"]["code"] == "absent"


def test_the_page_shows_the_reason_in_the_items(client, team, team_lead, caseworker, anna):
    case = due_case(team, due=TUESDAY)
    run = run_for(team_lead)
    item = item_of(run, case)
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")
    client.force_login(caseworker)

    response = client.post(reverse("scheduling:planning_item_approve", args=[item.pk]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 409
    assert html.lstrip().startswith('<section id="planning-items"')
    assert 'id="planning-item-error"' in html
    assert escape(absent_message(anna)) in html


# --- a run approval: the rest is approved, the misfits are left out --------------------------------


def test_a_run_approval_leaves_out_what_no_longer_fits_and_approves_the_rest(
    team, team_lead, anna, sent, django_capture_on_commit_callbacks
):
    tuesday = due_case(team, due=TUESDAY)
    wednesday = due_case(team, due=WEDNESDAY)
    run = run_for(team_lead)
    sick_appointment = item_of(run, tuesday).appointment
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")

    with django_capture_on_commit_callbacks(execute=True):
        run = planning_run_approve(ctx=ui(team_lead), run_id=run.pk)

    assert run.status == PlanningRunStatus.APPROVED
    assert [item.case_id for item in run.left_out] == [tuesday.pk]
    left = item_of(run, tuesday)
    assert left.decision == PlanningDecision.LEFT_OUT
    assert left.decided_by == team_lead
    assert left.detail["left_out"]["code"] == "absent"
    assert left.appointment is None  # withdrawn: never sent, the time is free again
    assert not Appointment.objects.filter(pk=sick_appointment.pk).exists()
    assert left.proposed_start == sick_appointment.start
    assert planning_item_reason_text(left, run) == _("Not approved: %(why)s") % {
        "why": absent_text(anna)
    }
    assert item_of(run, wednesday).decision == PlanningDecision.APPROVED
    assert sent == [[item_of(run, wednesday).appointment_id]]
    event = AuditEvent.objects.get(object_type="planning_run", detail__status="approved")
    assert event.detail["approved"] == 1
    assert event.detail["left_out"] == {str(left.pk): "absent"}
    assert AuditEvent.objects.filter(
        object_type="appointment",
        object_id=str(sick_appointment.pk),
        action="delete",
        detail__why="no_longer_fits",
    ).exists()
    # The case is due again: the next run plans it.
    assert services_planning.case_dues_list(team_id=team.pk, today=NOW.date(), until=WEDNESDAY)


def test_a_run_approval_counts_the_daily_cap_as_it_goes(team, team_lead, anna, sent):
    cases = [due_case(team, due=TUESDAY) for _ in range(3)]
    run = run_for(team_lead)
    assert run.placed_count == 3
    StaffCalendar.objects.filter(user=anna).update(daily_cap=3)
    make_appointment(CaseFactory(team=team), anna, local(24, 11, 30), status="sent")

    run = planning_run_approve(ctx=ui(team_lead), run_id=run.pk)

    decisions = sorted(item_of(run, case).decision for case in cases)
    assert decisions == ["approved", "approved", "left_out"]
    left = [item_of(run, case) for case in cases if item_of(run, case).decision == "left_out"]
    assert left[0].detail["left_out"]["cap"] == 3
    assert left[0].proposed_start == max(item_of(run, c).proposed_start for c in cases)


def test_the_run_page_lists_the_left_out_items_and_the_message_counts_them(
    client, team, team_lead, anna, sent
):
    tuesday = due_case(team, due=TUESDAY)
    due_case(team, due=WEDNESDAY)
    run = run_for(team_lead)
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")
    client.force_login(team_lead)

    response = client.post(reverse("scheduling:planning_run_approve", args=[run.pk]), follow=True)

    html = response.content.decode()
    assert escape(views_planning._approved_message(type("Run", (), {"left_out": [1]}))) in html
    filtered = client.get(
        reverse("scheduling:planning_detail", args=[run.pk]) + "?filter=left_out", **HTMX
    ).content.decode()
    assert f'id="planning-item-{item_of(run, tuesday).pk}"' in filtered
    assert len(re.findall(r'<tr class="kern-table__row" id="planning-item-\d+"', filtered)) == 1
    assert escape(absent_text(anna)) in filtered
    assert escape(_("proposal withdrawn, not sent")) in filtered


def test_the_api_run_approval_reports_the_left_out(team, team_lead, anna, sent):
    from tests.api.conftest import token_client

    tuesday = due_case(team, due=TUESDAY)
    due_case(team, due=WEDNESDAY)
    run = run_for(team_lead)
    Absence.objects.create(user=anna, start=local(24, 0), end=local(25, 0), kind="sick")

    response = token_client(team_lead).post(f"/api/v1/planning-runs/{run.pk}/approve/")

    assert response.status_code == 200
    left_out = response.json()["left_out"]
    assert [item["case_id"] for item in left_out] == [tuesday.pk]
    assert left_out[0]["decision"] == "left_out"
    assert left_out[0]["left_out"]["code"] == "absent"
    with translation.override("en"):
        assert absent_text(anna) in left_out[0]["reason_text"]
    assert left_out[0]["appointment"] is None
    assert left_out[0]["proposal"]["start"]


# --- sending: batches after the commit, progress on the page ----------------------------------------


def test_a_run_approval_enqueues_the_sending_in_batches_after_the_commit(
    team, team_lead, sent, django_capture_on_commit_callbacks
):
    for number in range(3):
        make_staff(team, f"staff{number}", daily_cap=None)
    for _number in range(60):
        due_case(team, due=TUESDAY, window=(0, 3))
    run = run_for(team_lead)
    assert run.placed_count == 60

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert [len(batch) for batch in sent] == [25, 25, 10]
    approved = set(
        Appointment.objects.filter(planning_run=run, status="approved").values_list("pk", flat=True)
    )
    assert {pk for batch in sent for pk in batch} == approved


def test_without_a_broker_the_demo_sends_in_a_background_thread_after_the_commit(
    team, team_lead, anna, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SCHEDULING_SEND_IN_BACKGROUND = True
    started = []

    class Thread:
        def __init__(self, *, target, args, name, daemon):
            self.call = (target, args, name, daemon)

        def start(self):
            started.append(self.call)

    monkeypatch.setattr(tasks.threading, "Thread", Thread)
    due_case(team, due=TUESDAY)
    run = run_for(team_lead)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    assert started == []
    for callback in callbacks:
        callback()

    ids = list(Appointment.objects.filter(planning_run=run).values_list("pk", flat=True))
    assert started == [(tasks._send_batches_here, ([ids],), "invitations-send", True)]


def test_the_batch_task_goes_on_after_one_failing_invitation(monkeypatch):
    from scheduling import services_invitations

    def send(*, appointment_id):
        if appointment_id == 2:
            raise RuntimeError("broken font")
        return "sent"

    monkeypatch.setattr(services_invitations, "invitation_send_if_due", send)
    assert tasks.scheduling_invitations_send([1, 2, 3]) == {"sent": 2, "error": 1}


def test_the_batch_task_sends_for_real(team, team_lead, anna, django_capture_on_commit_callbacks):
    _template_id()
    cases = [due_case(team, due=TUESDAY) for _ in range(2)]
    run = run_for(team_lead)
    with django_capture_on_commit_callbacks(execute=True):
        planning_run_approve(ctx=ui(team_lead), run_id=run.pk)
    assert set(Appointment.objects.filter(case__in=cases).values_list("status", flat=True)) == {
        AppointmentStatus.SENT
    }
    assert planning_run_sending(run=run) == {"total": 2, "sent": 2, "waiting": 0}


def test_sending_progress_on_the_run_page(client, team, team_lead, caseworker, anna, sent):
    cases = [due_case(team, due=TUESDAY) for _ in range(3)]
    run = run_for(team_lead)
    planning_run_approve(ctx=ui(team_lead), run_id=run.pk)  # sends are captured, not made
    first = item_of(run, cases[0]).appointment
    InvitationDelivery.objects.create(
        appointment=first,
        channel="letter",
        template_id=_template_id(),
        sent_at=NOW,
        recipient="Musterweg 1",
        status="sent",
    )
    client.force_login(caseworker)

    page = client.get(reverse("scheduling:planning_detail", args=[run.pk])).content.decode()
    assert 'id="planning-sending"' in page
    assert sending_text(1, 3) in page
    assert "fragment=sending" in page

    url = reverse("scheduling:planning_detail", args=[run.pk]) + "?fragment=sending"
    partial = client.get(url, **HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="planning-sending"')
    assert 'hx-trigger="every 2s"' in partial

    Appointment.objects.filter(planning_run=run).update(status="sent")
    done = client.get(url, **HTMX).content.decode()
    assert sending_text(3, 3) in done
    assert "hx-trigger" not in done  # the polling stops


def test_sending_progress_is_for_the_own_team_only(client, team, team_lead, other_caseworker, anna):
    due_case(team, due=TUESDAY)
    run = run_for(team_lead)
    client.force_login(other_caseworker)
    url = reverse("scheduling:planning_detail", args=[run.pk]) + "?fragment=sending"
    assert client.get(url, **HTMX).status_code == 404


def _template_id() -> int:
    from scheduling.models import InvitationTemplate
    from tests.scheduling.test_invitations import german_v1_install

    german_v1_install()  # a transactional test may have flushed the migration's version 1
    return InvitationTemplate.objects.filter(language="de").first().pk
