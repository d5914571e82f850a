from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.utils import translation


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

    def process_response(self, request, response):
        if response.streaming or not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
