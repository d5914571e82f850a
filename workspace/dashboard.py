"""Numbers for the team: what arrives, how fast it is answered, who carries what."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from conditions.models import Condition

if TYPE_CHECKING:
    from inquiries.models import InquiryQuerySet

WEEKS = 12
CHART_HEIGHT = 120
BAR_WIDTH = 28
BAR_GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    height: int


def _weeks(now: datetime) -> list[date]:
    start = timezone.localtime(now).date() - timedelta(days=timezone.localtime(now).weekday())
    return [start - timedelta(weeks=back) for back in range(WEEKS - 1, -1, -1)]


def _percentile(values: list[timedelta], fraction: float) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


# The weekly table can be broken down by any of these (the field counted, how a column is named).
BREAKDOWNS = {"language": "language", "country": "country", "condition": "condition__slug"}


def figures(
    reachable: "InquiryQuerySet", now: datetime | None = None, by: str = "language"
) -> dict[str, Any]:
    """Everything the dashboard shows, in a fixed number of queries over the last WEEKS weeks; the
    weekly table broken down ``by`` language, country or condition."""
    field = BREAKDOWNS.get(by, BREAKDOWNS["language"])
    now = now or timezone.now()
    weeks = _weeks(now)
    since = timezone.make_aware(datetime.combine(weeks[0], datetime.min.time()))
    recent = reachable.filter(created_at__gte=since)

    per_week: dict[tuple[date, str], int] = {}
    for row in recent.annotate(week=TruncWeek("created_at")).values("week", field).annotate(n=Count("pk")):
        week = timezone.localtime(row["week"]).date() if hasattr(row["week"], "tzinfo") else row["week"]
        per_week[(week, row[field] or "—")] = row["n"]
    columns = sorted({column for _week, column in per_week})
    table = [(week, [per_week.get((week, column), 0) for column in columns]) for week in weeks]
    totals = [sum(counts) for _week, counts in table]
    tallest = max(totals) or 1
    bars: list[Bar] = []
    for index, (week, total) in enumerate(zip(weeks, totals, strict=True)):
        height = round(total / tallest * CHART_HEIGHT)
        bars.append(
            Bar(week.strftime("%m-%d"), total, index * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT - height, height)
        )

    by_country = list(recent.values("country").annotate(n=Count("pk")).order_by("-n", "country")[:10])
    condition_counts = list(recent.values("condition").annotate(n=Count("pk")).order_by("-n")[:10])
    names = Condition.objects.in_bulk([row["condition"] for row in condition_counts if row["condition"]])
    by_condition = [(names.get(row["condition"]), row["n"]) for row in condition_counts]
    answered = [
        responded - created  # type: ignore[operator]  # filtered to answered ones
        for created, responded in recent.filter(first_responded_at__isnull=False).values_list(
            "created_at", "first_responded_at"
        )
    ]
    load = list(
        reachable.open()
        .filter(assigned_to__isnull=False)
        .values("assigned_to__username")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(first_responded_at__isnull=True, first_response_due_at__lt=now)),
        )
        .order_by("-open", "assigned_to__username")
    )
    return {
        "weeks": weeks,
        "columns": columns,
        "breakdown": by if by in BREAKDOWNS else "language",
        "table": table,
        "bars": bars,
        "chart_width": len(bars) * (BAR_WIDTH + BAR_GAP),
        "chart_height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
        "by_country": by_country,
        "by_condition": by_condition,
        "median_hours": _hours(statistics.median(answered)) if answered else None,  # type: ignore[type-var]
        "p90_hours": _hours(_percentile(answered, 0.9)),
        "answered": len(answered),
        "overdue": reachable.overdue(now).count(),
        "load": load,
    }
