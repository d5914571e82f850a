"""The client's address, as rate limits see it."""

import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def client_ip(request):
    """The address in the configured header (set by our proxy), else the connection's own address.

    A request without the header, or with something that is not an address in it, did not come
    through the proxy (or the proxy is misconfigured): it is counted under the connecting address.
    """
    header = settings.CLIENT_IP_META_KEY
    value = request.META.get(header, "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if header != "REMOTE_ADDR":
            logger.warning("Header %s missing or not an address (%r); using REMOTE_ADDR", header, value[:60])
    remote = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        # A Unix-socket connection without a proxy header: all such requests share one counter.
        return "0.0.0.0"  # noqa: S104
