"""HTML views: the AI model versions, their model cards, and activation by admins (issue 4).

Every member of staff reads the list and the cards (caseworkers must be able to read what the
suggestions they get are based on); only admins activate or roll back. Activation is a plain POST
form on the version's page, below the comparison with the active version, so the figures are
always seen before confirming. Model versions hold no customer data, so reads are not audit-logged.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditChannel
from audit.services import AuditContext
from cases.forms import TEXTAREA_CLASS, KernFormMixin
from cases.models import CustomerGroup
from jobcenter.exceptions import ApplicationError
from organisation.models import Role
from profiling.models import ModelStatus
from profiling.selectors.models import (
    model_activation_list,
    model_version_active,
    model_version_get,
    model_version_list,
)
from profiling.services.models import (
    ModelVersionNotFoundError,
    model_version_activate,
    model_version_compare,
)

LIST_TEMPLATE = "profiling/model_list.html"
DETAIL_TEMPLATE = "profiling/model_detail.html"

ATTRIBUTE_LABELS = {
    "sex": gettext_lazy("Sex"),
    "citizenship": gettext_lazy("Citizenship"),
    "disability": gettext_lazy("Severe disability"),
    "age_band": gettext_lazy("Age band"),
}
VALUE_LABELS = {
    "sex": {"f": gettext_lazy("female"), "m": gettext_lazy("male"), "d": gettext_lazy("diverse")},
    "citizenship": {
        "de": gettext_lazy("German"),
        "eu": gettext_lazy("EU citizen"),
        "non_eu": gettext_lazy("non-EU citizen"),
    },
    "disability": {"0": gettext_lazy("no"), "1": gettext_lazy("yes")},
}
METRIC_LABELS = {
    "auc": gettext_lazy("AUC"),
    "ece": gettext_lazy("Calibration error (ECE)"),
    "brier": gettext_lazy("Brier score"),
    "max_group_ece": gettext_lazy("Largest calibration error of a group"),
    "auc_gap": gettext_lazy("Largest AUC difference between groups"),
    "fpr_ratio_sex": gettext_lazy("Ratio below the threshold, by sex"),
    "fpr_ratio_citizenship": gettext_lazy("Ratio below the threshold, by citizenship"),
    "demographic_parity_max": gettext_lazy("Largest difference in a suggested group's share"),
}
GROUP_LABELS = dict(CustomerGroup.choices)
ECE_BOUND = 0.04  # the bound for every audited group


class ActivationForm(KernFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (recorded with the activation)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3}),
    )


def _require_staff(request: HttpRequest) -> None:
    if not (request.user.is_active and request.user.role in Role.values):
        raise PermissionDenied(_("Only staff of the jobcenter read the model cards."))


def _is_admin(request: HttpRequest) -> bool:
    return request.user.role == Role.ADMIN


def _version_or_404(number: int):
    try:
        return model_version_get(number=number)
    except ModelVersionNotFoundError:
        raise Http404(_("There is no such model version.")) from None


# --- building the page's data --------------------------------------------------------------------


def _card(version) -> list[dict]:
    card = version.model_card or {}
    if isinstance(card, list):
        return card
    for code in (get_language(), settings.LANGUAGE_CODE):
        if code in card:
            return card[code]
    return next(iter(card.values()), [])


def _value_label(attribute: str, value: str) -> str:
    return str(VALUE_LABELS.get(attribute, {}).get(value, value))


def _group_tables(metrics: dict) -> list[dict]:
    tables = []
    for attribute, values in (metrics.get("by_group") or {}).items():
        rows = []
        for value, figures in values.items():
            rows.append(
                {
                    "value": value,
                    "label": _value_label(attribute, value),
                    **figures,
                    "shares": [
                        {"group": name, "label": GROUP_LABELS.get(name, name), "share": share}
                        for name, share in (figures.get("group_shares") or {}).items()
                    ],
                }
            )
        tables.append(
            {
                "attribute": attribute,
                "label": ATTRIBUTE_LABELS.get(attribute, attribute),
                "rows": rows,
                "has_oracle": any("oracle_auc" in row for row in rows),
                "groups": [
                    {"name": name, "label": GROUP_LABELS.get(name, name)}
                    for name in (
                        rows[0]["group_shares"] if rows and rows[0].get("group_shares") else {}
                    )
                ],
            }
        )
    return tables


def _bar_chart(
    metrics: dict, key: str, *, scale_min: float = 0.0, scale_max: float, bound: float | None
) -> dict:
    """Geometry of a horizontal bar chart (inline SVG) of one figure per audited group.

    Bars start at `scale_min` (0.5 for the AUC: chance), so differences between groups show.
    """
    span = scale_max - scale_min
    label_width, bar_width, row_height, top = 190, 260, 22, 8
    rows = []
    y = top
    for table in _group_tables(metrics):
        rows.append({"heading": True, "text": str(table["label"]), "y": y + 14})
        y += row_height
        for row in table["rows"]:
            value = row.get(key)
            width = 0
            if value is not None:
                share = max(0.0, min(value, scale_max) - scale_min) / span
                width = max(1, round(bar_width * share))
            rows.append(
                {
                    "heading": False,
                    "text": row["label"],
                    "value": value,
                    "y": y,
                    "text_y": y + 14,
                    "width": width,
                    "small": not row.get("audited"),
                }
            )
            y += row_height
    bound_x = None if bound is None else label_width + round(bar_width * (bound - scale_min) / span)
    return {
        "rows": rows,
        "height": y + top,
        "width": label_width + bar_width + 70,
        "label_width": label_width,
        "value_x": label_width + bar_width + 6,
        "bound_x": bound_x,
        "bound": bound,
    }


def _overall_rows(metrics: dict) -> list[dict]:
    percent = {"base_rate", "mean_probability", "auc_ratio", "lowest_threshold"}
    keys = [
        ("n", _("Held-out rows")),
        ("base_rate", _("Share integrated within 12 months")),
        ("mean_probability", _("Mean predicted probability")),
        ("auc", _("AUC (ranking, 0.5 = chance, 1 = perfect)")),
        ("oracle_auc", _("AUC of the true probabilities")),
        ("auc_ratio", _("Share of the best possible AUC reached")),
        ("ece", _("Calibration error (ECE)")),
        ("brier", _("Brier score")),
        ("lowest_threshold", _("Lowest threshold of the customer group rules")),
        (
            "below_threshold_share_of_positives",
            _("Share below the threshold among those who found work"),
        ),
    ]
    return [
        {
            "key": key,
            "label": label,
            "value": metrics.get(key),
            "percent": key in percent,
            "percent_value": metrics.get(key) * 100,
        }
        for key, label in keys
        if metrics.get(key) is not None
    ]


def _fairness_rows(metrics: dict) -> list[dict]:
    rows = [
        ("auc_gap", _("Largest AUC difference between the groups of sex or citizenship"), None),
        ("max_group_ece", _("Largest calibration error of an audited group"), None),
    ]
    for attribute, label in (("sex", _("sex")), ("citizenship", _("citizenship"))):
        rows.append(
            (
                f"fpr_ratio_{attribute}",
                _(
                    "Ratio of the shares below the threshold among those who found work, by %(attribute)s"
                )
                % {"attribute": label},
                f"oracle_fpr_ratio_{attribute}",
            )
        )
    rows.append(
        (
            "demographic_parity_max",
            _("Largest difference in the share of a suggested customer group"),
            None,
        )
    )
    return [
        {
            "key": key,
            "label": label,
            "value": metrics.get(key),
            "oracle": metrics.get(oracle_key) if oracle_key else None,
        }
        for key, label, oracle_key in rows
        if key in metrics
    ]


def _comparison_rows(comparison: dict) -> list[dict]:
    return [
        {**row, "label": METRIC_LABELS.get(row["metric"], row["metric"])}
        for row in comparison["metrics"]
    ]


def _detail_context(request: HttpRequest, version, form: ActivationForm | None = None) -> dict:
    metrics = version.metrics or {}
    active = model_version_active()
    context = {
        "version": version,
        "card": _card(version),
        "overall": _overall_rows(metrics),
        "fairness": _fairness_rows(metrics),
        "group_tables": _group_tables(metrics),
        "auc_chart": _bar_chart(metrics, "auc", scale_min=0.5, scale_max=1.0, bound=None),
        "ece_chart": _bar_chart(
            metrics, "ece", scale_max=max(0.1, metrics.get("max_group_ece") or 0.0), bound=ECE_BOUND
        ),
        "min_group_size": metrics.get("min_group_size"),
        "activations": model_activation_list(version=version),
        "active": active,
        "is_admin": _is_admin(request),
    }
    if context["is_admin"] and version.status != ModelStatus.ACTIVE:
        comparison = model_version_compare(candidate=version, active=active)
        context["comparison"] = comparison
        context["comparison_rows"] = _comparison_rows(comparison)
        context["is_rollback"] = version.activated_at is not None
        context["form"] = form or ActivationForm()
    return context


# --- views ---------------------------------------------------------------------------------------


@require_GET
@login_required
def model_list_view(request: HttpRequest) -> HttpResponse:
    """Every model version with its status, data and key figures."""
    _require_staff(request)
    versions = model_version_list()
    active = next((v for v in versions if v.status == ModelStatus.ACTIVE), None)
    return render(
        request,
        LIST_TEMPLATE,
        {"versions": versions, "active": active, "is_admin": _is_admin(request)},
    )


@require_GET
@login_required
def model_detail_view(request: HttpRequest, number: int) -> HttpResponse:
    """The model card, the figures overall and per group, the activation history."""
    _require_staff(request)
    version = _version_or_404(number)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, version))


@require_POST
@login_required
def model_activate_view(request: HttpRequest, number: int) -> HttpResponse:
    """Activate (or roll back to) a version: admins only; on a refusal the page says why."""
    if not _is_admin(request):
        raise PermissionDenied(_("Only administrators activate model versions."))
    version = _version_or_404(number)
    form = ActivationForm(request.POST)
    if form.is_valid():
        try:
            version = model_version_activate(
                ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
                version_id=version.pk,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            context = _detail_context(request, version, form)
            context["activation_error"] = error.message
            return render(request, DETAIL_TEMPLATE, context, status=error.status_code)
        messages.success(
            request, _("Version %(number)d is now the active model.") % {"number": version.number}
        )
        return redirect(reverse("profiling:model_detail", args=[version.number]))
    return render(request, DETAIL_TEMPLATE, _detail_context(request, version, form), status=400)


urlpatterns = [
    path("profiling/models/", model_list_view, name="model_list"),
    path("profiling/models/<int:number>/", model_detail_view, name="model_detail"),
    path("profiling/models/<int:number>/activate/", model_activate_view, name="model_activate"),
]
