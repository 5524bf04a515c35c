"""How profile values read on the pages: labels, choice names, yes/no, languages, level badges."""

from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from profiling.languages import language_name
from profiling.models import DIMENSIONS, Dimension, Need, Profile

# How a level is flagged (KERN badge variants). Motivation runs the other way round.
NEED_BADGE = {Need.NONE: "success", Need.SOME: "warning", Need.HIGH: "danger"}
MOTIVATION_BADGE = {"low": "danger", "medium": "warning", "high": "success"}


def field_label(name: str) -> str:
    return str(capfirst(Profile._meta.get_field(name).verbose_name))


def field_value(name: str, value) -> str:
    """A stored value as people read it: choice labels, yes/no, language names, a dash if empty."""
    field = Profile._meta.get_field(name)
    if name == "other_languages":
        if not value:
            return "–"
        return ", ".join(
            f"{language_name(item.get('code', ''))} {item.get('level', '')}"
            if item.get("level") != "native"
            else f"{language_name(item.get('code', ''))} ({_('native speaker')})"
            for item in value
        )
    if field.choices:
        return str(dict(field.flatchoices).get(value, value or "–"))
    if field.get_internal_type() == "BooleanField":
        if value is None:
            return _("not known")
        return _("yes") if value else _("no")
    if value in ("", None):
        return "–"
    return str(value)


@dataclass(frozen=True)
class DimensionView:
    """One dimension as the pages show it: label, level, badge, note and the facts behind it."""

    dimension: Dimension
    level: str
    level_label: str
    badge: str
    note: str
    facts: list[tuple[str, str]]


def profile_dimensions(values: dict) -> list[DimensionView]:
    """The dimensions of a profile (a version snapshot or profile_snapshot()) for display."""
    result = []
    for dimension in DIMENSIONS:
        level = values.get(dimension.level_field, "")
        badges = MOTIVATION_BADGE if dimension.key == "motivation" else NEED_BADGE
        result.append(
            DimensionView(
                dimension=dimension,
                level=level,
                level_label=field_value(dimension.level_field, level),
                badge=badges.get(level, "info"),
                note=values.get(dimension.note_field, ""),
                facts=[
                    (field_label(name), field_value(name, values.get(name)))
                    for name in dimension.facts
                ],
            )
        )
    return result
