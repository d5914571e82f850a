from django.core.management.base import BaseCommand

from clinics.match_table import clinic_matches_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the table of clinics matching each condition: nightly, as accreditations start and "
        "lapse by date, and after bulk loads that bypass the application."
    )

    def handle(self, *args, **options):
        clinics = clinic_matches_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the condition matches of {clinics} clinics."))
