"""Reads of case notes, note templates and the tag vocabulary.

Notes are customer data: every read starts from the cases the asking user may see. Templates and
tags are configuration, readable by all staff.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from cases.models import Case, CaseNote, NoteTemplate, Tag
from cases.selectors import case_visible_to
from organisation.models import User

# How many notes the card on the case page shows; the notes page has them all.
LATEST_NOTES = 5


@dataclass(frozen=True)
class NoteFilters:
    note_type: str = ""
    tag: str = ""
    # None: all notes; True: only flagged ones; False: only complete ones.
    incomplete: bool | None = None


def _with_related(notes: QuerySet[CaseNote]) -> QuerySet[CaseNote]:
    """Author and tags in two queries whatever the number of notes."""
    return notes.select_related("author").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


def note_case_get_for_user(*, user: User, case_id: int) -> Case:
    """The case whose notes are asked for, or 404 (another team's case looks like a missing one)."""
    try:
        return case_visible_to(user=user).select_related("customer").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_note_list_for_user(
    *, user: User, case_id: int, filters: NoteFilters | None = None
) -> QuerySet[CaseNote]:
    """The notes of one visible case, newest first, filtered. Empty for a case the user cannot see."""
    filters = filters or NoteFilters()
    notes = CaseNote.objects.filter(case__in=case_visible_to(user=user), case_id=case_id)
    if filters.note_type:
        notes = notes.filter(note_type=filters.note_type)
    if filters.tag:
        notes = notes.filter(tags__name=filters.tag)
    if filters.incomplete is not None:
        notes = notes.filter(is_incomplete=filters.incomplete)
    return _with_related(notes).order_by("-occurred_on", "-created_at", "-id")


def case_note_list_latest(*, user: User, case_id: int) -> list[CaseNote]:
    return list(case_note_list_for_user(user=user, case_id=case_id)[:LATEST_NOTES])


def case_note_get_for_user(*, user: User, case_id: int, note_id: int) -> CaseNote:
    try:
        return case_note_list_for_user(user=user, case_id=case_id).get(pk=note_id)
    except (CaseNote.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def tag_list(*, active: bool | None = None) -> QuerySet[Tag]:
    tags = Tag.objects.order_by("name", "id")
    return tags if active is None else tags.filter(active=active)


def note_template_list() -> QuerySet[NoteTemplate]:
    return NoteTemplate.objects.order_by("note_type")


def note_template_get(*, note_type: str) -> NoteTemplate | None:
    """The template of a note type, or None when admins have not set one up."""
    return NoteTemplate.objects.filter(note_type=note_type).first()
