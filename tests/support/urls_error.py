"""The site's URLs plus views that fail, to see the 500 page and the error reports."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from clinic_portal.urls import handler404, handler500, urlpatterns  # noqa: F401


def broken(request):
    raise RuntimeError("boom")


@csrf_exempt  # lets tests post to it through the bare WSGI handler
def broken_form(request, reference, token):
    """Fails while holding the posted form in a local variable, as a real form view would."""
    submitted = request.POST.dict()
    raise LookupError(f"no clinic matches the request ({len(submitted)} fields)")


urlpatterns = [
    *urlpatterns,
    *i18n_patterns(
        path("broken/", broken),
        path("broken-form/<str:reference>/<str:token>/", broken_form),
    ),
]
