"""On PostgreSQL the database refuses UPDATE on the AI log: suggestions, decisions, activations.

DELETE stays possible only as the cascade of deleting a customer's case at the end of the retention
period; the models refuse a direct delete. SQLite (the embedded demo) relies on the model guards.
"""

from django.db import migrations

TABLES = ("profiling_profilingsuggestion", "profiling_profilingdecision", "profiling_modelactivation")

FUNCTION = """
CREATE OR REPLACE FUNCTION profiling_ai_log_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: UPDATE refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the body's '%' is PL/pgSQL formatting, not a query placeholder.
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "  # noqa: S608 - constants
            "FOR EACH ROW EXECUTE FUNCTION profiling_ai_log_refuse_update();",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS profiling_ai_log_refuse_update();", params=None)


class Migration(migrations.Migration):
    dependencies = [("profiling", "0004_ai_models")]
    operations = [migrations.RunPython(forwards, backwards)]
