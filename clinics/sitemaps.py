from django.contrib.sitemaps import Sitemap

from clinics.models import Clinic, Doctor


class ClinicSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return Clinic.objects.published().order_by("slug")


class DoctorSitemap(Sitemap):
    """The pages of the published doctors of published clinics."""

    i18n = True
    alternates = True
    x_default = True
    changefreq = "monthly"
    priority = 0.5

    def items(self):
        return Doctor.objects.published().select_related("clinic").order_by("clinic__slug", "slug")
