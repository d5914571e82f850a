import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

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
    """Join a list of texts with the current language's list separator (each text escaped)."""
    return format_html_join(list_separator(), "{}", ((item,) for item in items))
