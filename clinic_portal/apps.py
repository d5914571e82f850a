from django.apps import AppConfig


class ClinicPortalConfig(AppConfig):
    name = "clinic_portal"
    verbose_name = "Clinic Portal"
