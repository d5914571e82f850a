from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django_countries import countries

from clinic_portal.cache import RETRY_REDIS_AFTER_SECONDS


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


@register(Tags.security)
def site_url_when_debug_is_off(app_configs, **kwargs):
    """Links in emails are built from SITE_URL: without it they would point at nothing or at 127.0.0.1."""
    if settings.DEBUG or settings.SITE_URL:
        return []
    return [
        Error(
            "SITE_URL is not set: links in emails to patients and coordinators would be broken.",
            hint="Set SITE_URL to the public address of the site, e.g. https://clinicportal.example.",
            id="clinic_portal.E001",
        )
    ]


@register(Tags.security, deploy=True)
def error_reports_go_somewhere(app_configs, **kwargs):
    if settings.ADMINS:
        return []
    return [
        Warning(
            "ADMINS is not set: server errors are only written to the log.",
            hint="Set ADMINS to the addresses that should receive server error reports.",
            id="clinic_portal.W002",
        )
    ]


@register(Tags.security, deploy=True)
def readiness_is_readable_by_monitoring(app_configs, **kwargs):
    if settings.HEALTH_TOKEN:
        return []
    return [
        Warning(
            "HEALTH_TOKEN is not set: /healthz/ready answers 404 to everyone, monitoring included.",
            hint="Set HEALTH_TOKEN to a long random string and send it as 'Authorization: Bearer …'.",
            id="clinic_portal.W003",
        )
    ]


@register(Tags.compatibility)
def lease_outlasts_an_smtp_exchange(app_configs, **kwargs):
    """An email is cut off at 80 % of its lease; a lease shorter than a few SMTP timeouts would cut
    off slow but healthy exchanges and send those emails again."""
    if settings.EMAIL_LEASE_SECONDS >= 3 * settings.EMAIL_TIMEOUT:
        return []
    return [
        Warning(
            f"EMAIL_LEASE_SECONDS ({settings.EMAIL_LEASE_SECONDS}) is shorter than three EMAIL_TIMEOUTs "
            f"({settings.EMAIL_TIMEOUT} s each).",
            hint="Raise EMAIL_LEASE_SECONDS or lower EMAIL_TIMEOUT.",
            id="clinic_portal.W004",
        )
    ]


@register(Tags.caches)
def local_pages_outlive_no_redis_outage(app_configs, **kwargs):
    """While Redis is taken for unreachable, pages are rendered afresh; a page a process holds longer
    than that pause could be served with the version of the outage after Redis is back."""
    if 0 <= settings.PAGE_CACHE_LOCAL_SECONDS < RETRY_REDIS_AFTER_SECONDS:
        return []
    return [
        Error(
            f"PAGE_CACHE_LOCAL_SECONDS ({settings.PAGE_CACHE_LOCAL_SECONDS}) must be at least 0 and "
            f"less than {RETRY_REDIS_AFTER_SECONDS}.",
            hint="A second (the default) is enough to spare the round trip to Redis.",
            id="clinic_portal.E003",
        )
    ]


OPERATOR_SETTINGS = (
    "OPERATOR_NAME",
    "OPERATOR_ADDRESS",
    "OPERATOR_REGISTRATION_NUMBER",
    "OPERATOR_EMAIL",
    "PRIVACY_CONTACT_EMAIL",
    "DATA_STORAGE_COUNTRY",
)


@register(Tags.security)
def operator_identity_when_debug_is_off(app_configs, **kwargs):
    """The privacy notice and the about page name the operator (the controller of the patients' data)
    and the contact for data requests; a public site must not go without them."""
    problems = []
    missing = [name for name in OPERATOR_SETTINGS if not getattr(settings, name)]
    if missing and not settings.DEBUG:
        problems.append(
            Warning(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the privacy notice "
                "and the about page would not say who runs the site, where the data is kept or whom to "
                "write to about it.",
                hint="Set them in the environment (see deploy/env.example).",
                id="clinic_portal.W005",
            )
        )
    if settings.DATA_STORAGE_COUNTRY and settings.DATA_STORAGE_COUNTRY not in countries:
        problems.append(
            Error(
                f"DATA_STORAGE_COUNTRY ({settings.DATA_STORAGE_COUNTRY!r}) is not a country code.",
                hint="Use the two-letter ISO 3166 code of the country of the servers, e.g. KR.",
                id="clinic_portal.E002",
            )
        )
    return problems
