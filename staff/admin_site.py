from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def _not_found(*args, **kwargs):
    raise Http404


class StaffAdminSite(admin.AdminSite):
    """The admin for staff who have confirmed their second factor.

    What a user may not reach answers 404, as if it did not exist: a 403 would confirm that an
    inquiry (or a page) is there.
    """

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, admin_class, **options)
        # A missing object answers 404 everywhere, like an object out of reach (the admin's own
        # answer would be a redirect with "does not exist").
        for model_admin in self._registry.values():
            model_admin._get_obj_does_not_exist_redirect = _not_found

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and user.is_verified()

    def login(self, request, extra_context=None):
        query = urlencode({"next": request.GET.get("next") or reverse("admin:index")})
        return redirect(f"{reverse('staff:login')}?{query}")

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            try:
                return protected(request, *args, **kwargs)
            except PermissionDenied as denied:
                raise Http404 from denied

        return update_wrapper(inner, view)
