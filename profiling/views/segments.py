"""The customer group rules page for admins: the rules in force, the groups' settings, and a form to
change the rules with a preview of how many customers would move. Only the admin role opens it.

Saving needs a preview of exactly the rules being saved: the preview puts a fingerprint of the
rules into the form; a save whose rules differ from it shows the new preview instead of saving.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditChannel
from audit.services import AuditContext
from cases.forms import INPUT_CLASS, SELECT_CLASS, TEXTAREA_CLASS, KernFormMixin
from cases.models import Channel, CustomerGroup
from jobcenter.exceptions import ApplicationError
from organisation.models import Role
from profiling.model.features import FEATURES
from profiling.rules import (
    SYMBOLS,
    RulesError,
    conditions_format,
    conditions_parse,
    rules_fingerprint,
    rules_lowest_threshold,
    rules_validate,
)
from profiling.services.segments import (
    SegmentRulesConflictError,
    rule_set_current,
    rule_set_list,
    rule_set_preview,
    rule_set_save,
    segment_config_list,
)

TEMPLATE = "profiling/segment_rules.html"
WORKSPACE = "segment-rules-workspace"
EXTRA_ROWS = 2
MAX_ROWS = 30
GROUP_LABELS = dict(CustomerGroup.choices)
CHANNEL_LABELS = dict(Channel.choices)


def _require_admin(request: HttpRequest) -> None:
    if request.user.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators configure the customer groups."))


def _percent_text(probability: float | None) -> str:
    return "" if probability is None else f"{probability * 100:g}"


# --- forms -----------------------------------------------------------------------------------------


class RuleRowForm(KernFormMixin, forms.Form):
    """One rule as a row: its position, group, probability bounds in percent and conditions."""

    number = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=1,
        max_value=99,
        required=False,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric", "min": 1}),
    )
    group = forms.ChoiceField(
        label=gettext_lazy("Customer group"),
        choices=[("", gettext_lazy("– no rule –")), *CustomerGroup.choices],
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    min_percent = forms.DecimalField(
        label=gettext_lazy("From (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "step": "any", "min": 0, "max": 100}),
    )
    max_percent = forms.DecimalField(
        label=gettext_lazy("Below (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "step": "any", "min": 0, "max": 100}),
    )
    conditions = forms.CharField(
        label=gettext_lazy("Conditions"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS, "autocomplete": "off"}),
    )

    def clean_conditions(self) -> list[dict]:
        try:
            return conditions_parse(self.cleaned_data.get("conditions", ""))
        except RulesError as error:
            raise forms.ValidationError(error.message, code="conditions") from None

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data
        return (
            not data.get("group")
            and not any(
                data.get(name) not in (None, "", []) for name in ("min_percent", "max_percent")
            )
            and not self.data.get(self.add_prefix("conditions"), "").strip()
        )

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and not data.get("group") and not self.is_blank:
            raise forms.ValidationError(
                _("Choose a customer group for this rule, or empty the row."), code="group"
            )
        return data

    def rule(self) -> dict:
        data = self.cleaned_data

        def probability(value: Decimal | None) -> float | None:
            return None if value is None else float(value / 100)

        return {
            "group": data["group"],
            "min_probability": probability(data.get("min_percent")),
            "max_probability": probability(data.get("max_percent")),
            "conditions": data.get("conditions") or [],
        }


RuleRowFormSet = forms.formset_factory(RuleRowForm, extra=0, max_num=MAX_ROWS, validate_max=True)


class RuleSetForm(KernFormMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        help_text=gettext_lazy("Required for saving; it is kept with the new version."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3}),
    )
    expected_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    previewed = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


def _row_initial(rules: list[dict]) -> list[dict]:
    return [
        {
            "number": number,
            "group": rule.get("group", ""),
            "min_percent": _percent_text(rule.get("min_probability")),
            "max_percent": _percent_text(rule.get("max_probability")),
            "conditions": conditions_format(rule.get("conditions") or []),
        }
        for number, rule in enumerate(rules, start=1)
    ]


def _fresh_forms(rules: list[dict], *, version: int, note: str = "", previewed: str = "") -> tuple:
    """Unbound forms showing `rules` in order, with a few empty rows to add rules."""
    initial = _row_initial(rules)
    initial += [{"number": len(initial) + index} for index in range(1, EXTRA_ROWS + 1)]
    rows = RuleRowFormSet(prefix="rules", initial=initial[:MAX_ROWS])
    form = RuleSetForm(initial={"expected_version": version, "note": note, "previewed": previewed})
    return rows, form


def _rules_from(rows) -> tuple[list[dict], list[RuleRowForm]]:
    """The rules of the filled rows, ordered by their position numbers.

    Two rows with the same number: the one the admin renumbered (its number is not its row's)
    comes first, so "2" in a new row puts its rule in second place; otherwise the row order.
    """
    filled = []
    for index, row in enumerate(rows.forms):
        if row.is_blank:
            continue
        number = row.cleaned_data.get("number") or index + 1
        filled.append(((number, number == index + 1, index), row))
    filled.sort(key=lambda item: item[0])
    ordered = [row for _key, row in filled]
    return [row.rule() for row in ordered], ordered


# --- what the page shows ---------------------------------------------------------------------------


@dataclass
class RuleLine:
    number: int
    group: str
    group_label: str
    from_percent: str
    below_percent: str
    conditions: str


def _rule_lines(rules: list[dict]) -> list[RuleLine]:
    return [
        RuleLine(
            number=number,
            group=rule.get("group", ""),
            group_label=str(GROUP_LABELS.get(rule.get("group"), rule.get("group"))),
            from_percent=_percent_text(rule.get("min_probability")),
            below_percent=_percent_text(rule.get("max_probability")),
            conditions=conditions_format(rule.get("conditions") or []),
        )
        for number, rule in enumerate(rules, start=1)
    ]


def _preview_lines(preview: dict) -> dict:
    moves = []
    for key, count in preview.get("moves", {}).items():
        source, _sep, target = key.partition("->")
        moves.append(
            {
                "from": str(GROUP_LABELS.get(source, source)),
                "to": str(GROUP_LABELS.get(target, target)),
                "count": count,
            }
        )
    groups = [
        {
            "label": str(label),
            "before": preview.get("by_group_before", {}).get(group, 0),
            "after": preview.get("by_group_after", {}).get(group, 0),
        }
        for group, label in CustomerGroup.choices
    ]
    return {**preview, "move_lines": moves, "group_lines": groups}


def _features_help() -> list[dict]:
    lines = []
    for feature in FEATURES:
        if feature.kind == "ordinal":
            values = ", ".join(feature.values)
        elif feature.kind == "binary":
            values = _("0 (no) or 1 (yes)")
        elif feature.kind == "kldb":
            values = _("1 to 5 digits of a KldB 2010 code, e.g. 8 or 82102")
        else:
            values = _("a number from %(min)s to %(max)s") % {
                "min": f"{feature.minimum:g}",
                "max": f"{feature.maximum:g}",
            }
        lines.append({"name": feature.name, "values": values})
    return lines


def _segments() -> list[dict]:
    return [
        {
            "config": config,
            "label": str(GROUP_LABELS.get(config.group, config.group)),
            "channels": [str(CHANNEL_LABELS.get(channel, channel)) for channel in config.channels],
        }
        for config in segment_config_list()
    ]


def _workspace_context(*, rows, form, preview: dict | None = None, **extra) -> dict:
    current = rule_set_current()
    history = rule_set_list()
    return {
        "current": current,
        "current_lines": _rule_lines(current.rules),
        "lowest_threshold": _percent_text(rules_lowest_threshold(current.rules)),
        "rows": rows,
        "form": form,
        "preview": _preview_lines(preview) if preview is not None else None,
        "history": [
            {
                "rule_set": rule_set,
                "moving": (rule_set.moves or {}).get("moving"),
                "compared": (rule_set.moves or {}).get("compared"),
            }
            for rule_set in history
        ],
        "operators": ", ".join(SYMBOLS.values()),
        "features_help": _features_help(),
        **extra,
    }


def _render(
    request: HttpRequest, context: dict, *, partial: bool = False, status: int = 200
) -> HttpResponse:
    template = TEMPLATE
    if partial and request.htmx and not request.htmx.history_restore_request:
        template = f"{TEMPLATE}#{WORKSPACE}"
    else:
        context["segments"] = _segments()
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- views -----------------------------------------------------------------------------------------


@require_GET
@login_required
def segment_rules_view(request: HttpRequest) -> HttpResponse:
    """The rules in force, the groups' settings, the form to change the rules, the history."""
    _require_admin(request)
    current = rule_set_current()
    rows, form = _fresh_forms(current.rules, version=current.version)
    return _render(request, _workspace_context(rows=rows, form=form))


@require_POST
@login_required
def segment_rules_submit_view(request: HttpRequest) -> HttpResponse:
    """Preview (button "preview") or save (button "save") the rules of the form."""
    _require_admin(request)
    rows = RuleRowFormSet(request.POST, prefix="rules")
    form = RuleSetForm(request.POST)
    rows_valid = rows.is_valid()
    form_valid = form.is_valid()
    rules = None
    if rows_valid:
        rules, ordered = _rules_from(rows)
        try:
            rules = rules_validate(rules)
        except RulesError as error:
            rule = error.extra.get("rule")
            if rule is not None and 1 <= rule <= len(ordered):
                ordered[rule - 1].add_error(None, error.message)
            else:
                rows._non_form_errors.append(error.message)
            rows_valid = False
    if not (rows_valid and form_valid):
        context = _workspace_context(rows=rows, form=form, invalid=True)
        return _render(request, context, partial=True, status=400)

    fingerprint = rules_fingerprint(rules)
    note = form.cleaned_data["note"].strip()
    expected_version = form.cleaned_data["expected_version"]
    status = 200
    notice = conflict = None
    if request.POST.get("action") == "save":
        if form.cleaned_data["previewed"] != fingerprint:
            notice = _(
                "Not saved yet: the rules differ from the ones in the last preview. Check the "
                "preview below, then save."
            )
        elif not note:
            form.add_error("note", _("Give a reason for the change."))
            context = _workspace_context(rows=rows, form=form, invalid=True)
            return _render(request, context, partial=True, status=400)
        else:
            try:
                rule_set = rule_set_save(
                    ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
                    rules=rules,
                    note=note,
                    expected_version=expected_version,
                )
            except SegmentRulesConflictError as error:
                conflict = error.message
                status = 409
            except ApplicationError as error:
                conflict = error.message
                status = 400
            else:
                saved = _(
                    "Version %(version)d of the rules is in force. It applies to new "
                    "suggestions; no customer's group changes without a caseworker's decision."
                ) % {"version": rule_set.version}
                if not request.htmx:
                    messages.success(request, saved)
                    # 303: the browser follows with a GET, so a reload does not save again.
                    response = redirect(reverse("profiling:segment_rules"))
                    response.status_code = 303
                    return response
                rows, form = _fresh_forms(rule_set.rules, version=rule_set.version)
                context = _workspace_context(rows=rows, form=form, saved_message=saved)
                return _render(request, context, partial=True)
    preview = rule_set_preview(rules=rules)
    # The preview compares with the rules in force now: saving is based on that version.
    rows, form = _fresh_forms(
        rules,
        version=preview["current_version"],
        note=note,
        previewed=fingerprint,
    )
    context = _workspace_context(
        rows=rows, form=form, preview=preview, notice=notice, conflict=conflict
    )
    return _render(request, context, partial=True, status=status)


urlpatterns = [
    path("profiling/segments/", segment_rules_view, name="segment_rules"),
    path("profiling/segments/rules/", segment_rules_submit_view, name="segment_rules_submit"),
]
