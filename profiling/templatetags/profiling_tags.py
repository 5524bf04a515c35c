"""The profile card on the case page: self-contained, no queries beyond the joined profile."""

from django import template

from profiling.display import field_label, field_value, profile_dimensions
from profiling.selectors import profile_of
from profiling.services import profile_snapshot

register = template.Library()

# The facts the card shows beside the levels; the profile page shows everything.
CARD_FACTS = (
    "school",
    "vocational",
    "german",
    "target_occupation",
    "work_months_5y",
    "months_unemployed",
    "driving_licence",
)


@register.inclusion_tag("profiling/partials/profile_card.html")
def profile_card(*, case, customer) -> dict:
    """The customer's current profile in brief, with the link to the profile page.

    `customer` comes from cases.selectors.case_get_for_user, which joins the profile: the card
    costs no query of its own.
    """
    profile = profile_of(customer)
    if profile is None:
        return {"case": case, "profile": None}
    values = profile_snapshot(profile)
    return {
        "case": case,
        "profile": profile,
        "facts": [(field_label(name), field_value(name, values[name])) for name in CARD_FACTS],
        "dimensions": profile_dimensions(values),
    }
