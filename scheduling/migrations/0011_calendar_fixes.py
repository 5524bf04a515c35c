from django.db import migrations, models

URL_INVALID = {
    "invalid": "Please enter a valid address starting with https://, e.g. "
    "https://kalender.example.de/dav/."
}


class Migration(migrations.Migration):
    """Staff calendars: "Sync now" waits for its worker (sync_requested_at); a formal message for
    a malformed calendar address (Django's own came through in informal German)."""

    dependencies = [("scheduling", "0010_planning_holds")]

    operations = [
        migrations.AddField(
            model_name="staffcalendar",
            name="sync_requested_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sync requested"),
        ),
        migrations.AlterField(
            model_name="staffcalendar",
            name="caldav_url",
            field=models.URLField(
                blank=True,
                error_messages=URL_INVALID,
                max_length=500,
                verbose_name="CalDAV address",
            ),
        ),
        migrations.AlterField(
            model_name="staffcalendar",
            name="ics_url",
            field=models.URLField(
                blank=True,
                error_messages=URL_INVALID,
                max_length=500,
                verbose_name="ICS feed address",
            ),
        ),
    ]
