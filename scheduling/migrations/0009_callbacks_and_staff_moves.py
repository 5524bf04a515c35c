"""Call-back requests reach staff: the case (for the work queue's "Rückruf erbeten"), the phone
number the customer gave, and who handled the request, when, with which note."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def callback_case_fill(apps, schema_editor):
    """Requests made before this migration: their appointment's case."""
    CallbackRequest = apps.get_model("scheduling", "CallbackRequest")
    Appointment = apps.get_model("scheduling", "Appointment")
    for request in CallbackRequest.objects.filter(case__isnull=True).only("pk", "appointment_id"):
        case_id = (
            Appointment.objects.filter(pk=request.appointment_id)
            .values_list("case_id", flat=True)
            .first()
        )
        CallbackRequest.objects.filter(pk=request.pk).update(case_id=case_id)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_case_missed_appointment_pending"),
        ("scheduling", "0008_invitation_template_translations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="callbackrequest",
            name="case",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="callback_requests",
                to="cases.case",
                verbose_name="case",
            ),
        ),
        migrations.RunPython(callback_case_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="callbackrequest",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="callback_requests",
                to="cases.case",
                verbose_name="case",
            ),
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="handled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="handled by",
            ),
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="handled_note",
            field=models.TextField(blank=True, max_length=500, verbose_name="note"),
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="phone",
            field=models.CharField(blank=True, max_length=30, verbose_name="phone number to call"),
        ),
        migrations.AddIndex(
            model_name="callbackrequest",
            index=models.Index(
                condition=models.Q(("handled_at__isnull", True)),
                fields=["case"],
                name="callback_open_case",
            ),
        ),
        migrations.AddConstraint(
            model_name="callbackrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("handled_at__isnull", True), ("handled_by__isnull", True)),
                    models.Q(("handled_at__isnull", False), ("handled_by__isnull", False)),
                    _connector="OR",
                ),
                name="callback_handled_with_person",
            ),
        ),
    ]
