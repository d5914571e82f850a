from django.contrib.sitemaps import Sitemap

from clinics.models import Clinic


class ClinicSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return Clinic.objects.published().order_by("slug")
