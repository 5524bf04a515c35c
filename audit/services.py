"""Writing the audit log. Every read of a case and every write of customer data calls one of these."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from audit.models import AuditAction, AuditChannel, AuditEvent


@dataclass(frozen=True)
class AuditContext:
    """Who acts, through which channel, from where."""

    actor: object | None
    channel: str
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest, *, channel: str) -> "AuditContext":
        return cls(actor=request.user, channel=channel, ip_address=request.META.get("REMOTE_ADDR"))

    @classmethod
    def system(cls, actor=None) -> "AuditContext":
        return cls(actor=actor, channel=AuditChannel.SYSTEM)


def _actor_fields(ctx: AuditContext) -> dict:
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    return {
        "actor": actor,
        "actor_username": actor.get_username() if actor else "system",
        "channel": ctx.channel,
        "ip_address": ctx.ip_address,
    }


def audit_record(
    *,
    ctx: AuditContext,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    customer_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        customer_id=customer_id,
        detail=detail or {},
        **_actor_fields(ctx),
    )


def audit_record_many(
    *,
    ctx: AuditContext,
    action: AuditAction,
    object_type: str,
    items: Iterable[tuple[object, int | None]],
    detail: dict | None = None,
) -> None:
    """One row per (object id, customer id), written in one query: for lists and bulk writes."""
    common = _actor_fields(ctx)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                customer_id=customer_id,
                detail=detail or {},
                **common,
            )
            for object_id, customer_id in items
        ],
        batch_size=2000,
    )
