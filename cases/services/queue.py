"""Claiming and releasing team-queue cases.

Only customers of the group `potential` keep a fixed caseworker (Case.caseworker). Every other case
sits in its team's queue; one caseworker at a time claims it to work on it (Case.claimed_by) and
releases it when done. A case with a fixed caseworker is not in the team queue and is not claimed.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent, Phase
from cases.selectors import case_lock_for_user
from jobcenter.exceptions import ConflictError
from organisation.models import Role


class ClaimRefusedError(ConflictError):
    """The case cannot be claimed or released in its current state: 409."""


def _event_and_audit(*, ctx: AuditContext, case: Case, kind: str, summary: str, data: dict) -> None:
    CaseEvent.objects.create(case=case, kind=kind, actor=ctx.actor, summary=summary, data=data)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
        detail=data,
    )


@transaction.atomic
def case_claim(*, ctx: AuditContext, case_id: int) -> Case:
    """The actor takes a team-queue case to work on it.

    Two caseworkers pressing "claim" at the same moment: the row lock makes the second wait until
    the first has committed; it then sees the claim and is refused with who holds it.
    """
    case = case_lock_for_user(user=ctx.actor, case_id=case_id)
    if case.phase == Phase.CLOSED:
        raise ClaimRefusedError(_("The case is closed; there is nothing to claim."))
    if case.caseworker_id is not None:
        raise ClaimRefusedError(
            _(
                "This case has a fixed caseworker (%(name)s) and is not in the team queue; "
                "it cannot be claimed."
            )
            % {"name": case.caseworker},
            extra={"caseworker": case.caseworker.get_username()},
        )
    if case.claimed_by_id is not None:
        holder = case.claimed_by
        if holder.pk == ctx.actor.pk:
            message = _("You are already working on this case.")
        else:
            message = _("%(name)s has been working on this case since %(since)s.") % {
                "name": holder,
                "since": date_format(timezone.localtime(case.claimed_at), "SHORT_DATETIME_FORMAT"),
            }
        raise ClaimRefusedError(message, extra={"claimed_by": holder.get_username()})

    case.claimed_by = ctx.actor
    case.claimed_at = timezone.now()
    case.full_clean()
    case.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
    _event_and_audit(
        ctx=ctx,
        case=case,
        kind=CaseEvent.Kind.CLAIMED,
        summary=_("%(name)s claimed the case from the team queue.") % {"name": ctx.actor},
        data={"operation": "claim", "claimed_by": ctx.actor.get_username()},
    )
    return case


@transaction.atomic
def case_release(*, ctx: AuditContext, case_id: int) -> Case:
    """Give a claimed case back to the team queue: the holder, or a team lead for anyone."""
    case = case_lock_for_user(user=ctx.actor, case_id=case_id)
    if case.claimed_by_id is None:
        raise ClaimRefusedError(_("Nobody has claimed this case; there is nothing to release."))
    holder = case.claimed_by
    if holder.pk != ctx.actor.pk and ctx.actor.role != Role.TEAM_LEAD:
        raise ClaimRefusedError(
            _("%(name)s is working on this case; only they or a team lead can release it.")
            % {"name": holder},
            extra={"claimed_by": holder.get_username()},
        )
    case.claimed_by = None
    case.claimed_at = None
    case.full_clean()
    case.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
    if holder.pk == ctx.actor.pk:
        summary = _("%(name)s released the case to the team queue.") % {"name": ctx.actor}
    else:
        summary = _(
            "%(lead)s released the claim of %(name)s; the case is back in the team queue."
        ) % {
            "lead": ctx.actor,
            "name": holder,
        }
    _event_and_audit(
        ctx=ctx,
        case=case,
        kind=CaseEvent.Kind.RELEASED,
        summary=summary,
        data={"operation": "release", "released": holder.get_username()},
    )
    return case
