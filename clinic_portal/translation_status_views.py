"""The admin page of the translations' status (see clinic_portal.translation_status)."""

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clinic_portal.translation_status import kinds_for, statuses, translated_languages

OBJECTS_PER_PAGE = 25


class StatusFilterForm(forms.Form):
    """What the page lists: one kind of object (the first the user may see unless chosen), in every
    language or one."""

    kind = forms.ChoiceField(label=_("Kind of object"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = {kind.slug: kind for kind in kinds}
        self.fields["kind"].choices = [(kind.slug, kind.label) for kind in kinds]
        self.fields["language"].choices = [("", _("All languages")), *translated_languages()]

    def clean_kind(self):
        return self.kinds[self.cleaned_data["kind"] or next(iter(self.kinds))]

    def clean_language(self):
        chosen = self.cleaned_data["language"]
        return [(code, name) for code, name in translated_languages() if not chosen or code == chosen]


def translation_status(request, site):
    kinds = kinds_for(request.user)
    if not kinds:
        raise Http404
    form = StatusFilterForm(request.GET, kinds=kinds)
    if form.has_error("kind"):
        raise Http404  # a kind out of reach is as unknown as one that does not exist
    context = {**site.each_context(request), "title": _("Translation status"), "form": form}
    if form.is_valid():
        kind, languages = form.cleaned_data["kind"], form.cleaned_data["language"]
        page = Paginator(kind.objects(), OBJECTS_PER_PAGE).get_page(request.GET.get("page"))
        context.update(
            kind=kind,
            languages=languages,
            single_language=len(languages) == 1,
            page_obj=page,
            page_numbers=page.paginator.get_elided_page_range(page.number),
            rows=statuses(kind, list(page), languages, request.user),
            query=_query_without_page(request),
        )
    return TemplateResponse(request, "admin/translation_status.html", context)


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def index_panel(request):
    """The link on the admin's front page, for those who may see some translations' status."""
    if not kinds_for(request.user):
        return None
    return {"template": "admin/translation_status_panel.html", "url": reverse("admin:translation_status")}
