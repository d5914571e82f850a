from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_cache_for_rate_limits(app_configs, **kwargs):
    """Rate limits count in the cache: per process without Redis, which a multi-worker server defeats."""
    if settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: rate limits on consultation requests are counted per process.",
            hint="Set REDIS_URL to a Redis server shared by all workers.",
            id="clinic_portal.W001",
        )
    ]
