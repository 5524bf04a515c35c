"""The admin for configuring the organisation: the jobcenter, its teams and its staff.

Customer data (customers, households, cases, profiles, timelines) is deliberately not registered:
administrators configure and do not read case contents. An administrator gets the permissions
this needs from organisation.services.admin_grant_configuration_permissions.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organisation.models import Jobcenter, Team, User


@admin.register(Jobcenter)
class JobcenterAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "federal_state", "city", "phone")
    search_fields = ("name", "code")
    ordering = ("name",)
    # A web address typed without a scheme is https, as it will be from Django 6.0 on.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "code", "federal_state", "region_unemployment_rate")}),
        (
            _("How customers reach the jobcenter"),
            {
                "description": _(
                    "Printed on invitation letters, in e-mails and reminders and on the "
                    "customers' appointment pages. Leave a field empty if it does not apply."
                ),
                "fields": (
                    "street",
                    ("postal_code", "city"),
                    "phone",
                    "email",
                    "opening_hours",
                    "website",
                ),
            },
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "jobcenter", "member_count")
    list_filter = ("jobcenter",)
    list_select_related = ("jobcenter",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, team: Team) -> int:
        return team._member_count


@admin.register(User)
class StaffAdmin(UserAdmin):
    """Staff with role and team; passwords through Django's own forms (set, change, disable)."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Role and team"), {"fields": ("role", "team")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "usable_password",
                    "password1",
                    "password2",
                    "first_name",
                    "last_name",
                    "email",
                    "role",
                    "team",
                ),
            },
        ),
    )
    list_display = ("username", "first_name", "last_name", "email", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active", "is_staff")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)

    # Only a superuser hands out permissions: otherwise an administrator could make anyone,
    # themselves included, a superuser, or grant the audit log to whoever they like.
    _SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        readonly = ("last_login", "date_joined")
        if not request.user.is_superuser:
            readonly += self._SUPERUSER_ONLY_FIELDS
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # A superuser's account (and password) is changed only by a superuser.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)
