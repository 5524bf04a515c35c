"""Writes of the cooperation plan (Kooperationsplan, §15 SGB II): drafts, steps, agreement, progress.

A plan version is drafted, edited while it is a draft, and agreed with the customer. A change to the
content of an agreed plan is a new draft (version + 1) that copies it; the agreed version stays the
current one until the new draft is agreed. Progress on the steps of the agreed plan (done, dropped,
follow-up notes) is implementation work and changes the step in place.

Two people editing the same plan or step: every form and API call carries the `lock_version` it
was based on; the service compares it under `select_for_update` and refuses an older one with a
ConflictError (409) instead of silently overwriting the other person's change.

Editing a draft writes an audit row but no timeline entry: the draft is not the customer's plan
yet; the timeline records the draft being started, the agreement and the progress of steps.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import (
    Case,
    CaseEvent,
    CasePolicy,
    CooperationPlan,
    Phase,
    PlanStatus,
    PlanStep,
    StepResponsible,
    StepStatus,
)
from cases.pdf import PDF_FALLBACK_LANGUAGE, plan_pdf_filename, plan_pdf_render
from cases.selectors import case_visible_to
from jobcenter.exceptions import ApplicationError, ConflictError

PLAN_OBJECT = "cooperation_plan"
STEP_OBJECT = "plan_step"


class PlanNotFoundError(ApplicationError):
    """No such case, plan or step for this user (another team's case looks the same)."""

    status_code = 404


class PlanInputError(ApplicationError):
    """Bad input, with the message of each field in extra["fields"] (shown next to the field)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        first = next(iter(fields.values()))[0]
        super().__init__(first, extra={"fields": fields})
        self.fields = fields


@dataclass(frozen=True)
class StepInput:
    """The content of a step as a caseworker writes it."""

    responsible: str
    description: str
    due_date: datetime.date
    responsible_name: str = ""


# --- helpers --------------------------------------------------------------------------------------


def _case_for_update(*, ctx: AuditContext, case_id: int) -> Case:
    """The case, locked: every plan write of one case runs one after the other.

    A closed case's plan is final: no plan write (a draft left open, a step ticked) gets past here.
    """
    try:
        case = case_visible_to(user=ctx.actor).select_for_update().get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise PlanNotFoundError(_("There is no case with this number for you.")) from None
    if case.phase == Phase.CLOSED:
        raise ApplicationError(_("The case is closed: its cooperation plan cannot be changed."))
    return case


def _draft_for_update(*, case: Case) -> CooperationPlan:
    plan = case.plans.select_for_update().filter(status=PlanStatus.DRAFT).first()
    if plan is None:
        raise PlanNotFoundError(
            _("This case has no draft plan. Start a new version of the plan first.")
        )
    return plan


def _step_for_update(*, case: Case, step_id: int) -> PlanStep:
    try:
        return (
            PlanStep.objects.select_for_update()
            .select_related("plan")
            .get(pk=step_id, plan__case=case)
        )
    except (PlanStep.DoesNotExist, ValueError, TypeError):
        raise PlanNotFoundError(_("This plan has no such step.")) from None


def _check_lock(*, current: int, given: int, what: str) -> None:
    if current != given:
        raise ConflictError(
            _(
                "Someone else has changed this %(what)s in the meantime. Your change was not "
                "saved: reload to see the current state and make your change again."
            )
            % {"what": what},
            extra={"lock_version": current},
        )


def _today() -> datetime.date:
    return timezone.localdate()


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def plan_default_review_date(*, today: datetime.date | None = None) -> datetime.date:
    """Today plus the review period the admins set (CasePolicy.plan_review_months)."""
    return _add_months(today or _today(), CasePolicy.current().plan_review_months)


def _goal_errors(goal: str) -> list[str]:
    return [] if goal.strip() else [_("Write down the integration goal.")]


def _review_date_errors(review_date: datetime.date | None) -> list[str]:
    if review_date is None:
        return [_("Enter the date of the goal review.")]
    if review_date <= _today():
        return [_("The goal review date must be in the future.")]
    return []


def _step_errors(step: StepInput, *, due_date_changed: bool = True) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if step.responsible not in StepResponsible.values:
        errors["responsible"] = [_("Choose who is responsible for this step.")]
    elif step.responsible == StepResponsible.THIRD_PARTY and not step.responsible_name.strip():
        errors["responsible_name"] = [_("Name the third party who is responsible.")]
    if not step.description.strip():
        errors["description"] = [_("Say what exactly is to be done.")]
    if step.due_date is None:
        errors["due_date"] = [_("Enter the date by which the step is due.")]
    elif due_date_changed and step.due_date < _today():
        errors["due_date"] = [_("The due date must not be in the past.")]
    return errors


def _full_clean(instance, **kwargs) -> None:
    """The model's own rules, as field errors (the services check the same rules first)."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise PlanInputError(
            {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
        ) from None


def _event(*, ctx: AuditContext, case: Case, kind: str, summary: str, data: dict) -> None:
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    CaseEvent.objects.create(case=case, kind=kind, actor=actor, summary=summary, data=data)


def _plan_label(plan: CooperationPlan) -> str:
    return f"{plan.cycle}.{plan.version}"


# --- the plan -------------------------------------------------------------------------------------


@transaction.atomic
def plan_draft_create(
    *,
    ctx: AuditContext,
    case_id: int,
    integration_goal: str | None = None,
    review_date: datetime.date | None = None,
) -> CooperationPlan:
    """Start a draft: the first version of this cycle, or a new version copying the agreed plan.

    A new version copies the agreed plan's goal, review date and steps (with their status and
    follow-up notes); a goal or review date given here replaces the copied one.
    """
    case = _case_for_update(ctx=ctx, case_id=case_id)
    if case.plans.filter(status=PlanStatus.DRAFT).exists():
        raise ConflictError(_("This case already has a draft plan."))
    agreed = (
        case.plans.filter(status=PlanStatus.AGREED, cycle=case.cycle)
        .prefetch_related("steps")
        .first()
    )
    goal = integration_goal if integration_goal is not None else ""
    if agreed is not None and integration_goal is None:
        goal = agreed.integration_goal
    if review_date is None:
        review_date = agreed.review_date if agreed is not None else plan_default_review_date()
    errors = {}
    if goal_errors := _goal_errors(goal):
        errors["integration_goal"] = goal_errors
    if date_errors := _review_date_errors(review_date):
        errors["review_date"] = date_errors
    if errors:
        raise PlanInputError(errors)

    latest = case.plans.filter(cycle=case.cycle).aggregate(latest=Max("version"))["latest"] or 0
    plan = CooperationPlan(
        case=case,
        cycle=case.cycle,
        version=latest + 1,
        integration_goal=goal.strip(),
        review_date=review_date,
        created_by=ctx.actor,
    )
    _full_clean(plan, validate_constraints=False)
    plan.save()
    copied = []
    if agreed is not None:
        copied = PlanStep.objects.bulk_create(
            PlanStep(
                plan=plan,
                position=step.position,
                responsible=step.responsible,
                responsible_name=step.responsible_name,
                description=step.description,
                due_date=step.due_date,
                status=step.status,
                follow_up=step.follow_up,
                status_changed_at=step.status_changed_at,
            )
            for step in agreed.steps.all()
        )
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        customer_id=case.customer_id,
        detail={
            "version": _plan_label(plan),
            "copied_from": agreed.pk if agreed else None,
            "steps_copied": len(copied),
        },
    )
    if agreed is None:
        summary = _("Cooperation plan %(version)s drafted.") % {"version": _plan_label(plan)}
    else:
        summary = _("New version %(version)s of the cooperation plan drafted.") % {
            "version": _plan_label(plan)
        }
    _event(
        ctx=ctx,
        case=case,
        kind=CaseEvent.Kind.PLAN_DRAFTED,
        summary=summary,
        data={"plan_id": plan.pk, "version": _plan_label(plan)},
    )
    return plan


