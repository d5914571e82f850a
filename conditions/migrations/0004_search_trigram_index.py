"""PostgreSQL only: a trigram index on the conditions' search text.

It serves both the search (``contains`` is ``LIKE '%…%'``, which a ``gin_trgm_ops`` index answers) and
the near misses of a search that found nothing (trigram word similarity). Other databases scan the
normalized text, which is fine at their sizes.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS conditions_condition_search_trgm "
    "ON conditions_condition USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS conditions_condition_search_trgm"]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("conditions", "0003_reference_language")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
