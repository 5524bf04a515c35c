"""PostgreSQL only: group sessions hold their host's time.

- The appointments' exclusion constraint of 0003 now leaves out places in a group session (the
  participants of one session share its host and time).
- No two open group sessions of one host may overlap (exclusion constraint, btree_gist).
SQLite has no such constraints; there the unique (host, start) constraint of 0005 is the guard.
"""

from django.db import migrations

ACTIVE = ("planned", "approved", "sent", "confirmed")
APPOINTMENT = "appointment_staff_no_overlap_active"
SESSION = "group_session_host_no_overlap_open"


def _appointment_constraint(schema_editor, where: str) -> None:
    statuses = ", ".join(f"'{status}'" for status in ACTIVE)
    schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {APPOINTMENT}")
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {APPOINTMENT} EXCLUDE USING gist "
        f'(staff_id WITH =, tstzrange("start", "end", \'[)\') WITH &&) '
        f"WHERE (status IN ({statuses}){where})"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _appointment_constraint(schema_editor, " AND group_session_id IS NULL")
    schema_editor.execute(
        f"ALTER TABLE scheduling_groupsession ADD CONSTRAINT {SESSION} EXCLUDE USING gist "
        f'(host_id WITH =, tstzrange("start", "end", \'[)\') WITH &&) '
        f"WHERE (status = 'open')"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE scheduling_groupsession DROP CONSTRAINT IF EXISTS {SESSION}")
    _appointment_constraint(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0005_planning_runs_reminders_reviews")]

    operations = [migrations.RunPython(forwards, backwards)]
