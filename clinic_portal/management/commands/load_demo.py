from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from clinic_portal.page_cache import content_changed

# Each app owns its demo content; order follows the dependencies between apps.
DEMO_LOADERS = [
    "conditions.demo.loader.load",
    "clinics.demo.loader.load",
    "travel.demo.loader.load",
    "workspace.demo.loader.load",
]


class Command(BaseCommand):
    help = "Load (or refresh) the demo content. Safe to run again: existing rows are updated, not duplicated."

    @transaction.atomic
    def handle(self, *args, **options):
        for dotted_path in DEMO_LOADERS:
            summary = import_string(dotted_path)()
            self.stdout.write(f"{dotted_path}: {summary}")
        # Bulk inserts send no signals: pages cached before the load are not served after it.
        content_changed()
        self.stdout.write(self.style.SUCCESS("Demo content is loaded."))
