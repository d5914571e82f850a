from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def redirect_with_next(url_name: str, next_url: str) -> HttpResponseRedirect:
    """To a staff step (sign-in, second factor, confirmation) that comes back to ``next_url``."""
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


def second_factor_step(user: User | AnonymousUser) -> str:
    """Where a signed-in user without a confirmed second factor goes: enter a code, or enrol first."""
    return "staff:verify" if user_has_device(user) else "staff:setup"


def redirect_to_confirmation(request: HttpRequest, next_url: str) -> HttpResponseRedirect:
    """Downloading medical records, erasing or correcting data: confirm it is you first."""
    return redirect_with_next("staff:confirm", next_url)
