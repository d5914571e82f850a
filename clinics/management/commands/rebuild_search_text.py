from django.core.management.base import BaseCommand

from clinics.services import clinics_rebuild_search_text
from conditions.models import Condition


class Command(BaseCommand):
    help = "Rebuild the normalized search text of every condition and clinic (after bulk imports)."

    def handle(self, *args, **options):
        conditions = 0
        for condition in Condition.objects.iterator():
            condition.save(update_fields=["search_text"])
            conditions += 1
        clinics = clinics_rebuild_search_text()
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt search text for {conditions} conditions and {clinics} clinics.")
        )
