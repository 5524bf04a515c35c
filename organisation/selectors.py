"""Reads of the organisation that do not depend on who asks."""

from organisation.models import Jobcenter


def jobcenter_get_for_customers() -> Jobcenter | None:
    """The jobcenter whose contact details customers see where no case names one (the page of a
    link that is not ours, say). One installation serves one jobcenter: the first one created."""
    return Jobcenter.objects.order_by("pk").first()
