"""Rate limits on the patient's forms, counted in the shared cache (Redis in production).

Two kinds. A ceiling on raw posts per address stops floods; every post counts. Limits on what is
stored (requests, replies, link emails) count only what was stored: a family correcting a phone
number, or patients sharing a hotel's address, never meet a dead end because of their own typos.
"""

import unicodedata
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage


def normalised_email(address):
    """One mailbox, one key: width and case folded, and a plus tag is the same mailbox."""
    address = unicodedata.normalize("NFKC", address or "").strip().casefold()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def posted_email(group, request):
    return normalised_email(request.POST.get("email", ""))


@dataclass(frozen=True)
class Limit:
    group: str
    rate_setting: str
    key: object = "ip"  # the client address (clinic_portal.client_ip)

    def _usage(self, request, *, increment):
        rate = getattr(settings, self.rate_setting)
        return get_usage(request, group=self.group, key=self.key, rate=rate, method=ALL, increment=increment)

    def seconds_until_free(self, request):
        """None if one more may be stored; else the seconds until the window resets."""
        usage = self._usage(request, increment=False)
        if usage and (usage["should_limit"] or usage["count"] >= usage["limit"]):
            return max(usage["time_left"], 1)
        return None

    def hit(self, request):
        """Count this request; the seconds to wait if that went past the limit, else None."""
        usage = self._usage(request, increment=True)
        if usage and usage["should_limit"]:
            return max(usage["time_left"], 1)
        return None


def first_reached(request, *limits):
    """Seconds to wait for the first of these limits already reached, or None."""
    for limit in limits:
        if (wait := limit.seconds_until_free(request)) is not None:
            return wait
    return None


def count(request, *limits):
    for limit in limits:
        limit.hit(request)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "inquiries/rate_limited.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response


def post_ceiling(group, rate_setting="INQUIRY_POST_CEILING_PER_IP"):
    """Every POST to the view counts toward a high per-address ceiling; past it, 429."""

    ceiling = Limit(group, rate_setting)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and (retry_after := ceiling.hit(request)):
                return too_many_requests(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def refused_when_reached(*limits):
    """A POST to the view is refused (429) while one of these limits is reached. The view counts the
    posts it accepts (``count``): refused and invalid posts never use up a patient's allowance."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and (retry_after := first_reached(request, *limits)):
                return too_many_requests(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


INQUIRIES_PER_ADDRESS = Limit("inquiry-ip", "INQUIRY_RATE_PER_IP")
INQUIRIES_PER_MAILBOX = Limit("inquiry-email", "INQUIRY_RATE_PER_EMAIL", key=posted_email)
REPLIES_PER_ADDRESS = Limit("follow-up-reply", "INQUIRY_RATE_PER_IP")
HELD_FILES_PER_ADDRESS = Limit("held-files-ip", "HELD_FILES_PER_IP")
LINK_EMAILS_PER_ADDRESS = Limit("lost-link-ip", "LOST_LINK_RATE")
LINK_EMAILS_PER_MAILBOX = Limit("lost-link-email", "LOST_LINK_RATE", key=posted_email)
