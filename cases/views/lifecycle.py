"""The case page's lifecycle controls: change the phase, claim and release a team-queue case.

Each view calls the same service as the API. htmx requests get the lifecycle fragment back (with
the timeline and the header badges swapped out of band); without JavaScript the form posts
normally and the browser is redirected to the case page (or back to the work queue).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.forms import CaseTransitionForm
from cases.selectors import CaseFilters, Queue, case_get_for_user, case_list_for_user
from cases.services.lifecycle import case_transition, case_transition_options
from cases.services.queue import case_claim, case_release
from cases.views.queue import _require_case_reader, case_page_context
from jobcenter.exceptions import ApplicationError

LIFECYCLE_PARTIAL = "cases/partials/lifecycle_response.html"
QUEUE_ROW_PARTIAL = "cases/case_list.html#work-queue-row"


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _audit_view(request: HttpRequest, case) -> None:
    """The re-rendered fragment shows the case again: that read is logged like the page."""
    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )


def _case_response(request: HttpRequest, case_id: int, *, status: int = 200, **extra):
    """The case page (status != 200: with the error) or, for htmx, the lifecycle fragment."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    _audit_view(request, case)
    context = case_page_context(request, case, **extra)
    template = LIFECYCLE_PARTIAL if request.htmx else "cases/case_detail.html"
    return render(request, template, context, status=status)


def _next_url(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
@login_required
def case_transition_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """ "Change phase": the form offers what is possible now; the service has the last word."""
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    form = CaseTransitionForm(
        request.POST, options=case_transition_options(case=case), auto_id="id_transition_%s"
    )
    if not form.is_valid():
        return _case_response(request, case_id, status=400, transition_form=form)
    try:
        case_transition(
            ctx=_ctx(request),
            case_id=case_id,
            to=form.cleaned_data["to"],
            reason=form.cleaned_data["reason"],
            closure_reason=form.cleaned_data["closure_reason"],
        )
    except ApplicationError as error:
        fields = error.extra.get("fields") or {"to": error.message}
        for name, message in fields.items():
            form.add_error(name if name in form.fields else None, message)
        return _case_response(request, case_id, status=error.status_code, transition_form=form)
    if request.htmx:
        return _case_response(request, case_id, lifecycle_message=_("The phase was changed."))
    messages.success(request, _("The phase was changed."))
    return redirect("cases:case_detail", case_id=case_id)


def _claim_or_release(request: HttpRequest, case_id: int, *, service, done: str) -> HttpResponse:
    _require_case_reader(request)
    phase = case_get_for_user(user=request.user, case_id=case_id).phase  # 404 first
    from_queue = request.POST.get("source") == "queue"
    try:
        service(ctx=_ctx(request), case_id=case_id)
    except ApplicationError as error:
        if request.htmx:
            return _fragment(
                request,
                case_id,
                from_queue,
                phase=phase,
                status=error.status_code,
                claim_error=error.message,
            )
        messages.error(request, error.message)
        return redirect(_next_url(request) or reverse("cases:case_detail", args=[case_id]))
    if request.htmx:
        return _fragment(request, case_id, from_queue, phase=phase, lifecycle_message=done)
    messages.success(request, done)
    return redirect(_next_url(request) or reverse("cases:case_detail", args=[case_id]))


def _fragment(
    request: HttpRequest, case_id: int, from_queue: bool, *, phase: str, status: int = 200, **extra
) -> HttpResponse:
    """The case page's lifecycle fragment, or the team queue's row when the button was there."""
    if not from_queue:
        return _case_response(request, case_id, status=status, **extra)
    filters = CaseFilters(queue=Queue.ALL, phase=phase)
    case = case_list_for_user(user=request.user, filters=filters).get(pk=case_id)
    _audit_view(request, case)
    context = {
        "case": case,
        "row_message": extra.get("claim_error") or extra.get("lifecycle_message"),
        "row_error": "claim_error" in extra,
        "next_url": _next_url(request) or "",
    }
    return render(request, QUEUE_ROW_PARTIAL, context, status=status)


@require_POST
@login_required
def case_claim_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Take a team-queue case; from the case page or straight from the team queue's row."""
    return _claim_or_release(
        request, case_id, service=case_claim, done=_("You are now working on this case.")
    )


@require_POST
@login_required
def case_release_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Give a claimed case back to the team queue."""
    return _claim_or_release(
        request,
        case_id,
        service=case_release,
        done=_("The case is back in the team queue."),
    )