@transaction.atomic
def plan_draft_update(
    *,
    ctx: AuditContext,
    case_id: int,
    lock_version: int,
    integration_goal: str | None = None,
    review_date: datetime.date | None = None,
) -> CooperationPlan:
    """Change the goal and/or the review date of the draft. None leaves a value as it is."""
    case = _case_for_update(ctx=ctx, case_id=case_id)
    plan = _draft_for_update(case=case)
    _check_lock(current=plan.lock_version, given=lock_version, what=_("plan"))
    errors = {}
    if integration_goal is not None and (goal_errors := _goal_errors(integration_goal)):
        errors["integration_goal"] = goal_errors
    if review_date is not None and (date_errors := _review_date_errors(review_date)):
        errors["review_date"] = date_errors
    if errors:
        raise PlanInputError(errors)
    changed = {}
    if integration_goal is not None and integration_goal.strip() != plan.integration_goal:
        plan.integration_goal = integration_goal.strip()
        changed["integration_goal"] = True
    if review_date is not None and review_date != plan.review_date:
        changed["review_date"] = [plan.review_date.isoformat(), review_date.isoformat()]
        plan.review_date = review_date
    if not changed:
        return plan
    plan.lock_version += 1
    _full_clean(plan, validate_constraints=False)
    plan.save(update_fields=["integration_goal", "review_date", "lock_version"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        customer_id=case.customer_id,
        detail={"version": _plan_label(plan), "changed": changed},
    )
    return plan


@transaction.atomic
def plan_agree(
    *, ctx: AuditContext, case_id: int, lock_version: int, agreement_note: str
) -> CooperationPlan:
    """Record that the customer agreed the draft (text form, no signature: who, when, how).

    The previously agreed plan of the case becomes superseded; the case's goal review date is the
    plan's review date from now on.
    """
    case = _case_for_update(ctx=ctx, case_id=case_id)
    plan = _draft_for_update(case=case)
    _check_lock(current=plan.lock_version, given=lock_version, what=_("plan"))
    errors = {}
    if not agreement_note.strip():
        errors["agreement_note"] = [
            _("Record how the plan was agreed with the customer (e.g. in the conversation).")
        ]
    if goal_errors := _goal_errors(plan.integration_goal):
        errors["integration_goal"] = goal_errors
    if date_errors := _review_date_errors(plan.review_date):
        errors["review_date"] = date_errors
    if errors:
        raise PlanInputError(errors)
    if not plan.steps.exists():
        raise ApplicationError(_("A plan needs at least one step before it can be agreed."))

    previous = case.plans.select_for_update().filter(status=PlanStatus.AGREED).first()
    if previous is not None:
        previous.status = PlanStatus.SUPERSEDED
        previous.lock_version += 1
        previous.save(update_fields=["status", "lock_version"])
    plan.status = PlanStatus.AGREED
    plan.agreed_at = timezone.now()
    plan.agreed_by = ctx.actor
    plan.agreement_note = agreement_note.strip()
    plan.lock_version += 1
    _full_clean(plan)
    plan.save(update_fields=["status", "agreed_at", "agreed_by", "agreement_note", "lock_version"])
    case.review_due = plan.review_date
    case.save(update_fields=["review_due", "updated_at"])
    case_open_steps_due_refresh(case=case)
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        customer_id=case.customer_id,
        detail={
            "status": PlanStatus.AGREED,
            "version": _plan_label(plan),
            "superseded": previous.pk if previous else None,
            "review_date": plan.review_date.isoformat(),
        },
    )
    _event(
        ctx=ctx,
        case=case,
        kind=CaseEvent.Kind.PLAN_AGREED,
        summary=_("Cooperation plan %(version)s agreed with the customer: %(how)s")
        % {"version": _plan_label(plan), "how": plan.agreement_note[:200]},
        data={
            "plan_id": plan.pk,
            "version": _plan_label(plan),
            "superseded_plan_id": previous.pk if previous else None,
            "review_date": plan.review_date.isoformat(),
        },
    )
    return plan


