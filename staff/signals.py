"""Sign-in, sign-out, failed sign-in and lockout go to the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from staff import sessions
from staff.audit import record
from staff.models import AuditAction


@receiver(user_logged_in, dispatch_uid="staff.audit_sign_in")
def _signed_in(sender, request, user, **kwargs):
    if getattr(request, "session", None) is not None:
        sessions.start(request)
    record(AuditAction.SIGN_IN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="staff.audit_sign_out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(AuditAction.SIGN_OUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="staff.audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    record(AuditAction.SIGN_IN_FAILED, request=request, username=str(credentials.get("username", "")))


@receiver(user_locked_out, dispatch_uid="staff.audit_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    record(AuditAction.LOCKED_OUT, request=request, username=str(username or ""))
