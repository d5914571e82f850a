from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from clinic_portal import views
from clinic_portal.sitemaps import PageSitemap
from clinics import views as clinic_views
from clinics.sitemaps import ClinicSitemap, DoctorSitemap
from conditions.sitemaps import ConditionSitemap
from inquiries import views as inquiry_views
from operations import views as operations_views
from travel.sitemaps import TravelGuideSitemap

urlpatterns = [
    path("healthz", operations_views.healthz, name="healthz"),
    path("healthz/ready", operations_views.ready, name="readiness"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "sitemap.xml",
        sitemap,
        {
            "sitemaps": {
                "pages": PageSitemap,
                "conditions": ConditionSitemap,
                "clinics": ClinicSitemap,
                "doctors": DoctorSitemap,
                "travel": TravelGuideSitemap,
            }
        },
        name="sitemap",
    ),
    path(
        "admin/inquiries/files/<uuid:attachment_id>/",
        inquiry_views.staff_attachment,
        name="staff_attachment",
    ),
    path("staff/", include("staff.urls")),
    path("workspace/", include("workspace.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("about/", views.about, name="about"),
    path("conditions/", include("conditions.urls")),
    path("clinics/", include("clinics.urls")),
    path("about/ranking/", clinic_views.ranking, name="ranking"),
    path("inquiries/", include("inquiries.urls")),
    path("plan-your-trip/", include("travel.urls")),
    path("", include("referrals.urls")),
    prefix_default_language=True,
)

handler404 = "clinic_portal.views.page_not_found"
handler500 = "clinic_portal.views.server_error"

if settings.DEBUG:
    # Clinic photos (public media); in production the web server serves PUBLIC_MEDIA_URL.
    urlpatterns += static(settings.PUBLIC_MEDIA_URL, document_root=settings.PUBLIC_MEDIA_ROOT)
