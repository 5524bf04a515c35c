"""Reads of the customer profile. Every one starts from the customers and cases the user may see."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from cases.models import Case, Customer
from cases.selectors import case_visible_to, customer_get_for_user
from organisation.models import User
from profiling.models import Profile, ProfileVersion


def profile_case_get_for_user(*, user: User, case_id: int) -> Case:
    """The case whose profile page is asked for, with customer and profile, or 404."""
    try:
        return (
            case_visible_to(user=user).select_related("customer__profile", "team").get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def profile_customer_get_for_user(*, user: User, customer_id: int) -> Customer:
    """A customer with a case in the user's team (with the profile joined), or 404."""
    return customer_get_for_user(user=user, customer_id=customer_id)


def profile_of(customer: Customer) -> Profile | None:
    """The customer's current profile, or None. No query when the profile was joined."""
    return getattr(customer, "profile", None)


def _end_of(day: date) -> datetime:
    """The last moment of a day in the jobcenter's time zone."""
    start = datetime.combine(day + timedelta(days=1), time.min, timezone.get_current_timezone())
    return start - timedelta(microseconds=1)


def profile_get_at(*, user: User, customer_id: int, at: date | datetime) -> ProfileVersion | None:
    """The version of the profile that was valid at `at` (a date means: at the end of that day)."""
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    moment = at if isinstance(at, datetime) else _end_of(at)
    return (
        ProfileVersion.objects.filter(customer=customer, valid_from__lte=moment)
        .select_related("author")
        .order_by("-valid_from", "-version")
        .first()
    )


def profile_version_list(*, user: User, customer_id: int) -> QuerySet[ProfileVersion]:
    """The customer's profile versions, newest first, with their authors."""
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    return (
        ProfileVersion.objects.filter(customer=customer)
        .select_related("author")
        .order_by("-version")
    )
