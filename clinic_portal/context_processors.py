from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import get_language, get_language_info


def languages(request):
    """The current page in every supported language, for the switcher and hreflang links."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        # A page that does not exist (perhaps "//evil.example/x"): offer each language's home page,
        # never a link built from the requested path.
        return _links(request, _home_path, query="")
    query = request.META.get("QUERY_STRING", "")
    return _links(request, lambda code: _page_path(request, match, code), query)


def _page_path(request, match, code):
    """The page's address in another language: Django's ``translate_url``, without resolving the
    address again for each of the nine links."""
    if match.url_name is None:
        return request.path
    name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    with translation.override(code):
        try:
            return reverse(name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return request.path


def _home_path(code):
    with translation.override(code):
        return reverse("home")


def _links(request, path_in, query):
    current = get_language()
    alternates = []
    for code, _name in settings.LANGUAGES:
        path = path_in(code)
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
    default_path = path_in(settings.LANGUAGE_CODE)
    prefix = f"/{settings.LANGUAGE_CODE}/"
    neutral_path = default_path
    if default_path.startswith(prefix):
        neutral_path = "/" + default_path.removeprefix(prefix)
    return {
        "site_name": settings.SITE_NAME,
        "alternate_languages": alternates,
        "x_default_url": request.build_absolute_uri(neutral_path),
        "canonical_url": request.build_absolute_uri(path_in(current)),
    }


# The web fonts (clinic_portal/static/vendor/fonts) that the text of a page in each language needs
# first: the page preloads them, so that they are there for its first paint. fonts.css shows a font
# only if it has arrived by then (font-display: optional), so a late font never moves the text; the
# other subsets load when a character needs them. Korean, Japanese and Chinese use the reader's
# system fonts, and Noto Sans for their Latin letters and digits.
LATIN = ("noto-sans-latin-400-normal", "noto-sans-latin-700-normal")
CYRILLIC = ("noto-sans-cyrillic-400-normal", "noto-sans-cyrillic-700-normal")
PRELOADED_FONTS = {
    "ar": ("noto-sans-arabic-arabic-400-normal", "noto-sans-arabic-arabic-700-normal"),
    "ru": CYRILLIC,
    "mn": CYRILLIC,
    "vi": (*LATIN, "noto-sans-vietnamese-400-normal", "noto-sans-vietnamese-700-normal"),
}


# Where the web fonts are used: wider screens. Phones show the system's fonts (site.css), so they
# preload none.
WEB_FONTS_MEDIA = "(min-width: 48rem)"


def fonts(request):
    names = PRELOADED_FONTS.get(get_language(), LATIN)
    return {
        "preloaded_fonts": [f"vendor/fonts/{name}.woff2" for name in names],
        "web_fonts_media": WEB_FONTS_MEDIA,
    }
