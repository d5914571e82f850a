"""Per-language sort indexes for lists of clinics by name; on PostgreSQL a trigram index on the names
(searched for the best matches and the near misses of a search)."""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf

LANGUAGE_COLUMNS = ["en", "ko", "ja", "zh_hans", "ru", "ar", "mn", "vi"]

CREATE_NAMES_TRIGRAM = [
    "CREATE INDEX IF NOT EXISTS clinics_clinic_search_names_trgm "
    "ON clinics_clinic USING gin (search_names gin_trgm_ops)",
]
DROP_NAMES_TRIGRAM = ["DROP INDEX IF EXISTS clinics_clinic_search_names_trgm"]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("clinics", "0006_clinic_condition_match")]

    operations = [
        *(
            migrations.AddIndex(
                model_name="clinic",
                index=models.Index(
                    Coalesce(NullIf(F(f"name_{column}"), Value("")), F("name_en")),
                    F("id"),
                    name=f"clinic_name_sort_{column}",
                ),
            )
            for column in LANGUAGE_COLUMNS
        ),
        migrations.RunPython(run(CREATE_NAMES_TRIGRAM), run(DROP_NAMES_TRIGRAM)),
    ]
