"""The cooperation plan in the browser: the plan page (draft editing, agreement, versions), the plan
card on the case page (step progress inline) and the PDF download.

Every form posts to its own view, which calls the service. Without JavaScript the view redirects
back (post/redirect/get); with htmx it answers with the fragment to swap. A broken rule re-renders
the fragment with the message next to the field (400); someone else's newer change is a 409 with
the message, never a silent overwrite.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.forms_plans import (
    PlanAgreeForm,
    PlanDraftCreateForm,
    PlanDraftForm,
    PlanStepDeleteForm,
    PlanStepEditForm,
    PlanStepForm,
    PlanStepProgressForm,
)
from cases.models import Case, CooperationPlan
from cases.pdf import PDF_LANGUAGES, plan_pdf_languages
from cases.selectors.plans import (
    plan_case_get_for_user,
    plan_get_for_case,
    plan_overview_for_case,
    plan_step_get_for_case,
)
from cases.services.plans import (
    PlanInputError,
    PlanNotFoundError,
    plan_agree,
    plan_default_review_date,
    plan_draft_create,
    plan_draft_update,
    plan_pdf_export,
    plan_step_delete,
    plan_step_progress,
    plan_step_update,
    plan_steps_add,
)
from jobcenter.exceptions import ApplicationError

PAGE = "cases/plan_detail.html"
CARD = "cases/partials/plan_card.html"


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _case(request: HttpRequest, case_id: int) -> Case:
    _require_case_reader(request)
    return plan_case_get_for_user(user=request.user, case_id=case_id)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _plan_url(case: Case) -> str:
    return reverse("cases:plan_detail", args=[case.pk])


def _language_name(code: str) -> str:
    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code


def plan_pdf_links(case: Case) -> list[tuple[str, str, str]]:
    """(language code, language name, URL) for each PDF the customer is offered."""
    return [
        (code, _language_name(code), reverse("cases:plan_pdf", args=[case.pk, code]))
        for code in plan_pdf_languages(customer=case.customer)
    ]


def _htmx_redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response


def _apply_error(form, error: ApplicationError) -> None:
    """Put the service's messages next to the fields they are about, the rest above the form."""
    if isinstance(error, PlanInputError):
        for field, field_messages in error.fields.items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def _status(error: ApplicationError | None, form=None) -> int:
    if error is not None:
        return error.status_code
    return 400 if form is not None and form.errors else 200


def _audit_view(request: HttpRequest, case: Case, plan: CooperationPlan | None, view: str) -> None:
    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type="cooperation_plan",
        object_id=plan.pk if plan else "",
        customer_id=case.customer_id,
        detail={"view": view},
    )


# --- the plan page --------------------------------------------------------------------------------


def _page_context(request: HttpRequest, case: Case, **bound) -> dict:
    """The plan page's context; `bound` replaces a form by the one the user just sent."""
    overview = plan_overview_for_case(case=case)
    draft = overview.draft
    context = {
        "case": case,
        "customer": case.customer,
        "overview": overview,
        "agreed": overview.agreed,
        "draft": draft,
        "versions": overview.versions,
        "pdf_links": plan_pdf_links(case) if overview.agreed else [],
        "error_step_id": bound.get("error_step_id"),
        "create_form": bound.get("create_form")
        or PlanDraftCreateForm(
            initial={"review_date": plan_default_review_date()} if overview.agreed is None else {}
        ),
    }
    if draft is not None:
        context["draft_form"] = bound.get("draft_form") or PlanDraftForm(
            initial={
                "integration_goal": draft.integration_goal,
                "review_date": draft.review_date,
                "lock_version": draft.lock_version,
            }
        )
        context["new_step_form"] = bound.get("new_step_form") or PlanStepForm(prefix="new")
        context["agree_form"] = bound.get("agree_form") or PlanAgreeForm(
            initial={"lock_version": draft.lock_version}
        )
        edited = bound.get("step_form")
        context["step_forms"] = [
            (
                step,
                edited
                if edited is not None and bound.get("error_step_id") == step.pk
                else PlanStepEditForm(
                    prefix=f"step-{step.pk}",
                    initial={
                        "responsible": step.responsible,
                        "responsible_name": step.responsible_name,
                        "description": step.description,
                        "due_date": step.due_date,
                        "lock_version": step.lock_version,
                    },
                ),
                PlanStepDeleteForm(
                    prefix=f"delete-{step.pk}", initial={"lock_version": step.lock_version}
                ),
            )
            for step in draft.steps.all()
        ]
    return context


