"""Writes of case notes (Vermerke).

A note is part of the case file. Its content (type, channel, date, text, tags) is never changed
once saved: a correction is a new note that names the note it corrects (`corrects_note_id`, kept
on the timeline entry and in the audit row), so the file always shows what was recorded when and
by whom. The one thing that may change is the checklist: its author may tick items later (or untick
one ticked by mistake); the incomplete flag follows and every change is audited with before/after.
"""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent, CaseNote, Channel, NoteTemplate, NoteType, Phase, Tag
from cases.selectors import case_visible_to
from jobcenter.exceptions import ApplicationError, ConflictError

NOTE_TEXT_MAX_LENGTH = 20_000
OBJECT_TYPE = "case_note"


class NoteValidationError(ApplicationError):
    """Bad input for one field of a note. `field` says which, so forms show it next to it."""

    def __init__(self, message: str, *, field: str, extra: dict | None = None) -> None:
        super().__init__(message, extra={"fields": {field: [message]}, **(extra or {})})
        self.field = field


class NoteCaseNotFoundError(ApplicationError):
    status_code = 404


class NoteCaseClosedError(ConflictError):
    pass


class NoteNotYoursError(ApplicationError):
    status_code = 403


def checklist_items(template: NoteTemplate | None) -> list[dict]:
    """The checklist of a template, as a list of {"key", "label", "required"}."""
    return list(template.checklist) if template is not None else []


def checklist_evaluate(*, items: list[dict], answers: dict | None) -> tuple[dict, list[str]]:
    """The answers for every item (unanswered = not ticked) and the labels of unticked required ones.

    An answer for a key the checklist does not have, or one that is not true/false, is refused.
    """
    answers = answers or {}
    if not isinstance(answers, dict):
        raise NoteValidationError(
            _("The checklist must map item keys to true or false."), field="checklist"
        )
    known = {item["key"] for item in items}
    unknown = sorted(str(key) for key in answers if key not in known)
    if unknown:
        raise NoteValidationError(
            _("The checklist of this note type has no item %(keys)s.")
            % {"keys": ", ".join(unknown)},
            field="checklist",
            extra={"unknown": unknown},
        )
    if any(not isinstance(value, bool) for value in answers.values()):
        raise NoteValidationError(
            _("Every checklist answer must be true or false."), field="checklist"
        )
    clean = {item["key"]: answers.get(item["key"], False) for item in items}
    missing = [item["label"] for item in items if item.get("required") and not clean[item["key"]]]
    return clean, missing


def _tags_resolve(*, tag_names: Iterable[str] | None, tag_ids: Iterable[int] | None) -> list[Tag]:
    """The active tags named (by name or id). Any unknown or inactive one is an error."""
    tags: dict[int, Tag] = {}
    names = sorted({str(name).strip() for name in tag_names or []})
    if names:
        found = {tag.name: tag for tag in Tag.objects.filter(name__in=names, active=True)}
        unknown = [name for name in names if name not in found]
        if unknown:
            raise NoteValidationError(
                _("Unknown or inactive tag: %(tags)s. Choose from the active tags.")
                % {"tags": ", ".join(unknown)},
                field="tags",
                extra={"unknown": unknown},
            )
        tags.update({tag.pk: tag for tag in found.values()})
    ids = sorted(set(tag_ids or []))
    if ids:
        found_ids = {tag.pk: tag for tag in Tag.objects.filter(pk__in=ids, active=True)}
        unknown_ids = [pk for pk in ids if pk not in found_ids]
        if unknown_ids:
            raise NoteValidationError(
                _("Unknown or inactive tag: %(tags)s. Choose from the active tags.")
                % {"tags": ", ".join(str(pk) for pk in unknown_ids)},
                field="tags",
                extra={"unknown": unknown_ids},
            )
        tags.update(found_ids)
    return sorted(tags.values(), key=lambda tag: tag.name)


def _case_for_writing(*, ctx: AuditContext, case_id: int) -> Case:
    # Locked so the case cannot be closed between the check below and the new note.
    case = case_visible_to(user=ctx.actor).select_for_update().filter(pk=case_id).first()
    if case is None:
        raise NoteCaseNotFoundError(_("There is no case with this number for you."))
    if case.phase == Phase.CLOSED:
        raise NoteCaseClosedError(_("This case is closed; notes can no longer be added."))
    return case


def _summary(text: str) -> str:
    return text if len(text) <= 300 else text[:299] + "…"


