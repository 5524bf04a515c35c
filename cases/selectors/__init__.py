"""Reads of cases and customers. Every query starts from what the asking user may see."""

from dataclasses import dataclass, replace

from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404
from django.utils import timezone

from cases.models import Case, CaseEvent, Customer
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


@dataclass(frozen=True)
class CaseFilters:
    phase: str = ""
    customer_group: str = ""
    overdue: bool = False
    q: str = ""
    mine: bool = False

    NO_GROUP = "none"


def case_list_for_user(*, user: User, filters: CaseFilters | None = None):
    """The work queue and the case list API: the user's visible cases, filtered, soonest due first."""
    filters = filters or CaseFilters()
    qs = case_visible_to(user=user)
    qs = qs.filter(phase=filters.phase) if filters.phase else qs.open()
    if filters.customer_group == CaseFilters.NO_GROUP:
        qs = qs.filter(customer_group="")
    elif filters.customer_group:
        qs = qs.filter(customer_group=filters.customer_group)
    if filters.overdue:
        qs = qs.overdue(timezone.localdate())
    if filters.q:
        qs = qs.search(filters.q)
    if filters.mine:
        qs = qs.filter(caseworker=user)
    return qs.select_related("customer", "caseworker", "team").order_by(
        "review_due", "customer__last_name", "id"
    )


def case_get_for_user(*, user: User, case_id: int) -> Case:
    """One case the user may see, or 404: another team's case looks exactly like a missing one."""
    try:
        return (
            case_visible_to(user=user)
            .select_related("customer__household", "customer__profile", "caseworker", "team")
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
        case_list_for_user(user=user, filters=filters)
        .order_by()
        .values("phase")
        .annotate(count=Count("pk"))
    )
    return {row["phase"]: row["count"] for row in rows}