def _draft_response(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    message: str = "",
    **bound,
) -> HttpResponse:
    """After a draft action: the draft fragment for htmx, a redirect (or the page on error) else."""
    if status < 400 and not _is_htmx(request):
        if message:
            messages.success(request, message)
        return redirect(f"{_plan_url(case)}#plan-draft")
    context = _page_context(request, case, **bound)
    context["status_message"] = message
    template = f"{PAGE}#plan-draft" if _is_htmx(request) else PAGE
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@login_required
def plan_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The plan page: the agreed plan, the draft to edit (or the button to start one), versions."""
    case = _case(request, case_id)
    context = _page_context(request, case)
    _audit_view(request, case, context["draft"] or context["agreed"], "plan_page")
    response = render(request, PAGE, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@login_required
def plan_draft_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = PlanDraftCreateForm(request.POST)
    error = None
    if form.is_valid():
        try:
            plan_draft_create(
                ctx=_ctx(request),
                case_id=case.pk,
                integration_goal=form.cleaned_data["integration_goal"] or None,
                review_date=form.cleaned_data["review_date"],
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    if status < 400 and _is_htmx(request):
        # The versions and the heading change too: let htmx load the whole page anew.
        messages.success(request, _("The draft of the plan was started."))
        return _htmx_redirect(_plan_url(case))
    return _draft_response(
        request,
        case,
        status=status,
        message=_("The draft of the plan was started.") if status < 400 else "",
        create_form=form if status >= 400 else None,
    )


@require_POST
@login_required
def plan_draft_update_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = PlanDraftForm(request.POST)
    error = None
    if form.is_valid():
        try:
            plan_draft_update(
                ctx=_ctx(request),
                case_id=case.pk,
                lock_version=form.cleaned_data["lock_version"],
                integration_goal=form.cleaned_data["integration_goal"],
                review_date=form.cleaned_data["review_date"],
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    return _draft_response(
        request,
        case,
        status=status,
        message=_("Goal and review date saved.") if status < 400 else "",
        draft_form=form if status >= 400 else None,
    )


@require_POST
@login_required
def plan_step_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = PlanStepForm(request.POST, prefix="new")
    error = None
    if form.is_valid():
        try:
            plan_steps_add(ctx=_ctx(request), case_id=case.pk, steps=[form.to_input()])
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    return _draft_response(
        request,
        case,
        status=status,
        message=_("The step was added.") if status < 400 else "",
        new_step_form=form if status >= 400 else None,
    )


@require_POST
@login_required
def plan_step_update_view(request: HttpRequest, case_id: int, step_id: int) -> HttpResponse:
    case = _case(request, case_id)
    step = plan_step_get_for_case(case=case, step_id=step_id)
    form = PlanStepEditForm(request.POST, prefix=f"step-{step.pk}")
    error = None
    if form.is_valid():
        try:
            plan_step_update(
                ctx=_ctx(request),
                case_id=case.pk,
                step_id=step.pk,
                lock_version=form.cleaned_data["lock_version"],
                step=form.to_input(),
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    return _draft_response(
        request,
        case,
        status=status,
        message=_("The step was saved.") if status < 400 else "",
        step_form=form if status >= 400 else None,
        error_step_id=step.pk if status >= 400 else None,
    )


@require_POST
@login_required
def plan_step_delete_view(request: HttpRequest, case_id: int, step_id: int) -> HttpResponse:
    case = _case(request, case_id)
    step = plan_step_get_for_case(case=case, step_id=step_id)
    form = PlanStepDeleteForm(request.POST, prefix=f"delete-{step.pk}")
    error = None
    if form.is_valid():
        try:
            plan_step_delete(
                ctx=_ctx(request),
                case_id=case.pk,
                step_id=step.pk,
                lock_version=form.cleaned_data["lock_version"],
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
    status = _status(error, form)
    if status >= 400:
        edit_form = PlanStepEditForm(
            prefix=f"step-{step.pk}",
            initial={
                "responsible": step.responsible,
                "responsible_name": step.responsible_name,
                "description": step.description,
                "due_date": step.due_date,
                "lock_version": step.lock_version,
            },
        )
        edit_form.add_error(None, error.message if error else _("The form was incomplete."))
        return _draft_response(
            request, case, status=status, step_form=edit_form, error_step_id=step.pk
        )
    return _draft_response(request, case, message=_("The step was removed."))


@require_POST
@login_required
def plan_agree_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = PlanAgreeForm(request.POST)
    error = None
    if form.is_valid():
        try:
            plan_agree(
                ctx=_ctx(request),
                case_id=case.pk,
                lock_version=form.cleaned_data["lock_version"],
                agreement_note=form.cleaned_data["agreement_note"],
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    if status < 400:
        messages.success(request, _("The plan was agreed. It is now the current plan."))
        if _is_htmx(request):
            # The whole page changes (agreed plan, versions, PDF): let htmx load it anew.
            return _htmx_redirect(_plan_url(case))
        return redirect(_plan_url(case))
    return _draft_response(request, case, status=status, agree_form=form)


@require_GET
@login_required
def plan_version_view(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    """One version of the plan, read-only (older versions stay readable)."""
    case = _case(request, case_id)
    plan = plan_get_for_case(case=case, plan_id=plan_id)
    _audit_view(request, case, plan, "plan_version")
    return render(request, "cases/plan_version.html", {"case": case, "plan": plan})


@require_GET
@login_required
def plan_pdf_view(request: HttpRequest, case_id: int, language: str) -> HttpResponse:
    """The agreed plan as a PDF for the customer (audit-logged as an export)."""
    _require_case_reader(request)
    if language not in PDF_LANGUAGES:
        raise Http404
    try:
        pdf = plan_pdf_export(ctx=_ctx(request), case_id=case_id, language=language)
    except PlanNotFoundError:
        raise Http404 from None
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- the plan card on the case page: progress on the agreed plan -----------------------------------


@require_POST
@login_required
def plan_step_progress_view(request: HttpRequest, case_id: int, step_id: int) -> HttpResponse:
    """Tick a step done, drop or reopen it, or add a follow-up note, without leaving the case."""
    case = _case(request, case_id)
    step = plan_step_get_for_case(case=case, step_id=step_id)
    form = PlanStepProgressForm(request.POST, prefix=f"progress-{step.pk}")
    error = None
    if form.is_valid():
        try:
            plan_step_progress(
                ctx=_ctx(request),
                case_id=case.pk,
                step_id=step.pk,
                lock_version=form.cleaned_data["lock_version"],
                status=form.cleaned_data["status"] or None,
                follow_up=form.cleaned_data["follow_up"],
            )
        except PlanNotFoundError:
            raise Http404 from None
        except ApplicationError as exc:
            error = exc
            _apply_error(form, exc)
    status = _status(error, form)
    if not _is_htmx(request):
        if status >= 400:
            messages.error(request, " ".join(_form_messages(form)))
        else:
            messages.success(request, _("The step was updated."))
        return redirect(f"{reverse('cases:case_detail', args=[case.pk])}#plan-step-{step.pk}")
    context = {
        "case": case,
        "card_error_step_id": step.pk if status >= 400 else None,
        "card_error": " ".join(_form_messages(form)) if status >= 400 else "",
        "card_follow_up": form.data.get(f"progress-{step.pk}-follow_up", "")
        if status >= 400
        else "",
    }
    response = render(request, CARD, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _form_messages(form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]
