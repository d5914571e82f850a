from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext as _

from staff import sessions
from staff.audit import record
from staff.decorators import redirect_with_next, second_factor_step
from staff.models import AuditAction


def in_staff_area(path):
    return path.startswith(settings.STAFF_AREAS)


class StaffAccessMiddleware:
    """Ends staff sessions that are idle or too old, and keeps staff without a confirmed second
    factor out of every staff page but the sign-in, enrolment and code pages.

    Sits after django-otp's middleware, which tells whether the session's second factor is confirmed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        if reason := sessions.expired(request):
            record(AuditAction.SESSION_EXPIRED, request=request, user=user, note=reason)
            logout(request)
            if in_staff_area(request.path) or request.path.startswith("/staff/"):
                messages.info(request, _("Your session has ended. Please sign in again."))
                return redirect_to_login(request.get_full_path(), reverse("staff:login"))
            return self.get_response(request)
        sessions.touch(request)
        if user.is_staff and not user.is_verified() and in_staff_area(request.path):
            return redirect_with_next(second_factor_step(user), request.get_full_path())
        return self.get_response(request)
