"""Outcomes, missed-appointment reviews, cancelling, the customer's confirmation, and what every
move of an appointment sets off (reminders, the new invitation). Never a sanction."""

import datetime as dt
import types

import pytest
import time_machine
from django.utils import translation

from audit.models import AuditEvent
from audit.services import AuditContext
from cases.models import CaseEvent
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    DeliveryStatus,
    InvitationChannel,
    InvitationDelivery,
    InvitationTemplate,
    MissedAppointmentReview,
    MissedReviewOutcome,
)
from scheduling.services_appointments import (
    RebookingLinkOutdatedError,
    appointment_cancel,
    appointment_confirm_by_customer,
    appointment_outcome_set,
    appointment_rebook,
    invitation_proof,
    missed_review_decide,
    rebooking_alternatives,
    rebooking_choose,
    rebooking_token_make,
    rebooking_token_read,
)
from tests.cases.factories import CaseFactory
from tests.scheduling.conftest import NOW
from tests.scheduling.factories_deliveries import record_delivery
from tests.scheduling.test_appointments import local, make_appointment, make_staff


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def anna(team):
    return make_staff(team, "anna", channels=["in_person", "phone"])


@pytest.fixture
def own_case(team, anna):
    return CaseFactory(team=team, caseworker=anna)


@pytest.fixture
def past(own_case, anna):
    """Sent, began an hour ago (Monday 07:00 Berlin; now is 08:00)."""
    return make_appointment(own_case, anna, local(23, 7), status=AppointmentStatus.SENT)


@pytest.fixture
def future(own_case, anna):
    """Sent, on Wednesday 09:00."""
    return make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.SENT)


@pytest.fixture
def calls(monkeypatch):
    """Records the reminder services and the invitation task instead of running them."""
    import scheduling.services_reminders as reminders
    import scheduling.tasks as tasks

    seen = {"reschedule": [], "cancel": [], "send": []}
    monkeypatch.setattr(
        reminders,
        "reminders_reschedule",
        lambda *, appointment: seen["reschedule"].append((appointment.pk, appointment.sequence)),
    )
    monkeypatch.setattr(
        reminders,
        "reminders_cancel_for",
        lambda *, appointment, below_sequence=None: seen["cancel"].append(appointment.pk),
    )
    monkeypatch.setattr(
        tasks,
        "scheduling_invitation_send",
        types.SimpleNamespace(delay=lambda appointment_id: seen["send"].append(appointment_id)),
    )
    return seen


def ctx(user):
    return AuditContext.system(user)


# --- outcomes --------------------------------------------------------------------------------------


def test_no_outcome_before_the_appointment_has_begun(caseworker, future, at_now):
    with pytest.raises(ApplicationError) as refused:
        appointment_outcome_set(
            ctx=ctx(caseworker), appointment_id=future.pk, outcome=AppointmentStatus.MISSED
        )
    assert refused.value.message == (
        "Das Ergebnis kann erst erfasst werden, wenn der Termin begonnen hat."
    )
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SENT
    assert not MissedAppointmentReview.objects.exists()


@pytest.mark.parametrize(
    "status",
    [AppointmentStatus.PLANNED, AppointmentStatus.CANCELLED, AppointmentStatus.REBOOKED],
)
def test_no_outcome_for_an_appointment_never_approved_or_no_longer_held(
    caseworker, own_case, anna, status, at_now
):
    appointment = make_appointment(own_case, anna, local(23, 7), status=status)
    with pytest.raises(ApplicationError):
        appointment_outcome_set(
            ctx=ctx(caseworker), appointment_id=appointment.pk, outcome=AppointmentStatus.ATTENDED
        )
    appointment.refresh_from_db()
    assert appointment.status == status


def test_unknown_outcome_is_refused(caseworker, past, at_now):
    with pytest.raises(ApplicationError) as refused:
        appointment_outcome_set(ctx=ctx(caseworker), appointment_id=past.pk, outcome="sanctioned")
    assert set(refused.value.extra["fields"]) == {"outcome"}


