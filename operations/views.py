import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from operations import health

LOOPBACK = {"127.0.0.1", "::1"}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: cheap. 503 when the database is down. While Redis is down the site still
    works (limits count per process): "degraded", with 200, so that traffic keeps flowing."""
    database, cache_server = health.database(), health.cache_server()
    if not database.ok:
        status, code = "error", 503
    elif not cache_server.ok:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse(
        {"status": status, "database": "ok" if database.ok else "unavailable", "cache": cache_server.detail},
        status=code,
    )


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """For monitoring: every part, 503 naming the failing ones. Not public: it needs the bearer token
    (HEALTH_TOKEN); in development without one, a request from this machine will do."""
    if not _may_read_health(request):
        raise Http404
    checks = health.readiness()
    failing = [name for name, check in checks.items() if not check.ok]
    return JsonResponse(
        {
            "status": "failing" if failing else "ok",
            "failing": failing,
            "checks": {name: {"ok": check.ok, "detail": check.detail} for name, check in checks.items()},
        },
        status=503 if failing else 200,
    )


def _may_read_health(request: HttpRequest) -> bool:
    if settings.HEALTH_TOKEN:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), settings.HEALTH_TOKEN.encode())
    # Behind a local proxy every request comes from this machine: without a token, development only.
    return settings.DEBUG and request.META.get("REMOTE_ADDR") in LOOPBACK
