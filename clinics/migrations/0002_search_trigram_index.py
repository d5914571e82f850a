"""PostgreSQL only: a trigram index for clinic search (other databases scan the normalized text)."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS clinics_clinic_search_trgm ON clinics_clinic USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS clinics_clinic_search_trgm"]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("clinics", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
