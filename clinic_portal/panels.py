"""Pieces that higher apps add to the pages of lower ones (the matching clinics and the request form on
a condition page, the request form on a clinic page), so a lower app never imports a higher one.

A provider, named in a setting, is ``(request, obj) -> dict | None``: the dict names the panel's
``template`` (included with the dict as ``panel``) and, for the page's table of contents, its
``anchor`` and ``title``. The page's view calls each provider once, so a panel's queries are the
view's: visible, counted and testable. A provider whose panel reads the page's query string says
which parameters with ``@reads_query`` (the page cache keeps pages only for known ones).
"""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

Panel = dict[str, Any]
Provider = Callable[[HttpRequest, Any], Panel | None]


def reads_query(*names: str) -> Callable[[Provider], Provider]:
    """Marks a provider whose panel reads these parameters of the page's query string."""

    def mark(provider: Provider) -> Provider:
        setattr(provider, "query_names", names)  # noqa: B010  (a function's own attribute, for mypy)
        return provider

    return mark


def page_panels(setting_name: str, request: HttpRequest, obj: Any) -> list[Panel]:
    """The panels of the providers listed in ``settings.<setting_name>``, in order; None is left out."""
    return [
        panel
        for provider in getattr(settings, setting_name)
        if (panel := import_string(provider)(request, obj)) is not None
    ]


def panel_query_names(setting_name: str) -> frozenset[str]:
    """The query parameters that the panels of ``settings.<setting_name>`` read."""
    return _query_names(tuple(getattr(settings, setting_name)))


@functools.cache
def _query_names(providers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        name for provider in providers for name in getattr(import_string(provider), "query_names", ())
    )
