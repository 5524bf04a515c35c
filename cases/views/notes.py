"""Case notes in the browser: the card on the case page, the notes page, a note, writing one.

Every page works without JavaScript (plain GET forms, POST and redirect); with htmx the note form
opens inside the card on the case page, the chosen note type loads its template and checklist, and
a saved note appears in the card without leaving the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.forms_notes import (
    CHECK_PREFIX,
    DEFAULT_CHANNEL,
    NoteChecklistForm,
    NoteFilterForm,
    NoteForm,
)
from cases.models import Case, CaseNote, NoteType, Phase
from cases.selectors.notes import (
    NoteFilters,
    case_note_get_for_user,
    case_note_list_for_user,
    case_note_list_latest,
    note_case_get_for_user,
    note_template_get,
    note_template_list,
    tag_list,
)
from cases.services.notes import (
    OBJECT_TYPE,
    NoteValidationError,
    case_note_checklist_update,
    case_note_create,
)
from jobcenter.exceptions import ApplicationError

NOTES_PAGE_SIZE = 20


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _audit_listed(request: HttpRequest, case: Case, notes: list[CaseNote], view: str) -> None:
    audit_record_many(
        ctx=_ctx(request),
        action=AuditAction.LIST,
        object_type=OBJECT_TYPE,
        items=[(note.pk, case.customer_id) for note in notes],
        detail={"view": view},
    )


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """The full page, or only the named fragment for an htmx request."""
    if _is_htmx(request):
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# Writing a note


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _note_form_initial(note_type: str, data: dict | None = None) -> dict:
    """What the form starts from for a note type: its template text and usual channel.

    When the type changes, text the user has written stays; an untouched template text is
    replaced by the new type's template.
    """
    data = data or {}
    template = note_template_get(note_type=note_type)
    text = data.get("text", "")
    bodies = {_normalised(t.body) for t in note_template_list()}
    if not _normalised(text) or _normalised(text) in bodies:
        text = template.body if template else ""
    return {
        "note_type": note_type,
        "channel": DEFAULT_CHANNEL.get(note_type, data.get("channel", "")),
        "occurred_on": data.get("occurred_on") or timezone.localdate(),
        "text": text,
        "tags": data.get("tags", []),
    }


def _note_form(note_type: str, data=None, initial: dict | None = None) -> NoteForm:
    return NoteForm(
        data,
        initial=initial,
        template=note_template_get(note_type=note_type),
        tag_names=list(tag_list(active=True).values_list("name", flat=True)),
    )


def _form_context(request: HttpRequest, case: Case, form: NoteForm, inline: bool) -> dict:
    return {
        "case": case,
        "customer": case.customer,
        "form": form,
        "inline": inline,
        "case_closed": case.phase == Phase.CLOSED,
    }


def _render_form(
    request: HttpRequest, case: Case, form: NoteForm, inline: bool, status: int = 200
) -> HttpResponse:
    context = _form_context(request, case, form, inline)
    if _is_htmx(request):
        response = render(request, "cases/partials/notes_form.html", context, status=status)
        if request.method == "POST":
            # The form posts into the card; a form with errors (or a new template) replaces
            # itself instead.
            response = retarget(response, "#note-form")
            response = reswap(response, "outerHTML")
    else:
        response = render(request, "cases/note_form.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _render_card(request: HttpRequest, case: Case, status_message: str = "") -> HttpResponse:
    notes = case_note_list_latest(user=request.user, case_id=case.pk)
    _audit_listed(request, case, notes, view="notes_card")
    context = {
        "case": case,
        "latest_notes": notes,
        "note_count": case_note_list_for_user(user=request.user, case_id=case.pk).count(),
        "status_message": status_message,
    }
    response = render(request, "cases/partials/notes_card.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_http_methods(["GET", "POST"])
@login_required
def case_note_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Write a note: the form (full page, or inside the card for htmx), and saving it."""
    _require_case_reader(request)
    case = note_case_get_for_user(user=request.user, case_id=case_id)
    inline = (request.POST if request.method == "POST" else request.GET).get("inline") == "1"
    if request.method == "GET":
        note_type = request.GET.get("note_type", "")
        if note_type not in NoteType.values:
            note_type = NoteType.CONVERSATION
        form = _note_form(note_type, initial=_note_form_initial(note_type))
        return _render_form(request, case, form, inline)

    note_type = request.POST.get("note_type", "")
    if request.POST.get("action") == "load_template":
        # Another note type was chosen: show its template and checklist, save nothing.
        if note_type not in NoteType.values:
            note_type = NoteType.CONVERSATION
        data = {
            "text": request.POST.get("text", ""),
            "channel": request.POST.get("channel", ""),
            "occurred_on": request.POST.get("occurred_on", ""),
            "tags": request.POST.getlist("tags"),
        }
        form = _note_form(note_type, initial=_note_form_initial(note_type, data))
        return _render_form(request, case, form, inline)

    form = _note_form(note_type, data=request.POST)
    if not form.is_valid():
        return _render_form(request, case, form, inline, status=400)
    data = form.cleaned_data
    try:
        note = case_note_create(
            ctx=_ctx(request),
            case_id=case.pk,
            note_type=data["note_type"],
            channel=data["channel"],
            occurred_on=data["occurred_on"],
            text=data["text"],
            tag_names=data["tags"],
            checklist=form.checklist_answers(),
        )
    except NoteValidationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _render_form(request, case, form, inline, status=400)
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _render_form(request, case, form, inline, status=error.status_code)

    if note.is_incomplete:
        message = _("The note is saved. It is marked incomplete: %(missing)s is missing.") % {
            "missing": "; ".join(note.missing_items)
        }
    else:
        message = _("The note is saved.")
    if _is_htmx(request) and inline:
        return _render_card(request, case, status_message=message)
    (messages.warning if note.is_incomplete else messages.success)(request, message)
    return redirect(reverse("cases:case_detail", args=[case.pk]) + "#notes-heading")


