"""Reads of cases and customers. Every query starts from what the asking user may see."""

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.db.models import Case as DbCase
from django.db.models.functions import Coalesce, Least, TruncDate
from django.http import Http404
from django.utils import timezone

from cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    CasePolicy,
    Customer,
    Phase,
)
from organisation.models import User


def case_visible_to(*, user: User):
    """The cases a user may read: those of their own team. Admins read no case contents."""
    if not getattr(user, "is_authenticated", False) or not user.reads_cases:
        return Case.objects.none()
    return Case.objects.for_team(user.team_id)


def customer_visible_to(*, user: User):
    """Customers who have a case with the user's team."""
    cases = case_visible_to(user=user).filter(customer_id=OuterRef("pk"))
    return Customer.objects.filter(Exists(cases))


class Queue:
    """The tabs of the work queue.

    MINE: cases with me as fixed caseworker, and team-queue cases I have claimed.
    TEAM: the team queue: cases without a fixed caseworker (claimed or not; who claimed is shown).
    ALL: every case of the team (offered in the UI to team leads).
    """

    MINE = "mine"
    TEAM = "team"
    ALL = "all"
    CHOICES = (MINE, TEAM, ALL)


class Due:
    """What is due on a case, most urgent first (the order of URGENCY below).

    REVIEW: the goal review date has been reached (Case.review_due <= today).
    STEPS: a step of the case's current agreed plan is open past its due date.
    PROFILING: the case has been in profiling longer than CasePolicy.profiling_overdue_days.
    SUGGESTION: an AI suggestion differs from the case's customer group and awaits a person's
    decision (Case.suggestion_pending, kept by profiling.services.suggestions).
    MISSED: a missed appointment waits for the caseworker's review: good reason, hearing, or no
    further action (Case.missed_appointment_pending, kept by scheduling.services_appointments).
    CALLBACK: the customer asked for a call-back through their rebooking link and nobody has
    handled it yet (an open scheduling.CallbackRequest of the case).
    NOTES: a case note is flagged incomplete.
    ANY: at least one of them.
    """

    REVIEW = "review_due"
    STEPS = "steps_overdue"
    PROFILING = "profiling_overdue"
    SUGGESTION = "suggestion_pending"
    MISSED = "missed_appointment"
    CALLBACK = "callback_requested"
    NOTES = "notes_incomplete"
    ANY = "any"
    CATEGORIES = (REVIEW, STEPS, PROFILING, SUGGESTION, MISSED, CALLBACK, NOTES)
    CHOICES = (*CATEGORIES, ANY)


@dataclass(frozen=True)
class CaseFilters:
    phase: str = ""
    customer_group: str = ""
    overdue: bool = False
    q: str = ""
    mine: bool = False
    queue: str = Queue.ALL
    due: str = ""

    NO_GROUP = "none"


def _due_flag_fields() -> tuple[str, ...]:
    return tuple(f"due_{category}" for category in Due.CATEGORIES)


