"""The "KI-Profiling" card on the case page: ask the AI, read its reasons, decide, plan.

The card (templates/profiling/partials/suggestion_card.html, root element #ai-profiling) is part
of the case page (cases.views.queue.case_page_context adds `suggestion_card_context`). Each of its
forms posts to a view here that calls the same service as the API; an htmx request gets the card
back (a refusal with its message, status 400/409), a plain POST is redirected to the case page
(303) or, when refused, gets the case page with the message in the card.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.forms import CHECKBOX_CLASS, SELECT_CLASS, TEXTAREA_CLASS, KernFormMixin
from cases.models import Case, CustomerGroup, Phase
from cases.selectors import case_get_for_user
from jobcenter.exceptions import ApplicationError
from profiling.explanations import suggestion_present
from profiling.models import ModelStatus, ModelVersion
from profiling.selectors import profile_of
from profiling.selectors.suggestions import (
    HISTORY_LIMIT,
    suggestion_list_for_case,
    suggestion_strategy_catalogue,
)
from profiling.services.suggestions import (
    SuggestionNotFoundError,
    suggestion_create,
    suggestion_decide,
    suggestion_strategies_in_draft,
    suggestion_strategy_to_plan,
)

CARD = "profiling/partials/suggestion_card.html"
RADIO_CLASS = "kern-form-check__radio"
ACCEPT, OVERRIDE = "accept", "override"


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


class SuggestionDecisionForm(KernFormMixin, forms.Form):
    """Accept the suggested group or override it (another group and a reason); pick strategies."""

    suggestion = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            (ACCEPT, gettext_lazy("Accept the suggested group")),
            (OVERRIDE, gettext_lazy("Choose another group (override)")),
        ],
        widget=forms.RadioSelect(attrs={"class": RADIO_CLASS}),
        error_messages={"required": gettext_lazy("Accept the suggestion or override it.")},
    )
    group = forms.ChoiceField(
        label=gettext_lazy("Other customer group"),
        choices=[("", gettext_lazy("– choose –")), *CustomerGroup.choices],
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for overriding"),
        help_text=gettext_lazy("Required when you choose another group than the AI suggested."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3}),
    )
    strategies = forms.MultipleChoiceField(
        label=gettext_lazy("Strategies chosen with the customer"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": CHECKBOX_CLASS}),
    )

    def __init__(self, *args, suggestion, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_ai_%s")
        kwargs.setdefault("initial", {"suggestion": suggestion.pk})
        super().__init__(*args, **kwargs)
        self.suggested_group = suggestion.suggested_group
        self.fields["strategies"].choices = [
            (item["code"], item["name"]) for item in suggestion.strategies
        ]
        # The group the AI suggested is what "accept" means; overriding chooses another one.
        self.fields["group"].choices = [
            choice for choice in self.fields["group"].choices if choice[0] != self.suggested_group
        ]

    def clean(self):
        data = super().clean()
        if data.get("decision") == OVERRIDE and not data.get("group"):
            self.add_error("group", _("Choose the customer group you decide on."))
        return data

    def decision_input(self) -> dict:
        accepted = self.cleaned_data["decision"] == ACCEPT
        return {
            "accepted": accepted,
            "group": self.suggested_group if accepted else self.cleaned_data["group"],
            "reason": self.cleaned_data["reason"],
            "strategies": self.cleaned_data["strategies"],
        }

    def add_service_errors(self, error: ApplicationError) -> None:
        fields = error.extra.get("fields") or {}
        for name, texts in fields.items():
            target = name if name in ("group", "reason", "strategies") else None
            if name == "group" and self.cleaned_data.get("decision") == ACCEPT:
                target = "decision"
            for text in texts:
                self.add_error(target, text)
        if not fields:
            self.add_error(None, error.message)


def _model_url(number: int) -> str:
    try:
        return reverse("profiling:model_detail", args=[number])
    except NoReverseMatch:  # the model pages come with the model versions (issue 4)
        return ""


def suggestion_card_context(
    request: HttpRequest,
    case: Case,
    *,
    error: str = "",
    message: str = "",
    decision_form: SuggestionDecisionForm | None = None,
) -> dict:
    """What the card shows. A fixed number of queries whatever the history's length."""
    suggestions = list(suggestion_list_for_case(case=case)[:HISTORY_LIMIT])
    latest = suggestions[0] if suggestions else None
    shown = None
    if latest is not None:
        shown = suggestion_present(
            latest,
            catalogue=suggestion_strategy_catalogue(suggestions=[latest]),
            in_draft=suggestion_strategies_in_draft(case=case, suggestion=latest),
            latest=True,
        )
        shown["model_url"] = _model_url(latest.model_version.number)
    decided = shown is not None and shown["decision"] is not None
    if shown is not None and not decided and decision_form is None:
        decision_form = SuggestionDecisionForm(suggestion=latest)
    is_open = case.phase != Phase.CLOSED
    has_profile = profile_of(case.customer) is not None
    return {
        "ai_case": case,
        "ai_latest": shown,
        "ai_history": suggestions,
        "ai_decision_form": decision_form if is_open and not decided else None,
        "ai_open": is_open,
        "ai_has_profile": has_profile,
        "ai_model_active": ModelVersion.objects.filter(status=ModelStatus.ACTIVE).exists(),
        "ai_error": error,
        "ai_message": message,
        "ai_current_group": case.get_customer_group_display() if case.customer_group else "",
    }


