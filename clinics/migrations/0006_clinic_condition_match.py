import django.db.models.deletion
from django.db import migrations, models


def fill_match_table(apps, schema_editor):
    from clinics.match_table import clinic_matches_rebuild

    clinic_matches_rebuild(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0005_clinic_contact"),
        ("conditions", "0005_workflow_history"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClinicConditionMatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[
                            ("en", "English"),
                            ("ko", "Korean"),
                            ("ja", "Japanese"),
                            ("zh-hans", "Simplified Chinese"),
                            ("ru", "Russian"),
                            ("ar", "Arabic"),
                            ("mn", "Mongolian"),
                            ("vi", "Vietnamese"),
                        ],
                        max_length=10,
                    ),
                ),
                ("speaks_language", models.BooleanField()),
                ("matched_treatment_count", models.PositiveSmallIntegerField()),
                ("matched_specialty_count", models.PositiveSmallIntegerField()),
                ("current_accreditation_count", models.PositiveSmallIntegerField()),
                ("sort_name", models.CharField(max_length=200)),
                (
                    "clinic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="condition_matches",
                        to="clinics.clinic",
                    ),
                ),
                (
                    "condition",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="conditions.condition",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=[
                            "condition",
                            "language",
                            "-speaks_language",
                            "-matched_treatment_count",
                            "-matched_specialty_count",
                            "-current_accreditation_count",
                            "sort_name",
                            "clinic",
                        ],
                        name="clinic_match_ranking",
                    )
                ],
            },
        ),
        migrations.RunPython(fill_match_table, migrations.RunPython.noop),
    ]
