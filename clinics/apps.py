from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = _("Clinics")

    def ready(self):
        from clinics import (
            photos,  # noqa: F401  (deletes a photo's files with it)
            receivers,  # noqa: F401  (connects the search-text receivers)
        )
