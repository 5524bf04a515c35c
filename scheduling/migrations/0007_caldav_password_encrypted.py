"""The CalDAV password is stored encrypted (Fernet, key derived from DJANGO_CREDENTIALS_KEY or
SECRET_KEY; scheduling/credentials.py). The plain-text values of existing rows are encrypted here;
going back decrypts them (a value no configured key decrypts becomes empty: enter it again).
"""

from django.db import migrations, models

from scheduling.credentials import SecretUnreadableError, secret_decrypt, secret_encrypt


def encrypt_existing(apps, schema_editor):
    StaffCalendar = apps.get_model("scheduling", "StaffCalendar")
    for calendar in StaffCalendar.objects.exclude(caldav_password_encrypted="").only(
        "pk", "caldav_password_encrypted"
    ):
        calendar.caldav_password_encrypted = secret_encrypt(calendar.caldav_password_encrypted)
        calendar.save(update_fields=["caldav_password_encrypted"])


def decrypt_existing(apps, schema_editor):
    StaffCalendar = apps.get_model("scheduling", "StaffCalendar")
    for calendar in StaffCalendar.objects.exclude(caldav_password_encrypted="").only(
        "pk", "caldav_password_encrypted"
    ):
        try:
            plain = secret_decrypt(calendar.caldav_password_encrypted)
        except SecretUnreadableError:
            plain = ""
        calendar.caldav_password_encrypted = plain[:500]
        calendar.save(update_fields=["caldav_password_encrypted"])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_group_sessions_no_overlap_postgresql"),
    ]

    operations = [
        migrations.RenameField(
            model_name="staffcalendar",
            old_name="caldav_password",
            new_name="caldav_password_encrypted",
        ),
        migrations.AlterField(
            model_name="staffcalendar",
            name="caldav_password_encrypted",
            field=models.TextField(
                blank=True, editable=False, verbose_name="CalDAV password (encrypted)"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
