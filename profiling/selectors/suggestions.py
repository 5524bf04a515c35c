"""Reads of AI suggestions for the case page's card and the API.

They take a case the caller already got through cases.selectors (case_get_for_user), so access
is decided there.
"""

from cases.models import Case
from profiling.models import ActionStrategy, ProfilingSuggestion

HISTORY_LIMIT = 20


def suggestion_list_for_case(*, case: Case):
    """The case's suggestions with their decisions, newest first (one query, no model artefact)."""
    return (
        ProfilingSuggestion.objects.filter(case=case)
        .select_related("requested_by", "rule_set", "model_version", "decision__decided_by")
        .defer(
            "model_version__artefact",
            "model_version__metrics",
            "model_version__model_card",
            "model_version__parameters",
            "rule_set__moves",
        )
        .order_by("-created_at", "-id")
    )


def suggestion_strategy_catalogue(*, suggestions) -> dict[str, dict]:
    """The catalogue entries ({"conditions", "description"}) of the strategies these suggestions
    name, by code. One query."""
    codes = {item["code"] for suggestion in suggestions for item in suggestion.strategies}
    if not codes:
        return {}
    return {
        row["code"]: row
        for row in ActionStrategy.objects.filter(code__in=codes).values(
            "code", "conditions", "description"
        )
    }
