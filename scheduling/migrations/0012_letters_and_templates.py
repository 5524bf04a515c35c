from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0011_calendar_fixes")]

    operations = [
        # Only plain {name} placeholders (help text; no database change).
        migrations.AlterField(
            model_name="invitationtemplate",
            name="body",
            field=models.TextField(
                help_text=(
                    "Placeholders, exactly as written here: {name}, {date}, {time}, {place}, "
                    "{channel}, {purpose}, {caseworker}, {rebook_url}. Write {{ or }} for a brace "
                    "that is meant as text."
                ),
                verbose_name="text",
            ),
        ),
        # A reminder the log backend took (no SMS gateway): recorded as not sent, never as sent.
        migrations.AlterField(
            model_name="reminder",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "to be sent"),
                    ("sent", "sent"),
                    ("failed", "failed"),
                    ("not_sent", "not sent: no SMS gateway"),
                    ("cancelled", "no longer needed"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