@transaction.atomic
def case_note_create(
    *,
    ctx: AuditContext,
    case_id: int,
    note_type: str,
    channel: str,
    occurred_on: datetime.date,
    text: str,
    tag_names: Iterable[str] | None = None,
    tag_ids: Iterable[int] | None = None,
    checklist: dict | None = None,
    corrects_note_id: int | None = None,
) -> CaseNote:
    """Record a note. A note that misses a required checklist item is saved and flagged."""
    case = _case_for_writing(ctx=ctx, case_id=case_id)
    if note_type not in NoteType.values:
        raise NoteValidationError(_("Choose a note type."), field="note_type")
    if channel not in Channel.values:
        raise NoteValidationError(_("Choose a channel."), field="channel")
    if not isinstance(occurred_on, datetime.date):
        raise NoteValidationError(_("Enter the date of the contact."), field="occurred_on")
    if occurred_on > timezone.localdate():
        raise NoteValidationError(
            _("The date cannot be in the future: a note records what has happened."),
            field="occurred_on",
        )
    text = (text or "").strip()
    if not text:
        raise NoteValidationError(_("Write what happened."), field="text")
    if len(text) > NOTE_TEXT_MAX_LENGTH:
        raise NoteValidationError(
            _("The text is too long (at most %(max)d characters).") % {"max": NOTE_TEXT_MAX_LENGTH},
            field="text",
        )
    corrected = None
    if corrects_note_id is not None:
        corrected = CaseNote.objects.filter(case=case, pk=corrects_note_id).first()
        if corrected is None:
            raise NoteValidationError(
                _("The note to be corrected is not a note of this case."),
                field="corrects_note_id",
            )
    tags = _tags_resolve(tag_names=tag_names, tag_ids=tag_ids)
    template = NoteTemplate.objects.filter(note_type=note_type).first()
    answers, missing = checklist_evaluate(items=checklist_items(template), answers=checklist)

    note = CaseNote(
        case=case,
        author=ctx.actor,
        note_type=note_type,
        channel=channel,
        occurred_on=occurred_on,
        text=text,
        checklist=answers,
        missing_items=missing,
        is_incomplete=bool(missing),
    )
    note.full_clean()
    note.save()
    note.tags.set(tags)

    tag_list = [tag.name for tag in tags]
    data = {
        "note_id": note.pk,
        "note_type": note_type,
        "channel": channel,
        "occurred_on": occurred_on.isoformat(),
        "tags": tag_list,
        "missing_items": missing,
    }
    values = {
        "type": note.get_note_type_display(),
        "date": formats.date_format(occurred_on, "SHORT_DATE_FORMAT"),
    }
    if corrected is not None:
        data["corrects_note_id"] = corrected.pk
        values["corrected"] = formats.date_format(corrected.occurred_on, "SHORT_DATE_FORMAT")
        summary = _("%(type)s of %(date)s recorded, correcting the note of %(corrected)s.") % values
    else:
        summary = _("%(type)s of %(date)s recorded.") % values
    if missing:
        summary += " " + _("Incomplete: %(missing)s.") % {"missing": "; ".join(missing)}
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.NOTE_ADDED,
        actor=ctx.actor,
        summary=_summary(summary),
        data=data,
    )
    # The audit row says what kind of note was written, never its text.
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=note.pk,
        customer_id=case.customer_id,
        detail={key: value for key, value in data.items() if key != "note_id"},
    )
    return note


@transaction.atomic
def case_note_checklist_update(
    *, ctx: AuditContext, case_id: int, note_id: int, checklist: dict
) -> CaseNote:
    """Answer the checklist of a note again, e.g. tick the items it missed. Only its author may.

    The answers are checked against the note type's current template. Answers to items an admin
    has since removed from the template are kept as they were. Missing answers count as unticked.
    """
    case = case_visible_to(user=ctx.actor).filter(pk=case_id).first()
    note = (
        CaseNote.objects.select_for_update().filter(case=case, pk=note_id).first()
        if case is not None
        else None
    )
    if note is None:
        raise NoteCaseNotFoundError(_("There is no such note in a case of yours."))
    if note.author_id != getattr(ctx.actor, "pk", None):
        raise NoteNotYoursError(
            _("Only the author of a note can answer its checklist: they know what was covered.")
        )
    template = NoteTemplate.objects.filter(note_type=note.note_type).first()
    items = checklist_items(template)
    answers, missing = checklist_evaluate(items=items, answers=checklist)
    current_keys = {item["key"] for item in items}
    kept = {key: value for key, value in note.checklist.items() if key not in current_keys}
    new_checklist = {**kept, **answers}
    if new_checklist == note.checklist and missing == note.missing_items:
        return note

    before = {
        "checklist": note.checklist,
        "missing_items": note.missing_items,
        "is_incomplete": note.is_incomplete,
    }
    note.checklist = new_checklist
    note.missing_items = missing
    note.is_incomplete = bool(missing)
    note.full_clean()
    note.save(update_fields=["checklist", "missing_items", "is_incomplete"])
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=note.pk,
        customer_id=case.customer_id,
        detail={
            "field": "checklist",
            "before": before,
            "after": {
                "checklist": note.checklist,
                "missing_items": note.missing_items,
                "is_incomplete": note.is_incomplete,
            },
        },
    )
    return note
