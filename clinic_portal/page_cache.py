"""Whole public pages kept in the shared cache, per address and language, for visitors without a session.

What a public page shows changes only when its content is edited (conditions, clinics and what links
them) or when the day turns (accreditations and reviews lapse by date). A page is therefore stored
with the content version it shows, which is set anew after every committed change to that content,
under a key that holds the date; the version and the page are read together, in one round trip, and
a page of an older version is rendered anew. Nothing has to find and delete the pages an edit
touched, and a lost version simply starts a new one.

The two values of a page that belong to one visitor, the CSRF token and a form's submission key, are
stored as placeholders and filled in for each response: no visitor ever receives another's token, and
every page view gets a fresh submission key. Signed-in staff, visitors with a session or a pending
message, and addresses with query parameters the page does not expect (a search, say, which would
fill the cache with one-off pages) are served a freshly rendered page.

Each process also keeps the pages it served last in its own memory (``LocalPages``, bounded in
bytes), with the content version it last read from the shared cache. For
``PAGE_CACHE_LOCAL_SECONDS`` after that read it serves those pages without asking the shared cache,
whose round trip was measured at about a third of a cached page's server time. An edit shows at
once in the process that saved it, and within those seconds in the others (the other workers and
servers, the background worker's rebuilds).

A cached page is also kept gzipped, so that serving it costs no compression: the parts between the
placeholders are compressed once, each ending on a full flush (no later part refers back to it), and a
visitor's tokens go between them as uncompressed ("stored") deflate blocks. A token is therefore never
compressed with anything, which leaves no compression-length oracle for BREACH-style guessing.
"""

import datetime
import functools
import hashlib
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Collection
from time import monotonic
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CSRF_TOKEN_LENGTH, get_token
from django.middleware.gzip import re_accepts_gzip
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from clinic_portal.middleware import PageGZipMiddleware

VERSION_KEY = "page-content-version"
# A safety net only: every edit and every new day already give pages new keys.
PAGE_TIMEOUT_SECONDS = 15 * 60
MAX_QUERY_VALUE_LENGTH = 80

CSRF_PLACEHOLDER = b"page-cache:csrf-token"
SUBMISSION_KEY_PLACEHOLDER = b"page-cache:submission-key"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_SUBMISSION_KEY_INPUT = re.compile(rb'(name="(?:[\w-]+-)?submission_key" value=")[0-9a-f-]{36}(")')
TOKEN_LENGTHS = {CSRF_PLACEHOLDER: CSRF_TOKEN_LENGTH, SUBMISSION_KEY_PLACEHOLDER: len(str(uuid.UUID(int=0)))}
_PLACEHOLDERS = re.compile(
    b"(" + re.escape(CSRF_PLACEHOLDER) + b"|" + re.escape(SUBMISSION_KEY_PLACEHOLDER) + b")"
)


def _cache() -> BaseCache:
    return caches[settings.PAGE_CACHE_ALIAS]


def content_version(known: Any = None) -> int:
    """When public content last changed, in nanoseconds (``known``: the value already read from the
    cache, if any); set now when the cache has none."""
    cache = _cache()
    version = cache.get(VERSION_KEY) if known is None else known
    if version is None:
        version = time.time_ns()
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    return int(version)


def content_changed() -> None:
    """Public content changed: pages cached before are no longer served (at commit, when in a
    transaction, so no page of the old content is cached under the new version)."""
    transaction.on_commit(_start_new_version)


def _start_new_version() -> None:
    version, started = time.time_ns(), monotonic()
    _cache().set(VERSION_KEY, version, timeout=None)
    local_pages.version_read(version, started)


