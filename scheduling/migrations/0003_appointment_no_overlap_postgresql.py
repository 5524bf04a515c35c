"""PostgreSQL only: no two active appointments of one staff member may overlap in time.

An exclusion constraint (needs the btree_gist extension for the `=` on staff_id). SQLite has no
such constraint; there the unique (staff, start) constraint of 0002 is the guard.
"""

from django.db import migrations

ACTIVE = ("planned", "approved", "sent", "confirmed")
NAME = "appointment_staff_no_overlap_active"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    statuses = ", ".join(f"'{status}'" for status in ACTIVE)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f'(staff_id WITH =, tstzrange("start", "end", \'[)\') WITH &&) '
        f"WHERE (status IN ({statuses}))"
    )


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_appointments")]

    operations = [migrations.RunPython(add_constraint, remove_constraint)]