@require_GET
@login_required
def case_note_card_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The notes card of the case page alone: htmx puts it back when the inline form is cancelled."""
    _require_case_reader(request)
    case = note_case_get_for_user(user=request.user, case_id=case_id)
    return _render_card(request, case)


# Reading notes


@require_GET
@login_required
def case_note_list_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """All notes of a case, newest first, filtered by type, tag and completeness, paged."""
    _require_case_reader(request)
    case = note_case_get_for_user(user=request.user, case_id=case_id)
    form = NoteFilterForm(
        request.GET or None, tag_names=list(tag_list().values_list("name", flat=True))
    )
    context: dict = {"case": case, "customer": case.customer, "form": form, "page": None}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        filters = NoteFilters(
            note_type=data.get("note_type", ""),
            tag=data.get("tag", ""),
            incomplete=True if data.get("incomplete") else None,
        )
        paginator = Paginator(
            case_note_list_for_user(user=request.user, case_id=case.pk, filters=filters),
            NOTES_PAGE_SIZE,
        )
        page = paginator.get_page(data.get("page") or 1)
        _audit_listed(request, case, list(page.object_list), view="note_list")
        context["page"] = page
    return _render(request, "cases/note_list.html", "note-list-results", context, status=status)


def _detail_context(request: HttpRequest, note: CaseNote, form: NoteChecklistForm) -> dict:
    case = note.case
    checklist = [{**item, "done": bool(note.checklist.get(item["key"]))} for item in form.checklist]
    return {
        "case": case,
        "customer": case.customer,
        "note": note,
        "form": form,
        "checklist": checklist,
        "may_answer": note.author_id == request.user.pk,
    }


def _checklist_form(note: CaseNote, data=None) -> NoteChecklistForm:
    return NoteChecklistForm(
        data,
        initial={CHECK_PREFIX + key: value for key, value in note.checklist.items()},
        template=note_template_get(note_type=note.note_type),
    )


@require_GET
@login_required
def case_note_detail_view(request: HttpRequest, case_id: int, note_id: int) -> HttpResponse:
    """One note in full, with its checklist; its author can tick what it missed."""
    _require_case_reader(request)
    note = case_note_get_for_user(user=request.user, case_id=case_id, note_id=note_id)
    note.case = note_case_get_for_user(user=request.user, case_id=case_id)
    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type=OBJECT_TYPE,
        object_id=note.pk,
        customer_id=note.case.customer_id,
    )
    context = _detail_context(request, note, _checklist_form(note))
    return render(request, "cases/note_detail.html", context)


@require_POST
@login_required
def case_note_checklist_view(request: HttpRequest, case_id: int, note_id: int) -> HttpResponse:
    """Answer the checklist of a note again (its author only); the incomplete flag follows."""
    _require_case_reader(request)
    note = case_note_get_for_user(user=request.user, case_id=case_id, note_id=note_id)
    note.case = note_case_get_for_user(user=request.user, case_id=case_id)
    form = _checklist_form(note, data=request.POST)
    status = 200
    if form.is_valid():
        try:
            note = case_note_checklist_update(
                ctx=_ctx(request),
                case_id=case_id,
                note_id=note.pk,
                checklist=form.checklist_answers(),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            status = error.status_code
        else:
            if not _is_htmx(request):
                messages.success(request, _("The checklist of the note is saved."))
                return redirect("cases:note_detail", case_id=case_id, note_id=note.pk)
            note.case = note_case_get_for_user(user=request.user, case_id=case_id)
            form = _checklist_form(note)
    else:
        status = 400
    context = _detail_context(request, note, form)
    context["saved"] = status == 200
    return _render(request, "cases/note_detail.html", "note-checklist", context, status=status)
