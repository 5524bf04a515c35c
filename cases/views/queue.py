from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.forms import DUE_LABELS, CaseFilterForm, CaseTransitionForm, queue_choices_for
from cases.models import Phase
from cases.selectors import (
    Due,
    case_due_counts_for_user,
    case_get_for_user,
    case_list_for_user,
    case_phase_counts_for_user,
    case_queue_counts_for_user,
)
from cases.services.lifecycle import case_transition_options
from organisation.models import Role
from profiling.views.suggestions import suggestion_card_context
from scheduling.views_appointments import appointments_card_context

WORK_QUEUE_PAGE_SIZE = 25


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _language_name(code: str) -> str:
    """The name of a language in the user's language, or the ISO code if Django does not know it."""
    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code


def _render_for_htmx(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """Full page for a normal request, only the named fragment for an htmx request."""
    if request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    """The work queue: the cases of the user's team, filtered and paged."""
    _require_case_reader(request)
    form = CaseFilterForm(request.GET or None, user=request.user)
    context: dict = {
        "form": form,
        "page": None,
        "page_range": [],
        "phase_counts": [],
        "queue_tabs": [],
        "due_counts": [],
    }
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.to_filters() if form.is_bound else form.empty_filters()
        paginator = Paginator(
            case_list_for_user(user=request.user, filters=filters), WORK_QUEUE_PAGE_SIZE
        )
        page_number = form.cleaned_data.get("page") if form.is_bound else 1
        page = paginator.get_page(page_number)
        audit_record_many(
            ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
            action=AuditAction.LIST,
            object_type="case",
            items=[(case.pk, case.customer_id) for case in page.object_list],
            detail={"view": "work_queue"},
        )
        counts = case_phase_counts_for_user(user=request.user, filters=filters)
        context["page"] = page
        context["page_range"] = paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        )
        context["active_phase"] = filters.phase
        context["active_queue"] = filters.queue
        context["active_due"] = filters.due
        queue_counts = case_queue_counts_for_user(user=request.user, filters=filters)
        context["queue_tabs"] = [
            (value, label, queue_counts[value]) for value, label in queue_choices_for(request.user)
        ]
        due_counts = case_due_counts_for_user(user=request.user, filters=filters)
        context["due_counts"] = [
            (value, DUE_LABELS[value], due_counts[value]) for value in (*Due.CATEGORIES, Due.ANY)
        ]
        context["phase_counts"] = [
            (value, label, counts.get(value, 0))
            for value, label in Phase.choices
            if value != Phase.CLOSED
        ]
    return _render_for_htmx(
        request, "cases/case_list.html", "work-queue-results", context, status=status
    )


@require_GET
@login_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """One case: the customer, the household, the profile, the work history and the timeline."""
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    audit_record(
        ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )
    return render(request, "cases/case_detail.html", case_page_context(request, case))


def case_page_context(request: HttpRequest, case, **extra) -> dict:
    """Everything the case page shows; the lifecycle views re-render parts of it."""
    customer = case.customer
    context = {
        "case": case,
        "customer": customer,
        "household": customer.household,
        "preferred_language": _language_name(customer.preferred_language),
        "employment": customer.employment.all(),
        "events": case.events.all(),
    }
    context.update(lifecycle_context(request, case, **extra))
    # The "KI-Profiling" section (issue 4): its card lives in the profiling app.
    context.update(suggestion_card_context(request, case))
    # "Termine und Einladungen" (issue 5): its card lives in the scheduling app.
    context.update(appointments_card_context(request, case))
    return context


def lifecycle_context(
    request: HttpRequest, case, *, transition_form: CaseTransitionForm | None = None, **extra
) -> dict:
    """The lifecycle parts of the case page: the phase form (only what is possible now) and the
    claim buttons. `transition_form` is a bound form with errors when a change was refused."""
    options = case_transition_options(case=case)
    if transition_form is None:
        transition_form = CaseTransitionForm(options=options, auto_id="id_transition_%s")
    user = request.user
    in_team_queue = case.caseworker_id is None and case.phase != Phase.CLOSED
    return {
        "transition_form": transition_form,
        "transition_options": options,
        "closing_possible": any(option.to == Phase.CLOSED for option in options),
        "implementation_possible": any(option.to == Phase.IMPLEMENTATION for option in options),
        "in_team_queue": in_team_queue,
        "can_claim": in_team_queue and case.claimed_by_id is None,
        "can_release": case.claimed_by_id is not None
        and (case.claimed_by_id == user.pk or user.role == Role.TEAM_LEAD),
        **extra,
    }