def test_attended_is_recorded_with_audit_and_timeline(caseworker, past, at_now):
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.ATTENDED
    )
    past.refresh_from_db()
    assert past.status == AppointmentStatus.ATTENDED
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(past.pk))
    assert event.detail["status"] == {"from": "sent", "to": "attended"}
    assert event.actor == caseworker
    assert CaseEvent.objects.filter(case=past.case, kind=CaseEvent.Kind.CONTACT).count() == 1
    assert not MissedAppointmentReview.objects.exists()


def test_missed_opens_one_review_and_flags_the_case_but_sanctions_nothing(caseworker, past, at_now):
    case = past.case
    before = (case.phase, case.customer_group, case.caseworker_id)
    appointment_outcome_set(
        ctx=ctx(caseworker),
        appointment_id=past.pk,
        outcome=AppointmentStatus.MISSED,
        note="Nicht erschienen",
    )
    review = MissedAppointmentReview.objects.get(appointment=past)
    assert review.case == case
    assert review.is_open
    assert (review.decided_by, review.decided_at) == (None, None)
    case.refresh_from_db()
    assert case.missed_appointment_pending is True
    # Nothing else about the case changes: no decision, no sanction is made by the system.
    assert (case.phase, case.customer_group, case.caseworker_id) == before
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(past.pk))
    assert event.detail["missed_review_id"] == review.pk
    assert event.detail["note"] == "Nicht erschienen"
    # Recording it again (a double click) changes nothing.
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
    )
    assert MissedAppointmentReview.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="appointment").count() == 1


@pytest.mark.parametrize("corrected", [AppointmentStatus.EXCUSED, AppointmentStatus.ATTENDED])
def test_a_correction_of_missed_withdraws_the_undecided_review(caseworker, past, at_now, corrected):
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
    )
    review_id = MissedAppointmentReview.objects.get(appointment=past).pk
    appointment_outcome_set(ctx=ctx(caseworker), appointment_id=past.pk, outcome=corrected)
    past.refresh_from_db()
    assert past.status == corrected
    # Nothing is left to decide: no review, the case leaves "missed appointment to review", and
    # no hearing can be started for an appointment the customer kept or excused.
    assert not MissedAppointmentReview.objects.exists()
    past.case.refresh_from_db()
    assert past.case.missed_appointment_pending is False
    with pytest.raises(MissedAppointmentReview.DoesNotExist):
        missed_review_decide(
            ctx=ctx(caseworker), review_id=review_id, outcome=MissedReviewOutcome.HEARING, note="x"
        )
    correction = AuditEvent.objects.filter(object_type="appointment").latest("id")
    assert correction.detail["status"] == {"from": "missed", "to": corrected}
    assert correction.detail["correction"] is True
    assert correction.detail["missed_review_withdrawn"] == review_id
    # Back to missed: a review again, to decide.
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
    )
    assert MissedAppointmentReview.objects.get(appointment=past).is_open
    past.case.refresh_from_db()
    assert past.case.missed_appointment_pending is True


def test_a_decided_missed_appointment_keeps_its_outcome(caseworker, past, at_now):
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
    )
    review = MissedAppointmentReview.objects.get(appointment=past)
    missed_review_decide(
        ctx=ctx(caseworker), review_id=review.pk, outcome=MissedReviewOutcome.GOOD_REASON
    )
    with pytest.raises(ConflictError, match="bereits geprüft"):
        appointment_outcome_set(
            ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.ATTENDED
        )
    past.refresh_from_db()
    review.refresh_from_db()
    assert (past.status, review.outcome) == ("missed", "good_reason")


def test_no_decision_on_a_review_whose_appointment_is_no_longer_missed(caseworker, review):
    # Only reachable if the status changed under the review (a review is withdrawn with a
    # correction): the decision is refused rather than resting on an appointment kept.
    Appointment.objects.filter(pk=review.appointment_id).update(status=AppointmentStatus.ATTENDED)
    with pytest.raises(ConflictError, match="nicht mehr als versäumt"):
        missed_review_decide(
            ctx=ctx(caseworker), review_id=review.pk, outcome=MissedReviewOutcome.HEARING, note="x"
        )
    review.refresh_from_db()
    assert review.is_open


