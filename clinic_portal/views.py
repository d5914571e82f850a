import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_safe
from django_countries.fields import Country

from clinic_portal.db_backends import DATABASE_UNAVAILABLE
from clinic_portal.page_cache import cached_page


@require_safe
@cached_page()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic_portal/home.html")


@require_safe
@cached_page()
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clinic_portal/privacy.html",
        {
            "operator": _operator(),
            "notice_date": settings.PRIVACY_NOTICE_DATE,
            "storage_country": Country(settings.DATA_STORAGE_COUNTRY).name,
            "retention_days": settings.INQUIRY_RETENTION_DAYS,
            "abandoned_days": settings.INQUIRY_ABANDONED_DAYS,
            "held_upload_hours": settings.HELD_UPLOAD_HOURS,
            "backup_days": settings.BACKUP_KEEP,  # one backup a day
            "audit_days": settings.AUDIT_RETENTION_DAYS,
        },
    )


@require_safe
@cached_page()
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic_portal/about.html", {"operator": _operator()})


def _operator() -> dict[str, Any]:
    """Who runs the site and answers for its data, from settings; ``is_sample`` while development's
    sample values stand in for it."""
    return {
        "name": settings.OPERATOR_NAME,
        "address": settings.OPERATOR_ADDRESS,
        "registration_number": settings.OPERATOR_REGISTRATION_NUMBER,
        "email": settings.OPERATOR_EMAIL,
        "privacy_email": settings.PRIVACY_CONTACT_EMAIL or settings.OPERATOR_EMAIL,
        "data_protection_officer": settings.DATA_PROTECTION_OFFICER,
        "is_sample": any(
            getattr(settings, name) == value
            for name, value in settings.SAMPLE_OPERATOR.items()
            if name != "DATA_STORAGE_COUNTRY"  # a real country, not a sample
        ),
    }


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /*/inquiries/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


RETRY_AFTER_OUTAGE_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return render(request, "500.html", status=500)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """A translated 503 that says whether anything was saved (nothing was) and, for a form that may be
    sent again, offers it again as typed. Rendered without touching the database or the session."""
    resendable = request.method == "POST" and getattr(_view_of(request), "resendable_after_outage", False)
    fields: list[tuple[str, str]] = []
    if resendable:
        fields = [
            (name, value)
            for name, values in request.POST.lists()
            if name != "csrfmiddlewaretoken"
            for value in values
        ]
    response = render(
        request,
        "503.html",
        {
            "was_submission": request.method == "POST",
            "resend_fields": fields,
            "had_files": resendable and bool(request.FILES),
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_OUTAGE_SECONDS)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)  # it may hold what the patient typed
    return response


def _view_of(request: HttpRequest) -> Callable[..., HttpResponseBase] | None:
    """The view the request was for, even when the database failed before the URL was resolved (the
    session of a returning visitor is read by middleware first)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return match.func


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