def case_annotate_due(qs, *, today: date | None = None):
    """Add what is due to each case, in the same query (Exists/Subquery, no query per row).

    Annotations: due_review_due, due_steps_overdue, due_profiling_overdue,
    due_suggestion_pending, due_missed_appointment, due_callback_requested, due_notes_incomplete
    (booleans), oldest_overdue_step (date or None),
    urgency (0 most urgent .. 3 nothing due) and due_since (the date the most urgent item fell
    due, for ordering within a rank).

    Urgency ranks: 0 goal review due or steps overdue (commitments to the customer, ordered by how
    long they have been due), 1 profiling taking too long (ordered by how long), an AI
    suggestion to decide, a missed appointment to review or a call-back requested, 2 only
    incomplete notes, 3 nothing due.
    """
    from scheduling.models import CallbackRequest  # scheduling builds on cases, not the reverse

    today = today or timezone.localdate()
    # Read, not get_or_create: a GET writes nothing, and the query count stays the same.
    policy = CasePolicy.objects.filter(pk=1).first() or CasePolicy()
    profiling_limit = timezone.now() - timedelta(days=policy.profiling_overdue_days)
    review_due = Q(review_due__lte=today) & ~Q(phase=Phase.CLOSED)
    profiling_overdue = Q(phase=Phase.PROFILING, phase_since__lt=profiling_limit)
    # Case.open_steps_due is kept by the plan services: the earliest open step of the agreed plan.
    # (IS NOT NULL first: a comparison with NULL is NULL, and the flag must be a plain false.)
    steps_overdue = Q(open_steps_due__isnull=False) & Q(open_steps_due__lt=today)
    suggestion_pending = Q(suggestion_pending=True) & ~Q(phase=Phase.CLOSED)
    # Kept by the missed-appointment services; a closed case's review still shows (it needs a
    # decision whatever the case's phase).
    missed_appointment = Q(missed_appointment_pending=True)
    qs = qs.annotate(
        due_review_due=ExpressionWrapper(review_due, output_field=BooleanField()),
        due_steps_overdue=ExpressionWrapper(steps_overdue, output_field=BooleanField()),
        oldest_overdue_step=DbCase(
            When(steps_overdue, then=F("open_steps_due")),
            default=Value(None),
            output_field=DateField(),
        ),
        due_profiling_overdue=ExpressionWrapper(profiling_overdue, output_field=BooleanField()),
        due_suggestion_pending=ExpressionWrapper(suggestion_pending, output_field=BooleanField()),
        due_missed_appointment=ExpressionWrapper(missed_appointment, output_field=BooleanField()),
        due_callback_requested=Exists(CallbackRequest.objects.open().filter(case=OuterRef("pk"))),
        due_notes_incomplete=Exists(
            CaseNote.objects.filter(case=OuterRef("pk"), is_incomplete=True)
        ),
    )
    urgent = review_due | steps_overdue
    return qs.annotate(
        urgency=DbCase(
            When(urgent, then=Value(0)),
            When(profiling_overdue | suggestion_pending | missed_appointment, then=Value(1)),
            When(due_callback_requested=True, then=Value(1)),
            When(due_notes_incomplete=True, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        # The date the most urgent item fell due.
        due_since=DbCase(
            When(
                steps_overdue,
                then=Least(
                    F("oldest_overdue_step"),
                    Coalesce(
                        DbCase(When(review_due, then=F("review_due")), output_field=DateField()),
                        Value(date.max),
                    ),
                ),
            ),
            When(review_due, then=F("review_due")),
            When(profiling_overdue, then=TruncDate("phase_since")),
            default=Value(None),
            output_field=DateField(),
        ),
    )


def _due_filter(due: str) -> Q:
    if due == Due.ANY:
        return Q(urgency__lt=3)
    return Q(**{f"due_{due}": True})


def _queue_filter(*, user: User, queue: str) -> Q:
    if queue == Queue.MINE:
        return Q(caseworker=user) | Q(claimed_by=user)
    if queue == Queue.TEAM:
        return Q(caseworker__isnull=True)
    return Q()


def _filtered(*, user: User, filters: CaseFilters, with_due: bool = True):
    """The visible cases under the filters; `with_due=False` skips the due annotations when
    nothing asks for them (the phase and tab counts without a due filter)."""
    today = timezone.localdate()
    qs = case_visible_to(user=user)
    qs = qs.filter(phase=filters.phase) if filters.phase else qs.open()
    if filters.customer_group == CaseFilters.NO_GROUP:
        qs = qs.filter(customer_group="")
    elif filters.customer_group:
        qs = qs.filter(customer_group=filters.customer_group)
    if filters.overdue:
        qs = qs.overdue(today)
    if filters.q:
        qs = qs.search(filters.q)
    if filters.mine:
        qs = qs.filter(caseworker=user)
    qs = qs.filter(_queue_filter(user=user, queue=filters.queue))
    if not (with_due or filters.due):
        return qs
    qs = case_annotate_due(qs, today=today)
    if filters.due:
        qs = qs.filter(_due_filter(filters.due))
    return qs


def case_list_for_user(*, user: User, filters: CaseFilters | None = None):
    """The work queue and the case list API: the user's visible cases, filtered, most urgent first.

    Order: urgency rank (see case_annotate_due), then the longest due first, then the soonest goal
    review, name and id. Each row carries its due flags, so a page of rows is one query.
    """
    filters = filters or CaseFilters()
    return (
        _filtered(user=user, filters=filters)
        .select_related("customer", "caseworker", "claimed_by", "team")
        .order_by(
            "urgency",
            F("due_since").asc(nulls_last=True),
            F("review_due").asc(nulls_last=True),
            "customer__last_name",
            "id",
        )
    )


def case_due_counts_for_user(*, user: User, filters: CaseFilters | None = None) -> dict[str, int]:
    """How many cases have each kind of due item, under every filter except `due`. One query."""
    filters = replace(filters or CaseFilters(), due="")
    aggregates = {
        category: Count("pk", filter=Q(**{f"due_{category}": True})) for category in Due.CATEGORIES
    }
    aggregates[Due.ANY] = Count("pk", filter=Q(urgency__lt=3))
    return _filtered(user=user, filters=filters).order_by().aggregate(**aggregates)


def case_queue_counts_for_user(*, user: User, filters: CaseFilters | None = None) -> dict[str, int]:
    """How many cases each tab holds, under every other filter. One query."""
    filters = replace(filters or CaseFilters(), queue=Queue.ALL)
    qs = _filtered(user=user, filters=filters, with_due=False).order_by()
    return qs.aggregate(
        **{
            queue: Count("pk", filter=_queue_filter(user=user, queue=queue))
            for queue in Queue.CHOICES
        }
    )


def case_lock_for_user(*, user: User, case_id: int) -> Case:
    """One case the user may see, locked for the rest of the transaction (for writes), or 404."""
    try:
        return case_visible_to(user=user).select_for_update().get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_get_for_user(*, user: User, case_id: int) -> Case:
    """One case the user may see, or 404: another team's case looks exactly like a missing one."""
    try:
        return (
            case_visible_to(user=user)
            .select_related(
                "customer__household", "customer__profile", "caseworker", "claimed_by", "team"
            )
            .prefetch_related(
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
                "customer__employment",
            )
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def customer_list_for_user(*, user: User, q: str = ""):
    qs = customer_visible_to(user=user).select_related("household")
    if q:
        qs = qs.search(q)
    return qs.order_by("last_name", "first_name", "id")


def customer_get_for_user(*, user: User, customer_id: int) -> Customer:
    try:
        return (
            customer_visible_to(user=user)
            .select_related("household", "profile")
            .get(pk=customer_id)
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_phase_counts_for_user(*, user: User, filters: CaseFilters | None = None) -> dict[str, int]:
    """How many of the user's visible cases are in each phase, under every filter except the phase.

    The work queue shows these beside the results; one query whatever the number of cases.
    """
    filters = replace(filters or CaseFilters(), phase="")
    rows = (
        _filtered(user=user, filters=filters, with_due=False)
        .order_by()
        .values("phase")
        .annotate(count=Count("pk"))
    )
    return {row["phase"]: row["count"] for row in rows}
