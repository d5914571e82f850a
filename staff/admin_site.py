from functools import partial, update_wrapper

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse

from clinic_portal import translation_status_views
from staff.decorators import redirect_with_next


def _not_found(*args, **kwargs):
    raise Http404


def _public_pages_only(shortcut):
    """ "View on site" for models with a public page; anything else (an inquiry, a file) is not even
    looked up, so that the answer says nothing about whether it exists."""

    def view(request, content_type_id, object_id):
        content_type = ContentType.objects.filter(pk=content_type_id).first()
        model = content_type.model_class() if content_type else None
        if model is None or not hasattr(model, "get_absolute_url"):
            raise Http404
        return shortcut(request, content_type_id, object_id)

    return view


class StaffAdminSite(admin.AdminSite):
    """The admin for staff who have confirmed their second factor.

    What a user may not reach answers 404, as if it did not exist: a 403 would confirm that an
    inquiry (or a page) is there.
    """

    index_template = "admin/staff_index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, admin_class, **options)
        # A missing object answers 404 everywhere, like an object out of reach (the admin's own
        # answer would be a redirect with "does not exist").
        for model_admin in self._registry.values():
            model_admin._get_obj_does_not_exist_redirect = _not_found

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            if getattr(pattern, "name", None) == "view_on_site":
                pattern.callback = self.admin_view(_public_pages_only(pattern.callback))
        status_view = partial(translation_status_views.translation_status, site=self)
        return [path("translations/", self.admin_view(status_view), name="translation_status"), *urls]

    def index(self, request, extra_context=None):
        """The front page, with the panels the apps' admins provide (``index_panel(request)``
        returning a dict with its ``template``, or None for a user who may not see it)."""
        panels = [
            panel
            for model_admin in self._registry.values()
            if (provider := getattr(model_admin, "index_panel", None)) and (panel := provider(request))
        ]
        if translations_panel := translation_status_views.index_panel(request):
            panels.append(translations_panel)
        return super().index(request, {"panels": panels, **(extra_context or {})})

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and user.is_verified()

    def login(self, request, extra_context=None):
        return redirect_with_next("staff:login", request.GET.get("next") or reverse("admin:index"))

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            try:
                return protected(request, *args, **kwargs)
            except PermissionDenied as denied:
                raise Http404 from denied

        return update_wrapper(inner, view)
