from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from operations.backups import BackupError, check_restore_target, open_backup, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database and an empty media root, erase again the inquiries "
        "the erasure log names, and check that every attachment has its file."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", metavar="BACKUP_DIR", help="A backup-YYYYmmddTHHMMSSZ folder.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, backup, yes, **options):
        try:
            opened = open_backup(backup)
            check_restore_target()
        except BackupError as error:
            raise CommandError(str(error)) from error
        if not yes:
            self._confirm(opened)
        try:
            report = restore_backup(opened)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self._print(report)
        if report.problems:
            raise CommandError(
                "The restore is NOT complete; do not put this site in service:\n"
                + "\n".join(f"  {problem}" for problem in report.problems)
            )
        self.stdout.write(self.style.SUCCESS("Every attachment has its file, unchanged."))

    def _confirm(self, opened):
        manifest = opened.manifest
        question = (
            f"Restore the backup of {manifest['created_at']} ({manifest['counts']['inquiries']} inquiries) "
            f"into the database {connection.settings_dict['NAME']} and the media root "
            f"{settings.MEDIA_ROOT}? Type yes to go on: "
        )
        try:
            answer = input(question)
        except EOFError:
            self.stdout.write("")
            answer = ""
        if answer.strip().lower() != "yes":
            raise CommandError("Nothing was restored.")

    def _print(self, report):
        lines = [
            f"Inquiries: {report.inquiries} (in the backup: {report.inquiries_in_backup})",
            f"Attachments: {report.attachments}",
            f"Files present: {report.files_present}",
            f"Erasures re-applied: {report.erasures_reapplied}",
            f"Migrations applied: {report.migrations_applied}",
            f"Held uploads without their file dropped: {report.held_uploads_dropped}",
            f"Orphaned files removed: {report.orphaned_files_removed}",
        ]
        self.stdout.write("\n".join(lines))
