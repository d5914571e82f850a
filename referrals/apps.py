from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Cases shared with clinics")

    def ready(self):
        from referrals import receivers  # noqa: F401  (connects the erasure receiver)
