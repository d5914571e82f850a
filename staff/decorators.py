from functools import wraps

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from staff import sessions


def recent_identity_confirmation(view):
    """Downloading medical records or erasing data asks for the password (or a code) again when the
    last confirmation is older than STAFF_RECONFIRM_MINUTES."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not sessions.identity_recently_confirmed(request):
            return redirect_to_confirmation(request, request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def redirect_to_confirmation(request, next_url):
    return redirect(f"{reverse('staff:confirm')}?{urlencode({'next': next_url})}")