def _respond(
    request: HttpRequest,
    case_id: int,
    *,
    error: ApplicationError | None = None,
    message: str = "",
    decision_form: SuggestionDecisionForm | None = None,
) -> HttpResponse:
    """The card for htmx; for a plain POST the case page (refused) or a redirect to it (done)."""
    case = case_get_for_user(user=request.user, case_id=case_id)
    status = error.status_code if error is not None else 200
    card = {
        "error": error.message if error is not None and decision_form is None else "",
        "message": message,
        "decision_form": decision_form,
    }
    if request.htmx:
        context = {**suggestion_card_context(request, case, **card), "ai_oob": True}
        response = render(request, CARD, context, status=status)
        patch_vary_headers(response, ("HX-Request",))
        return response
    if error is None:
        messages.success(request, message)
        response = redirect(reverse("cases:case_detail", args=[case.pk]) + "#ai-profiling")
        response.status_code = 303
        return response
    # Refused: the case page, with the message in the card (a read of the case, so logged).
    from cases.views.queue import case_page_context  # the case page includes this card

    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )
    context = case_page_context(request, case)
    context.update(suggestion_card_context(request, case, **card))
    return render(request, "cases/case_detail.html", context, status=status)


@require_POST
@login_required
def suggestion_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Ask the AI for a suggestion on this case."""
    _require_case_reader(request)
    try:
        suggestion_create(ctx=_ctx(request), case_id=case_id)
    except SuggestionNotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        return _respond(request, case_id, error=error)
    return _respond(
        request, case_id, message=_("The AI has made a suggestion. Check its reasons and decide.")
    )


@require_POST
@login_required
def suggestion_decide_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Accept or override the latest suggestion: this sets the customer group."""
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    latest = suggestion_list_for_case(case=case).first()
    if latest is None:
        raise Http404
    form = SuggestionDecisionForm(request.POST, suggestion=latest)
    if not form.is_valid():
        return _respond(
            request, case_id, error=ApplicationError(_("Check the decision.")), decision_form=form
        )
    try:
        decision = suggestion_decide(
            ctx=_ctx(request),
            case_id=case_id,
            suggestion_id=form.cleaned_data["suggestion"],
            **form.decision_input(),
        )
    except SuggestionNotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        if error.extra.get("fields"):
            form.add_service_errors(error)
            return _respond(request, case_id, error=error, decision_form=form)
        return _respond(request, case_id, error=error)
    if decision.outcome == "accepted":
        text = _("Decided: customer group %(group)s, as the AI suggested.")
    else:
        text = _("Decided: customer group %(group)s; the AI suggestion was overridden.")
    return _respond(request, case_id, message=text % {"group": CustomerGroup(decision.group).label})


@require_POST
@login_required
def suggestion_strategy_to_plan_view(
    request: HttpRequest, case_id: int, suggestion_id: int, code: str
) -> HttpResponse:
    """Take a suggested strategy's step into the draft of the cooperation plan."""
    _require_case_reader(request)
    try:
        step = suggestion_strategy_to_plan(
            ctx=_ctx(request), case_id=case_id, suggestion_id=suggestion_id, code=code
        )
    except SuggestionNotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        return _respond(request, case_id, error=error)
    plan = step.plan
    message = format_html(
        '{} <a class="kern-link" href="{}">{}</a>',
        _("The step was added to the draft %(version)s of the cooperation plan.")
        % {"version": f"{plan.cycle}.{plan.version}"},
        reverse("cases:plan_detail", args=[case_id]),
        _("Open the plan"),
    )
    return _respond(request, case_id, message=message)


urlpatterns = [
    path(
        "cases/<int:case_id>/profiling/",
        suggestion_create_view,
        name="suggestion_create",
    ),
    path(
        "cases/<int:case_id>/profiling/decision/",
        suggestion_decide_view,
        name="suggestion_decide",
    ),
    path(
        "cases/<int:case_id>/profiling/<int:suggestion_id>/strategies/<slug:code>/plan/",
        suggestion_strategy_to_plan_view,
        name="suggestion_strategy_to_plan",
    ),
]
