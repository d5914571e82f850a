from django.apps import AppConfig


class ClinicPortalConfig(AppConfig):
    name = "clinic_portal"
    verbose_name = "Clinic Portal"

    def ready(self):
        from clinic_portal import checks  # noqa: F401  (registers the system checks)