class LocalPages:
    """The pages this process served last, by key, and the content version it last read from the
    shared cache; at most ``most_bytes`` of pages, the least recently served dropped first.

    Not Django's local-memory cache: it pickles what it keeps and would unpickle the whole page on
    every read, and it bounds entries, not bytes."""

    def __init__(self, most_bytes: int) -> None:
        self.most_bytes = most_bytes
        self._pages: dict[str, tuple[dict[str, Any], int]] = {}  # in the order last served
        self._bytes = 0
        self._version: int | None = None
        self._version_read_at = 0.0
        self._lock = threading.Lock()  # for servers that run threads

    def current(self, key: str, seconds: float) -> dict[str, Any] | None:
        """The page held under ``key`` if it is of the version read from the shared cache within
        ``seconds``."""
        if self._version is None or monotonic() - self._version_read_at >= seconds:
            return None
        return self.get(key, self._version)

    def version_read(self, version: int, started: float) -> None:
        """``version`` was read from (or written to) the shared cache by a call begun at ``started``
        (``monotonic()``): held pages count from then. A read begun before the last one changes
        nothing, so a slow read never brings back a version another thread has since replaced."""
        with self._lock:
            if started >= self._version_read_at:
                self._version, self._version_read_at = version, started

    def get(self, key: str, version: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._pages.pop(key, None)
            if found is None:
                return None
            if found[0]["version"] != version:
                self._bytes -= found[1]
                return None
            self._pages[key] = found
            return found[0]

    def keep(self, key: str, stored: dict[str, Any]) -> None:
        size = sum(map(len, stored["parts"])) + sum(map(len, stored.get("gzip") or ()))
        if size > self.most_bytes:
            return
        with self._lock:
            previous = self._pages.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            while self._pages and self._bytes + size > self.most_bytes:
                self._bytes -= self._pages.pop(next(iter(self._pages)))[1]
            self._pages[key] = (stored, size)
            self._bytes += size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0
            self._version = None
            self._version_read_at = 0.0


local_pages = LocalPages(most_bytes=settings.PAGE_CACHE_LOCAL_BYTES)


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


def _page_key(request: HttpRequest) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"page:{timezone.localdate().isoformat()}:{digest}"


def _with_placeholders(content: bytes) -> bytes:
    content = _CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", content)
    return _SUBMISSION_KEY_INPUT.sub(rb"\1" + SUBMISSION_KEY_PLACEHOLDER + rb"\2", content)


def _tokens(request: HttpRequest, parts: list[bytes]) -> dict[bytes, Callable[[], bytes]]:
    csrf_token = get_token(request).encode() if CSRF_PLACEHOLDER in parts[1::2] else b""
    return {
        CSRF_PLACEHOLDER: lambda: csrf_token,
        SUBMISSION_KEY_PLACEHOLDER: lambda: str(uuid.uuid4()).encode(),
    }


def _for_visitor(request: HttpRequest, parts: list[bytes]) -> bytes:
    """The page for this visitor: ``parts`` (the text between the placeholders, and the placeholders)
    with the visitor's tokens in place of the placeholders."""
    tokens = _tokens(request, parts)
    return b"".join(tokens[part]() if index % 2 else part for index, part in enumerate(parts))


def _compressed_parts(parts: list[bytes]) -> list[bytes] | None:
    """The page as raw deflate data, with the placeholders between the parts left as they are.

    Every second item is a placeholder; the others are the compressed text between them, each ending
    on a flush, the last one ending the stream. In place of each token the compressor reads NUL
    bytes of the token's length, and its output for them is dropped: the parts keep referring back
    across a token at the right distances, and never into it, since a page holds no NUL. ``None``
    for a page that holds one.
    """
    if any(b"\0" in part for part in parts[::2]):
        return None
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    compressed = []
    for index, part in enumerate(parts):
        if index % 2:
            compressor.compress(b"\0" * TOKEN_LENGTHS[part])
            compressor.flush(zlib.Z_SYNC_FLUSH)
            compressed.append(part)
        else:
            last = index == len(parts) - 1
            compressed.append(
                compressor.compress(part) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
            )
    return compressed


def _stored_block(data: bytes) -> bytes:
    """``data`` as an uncompressed deflate block that is not the last one (RFC 1951, 3.2.4)."""
    return b"\x00" + len(data).to_bytes(2, "little") + (len(data) ^ 0xFFFF).to_bytes(2, "little") + data


def _gzipped_for_visitor(request: HttpRequest, parts: list[bytes], compressed: list[bytes]) -> bytes | None:
    """The page gzipped for this visitor: ``compressed`` with the visitor's tokens in stored blocks,
    padded as every compressed page is (``PageGZipMiddleware``); ``None`` if a token is not of the
    length it was compressed for."""
    tokens = _tokens(request, parts)
    crc = zlib.crc32(parts[0])
    size = len(parts[0])
    member = [PageGZipMiddleware.header(), compressed[0]]
    for index in range(1, len(compressed), 2):
        token = tokens[compressed[index]]()
        if len(token) != TOKEN_LENGTHS[compressed[index]]:
            return None
        member += [_stored_block(token), compressed[index + 1]]
        crc = zlib.crc32(parts[index + 1], zlib.crc32(token, crc))
        size += len(token) + len(parts[index + 1])
    member.append(crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    return b"".join(member)


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
            key = _page_key(request)
            held = local_pages.current(key, settings.PAGE_CACHE_LOCAL_SECONDS)
            if held is not None:
                return _response_for(request, held, held["version"])
            started = monotonic()
            found = cache.get_many([VERSION_KEY, key])
            version = content_version(found.get(VERSION_KEY))
            local_pages.version_read(version, started)
            stored = found.get(key)
            if stored is None or stored.get("version") != version:
                response = view(request, *args, **kwargs)
                if (
                    not isinstance(response, HttpResponse)
                    or response.status_code != 200
                    or response.has_header("Cache-Control")
                    or response.has_header("Set-Cookie")
                ):
                    return response
                # Split once, here: every response fills in the placeholders between the parts.
                parts = _PLACEHOLDERS.split(_with_placeholders(response.content))
                headers = dict(response.items())
                headers.pop("Content-Length", None)
                stored = {
                    "version": version,
                    "parts": parts,
                    "headers": headers,
                    "gzip": _compressed_parts(parts),
                }
                cache.set(key, stored, PAGE_TIMEOUT_SECONDS)
            local_pages.keep(key, stored)
            return _response_for(request, stored, version)

        return wrapper

    return decorator


def _response_for(request: HttpRequest, stored: dict[str, Any], version: int) -> HttpResponse:
    parts: list[bytes] = stored["parts"]
    has_tokens = len(parts) > 1
    gzipped = None
    if stored.get("gzip") and re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        gzipped = _gzipped_for_visitor(request, parts, stored["gzip"])
    if gzipped is not None:
        response = HttpResponse(gzipped, headers=stored["headers"])
        response["Content-Encoding"] = "gzip"
        if not has_tokens:
            # What ConditionalGetMiddleware would have named the page before compression, weak as
            # PageGZipMiddleware makes it: the padding differs from one response to the next.
            response["ETag"] = f'W/"{hashlib.md5(parts[0], usedforsecurity=False).hexdigest()}"'
    else:
        response = HttpResponse(_for_visitor(request, parts), headers=stored["headers"])
    response["Content-Length"] = str(len(response.content))
    patch_vary_headers(response, ("Accept-Encoding",))
    if not has_tokens:
        # A page without a form may be revalidated by date as well as by its ETag; a form's page
        # never is, or a browser would send an old submission key again.
        response["Last-Modified"] = http_date(_last_modified(version))
    return response


def content_saved(sender: type[Model], **kwargs: Any) -> None:
    """Receiver of every model's saves and deletions (and changes of many-to-many links)."""
    if (
        kwargs.get("action", "post_").startswith("post_")
        and sender._meta.app_label in settings.PAGE_CACHE_CONTENT_APPS
    ):
        content_changed()
