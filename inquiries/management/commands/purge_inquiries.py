from django.conf import settings
from django.core.management.base import BaseCommand

from inquiries.models import Attachment, HeldUpload, Inquiry
from inquiries.services import inquiry_anonymise, uploads_purge_expired
from inquiries.uploads import sweep_orphans
from staff.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Erase personal and medical data from inquiries closed longer than the retention period and "
        "from open inquiries without any activity for the abandonment period, "
        "delete expired files held from failed form submissions, delete upload files that nothing "
        "refers to, and prune audit entries past their retention. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.INQUIRY_RETENTION_DAYS,
            help="Retention after closing, in days.",
        )
        parser.add_argument(
            "--abandoned-days",
            type=int,
            default=settings.INQUIRY_ABANDONED_DAYS,
            help="Erase open inquiries with no activity (message, note or change) for this many days.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say how many would be erased.")

    def handle(self, *args, days, abandoned_days, dry_run, **options):
        due = Inquiry.objects.due_for_purge(days=days, abandoned_days=abandoned_days)
        if dry_run:
            self.stdout.write(f"{due.count()} inquiries would be erased.")
            return
        erased = 0
        for inquiry in due.iterator():
            inquiry_anonymise(inquiry=inquiry)
            erased += 1
        held = uploads_purge_expired()
        pruned = AuditEntry.objects.prune_older_than(settings.AUDIT_RETENTION_DAYS)
        orphans = sweep_orphans(Attachment.objects.values_list("file", flat=True))
        orphans += sweep_orphans(HeldUpload.objects.values_list("file", flat=True), folder="held")
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {erased} inquiries; removed {held} expired held files and {orphans} orphaned "
                f"files; pruned {pruned} audit entries older than {settings.AUDIT_RETENTION_DAYS} days."
            )
        )
