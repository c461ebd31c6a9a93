"""The burn-up chart as server-side SVG: the geometry here, the drawing in
templates/reporting/partials/_burnup.html. No script, so it sits under the site's CSP.

Cumulative leaders by month up to today, the target as a line, and from today to the
deadline the forecast: its expected value as a dashed line and its band as a shaded wedge.
"""

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field

from django.utils.formats import date_format

from reporting.forecast import Forecast

SIZES = {
    # name: (width, height, most x labels)
    "wide": (720, 300, 9),
    "narrow": (340, 260, 4),
}
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 18, 14, 34


@dataclass
class Tick:
    at: float
    label: str


@dataclass
class BurnUp:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    leaders_points: str
    target_y: float | None
    target_label: str
    today_x: float
    deadline_x: float | None
    band_points: str = ""
    expected_points: str = ""
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def y_label_x(self) -> float:
        return self.left - 6

    @property
    def x_label_y(self) -> float:
        return self.bottom + 20

    band_near_target: bool = False  # the forecast reaches the target line at the right edge

    @property
    def target_label_y(self) -> float:
        """Above the line, or below it when the line runs along the top, where "Today" is."""
        above = (self.target_y or 0) - 6
        return above if above > self.top + 16 else (self.target_y or 0) + 16

    @property
    def target_label_at_start(self) -> bool:
        """The label sits at the right end of the line unless the forecast ends there."""
        return self.band_near_target

    @property
    def marker_label_y(self) -> float:
        return self.top + 10

    @property
    def today_label_at_start(self) -> bool:
        """Near the left edge the "Today" label goes right of its line, clear of the axis labels."""
        return self.today_x - self.left < 60


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _nice_step(top: float, ticks: int = 4) -> int:
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * power:
            return max(int(multiple * power), 1)
    return int(10 * power)


def burnup(
    *,
    series: list[tuple[dt.date, int]],
    today: dt.date,
    size: str = "wide",
    target: int | None = None,
    deadline: dt.date | None = None,
    start: dt.date | None = None,
    result: Forecast | None = None,
) -> BurnUp:
    """series: (first of month, cumulative leaders at its end), oldest first."""
    width, height, most_labels = SIZES[size]
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    first = min([today.replace(day=1)] + [month for month, _n in series] + ([start] if start else []))
    first = first.replace(day=1)
    last = max(today, deadline) if deadline else today
    span = max((last - first).days, 1)
    now_value = series[-1][1] if series else 0
    high = max(
        [
            1,
            now_value,
            target or 0,
            math.ceil(result.high) if result and deadline and deadline >= today else 0,
        ]
    )
    step = _nice_step(high)
    y_top = step * math.ceil(high / step)

    def x(day: dt.date) -> float:
        return round(left + (right - left) * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / y_top, 1)

    points = [(x(first), y(0))]
    previous = 0
    for month, cumulative in series:
        points.append((x(month), y(previous)))
        points.append((x(min(_month_end(month), today)), y(cumulative)))
        previous = cumulative
    points.append((x(today), y(now_value)))
    chart = BurnUp(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        leaders_points=" ".join(f"{px},{py}" for px, py in points),
        target_y=y(target) if target else None,
        target_label=f"{target:,}" if target else "",
        today_x=x(today),
        deadline_x=x(deadline) if deadline else None,
    )
    if result is not None and deadline is not None and deadline > today:
        start_point = f"{x(today)},{y(now_value)}"
        chart.band_points = f"{start_point} {x(deadline)},{y(result.high)} {x(deadline)},{y(result.low)}"
        chart.expected_points = f"{start_point} {x(deadline)},{y(result.expected)}"
        if target:
            # Within 24 pixels of the target line at the deadline: the label would sit on it.
            chart.band_near_target = y(result.high) - 24 <= y(target) <= y(result.low) + 24
    chart.y_ticks = [Tick(at=y(value), label=f"{value:,}") for value in range(0, y_top + 1, step)]
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    every = max(1, math.ceil(len(months) / most_labels))
    label_format = "M Y" if size == "wide" else "M y"
    chart.x_ticks = [Tick(at=x(month), label=date_format(month, label_format)) for month in months[::every]]
    return chart
