from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Compile every locale/*/LC_MESSAGES/*.po into .mo with pure Python (no gettext tools needed). "
        "Only catalogues newer than their .mo are rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rewrite every .mo file.")

    def handle(self, *args, force=False, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} catalogue(s).")
