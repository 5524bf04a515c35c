"""Planning runs in the browser: the team's runs, one run with its figures and invitations.

Thin views over scheduling.services_planning (the API calls the same services). Runs are read
through `planning_run_get_for_user` (own team only, else 404). The run page polls its progress
partial while the run computes (htmx; a plain reload link without JavaScript) and reloads the
page once it is done. Once invitations are approved it polls their sending the same way ("n of m
sent") until none is waiting. Single invitations are approved or rejected in place: the items
partial comes back with the outcome or the error message (400 / 403 / 409). Rejecting may name a
date before which the case is not invited again; the hold shows on the case page, where
`contact_agreement_hold_lift_view` lifts it.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record_many
from cases.models import Channel
from cases.selectors import case_get_for_user
from jobcenter.exceptions import ApplicationError
from organisation.models import Role, User
from scheduling.models import (
    PlanningDecision,
    PlanningOutcome,
    PlanningRun,
    PlanningRunStatus,
)
from scheduling.selectors import MAX_DAYS_AHEAD
from scheduling.services_agreements import contact_agreement_hold_lift
from scheduling.services_planning import (
    ITEM_FILTER_ALL,
    ITEM_FILTER_FALLBACK,
    ITEM_FILTER_LEFT_OUT,
    ITEM_FILTER_PENDING,
    ITEM_FILTER_REJECTED,
    ITEM_FILTER_UNPLACED,
    ITEM_FILTERS,
    planning_item_approve,
    planning_item_get_for_user,
    planning_item_reason_text,
    planning_item_reject,
    planning_run_approve,
    planning_run_discard,
    planning_run_get_for_user,
    planning_run_item_counts,
    planning_run_item_query,
    planning_run_list_for_user,
    planning_run_request,
    planning_run_sending,
)

LIST_TEMPLATE = "scheduling/planning_list.html"
DETAIL_TEMPLATE = "scheduling/planning_detail.html"
LIST_LIMIT = 50
ITEMS_PAGE_SIZE = 50
CHART_WIDTH = 560
CHART_LABEL_WIDTH = 200
CHART_BAR_WIDTH = 280


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _require_team_member(request: HttpRequest) -> None:
    """Caseworkers and team leads plan; admins and others get a 404 (as for another team)."""
    if not getattr(request.user, "reads_cases", False) or request.user.team_id is None:
        raise Http404(_("There is nothing at this address."))


def _is_team_lead(user: User, run: PlanningRun | None = None) -> bool:
    team_id = run.team_id if run is not None else user.team_id
    return user.role == Role.TEAM_LEAD and user.team_id == team_id


# --- the list --------------------------------------------------------------------------------------


@login_required
@require_GET
def planning_list_view(request: HttpRequest) -> HttpResponse:
    _require_team_member(request)
    runs = list(planning_run_list_for_user(user=request.user)[:LIST_LIMIT])
    return render(
        request,
        LIST_TEMPLATE,
        {
            "runs": runs,
            "can_start": _is_team_lead(request.user),
            "running": any(run.status == PlanningRunStatus.RUNNING for run in runs),
        },
    )


@login_required
@require_POST
def planning_start_view(request: HttpRequest) -> HttpResponse:
    """ "Plan now": open a run and compute it in a worker after the commit."""
    _require_team_member(request)
    try:
        run = planning_run_request(ctx=_ctx(request), team_id=request.user.team_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("scheduling:planning_list")
    messages.success(request, _("The planning run has started."))
    return redirect("scheduling:planning_detail", run_id=run.pk)


# --- one run -----------------------------------------------------------------------------------------


def _chart(run: PlanningRun) -> dict | None:
    """Bars of the utilisation per staff member (booked / available minutes over the horizon)."""
    utilisation = (run.metrics or {}).get("utilisation_by_staff") or {}
    if not utilisation:
        return None
    names = {
        str(user.pk): user.get_full_name() or user.username
        for user in User.objects.filter(pk__in=[int(k) for k in utilisation])
    }
    rows = []
    for index, (staff_id, value) in enumerate(
        sorted(utilisation.items(), key=lambda item: (names.get(item[0], ""), item[0]))
    ):
        y = index * 24
        rows.append(
            {
                "name": names.get(staff_id, staff_id),
                "value": value,
                "percent": round(value * 100),
                "y": y,
                "text_y": y + 16,
                "width": round(min(max(value, 0.0), 1.0) * CHART_BAR_WIDTH),
            }
        )
    return {
        "rows": rows,
        "width": CHART_WIDTH,
        "height": len(rows) * 24 + 4,
        "label_width": CHART_LABEL_WIDTH,
        "value_x": CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 8,
    }


def _channel_label(value: str) -> str:
    return str(dict(Channel.choices).get(value, value))


def _item_rows(items, run: PlanningRun) -> list[dict]:
    return [
        {
            "item": item,
            "reason_text": planning_item_reason_text(item, run),
            "channel_label": _channel_label(item.proposed_channel),
            "pending": item.decision == PlanningDecision.PENDING
            and item.outcome == PlanningOutcome.PLACED
            and item.appointment is not None
            and item.appointment.status == "planned",
        }
        for item in items
    ]


def _item_filter_labels() -> dict[str, str]:
    return {
        ITEM_FILTER_ALL: _("All"),
        ITEM_FILTER_UNPLACED: _("Not placed"),
        ITEM_FILTER_FALLBACK: _("With a colleague instead of the own caseworker"),
        ITEM_FILTER_PENDING: _("Awaiting decision"),
        ITEM_FILTER_REJECTED: _("Rejected"),
        ITEM_FILTER_LEFT_OUT: _("Left out at approval"),
    }


def _item_filter(params) -> str:
    value = params.get("filter", "")
    return value if value in ITEM_FILTERS else ITEM_FILTER_ALL


def _items_query(item_filter: str, page_number: int) -> str:
    """The query string that keeps the filter and the page (empty for the defaults)."""
    params = {}
    if item_filter != ITEM_FILTER_ALL:
        params["filter"] = item_filter
    if page_number > 1:
        params["page"] = page_number
    return "?" + urlencode(params) if params else ""


def _detail_context(request: HttpRequest, run: PlanningRun, params=None, **extra) -> dict:
    """The page's context: one page (ITEMS_PAGE_SIZE) of the filtered items and the filter counts.

    `params` holds `filter` and `page` (GET for the page, POST for a decision on one item)."""
    params = request.GET if params is None else params
    item_filter = _item_filter(params)
    page = None
    page_range: list = []
    filters: list[tuple[str, str, int]] = []
    items: list = []
    if run.status != PlanningRunStatus.RUNNING:
        counts = planning_run_item_counts(run=run)
        labels = _item_filter_labels()
        filters = [(name, labels[name], counts[name]) for name in ITEM_FILTERS]
        paginator = Paginator(
            planning_run_item_query(run=run, filter=item_filter),
            ITEMS_PAGE_SIZE,
        )
        paginator.count = counts[item_filter]  # known already: saves the COUNT query
        page = paginator.get_page(params.get("page"))
        page_range = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
        items = list(page.object_list)
    if items:
        audit_record_many(
            ctx=_ctx(request),
            action=AuditAction.LIST,
            object_type="case",
            items=[(item.case_id, item.case.customer_id) for item in items],
            detail={"view": "planning_run", "run_id": run.pk},
        )
    metrics = run.metrics or {}
    today = timezone.localdate()
    return {
        "run": run,
        "rows": _item_rows(items, run),
        "sending": planning_run_sending(run=run),
        "hold_min": (today + dt.timedelta(days=1)).isoformat(),
        "hold_max": (today + dt.timedelta(days=MAX_DAYS_AHEAD)).isoformat(),
        "page": page,
        "page_range": page_range,
        "item_filter": item_filter,
        "item_filters": filters,
        "items_query": _items_query(item_filter, page.number if page else 1),
        "metrics": metrics,
        "chart": _chart(run),
        "is_team_lead": _is_team_lead(request.user, run),
        "is_open": run.status == PlanningRunStatus.PROPOSED,
        "placed_share": (run.placed_count / run.bound) if run.bound else None,
        **extra,
    }


def _render_detail(
    request: HttpRequest, context: dict, *, fragment: str | None = None, status: int = 200
) -> HttpResponse:
    template = DETAIL_TEMPLATE
    if fragment and request.htmx and not request.htmx.history_restore_request:
        template = f"{DETAIL_TEMPLATE}#{fragment}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def planning_detail_view(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_team_member(request)
    run = planning_run_get_for_user(user=request.user, run_id=run_id)
    if request.htmx and request.GET.get("fragment") == "progress":
        if run.status != PlanningRunStatus.RUNNING:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"  # done: show the whole page with its results
            return response
        return _render_detail(request, {"run": run}, fragment="planning-progress")
    if request.htmx and request.GET.get("fragment") == "sending":
        context = {"run": run, "sending": planning_run_sending(run=run)}
        return _render_detail(request, context, fragment="planning-sending")
    # Filter and page links (hx-get) replace only the invitations; a boosted or history
    # request gets the whole page.
    fragment = None if request.htmx.boosted else "planning-items"
    return _render_detail(request, _detail_context(request, run), fragment=fragment)


def _decide_run(request: HttpRequest, run_id: int, service, done) -> HttpResponse:
    """`done(run)` gives the success message."""
    _require_team_member(request)
    run = planning_run_get_for_user(user=request.user, run_id=run_id)
    try:
        decided = service(ctx=_ctx(request), run_id=run.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done(decided))
    return redirect("scheduling:planning_detail", run_id=run.pk)


def _approved_message(run: PlanningRun) -> str:
    left_out = len(getattr(run, "left_out", []))
    if not left_out:
        return _("The run is approved; the invitations are being sent.")
    return ngettext(
        "The run is approved; the invitations are being sent. %(count)s invitation no longer "
        "fitted the calendar and was left out (filter “Left out at approval”).",
        "The run is approved; the invitations are being sent. %(count)s invitations no longer "
        "fitted the calendar and were left out (filter “Left out at approval”).",
        left_out,
    ) % {"count": left_out}


@login_required
@require_POST
def planning_run_approve_view(request: HttpRequest, run_id: int) -> HttpResponse:
    return _decide_run(request, run_id, planning_run_approve, _approved_message)


@login_required
@require_POST
def planning_run_discard_view(request: HttpRequest, run_id: int) -> HttpResponse:
    return _decide_run(
        request, run_id, planning_run_discard, lambda _run: _("The run is discarded.")
    )


def _page_number(params) -> int:
    value = params.get("page", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _decide_item(request: HttpRequest, item_id: int, decide) -> HttpResponse:
    _require_team_member(request)
    item = planning_item_get_for_user(user=request.user, item_id=item_id)
    run = planning_run_get_for_user(user=request.user, run_id=item.run_id)
    status, error, done = 200, "", ""
    try:
        done = decide(item)
    except ApplicationError as exc:
        status, error = exc.status_code, exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        query = _items_query(_item_filter(request.POST), _page_number(request.POST))
        return redirect(
            reverse("scheduling:planning_detail", args=[run.pk]) + query + "#planning-items"
        )
    run.refresh_from_db()
    context = _detail_context(
        request,
        run,
        request.POST,
        item_error=error,
        item_error_id=item.pk,
        item_message=done,
    )
    return _render_detail(request, context, fragment="planning-items", status=status)


@login_required
@require_POST
def planning_item_approve_view(request: HttpRequest, item_id: int) -> HttpResponse:
    def decide(item) -> str:
        planning_item_approve(ctx=_ctx(request), item_id=item.pk)
        return _("The invitation is approved and is being sent.")

    return _decide_item(request, item_id, decide)


def _hold_until(value: str) -> dt.date | None:
    """The optional date of the reject form (YYYY-MM-DD, as a date input sends it)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(
            _("Please enter the date as day, month and year, e.g. 2027-01-15.")
        ) from None


