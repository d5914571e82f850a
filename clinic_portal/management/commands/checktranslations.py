from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Fail when a supported language lacks a catalogue or has an untranslated, fuzzy or obsolete string."
    )

    def handle(self, *args, **options):
        problems = []
        for code, _name in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            locale_name = code.replace("-", "_").replace("_hans", "_Hans")
            found = [Path(d) / locale_name / "LC_MESSAGES" / "django.po" for d in settings.LOCALE_PATHS]
            po_path = next((path for path in found if path.exists()), None)
            if po_path is None:
                problems.append(f"{code}: no django.po catalogue")
                continue
            catalogue = polib.pofile(str(po_path))
            for entry in catalogue.untranslated_entries():
                problems.append(f"{code}: untranslated: {entry.msgid[:70]!r}")
            for entry in catalogue.fuzzy_entries():
                problems.append(f"{code}: fuzzy: {entry.msgid[:70]!r}")
            for entry in catalogue.translated_entries():
                if entry.msgid_plural and not all(entry.msgstr_plural.values()):
                    problems.append(f"{code}: missing plural form: {entry.msgid[:70]!r}")
        if problems:
            raise CommandError("Translation catalogues are incomplete:\n" + "\n".join(problems))
        self.stdout.write(self.style.SUCCESS("Every supported language is fully translated."))
