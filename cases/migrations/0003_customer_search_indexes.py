"""On PostgreSQL, indexes for the work queue's free-text search (name fragment or customer number).

`name_search` filters with UPPER(first_name/last_name) LIKE '%word%' OR UPPER(customer_number)
LIKE 'WORD%'. Without these indexes every search request scans all customers, three times (count,
page, phase counts): about 150 ms at 50,000 customers; with them about 10 ms (docs/benchmarks.md).
Trigram GIN indexes serve the substring matches, a pattern-ops B-tree the number prefix, and the
planner combines them with a BitmapOr. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it without superuser rights.

SQLite (the embedded demo) has no GIN indexes and scans its few thousand rows quickly; the indexes
live outside the model state, so makemigrations neither sees nor drops them.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cases_customer_last_name_trgm "
    "ON cases_customer USING gin (UPPER(last_name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cases_customer_first_name_trgm "
    "ON cases_customer USING gin (UPPER(first_name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cases_customer_number_prefix "
    "ON cases_customer (UPPER(customer_number::text) text_pattern_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS cases_customer_last_name_trgm",
    "DROP INDEX IF EXISTS cases_customer_first_name_trgm",
    "DROP INDEX IF EXISTS cases_customer_number_prefix",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
