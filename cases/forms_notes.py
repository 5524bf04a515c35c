"""Forms of the case notes: write a note, answer its checklist, filter the notes of a case.

The forms check the shape of the input; the rules (date not in the future, active tags only, the
checklist of the note type) are the service's, whose errors the views put next to the field.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms import CHECKBOX_CLASS, INPUT_CLASS, SELECT_CLASS, KernFormMixin
from cases.models import Channel, NoteTemplate, NoteType
from cases.services.notes import NOTE_TEXT_MAX_LENGTH, checklist_items

CHECK_PREFIX = "check_"

# The channel a note type usually comes through; preselected when the type is chosen.
DEFAULT_CHANNEL = {
    NoteType.CONVERSATION: Channel.IN_PERSON,
    NoteType.PHONE_CALL: Channel.PHONE,
    NoteType.VIDEO: Channel.VIDEO,
    NoteType.OUTREACH_VISIT: Channel.OUTREACH,
    NoteType.DOCUMENT_RECEIVED: Channel.LETTER,
}


class ChecklistFieldsMixin:
    """One check box per item of a template's checklist, named `check_<key>`."""

    def add_checklist_fields(self, template: NoteTemplate | None) -> None:
        self.checklist = checklist_items(template)
        for item in self.checklist:
            label = item["label"]
            self.fields[CHECK_PREFIX + item["key"]] = forms.BooleanField(
                label=label,
                required=False,
                help_text=_("required") if item.get("required") else "",
                widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
            )

    def checklist_fields(self) -> list:
        return [self[CHECK_PREFIX + item["key"]] for item in self.checklist]

    def checklist_answers(self) -> dict[str, bool]:
        return {
            item["key"]: bool(self.cleaned_data.get(CHECK_PREFIX + item["key"]))
            for item in self.checklist
        }


class NoteForm(ChecklistFieldsMixin, KernFormMixin, forms.Form):
    note_type = forms.ChoiceField(
        label=_("Type of note"),
        choices=NoteType.choices,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Choose a channel")), *Channel.choices],
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    occurred_on = forms.DateField(
        label=_("Date of the contact"),
        widget=forms.DateInput(attrs={"class": INPUT_CLASS, "type": "date"}, format="%Y-%m-%d"),
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=NOTE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"class": INPUT_CLASS, "rows": 10}),
    )
    tags = forms.MultipleChoiceField(
        label=_("Tags"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": CHECKBOX_CLASS}),
    )

    def __init__(
        self, *args, template: NoteTemplate | None, tag_names: list[str], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = [(name, name) for name in tag_names]
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.add_checklist_fields(template)


class NoteChecklistForm(ChecklistFieldsMixin, KernFormMixin, forms.Form):
    def __init__(self, *args, template: NoteTemplate | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_checklist_fields(template)


class NoteFilterForm(KernFormMixin, forms.Form):
    note_type = forms.ChoiceField(
        label=_("Type of note"),
        choices=[("", _("All types")), *NoteType.choices],
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    tag = forms.ChoiceField(
        label=_("Tag"),
        required=False,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    incomplete = forms.BooleanField(
        label=_("Only incomplete notes"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=100000, required=False)

    def __init__(self, *args, tag_names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("All tags")), *[(name, name) for name in tag_names]]
