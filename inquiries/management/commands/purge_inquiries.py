from django.conf import settings
from django.core.management.base import BaseCommand

from inquiries.models import Attachment, Inquiry
from inquiries.services import inquiry_anonymise
from inquiries.uploads import sweep_orphans


class Command(BaseCommand):
    help = (
        "Erase personal and medical data from inquiries closed longer than the retention period, "
        "and delete upload files that no inquiry refers to. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.INQUIRY_RETENTION_DAYS,
            help="Retention after closing, in days.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say how many would be erased.")

    def handle(self, *args, days, dry_run, **options):
        due = Inquiry.objects.due_for_purge(days=days)
        if dry_run:
            self.stdout.write(f"{due.count()} inquiries would be erased.")
            return
        erased = 0
        for inquiry in due.iterator():
            inquiry_anonymise(inquiry=inquiry)
            erased += 1
        orphans = sweep_orphans(Attachment.objects.values_list("file", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Erased {erased} inquiries; removed {orphans} orphaned files."))
