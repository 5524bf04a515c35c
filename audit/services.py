"""Writing the audit log. Every read of a case and every write of customer data calls one of these."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

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

    @classmethod
    def customer(cls, *, ip_address: str | None) -> "AuditContext":
        """The customer through a signed link (no account): the row's customer says who it was."""
        return cls(actor=None, channel=AuditChannel.CUSTOMER, ip_address=ip_address)


def _anonymous_name(channel: str) -> str:
    return "customer" if channel == AuditChannel.CUSTOMER else "system"


def _actor_fields(ctx: AuditContext) -> dict:
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    return {
        "actor": actor,
        "actor_username": actor.get_username() if actor else _anonymous_name(ctx.channel),
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
    """One row per (object id, customer id), written in one go: for lists and bulk writes.

    Many rows on PostgreSQL go through COPY (the batch re-profiling logs 100,000 reads this way;
    bulk_create spent most of its time building the SQL); a page's worth with bulk_create.
    """
    common = _actor_fields(ctx)
    items = list(items)
    if not items:
        return
    if connection.vendor == "postgresql" and len(items) >= COPY_FROM_ITEMS:
        _copy_many(
            common=common, action=action, object_type=object_type, items=items, detail=detail
        )
        return
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


COPY_FROM_ITEMS = 500
_COPY_COLUMNS = (
    "at",
    "actor_id",
    "actor_username",
    "action",
    "channel",
    "customer_id",
    "object_type",
    "object_id",
    "detail",
    "ip_address",
)


def _copy_many(*, common: dict, action, object_type, items, detail) -> None:
    actor = common["actor"]
    fixed = (
        timezone.now(),
        actor.pk if actor is not None else None,
        common["actor_username"],
        str(action),
        str(common["channel"]),
    )
    detail_json = json.dumps(detail or {})
    columns = ", ".join(_COPY_COLUMNS)
    # Constants only in the statement; every value travels in the COPY data.
    statement = f"COPY {AuditEvent._meta.db_table} ({columns}) FROM STDIN"  # noqa: S608
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for object_id, customer_id in items:
            copy.write_row(
                (
                    *fixed,
                    customer_id,
                    object_type,
                    str(object_id),
                    detail_json,
                    common["ip_address"],
                )
            )
