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
    # x-default is the address without a language: it redirects to the reader's best language.
    default_path = translate_url(request.path, settings.LANGUAGE_CODE)
    prefix = f"/{settings.LANGUAGE_CODE}/"
    neutral_path = default_path
    if default_path.startswith(prefix):
        neutral_path = "/" + default_path.removeprefix(prefix)
    return {
        "site_name": settings.SITE_NAME,
        "alternate_languages": alternates,
        "x_default_url": request.build_absolute_uri(neutral_path),
        "canonical_url": request.build_absolute_uri(request.path),
    }
