import copy
import decimal
import functools
import json

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext, pgettext

register = template.Library()

_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def jsonld(data):
    """Render structured data as a JSON-LD block; a data block, so CSP script-src does not apply."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))  # noqa: S308


@register.simple_tag
def list_separator():
    """The separator of a list in the current language: "، " in Arabic, "、" in Japanese and Chinese."""
    return pgettext("list separator", ", ")


@register.filter
def local_join(items):
    """Join a list of texts with the current language's list separator (each text escaped). On a
    right-to-left page each text is isolated in a ``<bdi>``, so that English names keep the list's order."""
    item_format = "<bdi>{}</bdi>" if translation.get_language_bidi() else "{}"
    return format_html_join(list_separator(), item_format, ((item,) for item in items))


# Numbers: CLDR's digit grouping and decimal sign for the active language (through Babel), so that
# 40000000 reads "40,000,000" in English, "40 000 000" (no-break spaces) in Russian and "40.000.000" in
# Vietnamese. Latin digits in every language, as everywhere else on the site. Not for years, codes or
# identifiers: print those as they are ({{ clinic.year_founded|unlocalize }}).


@functools.cache
def _babel_locale(language):
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))


def number_locale(language=None):
    """The Babel locale of a Django language code (default: the active one): zh-hans → zh_Hans."""
    return _babel_locale(language or translation.get_language() or settings.LANGUAGE_CODE)


def _is_blank(value):
    return value is None or value == ""


@register.filter
def number(value):
    """``{{ value|number }}``: a count or quantity grouped the way the page's language writes it
    ("1,250" in English, "1 250" in Russian, "1.250" in Vietnamese). Empty for None; anything that is
    not a number comes back unchanged."""
    if _is_blank(value):
        return ""
    try:
        return format_decimal(value, locale=number_locale())
    except (TypeError, ValueError, ArithmeticError, decimal.InvalidOperation):
        return value


@register.filter
def krw(value):
    """``{{ amount|krw }}``: an amount in Korean won in the page's language ("₩400,000" in English,
    "400 000 ₩" in Russian, "400.000 ₩" in Vietnamese). Empty for None."""
    if _is_blank(value):
        return ""
    try:
        return format_currency(value, "KRW", locale=number_locale())
    except (TypeError, ValueError, ArithmeticError, decimal.InvalidOperation):
        return value


def format_krw_range(minimum, maximum):
    """From ₩400,000 to ₩1,200,000 in the page's language (joined by the translatable pgettext
    "range of amounts": an en dash between spaces in English, "~" in Korean); one amount when only one
    is known or both are equal; empty when neither is."""
    return _amount_range(minimum, maximum, krw)


def _amount_range(minimum, maximum, amount_format):
    amounts = [amount for amount in (minimum, maximum) if not _is_blank(amount)]
    if not amounts:
        return ""
    if len(amounts) == 1 or amounts[0] == amounts[1]:
        return amount_format(amounts[0])
    low, high = sorted(amounts)
    return pgettext("range of amounts", "%(min)s – %(max)s") % {
        "min": amount_format(low),
        "max": amount_format(high),
    }


def whole_amount(value, currency):
    """An approximate amount in any currency, in whole units, in the page's language: "$722" in English,
    "722 US$" in Arabic, "2 500 000 MNT" in Russian. Empty for None."""
    if _is_blank(value):
        return ""
    locale = number_locale()
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern.apply(value, locale, currency=currency, currency_digits=False)


def format_estimate_range(minimum, maximum, currency):
    """A range of approximate amounts in a currency (whole units), joined like ``format_krw_range``."""
    return _amount_range(minimum, maximum, functools.partial(whole_amount, currency=currency))


@register.filter(name="krw_range")
def krw_range_filter(pair):
    """``{{ pair|krw_range }}`` with ``pair`` a (minimum, maximum) pair, either may be None: the same
    text as ``{% krw_range minimum maximum %}``."""
    if _is_blank(pair):
        return ""
    minimum, maximum = pair
    return format_krw_range(minimum, maximum)


@register.simple_tag(name="krw_range")
def krw_range_tag(minimum, maximum=None):
    """``{% krw_range minimum maximum %}``: a range of amounts in Korean won in the page's language,
    e.g. ₩400,000 to ₩1,200,000 in English and 400 000 ₩ to 1 200 000 ₩ in Russian, joined by the
    language's range sign; one amount when the two are equal or one is None; empty when both are None.
    ``{% krw_range a b as text %}`` stores it in ``text`` instead."""
    return format_krw_range(minimum, maximum)


# Bidirectional text: a run whose direction may differ from the page's (an English clinic name on an
# Arabic page, a search word, a reference number) is isolated so that its punctuation stays in place.


@register.filter
def bdi(value, language=""):
    """``{{ value|bdi }}`` or ``{{ value|bdi:"en" }}``: the text isolated in a ``<bdi>`` (its direction
    found from its own letters), optionally marked with its language; for placeholders of
    ``{% blocktranslate %}``, where markup cannot be written around the value. Empty stays empty."""
    if _is_blank(value):
        return ""
    if language:
        return format_html('<bdi lang="{}">{}</bdi>', language, value)
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def language_name(code):
    """``{{ "ru"|language_name }}``: the language's own name ("Русский"), marked with its language and
    direction. Shown in the system's fonts (site.css): a Korean page does not download a Cyrillic
    web font to list the languages a clinic speaks."""
    info = translation.get_language_info(code)
    return format_html(
        '<span class="language-name" lang="{}" dir="{}">{}</span>',
        code,
        "rtl" if info["bidi"] else "ltr",
        info["name_local"],
    )


# Periods in plain words (the privacy notice's retention periods), pluralised for the page's language.
DAYS_PER_MONTH = 365.25 / 12


@register.filter
def days_in_words(days):
    """``{{ 548|days_in_words }}``: "18 months". A period of 60 days or more that is within two days of
    whole months reads in months (365 → "12 months", 730 → "24 months"); any other in days ("14 days")."""
    days = int(days)
    months = round(days / DAYS_PER_MONTH)
    if days >= 60 and abs(days - months * DAYS_PER_MONTH) <= 2:
        return ngettext("%(count)s month", "%(count)s months", months) % {"count": number(months)}
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": number(days)}


@register.filter
def hours_in_words(hours):
    """``{{ 24|hours_in_words }}``: "24 hours"."""
    hours = int(hours)
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": number(hours)}
