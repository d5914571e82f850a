from django.contrib.sitemaps import Sitemap

from conditions.models import Condition


class ConditionSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Condition.objects.published().order_by("slug")

    def lastmod(self, condition):
        return condition.updated_at
