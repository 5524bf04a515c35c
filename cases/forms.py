from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import CustomerGroup, Phase
from cases.selectors import CaseFilters


class CaseFilterForm(forms.Form):
    """The work queue's filters. Unknown values are errors, not silently ignored."""

    q = forms.CharField(label=_("Name or customer number"), max_length=100, required=False)
    phase = forms.ChoiceField(
        label=_("Phase"), choices=[("", _("All open phases")), *Phase.choices], required=False
    )
    customer_group = forms.ChoiceField(
        label=_("Customer group"),
        choices=[
            ("", _("All groups")),
            *CustomerGroup.choices,
            (CaseFilters.NO_GROUP, _("Not yet assigned")),
        ],
        required=False,
    )
    overdue = forms.BooleanField(label=_("Only overdue goal reviews"), required=False)
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
        )
