"""The audit log in the admin: read-only, for superusers and holders of `audit.view_auditevent`.

Reading the log is itself reading who accessed which customer, so the view permission is not part
of any role by default: grant it to the people whose job it is (the data protection officer, an
administrator investigating an incident). Nobody can add, change or delete a row here; the model
and, on PostgreSQL, a trigger refuse it too.
"""

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_username",
        "action",
        "channel",
        "object_type",
        "object_id",
        "customer_id",
        "ip_address",
    )
    list_filter = ("action", "channel", ("at", admin.DateFieldListFilter))
    # The search box; get_search_results decides how a term is looked up.
    search_fields = ("actor_username",)
    search_help_text = _("A user name (exact), or a customer id.")
    list_per_page = 100
    # Counting every row of a long log on each page view is slow; the paginator counts the filter.
    show_full_result_count = False
    actions = None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        # Exact lookups that an index serves: a substring search over millions of rows would not.
        term = search_term.strip()
        if not term:
            return queryset, False
        by_user = Q(actor__username=term)
        if term.isdigit():
            return queryset.filter(by_user | Q(customer_id=int(term))), False
        return queryset.filter(by_user), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        # Exactly this permission (superusers hold every one), not "change" as Django also accepts.
        return request.user.has_perm("audit.view_auditevent")
