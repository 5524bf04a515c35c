"""The admin for configuring case work: the tag vocabulary, the note templates and the case work rules.

Customer data (customers, cases, notes, plans, timelines) is deliberately not registered:
administrators configure and do not read case contents. They get the permissions for the models
here from organisation.services.admin_grant_configuration_permissions.

Nothing here can be deleted: a tag on existing notes is deactivated instead (notes keep it, new
notes cannot choose it), a template is emptied rather than removed, and the rules are one row.
"""

import json
import re

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases.models import CasePolicy, NoteTemplate, Tag

CHECKLIST_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
CHECKLIST_LABEL_MAX_LENGTH = 200


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "active", "note_count")
    list_editable = ("active",)
    list_filter = ("active",)
    search_fields = ("name", "description")
    ordering = ("name",)
    actions = ("activate", "deactivate")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(_note_count=Count("notes"))

    @admin.display(description=_("used on notes"), ordering="_note_count")
    def note_count(self, tag: Tag) -> int:
        # A number only: which notes, and whose, is case content.
        return tag._note_count

    def has_delete_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return False

    @admin.action(description=_("Activate the selected tags"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        count = queryset.update(active=True)
        self.message_user(
            request,
            ngettext("%(count)d tag activated.", "%(count)d tags activated.", count)
            % {"count": count},
        )

    @admin.action(description=_("Deactivate the selected tags"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        count = queryset.update(active=False)
        self.message_user(
            request,
            ngettext("%(count)d tag deactivated.", "%(count)d tags deactivated.", count)
            % {"count": count},
        )


class ChecklistField(forms.JSONField):
    """The checklist of a note template as JSON, checked item by item with a message that says where.

    Shape: [{"key": "next_steps", "label": "Next steps recorded", "required": true}, ...]
    """

    default_error_messages = {
        "invalid": _(
            "This is not valid JSON. Write a list of items, each like "
            '{"key": "next_steps", "label": "Next steps recorded", "required": true}.'
        ),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 16, "cols": 100}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Pretty-printed, one item per line block, umlauts as they are.
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return super().prepare_value(value)

    def validate(self, value) -> None:
        super().validate(value)
        if value in (None, ""):
            return
        if not isinstance(value, list):
            raise forms.ValidationError(
                _("The checklist must be a list ([...]) of items."), code="not_a_list"
            )
        keys: set[str] = set()
        for number, item in enumerate(value, start=1):
            where = {"number": number}
            if not isinstance(item, dict) or set(item) != {"key", "label", "required"}:
                raise forms.ValidationError(
                    _(
                        'Item %(number)d must have exactly the fields "key", "label" and '
                        '"required".'
                    ),
                    code="item_shape",
                    params=where,
                )
            key, label, required = item["key"], item["label"], item["required"]
            if not isinstance(key, str) or not CHECKLIST_KEY.match(key):
                raise forms.ValidationError(
                    _(
                        "Item %(number)d: the key must start with a small letter and hold only "
                        "small letters, digits and underscores (at most 50), e.g. next_steps."
                    ),
                    code="item_key",
                    params=where,
                )
            if key in keys:
                raise forms.ValidationError(
                    _('Item %(number)d: the key "%(key)s" is used twice.'),
                    code="item_key_twice",
                    params={**where, "key": key},
                )
            keys.add(key)
            if (
                not isinstance(label, str)
                or not label.strip()
                or len(label) > CHECKLIST_LABEL_MAX_LENGTH
            ):
                raise forms.ValidationError(
                    _("Item %(number)d: the label must be a text of 1 to %(max)d characters."),
                    code="item_label",
                    params={**where, "max": CHECKLIST_LABEL_MAX_LENGTH},
                )
            if not isinstance(required, bool):
                raise forms.ValidationError(
                    _('Item %(number)d: "required" must be true or false.'),
                    code="item_required",
                    params=where,
                )


class NoteTemplateForm(forms.ModelForm):
    checklist = ChecklistField(
        label=_("checklist"),
        required=False,
        help_text=_(
            "What a complete note of this type holds, as a JSON list. Each item: "
            '{"key": "next_steps", "label": "Next steps recorded", "required": true}. '
            "A note that leaves a required item unticked is saved but marked incomplete. "
            "Keep the key of an item when you reword its label: notes store their answers by key."
        ),
    )

    class Meta:
        model = NoteTemplate
        fields = ("note_type", "body", "checklist")

    def clean_checklist(self) -> list:
        return self.cleaned_data["checklist"] or []


@admin.register(NoteTemplate)
class NoteTemplateAdmin(admin.ModelAdmin):
    form = NoteTemplateForm
    list_display = ("note_type", "item_count", "required_count")
    ordering = ("note_type",)

    def get_readonly_fields(self, request: HttpRequest, obj: NoteTemplate | None = None):
        # The type is what the template is for; change the content, not what it belongs to.
        return ("note_type",) if obj is not None else ()

    @admin.display(description=_("checklist items"))
    def item_count(self, template: NoteTemplate) -> int:
        return len(template.checklist)

    @admin.display(description=_("of them required"))
    def required_count(self, template: NoteTemplate) -> int:
        return sum(1 for item in template.checklist if item.get("required"))

    def has_delete_permission(self, request: HttpRequest, obj: NoteTemplate | None = None) -> bool:
        return False


class CasePolicyForm(forms.ModelForm):
    class Meta:
        model = CasePolicy
        fields = ("plan_review_months", "profiling_overdue_days")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The single row (a check constraint holds it at pk 1), also when it is first added.
        self.instance.pk = 1


@admin.register(CasePolicy)
class CasePolicyAdmin(admin.ModelAdmin):
    """One row of rules: it can be changed, not added twice or deleted."""

    form = CasePolicyForm
    list_display = ("__str__", "plan_review_months", "profiling_overdue_days")
    fields = ("plan_review_months", "profiling_overdue_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not CasePolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: CasePolicy | None = None) -> bool:
        return False
