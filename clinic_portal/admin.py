"""What the apps' content admins share (wiring only: every app registers its own models)."""

from modeltranslation import settings as mt_settings
from modeltranslation.admin import TabbedTranslationAdmin

from clinic_portal.history import ContentChangesMixin


class TabbedAdmin(ContentChangesMixin, TabbedTranslationAdmin):
    """modeltranslation's tabbed admin with the project's additions (js/admin-translation-tabs.js): a
    new inline row opens on English, and a language tab lacking text the English version has is
    marked. The words of the marks come from each app's admin change_form.html (no inline scripts).
    Each object has a "Changes" page: its recorded changes and its linked rows' (clinic_portal.history)."""

    class Media:
        # After modeltranslation's scripts (Media keeps this order when it merges the lists).
        js = [
            "modeltranslation/js/force_jquery.js",
            mt_settings.JQUERY_UI_URL,
            "modeltranslation/js/tabbed_translation_fields.js",
            "js/admin-translation-tabs.js",
        ]
        css = {"all": ["css/admin.css"]}
