"""Phase transitions of a case: profiling -> planning -> implementation -> review -> ... -> closed.

Every phase change goes through `case_transition`, whether it comes from the case page, the API or
a job. A refused transition raises before anything is written, so it changes nothing.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import (
    Case,
    CaseEvent,
    ClosureReason,
    CooperationPlan,
    Phase,
    PhaseTransition,
    PlanStatus,
)
from cases.selectors import case_lock_for_user
from jobcenter.exceptions import ApplicationError, ConflictError

# The cycle as a graph. Closing is possible from every open phase (with a closure reason).
NEXT_PHASES: dict[str, tuple[str, ...]] = {
    Phase.PROFILING: (Phase.PLANNING, Phase.CLOSED),
    Phase.PLANNING: (Phase.IMPLEMENTATION, Phase.CLOSED),
    Phase.IMPLEMENTATION: (Phase.REVIEW, Phase.CLOSED),
    Phase.REVIEW: (Phase.PROFILING, Phase.PLANNING, Phase.CLOSED),
    Phase.CLOSED: (),
}
# From the goal review back to profiling or planning: the next cycle begins.
NEW_CYCLE = {(Phase.REVIEW, Phase.PROFILING), (Phase.REVIEW, Phase.PLANNING)}
REASON_MAX_LENGTH = 2000


class TransitionInputError(ApplicationError):
    """The request itself is malformed (unknown phase, missing closure reason): 400."""


class TransitionRefusedError(ConflictError):
    """The transition is not possible from the case's current state: 409."""


@dataclass(frozen=True)
class TransitionOption:
    to: str
    label: str
    new_cycle: bool


def _phase_label(phase: str) -> str:
    return str(Phase(phase).label) if phase in Phase.values else phase


def _phase_list(phases) -> str:
    return ", ".join(_phase_label(phase) for phase in phases) or _("none")


def case_current_plan(*, case: Case) -> CooperationPlan | None:
    """The agreed cooperation plan of the case's current cycle, if there is one."""
    return (
        CooperationPlan.objects.filter(case=case, cycle=case.cycle, status=PlanStatus.AGREED)
        .order_by("-version")
        .first()
    )


def _review_passed(case: Case, today) -> bool:
    return case.review_due is not None and case.review_due < today


def case_transition_refusal(
    *, case: Case, to: str, plan: CooperationPlan | None = None, today=None
) -> str:
    """Why the case may not go to `to` now, or "" when it may. Reads the plan only when needed.

    The guards:
    - Only the edges of NEXT_PHASES: nothing leaves `closed`, no phase goes to itself.
    - `implementation` needs a current cooperation plan: one that is agreed and belongs to the
      case's current cycle. Its goal review date must not have passed: a plan whose review is
      overdue is not implemented further, the goal review comes first.
    - "No review skipped": once the case's goal review date (Case.review_due) has passed, a case
      in implementation may only go to `review` (or be closed); in practice that is already the
      only forward edge, and entering implementation with an overdue review is refused above.
    """
    today = today or timezone.localdate()
    current = case.phase
    if to == current:
        return _("The case is already in the phase %(phase)s. Possible: %(possible)s.") % {
            "phase": _phase_label(current),
            "possible": _phase_list(NEXT_PHASES[current]),
        }
    if current == Phase.CLOSED:
        return _("The case is closed; a closed case does not change its phase any more.")
    if to not in NEXT_PHASES[current]:
        return _(
            "A case in %(current)s cannot go to %(to)s. Possible from %(current)s: %(possible)s."
        ) % {
            "current": _phase_label(current),
            "to": _phase_label(to),
            "possible": _phase_list(NEXT_PHASES[current]),
        }
    if to == Phase.IMPLEMENTATION:
        plan = plan if plan is not None else case_current_plan(case=case)
        if plan is None:
            return _(
                "Implementation needs a current cooperation plan: agree the plan of this cycle "
                "with the customer first."
            )
        if plan.review_date < today:
            return _(
                "The goal review date of the cooperation plan (%(date)s) has passed: do the goal "
                "review first."
            ) % {"date": date_format(plan.review_date, "SHORT_DATE_FORMAT")}
    if (
        current == Phase.IMPLEMENTATION
        and _review_passed(case, today)
        and to not in (Phase.REVIEW, Phase.CLOSED)
    ):
        return _("The goal review is overdue: the case goes to the goal review first.")
    return ""


def case_transition_options(*, case: Case, today=None) -> list[TransitionOption]:
    """The transitions possible now, for the form on the case page (guards applied)."""
    plan = case_current_plan(case=case) if Phase.IMPLEMENTATION in NEXT_PHASES[case.phase] else None
    options = []
    for to in NEXT_PHASES[case.phase]:
        if to == Phase.IMPLEMENTATION and plan is None:
            continue
        if case_transition_refusal(case=case, to=to, plan=plan, today=today):
            continue
        options.append(
            TransitionOption(to=to, label=_phase_label(to), new_cycle=(case.phase, to) in NEW_CYCLE)
        )
    return options


