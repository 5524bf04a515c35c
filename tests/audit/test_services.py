"""Writing the audit log: one row per read, many rows in one query, who/when/what/whose."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.models import AuditAction, AuditChannel, AuditEvent
from audit.services import COPY_FROM_ITEMS, AuditContext, audit_record, audit_record_many

NOW = datetime.datetime(2030, 3, 10, 9, 30, tzinfo=datetime.UTC)


def test_record_copies_who_when_what_whose(caseworker, case):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    request.user = caseworker
    with time_machine.travel(NOW, tick=False):
        event = audit_record(
            ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
            action=AuditAction.VIEW,
            object_type="case",
            object_id=case.pk,
            customer_id=case.customer_id,
            detail={"tab": "profile"},
        )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.at == NOW
    assert stored.actor == caseworker
    assert stored.actor_username == "cw"
    assert stored.channel == AuditChannel.UI
    assert stored.ip_address == "192.0.2.7"
    assert (stored.action, stored.object_type, stored.object_id) == ("view", "case", str(case.pk))
    assert stored.customer_id == case.customer_id
    assert stored.detail == {"tab": "profile"}


def test_actor_name_outlives_a_renamed_user(caseworker, case):
    event = audit_record(
        ctx=AuditContext(actor=caseworker, channel=AuditChannel.API),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
    )
    caseworker.username = "renamed"
    caseworker.save()
    assert AuditEvent.objects.get(pk=event.pk).actor_username == "cw"


def test_system_and_anonymous_actors_are_named_system(db):
    for ctx in (AuditContext.system(), AuditContext(actor=AnonymousUser(), channel="api")):
        event = audit_record(ctx=ctx, action=AuditAction.EXPORT, object_type="report")
        assert event.actor is None
        assert event.actor_username == "system"


def test_record_many_writes_one_row_each_in_one_query(caseworker):
    items = [(n, 1000 + n) for n in range(50)]

    with CaptureQueriesContext(connection) as queries:
        audit_record_many(
            ctx=AuditContext(actor=caseworker, channel=AuditChannel.API),
            action=AuditAction.LIST,
            object_type="case",
            items=items,
        )

    assert len(queries) == 1
    rows = AuditEvent.objects.order_by("object_id")
    assert sorted((int(e.object_id), e.customer_id) for e in rows) == items
    assert {(e.actor_id, e.action, e.channel) for e in rows} == {(caseworker.pk, "list", "api")}


def test_record_many_with_nothing_writes_nothing(caseworker):
    with CaptureQueriesContext(connection) as queries:
        audit_record_many(
            ctx=AuditContext(actor=caseworker, channel=AuditChannel.API),
            action=AuditAction.LIST,
            object_type="case",
            items=[],
        )
    assert len(queries) == 0
    assert not AuditEvent.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's; CI runs it")
def test_record_many_with_many_rows_writes_each_row_complete(caseworker):
    """The COPY path for large batches writes the same rows the ORM path does."""
    items = [(n, 5000 + n) for n in range(COPY_FROM_ITEMS + 10)]

    audit_record_many(
        ctx=AuditContext(actor=caseworker, channel=AuditChannel.SYSTEM, ip_address="10.0.0.7"),
        action=AuditAction.VIEW,
        object_type="profiling_suggestion",
        items=items,
        detail={"batch": True},
    )

    rows = list(AuditEvent.objects.filter(object_type="profiling_suggestion"))
    assert sorted((int(e.object_id), e.customer_id) for e in rows) == items
    assert {
        (e.actor_id, e.actor_username, e.action, e.channel, e.ip_address, str(e.detail))
        for e in rows
    } == {(caseworker.pk, caseworker.username, "view", "system", "10.0.0.7", "{'batch': True}")}
    assert all(e.at is not None for e in rows)
