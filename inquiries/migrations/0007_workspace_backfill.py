"""Fill the workspace fields of existing inquiries; on PostgreSQL, a trigram index for their search."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.models import Min, Q

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS inquiries_inquiry_search_trgm "
    "ON inquiries_inquiry USING gin (search_text gin_trgm_ops)",
]


def backfill(apps, schema_editor):
    from conditions.search import normalize

    Inquiry = apps.get_model("inquiries", "Inquiry")
    first_answers = dict(
        apps.get_model("inquiries", "TimelineEntry")
        .objects.filter(Q(kind="coordinator_message") | Q(kind="status"), author__isnull=False)
        .values_list("inquiry_id")
        .annotate(first=Min("created_at"))
    )
    for inquiry in Inquiry.objects.iterator():
        inquiry.search_text = normalize(" ".join([inquiry.reference, inquiry.full_name, inquiry.email]))
        inquiry.first_response_due_at = inquiry.created_at + timedelta(hours=settings.FIRST_RESPONSE_HOURS)
        inquiry.first_responded_at = first_answers.get(inquiry.pk)
        inquiry.save(update_fields=["search_text", "first_response_due_at", "first_responded_at"])
    if schema_editor.connection.vendor == "postgresql":
        for statement in TRIGRAM:
            schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS inquiries_inquiry_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0006_workspace_fields")]

    operations = [migrations.RunPython(backfill, drop_index)]
