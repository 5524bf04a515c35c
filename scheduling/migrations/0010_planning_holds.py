"""Planning: holds after a rejection, the proposal kept on the run item, left-out items.

Schema: ContactAgreement.hold_* (a rejected invitation holds the case back), PlanningRunItem
proposed_* and detail (the proposal stays on the record when its appointment is withdrawn), the
decision "left_out" (the run was approved but the proposal no longer fitted the calendar).

Data: proposals that no person ever approved and that never reached the customer were set to
"cancelled" by earlier versions when their run was superseded or discarded or they were rejected;
"abgesagt" tells staff the customer was told, which is false. They are withdrawn now as the
services do from this version on: the proposal is copied onto its run item, the appointment is
deleted (nothing else refers to it: no delivery, so no reminder, no link, no review) and one audit
row per appointment records it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def _withdraw_never_sent_proposals(apps, schema_editor):
    Appointment = apps.get_model("scheduling", "Appointment")
    PlanningRunItem = apps.get_model("scheduling", "PlanningRunItem")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    # One UPDATE, whatever the number of items.
    proposal = Appointment.objects.filter(pk=models.OuterRef("appointment_id"))
    PlanningRunItem.objects.filter(appointment__isnull=False).update(
        proposed_staff_id=models.Subquery(proposal.values("staff_id")[:1]),
        proposed_start=models.Subquery(proposal.values("start")[:1]),
        proposed_end=models.Subquery(proposal.values("end")[:1]),
        proposed_channel=models.Subquery(proposal.values("channel")[:1]),
        proposed_group_session_id=models.Subquery(proposal.values("group_session_id")[:1]),
    )
    withdrawn = Appointment.objects.filter(
        planning_run__isnull=False,
        status="cancelled",
        approved_at__isnull=True,
        invitation_deliveries__isnull=True,
    ).distinct()
    rows = list(withdrawn.values_list("pk", "case__customer_id", "planning_run_id"))
    if not rows:
        return
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=now,
                actor=None,
                actor_username="system",
                action="delete",
                channel="system",
                customer_id=customer_id,
                object_type="appointment",
                object_id=str(pk),
                detail={
                    "why": "never_sent_proposal_withdrawn",
                    "planning_run_id": run_id,
                    "migration": "scheduling.0010",
                },
            )
            for pk, customer_id, run_id in rows
        ],
        batch_size=1000,
    )
    ids = [pk for pk, _customer, _run in rows]
    for start in range(0, len(ids), 1000):
        Appointment.objects.filter(pk__in=ids[start : start + 1000]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_callbacks_and_staff_moves"),
        ("audit", "0004_customer_channel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="contactagreement",
            name="hold_reason",
            field=models.TextField(blank=True, max_length=1000, verbose_name="reason for the hold"),
        ),
        migrations.AddField(
            model_name="contactagreement",
            name="hold_set_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="invitations held since"
            ),
        ),
        migrations.AddField(
            model_name="contactagreement",
            name="hold_set_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="held by",
            ),
        ),
        migrations.AddField(
            model_name="contactagreement",
            name="hold_until",
            field=models.DateField(blank=True, null=True, verbose_name="not to be invited before"),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="detail",
            field=models.JSONField(blank=True, default=dict, verbose_name="detail"),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="proposed_channel",
            field=models.CharField(blank=True, max_length=20, verbose_name="proposed channel"),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="proposed_end",
            field=models.DateTimeField(blank=True, null=True, verbose_name="proposed until"),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="proposed_group_session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="scheduling.groupsession",
                verbose_name="proposed group session",
            ),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="proposed_staff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="proposed with",
            ),
        ),
        migrations.AddField(
            model_name="planningrunitem",
            name="proposed_start",
            field=models.DateTimeField(blank=True, null=True, verbose_name="proposed from"),
        ),
        migrations.AlterField(
            model_name="planningrunitem",
            name="decision",
            field=models.CharField(
                choices=[
                    ("pending", "awaiting approval"),
                    ("approved", "approved"),
                    ("rejected", "rejected"),
                    ("left_out", "left out: no longer fits"),
                ],
                default="pending",
                max_length=10,
                verbose_name="decision",
            ),
        ),
        migrations.RunPython(_withdraw_never_sent_proposals, migrations.RunPython.noop),
    ]
