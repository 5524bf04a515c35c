"""The audit log is append-only: the model refuses changes, and on PostgreSQL so does the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditAction, AuditChannel, AuditEvent, AuditLogImmutableError
from audit.services import AuditContext, audit_record

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The append-only trigger (audit migration 0003) exists on PostgreSQL only; "
    "SQLite relies on the model's guards. CI runs this on PostgreSQL.",
)


@pytest.fixture
def event(caseworker, case) -> AuditEvent:
    return audit_record(
        ctx=AuditContext(actor=caseworker, channel=AuditChannel.UI, ip_address="10.0.0.1"),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )


def _unchanged(event: AuditEvent) -> None:
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_username, stored.customer_id, stored.object_id) == (
        AuditAction.VIEW,
        "cw",
        event.customer_id,
        event.object_id,
    )


def test_saving_again_is_refused(event):
    event.action = AuditAction.DELETE
    with pytest.raises(AuditLogImmutableError):
        event.save()
    _unchanged(event)


def test_deleting_is_refused(event):
    with pytest.raises(AuditLogImmutableError):
        event.delete()
    _unchanged(event)


def test_queryset_update_is_refused(event):
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_username="someone else")
    _unchanged(event)


def test_queryset_delete_is_refused(event):
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.all().delete()
    _unchanged(event)


def test_bulk_update_is_refused(event):
    event.actor_username = "someone else"
    # bulk_update runs in a transaction of its own; the savepoint keeps the test's one usable.
    with pytest.raises(AuditLogImmutableError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["actor_username"])
    _unchanged(event)


def test_rows_can_still_be_read_and_filtered(event, case):
    assert list(AuditEvent.objects.for_customer(case.customer_id)) == [event]
    assert str(event).endswith(f"cw view case {case.pk}")


@needs_postgresql
def test_database_trigger_is_installed(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass "
            "AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["audit_auditevent_append_only"]


@needs_postgresql
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_username = 'someone else' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_database_refuses_update_and_delete(event, sql):
    # The savepoint keeps the test's transaction usable after the database's refusal.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    _unchanged(event)


@needs_postgresql
def test_database_still_accepts_inserts(event):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_username, action, channel, object_type, "
            "object_id, detail) VALUES (now(), 'system', 'export', 'system', 'report', '', '{}')"
        )
    assert AuditEvent.objects.count() == 2
