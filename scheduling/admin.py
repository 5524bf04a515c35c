"""The admin for configuring scheduling: staff calendars (read-mostly), absences, rebooking,
planning and reminder settings, invitation templates.

Appointments, invitation deliveries (the letters), reminders, call-back requests and
missed-appointment reviews are case contents and deliberately not registered: administrators
configure and do not read case contents (as in cases/admin.py). Staff see them on the case page's
card "Termine und Einladungen", in the work queue and in the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from audit.models import AuditChannel
from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError
from scheduling.models import (
    Absence,
    InvitationTemplate,
    PlanningSettings,
    RebookingPolicy,
    ReminderPolicy,
    StaffCalendar,
)


@admin.register(StaffCalendar)
class StaffCalendarAdmin(admin.ModelAdmin):
    """Read-mostly: settings are changed through the calendar page, where they are validated and
    logged. The CalDAV password and the feed token are never shown."""

    list_display = (
        "user",
        "part_time_share",
        "consent_given_at",
        "last_sync_status",
        "last_sync_at",
    )
    list_filter = ("last_sync_status",)
    search_fields = ("user__username", "user__last_name")
    exclude = ("caldav_password",)
    readonly_fields = (
        "user",
        "working_hours",
        "part_time_share",
        "channels",
        "location",
        "rooms",
        "walk_in_reserve_minutes",
        "daily_cap",
        "consent_given_at",
        "caldav_url",
        "caldav_username",
        "ics_url",
        "last_sync_at",
        "last_sync_status",
        "last_sync_message",
        "sync_requested_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "start", "end")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__last_name")
    readonly_fields = ("user", "start", "end", "kind", "note", "created_by", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RebookingPolicy)
class RebookingPolicyAdmin(admin.ModelAdmin):
    """The limits of customer rebooking: one row, changed here, never deleted."""

    list_display = (
        "max_rebookings",
        "latest_hours_before",
        "link_lifetime_days",
        "window_working_days",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return not RebookingPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlanningSettings)
class PlanningSettingsAdmin(admin.ModelAdmin):
    """The planner's weights, horizon and nightly run: one row, changed here, never deleted."""

    list_display = (
        "own_caseworker",
        "due_distance_per_day",
        "load_balance",
        "group_session",
        "horizon_days",
        "periodic_enabled",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return not PlanningSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    """When reminders go out (0 turns a channel off): one row, changed here, never deleted."""

    list_display = ("email_hours_before", "sms_hours_before", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not ReminderPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _template_language_choices() -> list[tuple[str, str]]:
    """German and the customer languages (settings.CUSTOMER_LANGUAGES), by their names."""
    from django.conf import settings
    from django.utils import translation

    codes = dict.fromkeys(("de", *settings.CUSTOMER_LANGUAGES))
    choices = []
    for code in codes:
        try:
            name = translation.get_language_info(code)["name_translated"]
        except KeyError:
            name = code
        choices.append((code, f"{name} ({code})"))
    return choices


class InvitationTemplateForm(forms.ModelForm):
    # Only a language customers are written to in: a template in any other would never be used.
    language = forms.ChoiceField(label=_("language"), choices=_template_language_choices)

    class Meta:
        model = InvitationTemplate
        fields = ("language", "subject", "body", "legal_notice", "valid_from")


@admin.register(InvitationTemplate)
class InvitationTemplateAdmin(admin.ModelAdmin):
    """Versions of the invitation text and its notice of legal consequences.

    A version is never edited: "add" publishes the next version of a language through the service
    (validated, audited); existing versions are read-only and cannot be deleted, because every
    delivery keeps pointing to the version it was sent with.
    """

    form = InvitationTemplateForm
    list_display = ("language", "version", "subject", "valid_from", "created_by", "created_at")
    list_filter = ("language",)
    fields = ("language", "subject", "body", "legal_notice", "valid_from")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        from scheduling.services_invitations import invitation_template_publish

        if change:
            raise PermissionDenied
        try:
            published = invitation_template_publish(
                ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
                language=obj.language,
                subject=obj.subject,
                body=obj.body,
                legal_notice=obj.legal_notice,
                valid_from=obj.valid_from,
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            raise PermissionDenied(error.message) from error
        obj.pk = published.pk
