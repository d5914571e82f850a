from __future__ import annotations

from typing import Any, Protocol, cast

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property


class CountsUpTo(Protocol):
    def count_up_to(self, limit: int) -> int: ...


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator that counts no further than it needs: up to ``cap`` rows, or past the page asked
    for when that lies further. A longer list is "more than ``cap``" (``is_count_capped``): its
    last page is unknown, and every page up to the one asked for has a next page.

    ``object_list`` needs ``count_up_to(limit)`` (``ClinicQuerySet``, ``RankedSearchResults``).
    """

    def __init__(self, object_list: Any, per_page: int, *, cap: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.count_limit = cap + 1

    def get_page(self, number: Any) -> Page:  # type: ignore[type-arg]
        try:
            wanted = max(int(number), 1)
        except (TypeError, ValueError):
            wanted = 1
        # Counting one row past the page asked for tells whether it exists and has a next page.
        self.count_limit = max(self.cap, wanted * self.per_page) + 1
        return super().get_page(number)

    @cached_property
    def count(self) -> int:
        return cast(CountsUpTo, self.object_list).count_up_to(self.count_limit)

    @property
    def is_count_capped(self) -> bool:
        return self.count >= self.count_limit
