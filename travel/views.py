from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language, get_language_info
from django.views.decorators.http import require_safe

from clinic_portal.page_cache import cached_page
from travel.models import INVITATION_SECTION, TravelGuide


@require_safe
@cached_page()
def guide(request: HttpRequest) -> HttpResponse:
    travel_guide = get_object_or_404(TravelGuide.objects.published().with_page_content())
    language = get_language()
    context = {
        "guide": travel_guide,
        "sections": list(travel_guide.sections.all()),
        "language_name": get_language_info(language)["name_local"],
        "is_translated": travel_guide.is_translated(language),
        "translation_is_reviewed": travel_guide.translation_is_reviewed(language),
        "registration_section": INVITATION_SECTION,
    }
    return render(request, "travel/guide.html", context)
