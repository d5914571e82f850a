"""CSV exports of inquiries for leads and admins: minimal personal data, no health data, and no cell
that a spreadsheet would run as a formula."""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inquiries.models import Inquiry

EXPORT_COLUMNS = [
    "reference",
    "status",
    "received",
    "first response due",
    "first response",
    "closing reason",
    "condition",
    "country",
    "language",
    "clinics",
    "assigned to",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object that hands back what is written, for streaming."""

    def write(self, value: str) -> str:
        return value


def neutralised(value: object) -> str:
    """A cell a spreadsheet takes as text, never as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _timestamp(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def export_row(inquiry: "Inquiry") -> list[str]:
    return [
        neutralised(cell)
        for cell in [
            inquiry.reference,
            inquiry.status,
            _timestamp(inquiry.created_at),
            _timestamp(inquiry.first_response_due_at),
            _timestamp(inquiry.first_responded_at),
            inquiry.closing_reason,
            inquiry.condition.slug if inquiry.condition else "",
            inquiry.country.code,
            inquiry.language,
            " ".join(clinic.slug for clinic in inquiry.preferred_clinics.all()),
            inquiry.assigned_to.get_username() if inquiry.assigned_to else "",
        ]
    ]


def export_lines(inquiries: "Iterable[Inquiry]") -> Iterator[str]:
    """The CSV, line by line (for a streaming response); ``inquiries`` may be a lazy iterator."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for inquiry in inquiries:
        yield writer.writerow(export_row(inquiry))
