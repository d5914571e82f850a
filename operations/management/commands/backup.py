from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.backups import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database and the private media (medical records) into a new folder "
        "backup-YYYYmmddTHHMMSSZ, then delete all but the newest backups. Run it daily. A backup "
        "that fails exits with status 1 and deletes no older backup."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", metavar="DIR", default=settings.BACKUP_DIR, help="Folder of the backups (BACKUP_DIR)."
        )
        parser.add_argument(
            "--keep",
            metavar="N",
            type=int,
            default=settings.BACKUP_KEEP,
            help="How many backups to keep, this one included (BACKUP_KEEP).",
        )

    def handle(self, *args, to, keep, **options):
        try:
            result = make_backup(to, keep)
        except BackupError as error:
            raise CommandError(f"The backup failed; no older backup was removed. {error}") from error
        counts = result.manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: {counts['inquiries']} inquiries, "
                f"{counts['attachments']} attachments, {counts['media_files']} files."
            )
        )
        if counts["files_erased_meanwhile"] or counts["held_files_discarded_meanwhile"]:
            self.stdout.write(
                f"Not in the backup: {counts['files_erased_meanwhile']} files of inquiries erased and "
                f"{counts['held_files_discarded_meanwhile']} held files discarded while it ran (a restore "
                "erases those inquiries again)."
            )
        for path in result.pruned:
            self.stdout.write(f"Removed the older backup {path.name}.")
        for path in result.incomplete:
            self.stderr.write(
                self.style.WARNING(
                    f"{path} was left by an interrupted backup; delete it once no backup is running."
                )
            )
