from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info


def languages(request):
    """The current page in every supported language, for the switcher and hreflang links."""
    current = get_language()
    query = request.META.get("QUERY_STRING", "")
    alternates = []
    for code, _name in settings.LANGUAGES:
        path = translate_url(request.path, code)
        info = get_language_info(code)
        alternates.append(
            {
                "code": code,
                "name_local": info["name_local"],
                "bidi": info["bidi"],
                "url": request.build_absolute_uri(path),
                "path": f"{path}?{query}" if query else path,
                "is_current": code == current,
            }
        )
    default = next(a for a in alternates if a["code"] == settings.LANGUAGE_CODE)
    return {
        "site_name": settings.SITE_NAME,
        "alternate_languages": alternates,
        "x_default_url": default["url"],
        "canonical_url": request.build_absolute_uri(request.path),
    }
