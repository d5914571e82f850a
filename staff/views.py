"""Staff sign-in with two factors, enrolment of the authenticator app, and identity re-confirmation."""

import base64
import secrets
from typing import Any

import segno
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic_portal.decorators import private_page
from staff import sessions
from staff.audit import record
from staff.decorators import redirect_with_next, second_factor_step
from staff.forms import ConfirmIdentityForm, EnrolForm, StaffSignInForm, TokenForm
from staff.models import AuditAction

BACKUP_CODES = 10


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A staff page in the admin's look (its header, title and user tools)."""
    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


@sensitive_post_parameters("password")
@never_cache
@private_page
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = StaffSignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if not user.is_staff:
            form.add_error(None, _("This account has no access to the staff area."))
        else:
            # A new session, whatever came before: signing in again must not keep an earlier
            # session's confirmed second factor (nor restart its clock).
            request.session.flush()
            login(request, user)
            return redirect_with_next(second_factor_step(user), _next_url(request))
    context = {
        "form": form,
        "next": _next_url(request),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return _render(request, "staff/sign_in.html", context, status=400 if form.is_bound else 200)


def _require_signed_in_staff(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_with_next("staff:login", _next_url(request))
    return None


@sensitive_post_parameters("token")
@never_cache
@private_page
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a backup code."""
    if refused := _require_signed_in_staff(request):
        return refused
    if not user_has_device(request.user):
        return redirect_with_next("staff:setup", _next_url(request))
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            otp_login(request, form.device)
            sessions.confirm_identity(request)
            record(AuditAction.SECOND_FACTOR, request=request, user=request.user)
            return redirect(_next_url(request))
        record(AuditAction.SECOND_FACTOR_FAILED, request=request, user=request.user)
    status = 400 if form.is_bound else 200
    return _render(request, "staff/verify.html", {"form": form, "next": _next_url(request)}, status=status)


def _qr_code_data_uri(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@sensitive_post_parameters("token")
@never_cache
@private_page
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app on first sign-in; then show the backup codes once."""
    if refused := _require_signed_in_staff(request):
        return refused
    if user_has_device(request.user):
        return redirect_with_next("staff:verify", _next_url(request))
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": _("Authenticator app")}
    )
    form = EnrolForm(request.POST or None, device=device)
    if request.method == "POST" and not form.is_valid():
        record(AuditAction.SECOND_FACTOR_FAILED, request=request, user=request.user)
    elif request.method == "POST":
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        backup = StaticDevice.objects.create(user=request.user, name=_("Backup codes"))
        codes = [secrets.token_hex(4) for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
        otp_login(request, device)
        sessions.confirm_identity(request)
        record(AuditAction.DEVICE_ENROLLED, request=request, user=request.user)
        return _render(request, "staff/backup_codes.html", {"codes": codes, "next": _next_url(request)})
    context = {
        "form": form,
        "qr_code": _qr_code_data_uri(device),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": _next_url(request),
    }
    return _render(request, "staff/setup.html", context, status=400 if form.is_bound else 200)


@sensitive_post_parameters("secret")
@never_cache
@private_page
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """Confirm identity again before downloading medical records or erasing personal data."""
    if refused := _require_signed_in_staff(request):
        return refused
    form = ConfirmIdentityForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            sessions.confirm_identity(request)
            record(AuditAction.REAUTHENTICATED, request=request, user=request.user)
            return redirect(_next_url(request))
        record(AuditAction.REAUTHENTICATION_FAILED, request=request, user=request.user)
        if sessions.count_failed_confirmation(request) >= settings.AXES_FAILURE_LIMIT:
            logout(request)
            messages.warning(request, _("Your session has ended. Please sign in again."))
            return redirect("staff:login")
    context = {"form": form, "next": _next_url(request), "minutes": settings.STAFF_RECONFIRM_MINUTES}
    return _render(request, "staff/confirm.html", context, status=400 if form.is_bound else 200)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("staff:login")
