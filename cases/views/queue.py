from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.forms import CaseFilterForm
from cases.models import Phase
from cases.selectors import case_get_for_user, case_list_for_user, case_phase_counts_for_user
from profiling.models import Need

WORK_QUEUE_PAGE_SIZE = 25

# How a need dimension of the profile is flagged on the case page (KERN badge variants).
NEED_BADGE = {Need.NONE: "success", Need.SOME: "warning", Need.HIGH: "danger"}
PROFILE_FACTS = (
    "school",
    "vocational",
    "foreign_qualification",
    "german",
    "target_occupation",
    "work_months_5y",
    "months_unemployed",
    "months_in_benefit",
    "driving_licence",
    "motivation",
)
PROFILE_NEEDS = ("health", "care", "housing", "debt", "digital")
# Where a model's field name alone would be ambiguous on the page ("German" could be citizenship).
PROFILE_LABELS = {"german": gettext_lazy("German language skills")}


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _field_label(instance: models.Model, name: str) -> str:
    if name in PROFILE_LABELS:
        return str(PROFILE_LABELS[name])
    return capfirst(instance._meta.get_field(name).verbose_name)


def _field_value(instance: models.Model, name: str) -> str:
    """A field's value as people read it: choice labels, yes/no, a dash when empty."""
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if field.choices:
        return getattr(instance, f"get_{name}_display")()
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if value in ("", None):
        return "–"
    return str(value)


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
    form = CaseFilterForm(request.GET or None)
    context: dict = {"form": form, "page": None, "page_range": [], "phase_counts": []}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.to_filters() if form.is_bound else CaseFilterForm.empty_filters()
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
    customer = case.customer
    profile = getattr(customer, "profile", None)
    context = {
        "case": case,
        "customer": customer,
        "household": customer.household,
        "preferred_language": _language_name(customer.preferred_language),
        "profile": profile,
        "profile_facts": [],
        "profile_needs": [],
        "employment": customer.employment.all(),
        "events": case.events.all(),
    }
    if profile is not None:
        context["profile_facts"] = [
            (_field_label(profile, name), _field_value(profile, name)) for name in PROFILE_FACTS
        ]
        context["profile_needs"] = [
            (
                _field_label(profile, name),
                _field_value(profile, name),
                NEED_BADGE.get(getattr(profile, name), "info"),
            )
            for name in PROFILE_NEEDS
        ]
    return render(request, "cases/case_detail.html", context)
