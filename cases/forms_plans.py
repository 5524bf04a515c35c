"""Forms of the cooperation plan pages. They only read the input; the rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import StepResponsible, StepStatus
from cases.services.plans import StepInput

DATE_WIDGET = forms.DateInput(
    attrs={"type": "date", "class": "kern-form-input__input"}, format="%Y-%m-%d"
)
TEXT_CLASS = {"class": "kern-form-input__input"}
SELECT_CLASS = {"class": "kern-form-input__select"}


class _Locked(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class PlanDraftCreateForm(forms.Form):
    integration_goal = forms.CharField(
        label=_("Integration goal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "kern-form-input__input"}),
        help_text=_("Leave empty to take over the goal of the agreed plan."),
    )
    review_date = forms.DateField(
        label=_("Goal review on"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_(
            "Leave empty to take over the agreed plan's date, or today plus the review period."
        ),
    )


class PlanDraftForm(_Locked):
    integration_goal = forms.CharField(
        label=_("Integration goal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "kern-form-input__input"}),
    )
    review_date = forms.DateField(label=_("Goal review on"), widget=DATE_WIDGET)


class PlanStepForm(forms.Form):
    responsible = forms.ChoiceField(
        label=_("Who is responsible"),
        choices=[("", _("– please choose –")), *StepResponsible.choices],
        required=False,
        widget=forms.Select(attrs=SELECT_CLASS),
    )
    responsible_name = forms.CharField(
        label=_("Name of the third party"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT_CLASS),
    )
    description = forms.CharField(
        label=_("What exactly"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "kern-form-input__input"}),
    )
    due_date = forms.DateField(label=_("Due on"), widget=DATE_WIDGET)

    def to_input(self) -> StepInput:
        data = self.cleaned_data
        return StepInput(
            responsible=data["responsible"],
            responsible_name=data["responsible_name"],
            description=data["description"],
            due_date=data["due_date"],
        )


class PlanStepEditForm(_Locked, PlanStepForm):
    pass


class PlanStepDeleteForm(_Locked):
    pass


class PlanAgreeForm(_Locked):
    agreement_note = forms.CharField(
        label=_("How was the plan agreed with the customer?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "kern-form-input__input"}),
        help_text=_(
            "Text form is enough, no signature: e.g. discussed and agreed in the conversation."
        ),
    )


class PlanStepProgressForm(_Locked):
    status = forms.ChoiceField(choices=StepStatus.choices, required=False)
    follow_up = forms.CharField(
        label=_("Follow-up note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "kern-form-input__input"}),
    )
