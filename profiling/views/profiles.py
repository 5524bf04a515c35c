"""The profile page of a case: read the profile as of a date, see its history, capture and edit it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.models import Case
from profiling.display import profile_dimensions
from profiling.forms import AsOfForm, ProfileForm
from profiling.selectors import (
    profile_case_get_for_user,
    profile_get_at,
    profile_of,
    profile_version_list,
)
from profiling.services import (
    ProfileConflictError,
    ProfileInvalidError,
    profile_snapshot,
    profile_update,
)

HISTORY_LIMIT = 50
TEMPLATE = "profiling/profile_detail.html"


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _context(request: HttpRequest, case: Case, form: ProfileForm | None = None) -> dict:
    customer = case.customer
    profile = profile_of(customer)
    values = profile_snapshot(profile) if profile is not None else {}
    if form is None:
        form = ProfileForm(
            initial=ProfileForm.initial_for(values, profile.version if profile else 0),
            languages_in_profile=len(values.get("other_languages") or []),
        )
    versions = profile_version_list(user=request.user, customer_id=customer.pk)[:HISTORY_LIMIT]
    return {
        "case": case,
        "customer": customer,
        "profile": profile,
        "dimensions": profile_dimensions(values) if profile is not None else [],
        "form": form,
        "sections": form.sections(),
        "versions": list(versions),
    }


def _render(
    request: HttpRequest, context: dict, *, partial: str | None = None, status: int = 200
) -> HttpResponse:
    template = TEMPLATE
    if partial and request.htmx and not request.htmx.history_restore_request:
        template = f"{TEMPLATE}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _audit_view(request: HttpRequest, case: Case, detail: dict | None = None) -> None:
    audit_record(
        ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
        action=AuditAction.VIEW,
        object_type="profile",
        object_id=case.customer_id,
        customer_id=case.customer_id,
        detail=detail or {},
    )


@require_GET
@login_required
def profile_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The profile of the case's customer: the form, the history, and the profile as of a date."""
    _require_case_reader(request)
    case = profile_case_get_for_user(user=request.user, case_id=case_id)
    as_of_form = AsOfForm(request.GET or None)
    context = _context(request, case)
    context["as_of_form"] = as_of_form
    status = 200
    as_of = None
    if as_of_form.is_bound and not as_of_form.is_valid():
        status = 400
    elif as_of_form.is_bound and as_of_form.cleaned_data.get("at"):
        as_of = as_of_form.cleaned_data["at"]
        version = profile_get_at(user=request.user, customer_id=case.customer_id, at=as_of)
        context["as_of"] = as_of
        context["as_of_version"] = version
        context["as_of_dimensions"] = profile_dimensions(version.snapshot) if version else []
    _audit_view(request, case, detail={"at": as_of.isoformat()} if as_of else {})
    partial = "profile-as-of" if as_of_form.is_bound else None
    return _render(request, context, partial=partial, status=status)


@require_POST
@login_required
def profile_update_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Save the profile form; the second of two concurrent saves is refused (409)."""
    _require_case_reader(request)
    case = profile_case_get_for_user(user=request.user, case_id=case_id)
    form = ProfileForm(request.POST)
    status = 400
    conflict = None
    if form.is_valid():
        try:
            profile_update(
                ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
                customer_id=case.customer_id,
                data=form.profile_data(),
                expected_version=form.cleaned_data["version"],
            )
        except ProfileConflictError as error:
            conflict = error.message
            status = 409
        except ProfileInvalidError as error:
            form.add_service_errors(error.extra.get("fields", {}))
        else:
            message = _("The profile has been saved.")
            if not request.htmx:
                messages.success(request, message)
                # 303: the browser follows with a GET, so a reload does not post the form again.
                response = redirect(reverse("profiling:profile_detail", args=[case.pk]))
                response.status_code = 303
                return response
            # Fresh data: the new version number in the form, the new entry in the history.
            case = profile_case_get_for_user(user=request.user, case_id=case_id)
            context = _context(request, case)
            context["saved_message"] = message
            return _render(request, context, partial="profile-workspace")
    # Not saved: the form comes back with the profile's history, which is a read of its own.
    _audit_view(request, case)
    context = _context(request, case, form=form)
    context["conflict"] = conflict
    return _render(request, context, partial="profile-workspace", status=status)
