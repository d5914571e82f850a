"""The site's URLs plus one that fails, to see the 500 page."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from clinic_portal.urls import handler404, handler500, urlpatterns  # noqa: F401


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [*urlpatterns, *i18n_patterns(path("broken/", broken))]