def test_staff_of_another_team_cannot_record_an_outcome(other_caseworker, past, at_now):
    with pytest.raises(ApplicationError):
        appointment_outcome_set(
            ctx=ctx(other_caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
        )
    assert not MissedAppointmentReview.objects.exists()


# --- deciding a review -----------------------------------------------------------------------------


@pytest.fixture
def review(caseworker, past, at_now):
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=past.pk, outcome=AppointmentStatus.MISSED
    )
    return MissedAppointmentReview.objects.get(appointment=past)


def test_decision_needs_an_outcome_and_a_note_for_hearing_or_no_action(caseworker, review):
    with pytest.raises(ApplicationError) as refused:
        missed_review_decide(ctx=ctx(caseworker), review_id=review.pk, outcome="", note="")
    assert set(refused.value.extra["fields"]) == {"outcome"}
    for outcome in (MissedReviewOutcome.HEARING, MissedReviewOutcome.NO_ACTION):
        with pytest.raises(ApplicationError) as refused:
            missed_review_decide(ctx=ctx(caseworker), review_id=review.pk, outcome=outcome)
        assert set(refused.value.extra["fields"]) == {"note"}
    review.refresh_from_db()
    assert review.is_open


def test_deciding_clears_the_flag_when_no_review_is_left(caseworker, team_lead, review, anna):
    case = review.case
    second = make_appointment(case, anna, local(20, 9), status=AppointmentStatus.CONFIRMED)
    appointment_outcome_set(
        ctx=ctx(caseworker), appointment_id=second.pk, outcome=AppointmentStatus.MISSED
    )
    missed_review_decide(
        ctx=ctx(caseworker), review_id=review.pk, outcome=MissedReviewOutcome.GOOD_REASON
    )
    case.refresh_from_db()
    assert case.missed_appointment_pending is True  # the second one is still open
    other = MissedAppointmentReview.objects.get(appointment=second)
    record_delivery(second, at=local(18, 10))  # the invitation a hearing rests on
    decided = missed_review_decide(
        ctx=ctx(team_lead),
        review_id=other.pk,
        outcome=MissedReviewOutcome.HEARING,
        note="Anhörung schriftlich eingeleitet",
    )
    assert (decided.outcome, decided.decided_by) == ("hearing", team_lead)
    assert decided.decided_at is not None
    case.refresh_from_db()
    assert case.missed_appointment_pending is False
    event = AuditEvent.objects.filter(object_type="missed_appointment_review").latest("id")
    assert event.detail["outcome"] == "hearing"
    assert event.detail["note"] == "Anhörung schriftlich eingeleitet"
    assert CaseEvent.objects.filter(case=case, data__outcome="hearing").exists()


def test_a_review_is_decided_once(caseworker, review):
    missed_review_decide(
        ctx=ctx(caseworker),
        review_id=review.pk,
        outcome=MissedReviewOutcome.NO_ACTION,
        note="Versehentlich erfasst",
    )
    with pytest.raises(ConflictError):
        missed_review_decide(
            ctx=ctx(caseworker), review_id=review.pk, outcome=MissedReviewOutcome.GOOD_REASON
        )
    review.refresh_from_db()
    assert review.outcome == MissedReviewOutcome.NO_ACTION


def test_staff_of_another_team_cannot_decide(other_caseworker, review):
    with pytest.raises(ApplicationError):
        missed_review_decide(
            ctx=ctx(other_caseworker),
            review_id=review.pk,
            outcome=MissedReviewOutcome.GOOD_REASON,
        )
    review.refresh_from_db()
    assert review.is_open


# --- cancelling ------------------------------------------------------------------------------------


def test_cancel_needs_a_reason(caseworker, future, calls, at_now):
    for reason in ("", "   "):
        with pytest.raises(ApplicationError) as refused:
            appointment_cancel(ctx=ctx(caseworker), appointment_id=future.pk, reason=reason)
        assert set(refused.value.extra["fields"]) == {"reason"}
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SENT
    assert calls == {"reschedule": [], "cancel": [], "send": []}


