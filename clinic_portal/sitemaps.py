from django.contrib.sitemaps import Sitemap
from django.urls import reverse


class PageSitemap(Sitemap):
    """The site's fixed pages, in every language."""

    i18n = True
    alternates = True
    x_default = True
    changefreq = "monthly"

    def items(self):
        return ["home", "conditions:list", "clinics:list", "inquiries:create", "privacy", "about", "ranking"]

    def location(self, name):
        return reverse(name)