# --- steps of the draft ---------------------------------------------------------------------------


@transaction.atomic
def plan_steps_add(*, ctx: AuditContext, case_id: int, steps: list[StepInput]) -> list[PlanStep]:
    """Add one or more steps to the draft. If one of them is invalid, none is saved."""
    case = _case_for_update(ctx=ctx, case_id=case_id)
    plan = _draft_for_update(case=case)
    if not steps:
        raise ApplicationError(_("Give at least one step."))
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        for field, messages in _step_errors(step).items():
            key = field if len(steps) == 1 else f"steps.{index}.{field}"
            errors[key] = messages
    if errors:
        raise PlanInputError(errors)
    position = plan.steps.aggregate(last=Max("position"))["last"] or 0
    created = []
    for step in steps:
        position += 1
        instance = PlanStep(
            plan=plan,
            position=position,
            responsible=step.responsible,
            responsible_name=step.responsible_name.strip()
            if step.responsible == StepResponsible.THIRD_PARTY
            else "",
            description=step.description.strip(),
            due_date=step.due_date,
        )
        _full_clean(instance)
        instance.save()
        created.append(instance)
    for instance in created:
        audit_record(
            ctx=ctx,
            action=AuditAction.CREATE,
            object_type=STEP_OBJECT,
            object_id=instance.pk,
            customer_id=case.customer_id,
            detail={"plan_id": plan.pk, "version": _plan_label(plan)},
        )
    return created


