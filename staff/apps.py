from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    default = True
    name = "staff"
    verbose_name = _("Staff access")

    def ready(self):
        from staff import roles, signals  # noqa: F401  (signal receivers)

        # New models bring new permissions: every migrate brings the roles up to date.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="staff.sync_roles")


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site that requires a second factor and answers 404 where access ends."""

    default = False
    default_site = "staff.admin_site.StaffAdminSite"
