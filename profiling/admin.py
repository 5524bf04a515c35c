"""The admin for the AI profiling's configuration: the catalogue of action strategies and the
settings of the three customer groups.

The customer group rules have a page of their own (profiling:segment_rules) with a preview of the
moves before saving; model versions, suggestions and decisions are not edited here. Both admins
save through the services (profiling.services.segments), which check the same rules as the API and
write the audit row. Nothing here can be deleted or added twice: a strategy that is no longer
offered is deactivated (logged suggestions keep naming it), and there is one settings row per group.
Administrators get the permissions from organisation.services.admin_grant_configuration_permissions.
"""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.models import AuditChannel
from audit.services import AuditContext
from cases.models import Channel, CustomerGroup, StepResponsible
from profiling.model.features import FEATURE_NAMES
from profiling.models import ActionStrategy, SegmentConfig
from profiling.rules import RulesError, conditions_format, conditions_parse
from profiling.services.segments import (
    action_strategy_save,
    segment_config_errors,
    segment_config_update,
)


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


class ActionStrategyForm(forms.ModelForm):
    conditions = forms.CharField(
        label=_("fits when"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_(
            "Conditions on the model inputs, separated by semicolons; all must hold. Empty: fits "
            "everyone. Example: german <= B1; care in some, high; work_months_5y < 12. "
            "Operators: = != in, not in < <= > >=."
        ),
    )
    addresses = forms.MultipleChoiceField(
        label=_("works on"),
        choices=[(name, name) for name in FEATURE_NAMES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The inputs the strategy works on: it ranks higher the more they lower the "
            "customer's chances, and they are named as the reasons."
        ),
    )
    groups = forms.MultipleChoiceField(
        label=_("customer groups"),
        choices=CustomerGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The groups the strategy suits; none ticked: all groups."),
    )
    step_responsible = forms.ChoiceField(
        label=_("step responsible"), choices=StepResponsible.choices
    )

    class Meta:
        model = ActionStrategy
        fields = (
            "code",
            "name",
            "description",
            "customer_text",
            "conditions",
            "addresses",
            "groups",
            "step_text",
            "step_responsible",
            "step_due_weeks",
            "priority",
            "active",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Stored as JSON, edited in the text syntax of the rules page.
        self.initial["conditions"] = conditions_format(self.instance.conditions or [])

    def clean_conditions(self) -> list[dict]:
        try:
            return conditions_parse(self.cleaned_data.get("conditions", ""))
        except RulesError as error:
            raise forms.ValidationError(error.message, code="conditions") from None

    # Stored in the order of the choices, whatever order the browser sends them in.
    def clean_addresses(self) -> list[str]:
        chosen = set(self.cleaned_data.get("addresses") or [])
        return [name for name in FEATURE_NAMES if name in chosen]

    def clean_groups(self) -> list[str]:
        chosen = set(self.cleaned_data.get("groups") or [])
        return [group for group in CustomerGroup.values if group in chosen]


@admin.register(ActionStrategy)
class ActionStrategyAdmin(admin.ModelAdmin):
    form = ActionStrategyForm
    list_display = ("name", "code", "conditions_text", "groups_text", "priority", "active")
    list_filter = ("active",)
    search_fields = ("name", "code", "description")
    ordering = ("-priority", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: ActionStrategy | None = None):
        # Logged suggestions and decisions name strategies by code: it stays once created.
        return ("code",) if obj is not None else ()

    @admin.display(description=_("fits when"))
    def conditions_text(self, strategy: ActionStrategy) -> str:
        return conditions_format(strategy.conditions) or "–"

    @admin.display(description=_("customer groups"))
    def groups_text(self, strategy: ActionStrategy) -> str:
        labels = dict(CustomerGroup.choices)
        return ", ".join(str(labels.get(g, g)) for g in strategy.groups) or str(_("all"))

    def has_delete_permission(
        self, request: HttpRequest, obj: ActionStrategy | None = None
    ) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ActionStrategy, form, change: bool) -> None:
        action_strategy_save(ctx=_ctx(request), strategy=obj)


class SegmentConfigForm(forms.ModelForm):
    default_channel = forms.ChoiceField(
        label=_("default channel"),
        choices=Channel.choices,
        help_text=_("The channel used unless the customer agreed another one."),
    )
    other_channels = forms.MultipleChoiceField(
        label=_("further channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SegmentConfig
        fields = ("service_model", "contact_cadence_days", "fixed_caseworker")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        channels = list(self.instance.channels or [])
        if channels:
            self.initial["default_channel"] = channels[0]
            self.initial["other_channels"] = channels[1:]

    def clean(self) -> dict:
        data = super().clean()
        default = data.get("default_channel")
        if default:
            others = set(data.get("other_channels") or [])
            data["channels"] = [default] + [
                channel for channel in Channel.values if channel in others and channel != default
            ]
            cadence = data.get("contact_cadence_days")
            errors = segment_config_errors(
                service_model=data.get("service_model", ""),
                contact_cadence_days=cadence if cadence is not None else 0,
                channels=data["channels"],
                fixed_caseworker=bool(data.get("fixed_caseworker")),
            )
            for name, messages in errors.items():
                field = name if name in self.fields else "default_channel"
                if field not in self.errors:
                    self.add_error(field, messages)
        return data


@admin.register(SegmentConfig)
class SegmentConfigAdmin(admin.ModelAdmin):
    form = SegmentConfigForm
    list_display = ("group_label", "contact_cadence_days", "channels_text", "fixed_caseworker")
    fields = (
        "group",
        "service_model",
        "contact_cadence_days",
        "default_channel",
        "other_channels",
        "fixed_caseworker",
    )
    readonly_fields = ("group",)

    @admin.display(description=_("customer group"), ordering="group")
    def group_label(self, config: SegmentConfig) -> str:
        return config.get_group_display()

    @admin.display(description=_("channels"))
    def channels_text(self, config: SegmentConfig) -> str:
        labels = dict(Channel.choices)
        return ", ".join(str(labels.get(c, c)) for c in config.channels)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SegmentConfig | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SegmentConfig, form, change: bool) -> None:
        data = form.cleaned_data
        segment_config_update(
            ctx=_ctx(request),
            group=obj.group,
            service_model=data["service_model"],
            contact_cadence_days=data["contact_cadence_days"],
            channels=data["channels"],
            fixed_caseworker=data["fixed_caseworker"],
        )
        obj.refresh_from_db()
