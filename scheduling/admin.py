from django.contrib import admin

from scheduling.models import Absence, RebookingPolicy, StaffCalendar


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