def test_cancel_kills_the_link_cancels_reminders_and_sends_the_cancellation(
    caseworker, future, calls, at_now, django_capture_on_commit_callbacks
):
    token = rebooking_token_make(future)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(
            ctx=ctx(caseworker), appointment_id=future.pk, reason="Kundin ist umgezogen"
        )
    future.refresh_from_db()
    assert (future.status, future.sequence) == (AppointmentStatus.CANCELLED, 1)
    with pytest.raises(RebookingLinkOutdatedError):
        rebooking_token_read(token)
    assert calls["cancel"] == [future.pk]
    assert calls["send"] == [future.pk]
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(future.pk))
    assert event.detail["reason"] == "Kundin ist umgezogen"
    assert event.detail["status"] == {"from": "sent", "to": "cancelled"}
    with pytest.raises(ApplicationError):
        appointment_cancel(ctx=ctx(caseworker), appointment_id=future.pk, reason="noch mal")


def test_cancelling_an_appointment_never_sent_sends_nothing(
    caseworker, own_case, anna, calls, at_now, django_capture_on_commit_callbacks
):
    planned = make_appointment(own_case, anna, local(26, 9))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(ctx=ctx(caseworker), appointment_id=planned.pk, reason="Doppelt")
    assert calls["send"] == []
    assert calls["cancel"] == [planned.pk]


def test_other_team_cannot_cancel(other_caseworker, future, calls, at_now):
    with pytest.raises(ApplicationError):
        appointment_cancel(ctx=ctx(other_caseworker), appointment_id=future.pk, reason="x")
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SENT


# --- the customer confirms -------------------------------------------------------------------------


def test_customer_confirms_through_the_link_once(future, at_now):
    token = rebooking_token_make(future)
    confirmed = appointment_confirm_by_customer(token=token, ip_address="10.0.0.7")
    assert confirmed.status == AppointmentStatus.CONFIRMED
    again = appointment_confirm_by_customer(token=token)
    assert again.status == AppointmentStatus.CONFIRMED
    event = AuditEvent.objects.get(object_type="appointment", object_id=str(future.pk))
    assert event.ip_address == "10.0.0.7"
    assert event.actor is None
    assert event.detail["confirmed_by_customer"] is True


def test_an_appointment_not_sent_cannot_be_confirmed(own_case, anna, at_now):
    planned = make_appointment(own_case, anna, local(26, 9))
    with pytest.raises(ApplicationError):
        appointment_confirm_by_customer(token=rebooking_token_make(planned))
    planned.refresh_from_db()
    assert planned.status == AppointmentStatus.PLANNED


# --- moves: reminders follow, an invitation already sent goes out again ----------------------------


@pytest.mark.parametrize("status", [AppointmentStatus.SENT, AppointmentStatus.CONFIRMED])
def test_staff_move_of_an_invited_appointment_sends_the_new_version(
    caseworker, own_case, anna, status, calls, at_now, django_capture_on_commit_callbacks
):
    appointment = make_appointment(own_case, anna, local(25, 9), status=status)
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_rebook(
            ctx=ctx(caseworker), appointment_id=appointment.pk, new_start=local(26, 10)
        )
    assert (moved.status, moved.sequence) == (AppointmentStatus.SENT, 1)
    assert calls["reschedule"] == [(appointment.pk, 1)]
    assert calls["send"] == [appointment.pk]


@pytest.mark.parametrize("status", [AppointmentStatus.PLANNED, AppointmentStatus.APPROVED])
def test_staff_move_before_the_invitation_keeps_the_status_and_sends_nothing(
    caseworker, own_case, anna, status, calls, at_now, django_capture_on_commit_callbacks
):
    appointment = make_appointment(own_case, anna, local(25, 9), status=status)
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_rebook(
            ctx=ctx(caseworker), appointment_id=appointment.pk, new_start=local(26, 10)
        )
    assert moved.status == status
    assert calls["reschedule"] == [(appointment.pk, 1)]
    assert calls["send"] == []


def test_customer_move_of_a_sent_appointment_sends_the_new_version(
    future, calls, at_now, django_capture_on_commit_callbacks
):
    slot = rebooking_alternatives(appointment=future)[0]
    with django_capture_on_commit_callbacks(execute=True):
        moved = rebooking_choose(
            token=rebooking_token_make(future), start=slot.start, staff_id=slot.staff_id
        )
    assert (moved.status, moved.sequence, moved.rebook_count) == (AppointmentStatus.SENT, 1, 1)
    assert calls["reschedule"] == [(future.pk, 1)]
    assert calls["send"] == [future.pk]