@transaction.atomic
def plan_step_update(
    *, ctx: AuditContext, case_id: int, step_id: int, lock_version: int, step: StepInput
) -> PlanStep:
    """Change the content of a step of the draft (who, what, by when)."""
    case = _case_for_update(ctx=ctx, case_id=case_id)
    instance = _step_for_update(case=case, step_id=step_id)
    if instance.plan.status != PlanStatus.DRAFT:
        raise ApplicationError(
            _(
                "Only the steps of a draft can be changed. To change the agreed plan, start a "
                "new version of it."
            )
        )
    _check_lock(current=instance.lock_version, given=lock_version, what=_("step"))
    errors = _step_errors(step, due_date_changed=step.due_date != instance.due_date)
    if errors:
        raise PlanInputError(errors)
    instance.responsible = step.responsible
    instance.responsible_name = (
        step.responsible_name.strip() if step.responsible == StepResponsible.THIRD_PARTY else ""
    )
    instance.description = step.description.strip()
    instance.due_date = step.due_date
    instance.lock_version += 1
    _full_clean(instance)
    instance.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=STEP_OBJECT,
        object_id=instance.pk,
        customer_id=case.customer_id,
        detail={"plan_id": instance.plan_id, "version": _plan_label(instance.plan)},
    )
    return instance


@transaction.atomic
def plan_step_delete(*, ctx: AuditContext, case_id: int, step_id: int, lock_version: int) -> None:
    """Remove a step from the draft."""
    case = _case_for_update(ctx=ctx, case_id=case_id)
    instance = _step_for_update(case=case, step_id=step_id)
    if instance.plan.status != PlanStatus.DRAFT:
        raise ApplicationError(
            _(
                "Only the steps of a draft can be removed. To change the agreed plan, start a "
                "new version of it."
            )
        )
    _check_lock(current=instance.lock_version, given=lock_version, what=_("step"))
    audit_record(
        ctx=ctx,
        action=AuditAction.DELETE,
        object_type=STEP_OBJECT,
        object_id=instance.pk,
        customer_id=case.customer_id,
        detail={
            "plan_id": instance.plan_id,
            "version": _plan_label(instance.plan),
            "description": instance.description[:200],
        },
    )
    instance.delete()


# --- progress on the agreed plan ------------------------------------------------------------------


def case_open_steps_due_fill(*, cases) -> int:
    """Set Case.open_steps_due for many cases in one UPDATE (after a bulk import of plans)."""
    earliest = (
        PlanStep.objects.filter(
            plan__case=OuterRef("pk"),
            plan__cycle=OuterRef("cycle"),
            plan__status=PlanStatus.AGREED,
            status=StepStatus.OPEN,
        )
        .order_by("due_date")
        .values("due_date")[:1]
    )
    return cases.exclude(phase=Phase.CLOSED).update(open_steps_due=Subquery(earliest))


def case_open_steps_due_refresh(*, case: Case) -> None:
    """Store on the case the earliest due date of an open step of its current agreed plan.

    Called by every write that changes the agreed plan or its steps, and by the phase change that
    starts a new cycle; the work queue reads the column instead of searching the steps per case.
    """
    earliest = PlanStep.objects.filter(
        plan__case=case,
        plan__cycle=case.cycle,
        plan__status=PlanStatus.AGREED,
        status=StepStatus.OPEN,
    ).aggregate(earliest=Min("due_date"))["earliest"]
    if earliest != case.open_steps_due:
        case.open_steps_due = earliest
        case.save(update_fields=["open_steps_due", "updated_at"])


