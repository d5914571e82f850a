from django.conf import settings
from django.core.management.base import BaseCommand

from inquiries.models import Attachment, HeldUpload, Inquiry
from inquiries.services import inquiry_anonymise, uploads_purge_expired
from inquiries.uploads import sweep_orphans


class Command(BaseCommand):
    help = (
        "Erase personal and medical data from inquiries closed longer than the retention period, "
        "delete expired files held from failed form submissions, and delete upload files that "
        "nothing refers to. Run it daily."
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
        held = uploads_purge_expired()
        orphans = sweep_orphans(Attachment.objects.values_list("file", flat=True))
        orphans += sweep_orphans(HeldUpload.objects.values_list("file", flat=True), folder="held")
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {erased} inquiries; removed {held} expired held files and {orphans} orphaned files."
            )
        )