@login_required
@require_POST
def planning_item_reject_view(request: HttpRequest, item_id: int) -> HttpResponse:
    def decide(item) -> str:
        hold_until = _hold_until(request.POST.get("hold_until", ""))
        planning_item_reject(
            ctx=_ctx(request),
            item_id=item.pk,
            reason=request.POST.get("reason", ""),
            hold_until=hold_until,
        )
        if hold_until is None:
            return _(
                "The invitation is rejected. The case is not invited again until someone lifts "
                "the hold on the case page or changes its contact agreement."
            )
        return _("The invitation is rejected. The case is not invited again before %(date)s.") % {
            "date": date_format(hold_until, "SHORT_DATE_FORMAT")
        }

    return _decide_item(request, item_id, decide)


# --- the hold on a case (shown in the contact agreement card of the case page) ---------------------


@login_required
@require_POST
def contact_agreement_hold_lift_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Lift the hold of a rejected invitation: the case is invited again from the next run. The
    card comes back for htmx; a plain POST is redirected to the case page (303)."""
    from scheduling.views_appointments import CARD, CARD_ID, appointments_card_context

    if not getattr(request.user, "reads_cases", False):
        raise Http404(_("There is nothing at this address."))
    case = case_get_for_user(user=request.user, case_id=case_id)
    error, message, status = "", "", 200
    try:
        contact_agreement_hold_lift(ctx=_ctx(request), case_id=case.pk)
    except ApplicationError as exc:
        error, status = exc.message, exc.status_code
    else:
        message = _("The hold is lifted: the case is invited again from the next planning run.")
    if request.htmx:
        context = {
            **appointments_card_context(request, case, error=error, message=message),
            "appt_oob": True,
        }
        response = render(request, CARD, context, status=status)
        patch_vary_headers(response, ("HX-Request",))
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    response = redirect(reverse("cases:case_detail", args=[case.pk]) + f"#{CARD_ID}")
    response.status_code = 303
    return response


urlpatterns = [
    path("planning/", planning_list_view, name="planning_list"),
    path("planning/start/", planning_start_view, name="planning_start"),
    path("planning/runs/<int:run_id>/", planning_detail_view, name="planning_detail"),
    path(
        "planning/runs/<int:run_id>/approve/",
        planning_run_approve_view,
        name="planning_run_approve",
    ),
    path(
        "planning/runs/<int:run_id>/discard/",
        planning_run_discard_view,
        name="planning_run_discard",
    ),
    path(
        "planning/items/<int:item_id>/approve/",
        planning_item_approve_view,
        name="planning_item_approve",
    ),
    path(
        "planning/items/<int:item_id>/reject/",
        planning_item_reject_view,
        name="planning_item_reject",
    ),
    path(
        "cases/<int:case_id>/contact-agreement/hold/lift/",
        contact_agreement_hold_lift_view,
        name="contact_agreement_hold_lift",
    ),
]