def test_a_move_rolled_back_sends_nothing(caseworker, future, calls, at_now):
    # Without the commit (the test's transaction is never committed) the task is not sent.
    appointment_rebook(ctx=ctx(caseworker), appointment_id=future.pk, new_start=local(26, 10))
    assert calls["send"] == []
    assert calls["reschedule"] == [(future.pk, 1)]


def test_a_letter_sent_while_the_e_mail_failed_counts_as_invited(
    caseworker, own_case, anna, calls, at_now, django_capture_on_commit_callbacks
):
    """Status "approved" with a delivered letter: a move sends the new version, a cancellation
    the cancellation; the status stays sendable ("approved")."""
    appointment = make_appointment(own_case, anna, local(25, 9), status=AppointmentStatus.APPROVED)
    template = InvitationTemplate.objects.create(
        version=99,
        language="de",
        subject="Einladung",
        body="Bitte kommen Sie.",
        legal_notice="Rechtsfolgenbelehrung",
        valid_from=NOW - dt.timedelta(days=30),
    )
    InvitationDelivery.objects.create(
        appointment=appointment,
        channel=InvitationChannel.LETTER,
        template=template,
        sent_at=NOW,
        recipient="Musterstraße 1",
        status=DeliveryStatus.SENT,
        ics_sequence=0,
    )
    slot = rebooking_alternatives(appointment=appointment)[0]
    with django_capture_on_commit_callbacks(execute=True):
        moved = rebooking_choose(
            token=rebooking_token_make(appointment), start=slot.start, staff_id=slot.staff_id
        )
    assert moved.status == AppointmentStatus.APPROVED
    assert calls["send"] == [appointment.pk]
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(ctx=ctx(caseworker), appointment_id=appointment.pk, reason="Umzug")
    assert calls["send"] == [appointment.pk, appointment.pk]


# --- a hearing needs a recorded invitation (§ 32 SGB II) -------------------------------------------


@pytest.mark.parametrize(
    "recorded",
    [
        {},  # nothing recorded at all
        {"status": DeliveryStatus.FAILED, "error": "SMTP 550"},  # tried, never arrived
        {"sequence": 0},  # the invitation of an earlier time only (the appointment moved since)
    ],
)
def test_no_hearing_without_a_recorded_invitation_of_the_missed_version(
    caseworker, past, review, recorded
):
    past.sequence = 1
    past.save(update_fields=["sequence"])
    if recorded:
        record_delivery(past, at=local(18, 10), channel=InvitationChannel.EMAIL, **recorded)
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        missed_review_decide(
            ctx=ctx(caseworker),
            review_id=review.pk,
            outcome=MissedReviewOutcome.HEARING,
            note="Anhörung",
        )
    assert set(refused.value.extra["fields"]) == {"outcome"}
    assert "§ 32 SGB II" in refused.value.message
    review.refresh_from_db()
    assert review.is_open
    assert not AuditEvent.objects.filter(object_type="missed_appointment_review").exists()
    # Good reason and no further action stay possible.
    decided = missed_review_decide(
        ctx=ctx(caseworker),
        review_id=review.pk,
        outcome=MissedReviewOutcome.NO_ACTION,
        note="Keine ordnungsgemäße Einladung",
    )
    assert decided.outcome == MissedReviewOutcome.NO_ACTION


def test_a_hearing_with_the_invitation_of_the_missed_version_is_recorded(caseworker, past, review):
    record_delivery(past, at=local(18, 10))
    decided = missed_review_decide(
        ctx=ctx(caseworker),
        review_id=review.pk,
        outcome=MissedReviewOutcome.HEARING,
        note="Anhörung schriftlich eingeleitet",
    )
    assert decided.outcome == MissedReviewOutcome.HEARING
    assert AuditEvent.objects.filter(
        object_type="missed_appointment_review", detail__outcome="hearing"
    ).exists()


def test_invitation_proof_lists_the_sent_deliveries_of_the_version(past):
    past.sequence = 1
    past.save(update_fields=["sequence"])
    record_delivery(past, at=local(17, 10), sequence=0)
    letter = record_delivery(past, at=local(18, 10))
    record_delivery(past, at=local(18, 10), channel=InvitationChannel.EMAIL, status="failed")
    assert [delivery.pk for delivery in invitation_proof(past)] == [letter.pk]
