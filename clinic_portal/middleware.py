import gzip
import secrets

from django.conf import settings
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers


class RequestBodyLimitMiddleware:
    """Refuse a body larger than MAX_REQUEST_BODY_BYTES from its declared length, before anything reads it.

    It sits above the session and CSRF middleware: CSRF checking parses the body of every POST.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= settings.MAX_REQUEST_BODY_BYTES:
            return self.get_response(request)
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        with translation.override(language):
            # The web server closes the connection: the unread body must not become the next request.
            return render(request, "request_too_large.html", status=413)


COMPRESSED_TYPES = ("text/html", "text/plain", "application/json", "application/xml", "application/ld+json")


class PageGZipMiddleware(GZipMiddleware):
    """Compress pages (HTML, JSON, plain text) for a browser that accepts gzip; files go out as stored.

    Medical records, exports and images are streamed, and mostly compressed already; WhiteNoise, above
    this middleware, serves the static files precompressed. Django pads every compressed body with a
    random number of bytes, which defeats BREACH-style guessing of the page's secrets (CSRF tokens are
    masked anew on every response besides).
    """

    # Django compresses at level 6. Level 5 took the condition page's compression from 0.7–1.5 ms to
    # 0.6–0.9 ms (English to Russian) for 0.5–2 % more bytes: with the page cache warm, compression
    # is a large part of what a page costs the server.
    compress_level = 5

    def process_response(self, request, response):
        if response.streaming or not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        # Django's non-streaming path, at our level (its own fixes level 6).
        if len(response.content) < 200 or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = self._compress(response.content)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # a strong ETag names the uncompressed bytes
        response.headers["Content-Encoding"] = "gzip"
        return response

    def _compress(self, content):
        compressed = gzip.compress(content, compresslevel=self.compress_level, mtime=0)
        return self.header() + compressed[10:]

    @classmethod
    def header(cls):
        """A gzip member's header (RFC 1952) with a file name of random length, as Django pads against
        BREACH."""
        name = b"a" * secrets.randbelow(cls.max_random_bytes) + b"\x00"
        return b"\x1f\x8b\x08" + bytes([gzip.FNAME]) + b"\x00\x00\x00\x00\x00\xff" + name
