from pathlib import Path

from django.apps import AppConfig


class ClinicPortalConfig(AppConfig):
    name = "clinic_portal"
    verbose_name = "Clinic Portal"

    def ready(self):
        _name_mongolian_in_mongolian()
        _make_sqlite_folder()
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from clinic_portal import checks  # noqa: F401  (registers the system checks)
        from clinic_portal.page_cache import content_saved

        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(content_saved, dispatch_uid=f"page-cache-{signal}")


def _name_mongolian_in_mongolian():
    """Django names Mongolian "Mongolian" in its own language too; readers look for "Монгол"."""
    from django.conf import locale

    locale.LANG_INFO = {**locale.LANG_INFO, "mn": {**locale.LANG_INFO["mn"], "name_local": "Монгол"}}


def _make_sqlite_folder():
    """The embedded database's folder (var/ by default) exists before the first connection."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