def _validate_input(*, to: str, reason: str, closure_reason: str) -> None:
    errors: dict[str, str] = {}
    if to not in Phase.values:
        errors["to"] = _("Unknown phase “%(to)s”. Phases: %(phases)s.") % {
            "to": to,
            "phases": ", ".join(Phase.values),
        }
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _("The reason is at most %(max)d characters long.") % {
            "max": REASON_MAX_LENGTH
        }
    if to == Phase.CLOSED:
        if not closure_reason:
            errors["closure_reason"] = _("Choose the reason for closing the case.")
        elif closure_reason not in ClosureReason.values:
            errors["closure_reason"] = _("Unknown reason for closing “%(reason)s”.") % {
                "reason": closure_reason
            }
        elif closure_reason == ClosureReason.OTHER and not reason.strip():
            errors["reason"] = _("For the closing reason “other”, say in words why.")
    elif closure_reason:
        errors["closure_reason"] = _("A reason for closing belongs only to closing the case.")
    if errors:
        raise TransitionInputError(next(iter(errors.values())), extra={"fields": errors})


@transaction.atomic
def case_transition(
    *, ctx: AuditContext, case_id: int, to: str, reason: str = "", closure_reason: str = ""
) -> Case:
    """Move a case to the phase `to`: record who, when, from, to and why, on the timeline too.

    Raises Http404 for a case the actor may not see, TransitionInputError (400) for a malformed
    request and TransitionRefusedError (409) when the case's state does not allow it.
    """
    reason = reason.strip()
    _validate_input(to=to, reason=reason, closure_reason=closure_reason)
    # The row lock serialises two people changing the phase of the same case at the same moment:
    # the second one sees the first one's phase and is refused instead of writing from a stale one.
    case = case_lock_for_user(user=ctx.actor, case_id=case_id)
    refusal = case_transition_refusal(case=case, to=to)
    if refusal:
        raise TransitionRefusedError(
            refusal,
            extra={
                "phase": case.phase,
                "possible": [option.to for option in case_transition_options(case=case)],
            },
        )

    now = timezone.now()
    from_phase = case.phase
    new_cycle = (from_phase, to) in NEW_CYCLE
    transition = PhaseTransition(
        case=case,
        at=now,
        actor=ctx.actor,
        from_phase=from_phase,
        to_phase=to,
        reason=reason,
        closure_reason=closure_reason if to == Phase.CLOSED else "",
    )
    transition.full_clean()
    transition.save()

    case.phase = to
    case.phase_since = now
    update_fields = ["phase", "phase_since", "updated_at"]
    if new_cycle or to == Phase.CLOSED:
        # A new cycle has no agreed plan yet, and a closed case has nothing left to do.
        case.open_steps_due = None
        update_fields.append("open_steps_due")
    if new_cycle:
        case.cycle += 1
        update_fields.append("cycle")
    released_from = None
    if to == Phase.CLOSED:
        case.closed_at = now
        case.closure_reason = closure_reason
        released_from = case.claimed_by
        case.claimed_by = None
        case.claimed_at = None
        update_fields += ["closed_at", "closure_reason", "claimed_by", "claimed_at"]
    case.full_clean()
    case.save(update_fields=update_fields)

    data = {
        "transition_id": transition.pk,
        "from": from_phase,
        "to": to,
        "reason": reason,
        "cycle": case.cycle,
    }
    if to == Phase.CLOSED:
        data["closure_reason"] = closure_reason
        summary = _("Case closed (%(closure)s), from %(from)s.") % {
            "closure": ClosureReason(closure_reason).label,
            "from": _phase_label(from_phase),
        }
        kind = CaseEvent.Kind.CLOSED
    elif new_cycle:
        summary = _("Phase changed from %(from)s to %(to)s; cycle %(cycle)d begins.") % {
            "from": _phase_label(from_phase),
            "to": _phase_label(to),
            "cycle": case.cycle,
        }
        kind = CaseEvent.Kind.PHASE_CHANGED
    else:
        summary = _("Phase changed from %(from)s to %(to)s.") % {
            "from": _phase_label(from_phase),
            "to": _phase_label(to),
        }
        kind = CaseEvent.Kind.PHASE_CHANGED
    if released_from is not None:
        data["released_claim_of"] = released_from.get_username()
    CaseEvent.objects.create(
        case=case, at=now, kind=kind, actor=ctx.actor, summary=summary[:300], data=data
    )
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
        detail={"operation": "transition", **data},
    )
    return case
