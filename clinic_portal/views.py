from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from redis.exceptions import RedisError


@require_safe
def home(request):
    return render(request, "clinic_portal/home.html")


@require_safe
def privacy(request):
    return render(request, "clinic_portal/privacy.html")


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unavailable"
    return "ok"


def _cache_state():
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "local"  # a per-process cache: nothing to reach
    try:
        ping()
    except (RedisError, OSError):
        return "unavailable"
    return "ok"


@never_cache
@require_safe
def healthz(request):
    """503 when the database is down. While Redis is down the site still works (limits count per
    process): "degraded", with 200, so that a load balancer keeps serving; monitoring alerts on it."""
    database, cache_state = _database_state(), _cache_state()
    if database != "ok":
        status, code = "error", 503
    elif cache_state == "unavailable":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "database": database, "cache": cache_state}, status=code)


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /*/inquiries/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request):
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
