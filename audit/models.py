"""The access log of social data (§67 ff. SGB X): who read or changed which customer's data, when.

Rows are append-only. The model refuses updates and deletes, and on PostgreSQL a trigger refuses
them at the database too (migration 0003), so not even a bug in the application can rewrite history.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    LIST = "list", _("listed")
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")


class AuditChannel(models.TextChoices):
    UI = "ui", _("web interface")
    API = "api", _("API")
    SYSTEM = "system", _("system (command or task)")
    # A customer acting through a signed link (rebooking, confirming): no account, no actor.
    CUSTOMER = "customer", _("customer (self-service link)")


class AuditLogImmutableError(Exception):
    pass


class AppendOnlyError(Exception):
    """A row of an append-only log (AI suggestions and decisions, invitation deliveries, ...) was
    to be changed or deleted in place."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("These rows are written once and never changed.")

    def delete(self):
        raise AppendOnlyError("These rows are written once and never deleted.")


class AppendOnlyModel(models.Model):
    """Base of the logs other apps keep: rows are written once. Each such table also gets a
    PostgreSQL trigger refusing UPDATE (see its app's migrations). Deleting a customer's data at
    the end of the retention period removes them through the database cascade, not through here.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("This row is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("This row is written once and never deleted.")


class AuditEventQuerySet(models.QuerySet):
    def for_customer(self, customer_id: int) -> "AuditEventQuerySet":
        return self.filter(customer_id=customer_id)

    def update(self, **kwargs):
        raise AuditLogImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise AuditLogImmutableError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # The user row is kept (PROTECT); the name is copied so the record reads on its own.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_username = models.CharField(_("user"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=AuditChannel.choices)
    # No foreign key: the record outlives the customer's data (deletion periods).
    customer_id = models.BigIntegerField(_("customer"), null=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutableError("Audit events cannot be deleted.")
