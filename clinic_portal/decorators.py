from functools import wraps

from django.utils.cache import add_never_cache_headers


def private_page(view):
    """A page for one person (a patient's request, a staff page): never cached anywhere, never indexed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def resendable_after_outage(view):
    """A form whose submission may be offered again, as typed, on the 503 page of a database outage.

    Only for forms that carry nothing secret (no password) and whose submission key makes a second
    send store the request once."""
    view.resendable_after_outage = True
    return view
