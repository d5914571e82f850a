import datetime

from django.contrib.sitemaps import Sitemap

from travel.models import TravelGuide


class TravelGuideSitemap(Sitemap[TravelGuide]):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "monthly"
    priority = 0.6

    def items(self) -> list[TravelGuide]:
        return list(TravelGuide.objects.published())

    def lastmod(self, item: TravelGuide) -> datetime.datetime:
        return item.updated_at
