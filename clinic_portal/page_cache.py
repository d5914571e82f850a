"""Whole public pages kept in the shared cache, per address and language, for visitors without a session.

What a public page shows changes only when its content is edited (conditions, clinics and what links
them) or when the day turns (accreditations and reviews lapse by date). A page's key therefore holds a
content version, set anew after every committed change to that content, and the date: nothing has to
find and delete the pages an edit touched, and a lost version simply starts a new one.

The two values of a page that belong to one visitor, the CSRF token and a form's submission key, are
stored as placeholders and filled in for each response: no visitor ever receives another's token, and
every page view gets a fresh submission key. Signed-in staff, visitors with a session or a pending
message, and addresses with query parameters the page does not expect (a search, say, which would
fill the cache with one-off pages) are served a freshly rendered page.
"""

import datetime
import functools
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.http import http_date

VERSION_KEY = "page-content-version"
# A safety net only: every edit and every new day already give pages new keys.
PAGE_TIMEOUT_SECONDS = 15 * 60
MAX_QUERY_VALUE_LENGTH = 80

CSRF_PLACEHOLDER = b"page-cache:csrf-token"
SUBMISSION_KEY_PLACEHOLDER = b"page-cache:submission-key"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_SUBMISSION_KEY_INPUT = re.compile(rb'(name="(?:[\w-]+-)?submission_key" value=")[0-9a-f-]{36}(")')


def _cache() -> BaseCache:
    return caches[settings.PAGE_CACHE_ALIAS]


def content_version() -> int:
    """When public content last changed, in nanoseconds; set now when the cache has none."""
    cache = _cache()
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    return int(version)


def content_changed() -> None:
    """Public content changed: pages cached before are no longer served (at commit, when in a
    transaction, so no page of the old content is cached under the new version)."""
    transaction.on_commit(lambda: _cache().set(VERSION_KEY, time.time_ns(), timeout=None))


def _is_shared_cache_degraded(cache: BaseCache) -> bool:
    # While Redis is unreachable each process would keep pages of its own, out of step with edits.
    return bool(getattr(cache, "is_degraded", lambda: False)())


def _cacheable_request(request: HttpRequest, query_names: Collection[str]) -> bool:
    if not settings.PAGE_CACHE or request.method not in ("GET", "HEAD"):
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES:
        return False
    return all(
        name in query_names
        and all(len(value) <= MAX_QUERY_VALUE_LENGTH for value in request.GET.getlist(name))
        for name in request.GET
    )


def _page_key(request: HttpRequest, version: int) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"page:{version}:{timezone.localdate().isoformat()}:{digest}"


def _with_placeholders(content: bytes) -> bytes:
    content = _CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", content)
    return _SUBMISSION_KEY_INPUT.sub(rb"\1" + SUBMISSION_KEY_PLACEHOLDER + rb"\2", content)


def _for_visitor(request: HttpRequest, content: bytes) -> bytes:
    if CSRF_PLACEHOLDER in content:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    parts = content.split(SUBMISSION_KEY_PLACEHOLDER)
    if len(parts) > 1:
        content = parts[0] + b"".join(str(uuid.uuid4()).encode() + part for part in parts[1:])
    return content


def _last_modified(version: int) -> float:
    """The content version, or the start of today when later: pages change with the date too."""
    start_of_today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    return max(version / 1e9, start_of_today.timestamp())


View = Callable[..., HttpResponseBase]


def cached_page(query: Collection[str] | Callable[[], Collection[str]] = ()) -> Callable[[View], View]:
    """Serve the view's page from the shared cache when the request allows it (see the module).

    ``query`` names the query parameters the page understands (filters, page number), or is a function
    returning them; a request with any other parameter is rendered afresh and not stored.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            cache = _cache()
            query_names = query() if callable(query) else query
            if not _cacheable_request(request, query_names) or _is_shared_cache_degraded(cache):
                return view(request, *args, **kwargs)
            version = content_version()
            key = _page_key(request, version)
            stored = cache.get(key)
            if stored is None:
                response = view(request, *args, **kwargs)
                if (
                    not isinstance(response, HttpResponse)
                    or response.status_code != 200
                    or response.has_header("Cache-Control")
                    or response.has_header("Set-Cookie")
                ):
                    return response
                stored = {"content": _with_placeholders(response.content), "headers": dict(response.items())}
                stored["headers"].pop("Content-Length", None)
                cache.set(key, stored, PAGE_TIMEOUT_SECONDS)
            content = stored["content"]
            response = HttpResponse(_for_visitor(request, content), headers=stored["headers"])
            if CSRF_PLACEHOLDER not in content and SUBMISSION_KEY_PLACEHOLDER not in content:
                # A page without a form may be revalidated by date as well as by its ETag; a form's
                # page never is, or a browser would send an old submission key again.
                response["Last-Modified"] = http_date(_last_modified(version))
            return response

        return wrapper

    return decorator


def content_saved(sender: type[Model], **kwargs: Any) -> None:
    """Receiver of every model's saves and deletions (and changes of many-to-many links)."""
    if (
        kwargs.get("action", "post_").startswith("post_")
        and sender._meta.app_label in settings.PAGE_CACHE_CONTENT_APPS
    ):
        content_changed()
