"""The profile form: one fieldset per dimension (level, note, facts), languages as rows."""

from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from cases.forms import CHECKBOX_CLASS, INPUT_CLASS, SELECT_CLASS, TEXTAREA_CLASS, KernFormMixin
from profiling.languages import language_choices
from profiling.models import DIMENSIONS, PROFILE_FIELDS, Dimension, LanguageLevel, Profile

RADIO_CLASS = "kern-form-check__radio"
LANGUAGE_ROWS_MIN = 3
# The fields the form edits directly; other_languages is put together from the language rows.
FORM_FIELDS = [name for name in PROFILE_FIELDS if name != "other_languages"]


def _widget_for(name: str, model_field) -> forms.Widget:
    if model_field.get_internal_type() == "TextField":
        return forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3})
    if model_field.get_internal_type() == "BooleanField" and model_field.null:
        return forms.NullBooleanSelect(attrs={"class": SELECT_CLASS})
    if model_field.get_internal_type() == "BooleanField":
        return forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS})
    if name in {d.level_field for d in DIMENSIONS}:
        return forms.RadioSelect(attrs={"class": RADIO_CLASS})
    if model_field.choices:
        return forms.Select(attrs={"class": SELECT_CLASS})
    if model_field.get_internal_type() == "PositiveSmallIntegerField":
        return forms.NumberInput(attrs={"class": INPUT_CLASS, "min": 0, "inputmode": "numeric"})
    return forms.TextInput(attrs={"class": INPUT_CLASS})


@dataclass
class LanguageRow:
    code: forms.BoundField
    level: forms.BoundField


@dataclass
class Section:
    """One fieldset of the form."""

    dimension: Dimension
    level: forms.BoundField
    note: forms.BoundField
    facts: list[forms.BoundField]
    language_rows: list[LanguageRow]


class ProfileForm(KernFormMixin, forms.Form):
    """Parses what the caseworker entered; the rules themselves are checked by profile_update."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, languages_in_profile: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in FORM_FIELDS:
            model_field = Profile._meta.get_field(name)
            field = model_field.formfield(widget=_widget_for(name, model_field))
            if isinstance(field, forms.TypedChoiceField) and name in {
                d.level_field for d in DIMENSIONS
            }:
                # A radio group needs no empty choice: one level is always chosen.
                field.choices = [c for c in field.choices if c[0] != ""]
            if name == "german":
                field.label = _("German language skills")
            self.fields[name] = field
        rows = max(LANGUAGE_ROWS_MIN, languages_in_profile + 1)
        if self.is_bound:
            rows = max(rows, self._bound_language_rows())
        self.language_row_count = rows
        languages = [("", _("– no language –")), *language_choices()]
        levels = [("", _("– level –")), *LanguageLevel.choices]
        for index in range(1, rows + 1):
            self.fields[f"language_{index}_code"] = forms.ChoiceField(
                label=_("Language %(number)d") % {"number": index},
                choices=languages,
                required=False,
                widget=forms.Select(attrs={"class": SELECT_CLASS}),
            )
            self.fields[f"language_{index}_level"] = forms.ChoiceField(
                label=_("Level of language %(number)d") % {"number": index},
                choices=levels,
                required=False,
                widget=forms.Select(attrs={"class": SELECT_CLASS}),
            )

    def _bound_language_rows(self) -> int:
        count = 0
        for key in self.data:
            if key.startswith("language_") and key.endswith("_code"):
                number = key[len("language_") : -len("_code")]
                if number.isdigit() and 0 < int(number) <= 50:
                    count = max(count, int(number))
        return count

    @staticmethod
    def initial_for(values: dict, version: int) -> dict:
        """The form's initial data from a profile snapshot."""
        initial = {name: values.get(name) for name in FORM_FIELDS}
        initial["version"] = version
        for index, item in enumerate(values.get("other_languages") or [], start=1):
            initial[f"language_{index}_code"] = item.get("code", "")
            initial[f"language_{index}_level"] = item.get("level", "")
        return initial

    def clean(self) -> dict:
        data = super().clean()
        languages = []
        for index in range(1, self.language_row_count + 1):
            code = data.get(f"language_{index}_code", "")
            level = data.get(f"language_{index}_level", "")
            if code and not level:
                self.add_error(f"language_{index}_level", _("Choose the level of this language."))
            elif level and not code:
                self.add_error(f"language_{index}_code", _("Choose the language for this level."))
            elif code:
                languages.append({"code": code, "level": level})
        data["other_languages"] = languages
        return data

    def profile_data(self) -> dict:
        """What profile_update receives."""
        return {name: self.cleaned_data[name] for name in PROFILE_FIELDS}

    def add_service_errors(self, fields: dict) -> None:
        """Errors that profile_update found, shown next to the field they belong to."""
        for name, messages in fields.items():
            target = name if name in self.fields else None
            if name == "other_languages":
                target = "language_1_code"
            for message in messages:
                self.add_error(target, message)

    def sections(self) -> list[Section]:
        result = []
        for dimension in DIMENSIONS:
            rows = []
            if dimension.key == "language":
                rows = [
                    LanguageRow(self[f"language_{i}_code"], self[f"language_{i}_level"])
                    for i in range(1, self.language_row_count + 1)
                ]
            result.append(
                Section(
                    dimension=dimension,
                    level=self[dimension.level_field],
                    note=self[dimension.note_field],
                    facts=[self[name] for name in dimension.facts if name in self.fields],
                    language_rows=rows,
                )
            )
        return result


class AsOfForm(forms.Form):
    """The day to show the profile as of: today or earlier."""

    at = forms.DateField(
        label=_("Show the profile as of"),
        required=False,
        widget=forms.DateInput(attrs={"class": INPUT_CLASS, "type": "date"}),
    )

    def clean_at(self) -> date | None:
        day = self.cleaned_data.get("at")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(gettext_now("Choose today or a day in the past."))
        return day
