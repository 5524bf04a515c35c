from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import CustomerGroup, Phase
from cases.selectors import CaseFilters

# The KERN classes of the controls; templates/partials/form_field.html draws label and error.
INPUT_CLASS = "kern-form-input__input"
SELECT_CLASS = "kern-form-input__select"
CHECKBOX_CLASS = "kern-form-check__checkbox"
ERROR_CLASS_SUFFIX = "--error"


class KernFormMixin:
    """Marks the controls of invalid fields with KERN's error modifier class.

    Django already sets aria-invalid and points aria-describedby at the field's error message.
    """

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            widget = self.fields[name].widget
            base = widget.attrs.get("class", "").split(" ")[0]
            if base:
                widget.attrs["class"] = f"{base} {base}{ERROR_CLASS_SUFFIX}"


class CaseFilterForm(KernFormMixin, forms.Form):
    """The work queue's filters. Unknown values are errors, not silently ignored."""

    q = forms.CharField(
        label=_("Name or customer number"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"class": INPUT_CLASS, "type": "search", "autocomplete": "off"}
        ),
    )
    phase = forms.ChoiceField(
        label=_("Phase"),
        choices=[("", _("All open phases")), *Phase.choices],
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    customer_group = forms.ChoiceField(
        label=_("Customer group"),
        choices=[
            ("", _("All groups")),
            *CustomerGroup.choices,
            (CaseFilters.NO_GROUP, _("Not yet assigned")),
        ],
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    overdue = forms.BooleanField(
        label=_("Only overdue goal reviews"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )
    mine = forms.BooleanField(
        label=_("Only cases assigned to me"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=100000, required=False)

    @staticmethod
    def empty_filters() -> CaseFilters:
        return CaseFilters()

    def to_filters(self) -> CaseFilters:
        data = self.cleaned_data
        return CaseFilters(
            q=data["q"].strip(),
            phase=data["phase"],
            customer_group=data["customer_group"],
            overdue=data["overdue"],
            mine=data["mine"],
        )