@transaction.atomic
def plan_step_progress(
    *,
    ctx: AuditContext,
    case_id: int,
    step_id: int,
    lock_version: int,
    status: str | None = None,
    follow_up: str = "",
) -> PlanStep:
    """Implementation work on a step of the agreed plan: set its status, add a follow-up note.

    The step changes in place (no new plan version). A follow-up note is appended with the date
    and the author, so earlier notes stay as they were written.
    """
    case = _case_for_update(ctx=ctx, case_id=case_id)
    instance = _step_for_update(case=case, step_id=step_id)
    if instance.plan.status != PlanStatus.AGREED:
        raise ApplicationError(
            _(
                "Progress is recorded on the steps of the agreed plan, not on a draft or old version."
            )
        )
    _check_lock(current=instance.lock_version, given=lock_version, what=_("step"))
    if status is not None and status not in StepStatus.values:
        raise PlanInputError({"status": [_("Choose open, done or dropped.")]})
    follow_up = follow_up.strip()
    status_changed = status is not None and status != instance.status
    if not status_changed and not follow_up:
        raise PlanInputError({"follow_up": [_("Change the status or write a follow-up note.")]})
    previous_status = instance.status
    if status_changed:
        instance.status = status
        instance.status_changed_at = timezone.now()
    if follow_up:
        author = ctx.actor.get_username() if getattr(ctx.actor, "is_authenticated", False) else ""
        line = f"{_today():%d.%m.%Y} {author}: {follow_up}".strip()
        instance.follow_up = f"{instance.follow_up}\n{line}" if instance.follow_up else line
    instance.lock_version += 1
    _full_clean(instance)
    instance.save()
    case_open_steps_due_refresh(case=case)
    mirrored = _mirror_progress_into_draft(case=case, step=instance)
    detail = {"plan_id": instance.plan_id, "follow_up_added": bool(follow_up)}
    if mirrored is not None:
        detail["draft_step_id"] = mirrored.pk
    if status_changed:
        detail["status"] = [previous_status, instance.status]
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=STEP_OBJECT,
        object_id=instance.pk,
        customer_id=case.customer_id,
        detail=detail,
    )
    step_text = instance.description[:80]
    if status_changed and instance.status == StepStatus.DONE:
        summary = _("Step done: %(step)s") % {"step": step_text}
    elif status_changed and instance.status == StepStatus.DROPPED:
        summary = _("Step dropped: %(step)s") % {"step": step_text}
    elif status_changed:
        summary = _("Step reopened: %(step)s") % {"step": step_text}
    else:
        summary = _("Follow-up note on the step: %(step)s") % {"step": step_text}
    _event(
        ctx=ctx,
        case=case,
        kind=CaseEvent.Kind.STEP_UPDATED,
        summary=summary,
        data={
            "plan_id": instance.plan_id,
            "step_id": instance.pk,
            "status": instance.status,
            "follow_up": follow_up,
        },
    )
    return instance


def _mirror_progress_into_draft(*, case: Case, step: PlanStep) -> PlanStep | None:
    """Keep a new version being drafted in step with the implementation of the agreed plan.

    The draft copied the agreed steps; a copy whose content is still the same (same position,
    who, what and due date) is the same step, so its status and follow-up notes follow the agreed
    one. Otherwise agreeing the draft would silently undo progress recorded meanwhile. A copy the
    caseworker has changed in the draft is left alone: the draft is theirs to decide.
    """
    copy = (
        PlanStep.objects.select_for_update()
        .filter(
            plan__case=case,
            plan__status=PlanStatus.DRAFT,
            position=step.position,
            responsible=step.responsible,
            responsible_name=step.responsible_name,
            description=step.description,
            due_date=step.due_date,
        )
        .first()
    )
    if copy is None:
        return None
    copy.status = step.status
    copy.follow_up = step.follow_up
    copy.status_changed_at = step.status_changed_at
    copy.lock_version += 1
    copy.save(update_fields=["status", "follow_up", "status_changed_at", "lock_version"])
    return copy


# --- the PDF for the customer ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPdf:
    filename: str
    content: bytes
    language: str


@transaction.atomic
def plan_pdf_export(*, ctx: AuditContext, case_id: int, language: str) -> PlanPdf:
    """The agreed plan as a PDF in one template language, with an EXPORT audit row.

    A language without a template is refused by the callers (they offer only the languages that
    exist); here it falls back to German so a document always comes out.
    """
    try:
        case = case_visible_to(user=ctx.actor).select_related("customer").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise PlanNotFoundError(_("There is no case with this number for you.")) from None
    plan = (
        case.plans.filter(status=PlanStatus.AGREED)
        .select_related("agreed_by")
        .prefetch_related("steps")
        .first()
    )
    if plan is None:
        raise PlanNotFoundError(_("This case has no agreed cooperation plan yet."))
    content = plan_pdf_render(plan=plan, customer=case.customer, language=language)
    language = language if content.language == language else PDF_FALLBACK_LANGUAGE
    audit_record(
        ctx=ctx,
        action=AuditAction.EXPORT,
        object_type=PLAN_OBJECT,
        object_id=plan.pk,
        customer_id=case.customer_id,
        detail={"format": "pdf", "language": language, "version": _plan_label(plan)},
    )
    return PlanPdf(
        filename=plan_pdf_filename(plan=plan, customer=case.customer, language=language),
        content=content.data,
        language=language,
    )
