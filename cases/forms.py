from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import ClosureReason, CustomerGroup, Phase
from cases.selectors import CaseFilters, Due, Queue
from organisation.models import Role

# The KERN classes of the controls; templates/partials/form_field.html draws label and error.
INPUT_CLASS = "kern-form-input__input"
TEXTAREA_CLASS = "kern-form-input__input"
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


QUEUE_LABELS = {
    Queue.MINE: _("My cases"),
    Queue.TEAM: _("Team queue"),
    Queue.ALL: _("All cases of the team"),
}
DUE_LABELS = {
    Due.REVIEW: _("Goal review due"),
    Due.STEPS: _("Steps overdue"),
    Due.PROFILING: _("Profiling taking long"),
    Due.SUGGESTION: _("AI suggestion to decide"),
    Due.MISSED: _("Missed appointment to review"),
    Due.CALLBACK: _("Call-back requested"),
    Due.NOTES: _("Incomplete notes"),
    Due.ANY: _("Anything due"),
}


def queue_choices_for(user) -> list[tuple[str, str]]:
    """The tabs a user gets: everyone their own cases and the team queue, team leads all cases."""
    queues = [Queue.MINE, Queue.TEAM]
    if user.role == Role.TEAM_LEAD:
        queues.append(Queue.ALL)
    return [(queue, QUEUE_LABELS[queue]) for queue in queues]


def default_queue_for(user) -> str:
    """A caseworker starts with their own cases, a team lead with the whole team."""
    return Queue.ALL if user.role == Role.TEAM_LEAD else Queue.MINE


class CaseFilterForm(KernFormMixin, forms.Form):
    """The work queue's filters. Unknown values are errors, not silently ignored."""

    queue = forms.ChoiceField(
        label=_("Queue"), choices=(), required=False, widget=forms.HiddenInput
    )
    due = forms.ChoiceField(
        label=_("Due"),
        choices=[("", _("Everything")), *DUE_LABELS.items()],
        required=False,
        widget=forms.HiddenInput,
    )

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
    # Before the tabs there was an "only mine" check box; old links with mine=on still work.
    mine = forms.BooleanField(label=_("Only cases assigned to me"), required=False)
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=100000, required=False)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["queue"].choices = [("", ""), *queue_choices_for(user)]

    def empty_filters(self) -> CaseFilters:
        return CaseFilters(queue=default_queue_for(self.user))

    def to_filters(self) -> CaseFilters:
        data = self.cleaned_data
        return CaseFilters(
            q=data["q"].strip(),
            phase=data["phase"],
            customer_group=data["customer_group"],
            overdue=data["overdue"],
            mine=data["mine"],
            queue=data["queue"] or default_queue_for(self.user),
            due=data["due"],
        )


class CaseTransitionForm(KernFormMixin, forms.Form):
    """ "Change phase" on the case page: only the transitions possible now are offered.

    The form checks the shape of the input; the rules are the service's (case_transition).
    """

    to = forms.ChoiceField(label=_("New phase"), widget=forms.Select(attrs={"class": SELECT_CLASS}))
    closure_reason = forms.ChoiceField(
        label=_("Reason for closing"),
        choices=[("", _("Please choose")), *ClosureReason.choices],
        required=False,
        help_text=_("Only when closing the case."),
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        help_text=_("Why the phase changes. Required when the reason for closing is “other”."),
        widget=forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3}),
    )

    def __init__(self, *args, options, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any phase passes the form (the service explains why one is not possible now); the
        # select offers only the transitions possible now.
        self.fields["to"].choices = [("", _("Please choose")), *Phase.choices]
        self.fields["to"].widget.choices = [
            ("", _("Please choose")),
            *((option.to, option.label) for option in options),
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("to") == Phase.CLOSED and not data.get("closure_reason"):
            self.add_error("closure_reason", _("Choose the reason for closing the case."))
        if data.get("closure_reason") == ClosureReason.OTHER and not data.get("reason", "").strip():
            self.add_error("reason", _("For the closing reason “other”, say in words why."))
        return data
