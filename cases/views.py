from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record, audit_record_many
from cases.forms import CaseFilterForm
from cases.selectors import case_get_for_user, case_list_for_user

WORK_QUEUE_PAGE_SIZE = 25


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


@require_GET
@login_required
def work_queue_view(request: HttpRequest) -> HttpResponse:
    _require_case_reader(request)
    form = CaseFilterForm(request.GET or None)
    page = None
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
    template = "cases/case_list.html"
    if request.htmx:
        template += "#work-queue-results"
    return render(request, template, {"form": form, "page": page}, status=status)


@require_GET
@login_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    audit_record(
        ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )
    return render(request, "cases/case_detail.html", {"case": case, "customer": case.customer})
