"""Geometry for the capacity growth pictures, drawn as SVG by templates/charts/."""

from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from members.models import CAPACITY_FIELDS, CapacityCheckIn
from sos_tracker.i18n import sentence_date

# Drawing box of one small chart, in SVG user units; the template scales it to its width.
WIDTH, HEIGHT = 240, 110
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 22, 8, 8, 20
SCORES = range(1, 6)


@dataclass
class Point:
    x: float
    y: float
    date: object
    score: int


@dataclass
class CapacityChart:
    field: str
    label: str
    points: list[Point] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def first(self):
        return self.points[0].score if self.points else None

    @property
    def latest(self):
        return self.points[-1].score if self.points else None

    @property
    def change(self):
        return self.latest - self.first if self.points else None

    @property
    def summary(self) -> str:
        """A sentence for screen readers, read before the table of numbers."""
        if not self.points:
            return _("%(capacity)s: no check-ins yet.") % {"capacity": self.label}
        if len(self.points) == 1:
            return _("%(capacity)s: %(score)s of 5 on %(date)s.") % {
                "capacity": self.label,
                "score": self.latest,
                "date": sentence_date(self.points[0].date),
            }
        if self.change > 0:
            trend = pgettext("score trend", "up")
        elif self.change < 0:
            trend = pgettext("score trend", "down")
        else:
            trend = pgettext("score trend", "unchanged")
        return _(
            "%(capacity)s: %(first)s to %(latest)s of 5 (%(trend)s) over %(count)s check-ins."
        ) % {
            "capacity": self.label,
            "first": self.first,
            "latest": self.latest,
            "trend": trend,
            "count": len(self.points),
        }


@dataclass
class Axis:
    y_ticks: list[tuple[int, float]]
    x_start_label: str
    x_end_label: str
    baseline: float
    left: float = PAD_LEFT
    right: float = WIDTH - PAD_RIGHT
    width: int = WIDTH
    height: int = HEIGHT


def capacity_charts(check_ins: list[CapacityCheckIn]) -> tuple[list[CapacityChart], Axis | None]:
    """One chart per capacity over the same time axis, oldest check-in on the left."""
    ordered = sorted(check_ins, key=lambda c: (c.checked_on, c.pk))
    labels = {name: CapacityCheckIn._meta.get_field(name).verbose_name for name in CAPACITY_FIELDS}
    charts = [
        CapacityChart(field=name, label=labels[name].capitalize()) for name in CAPACITY_FIELDS
    ]
    if not ordered:
        return charts, None

    start, end = ordered[0].checked_on, ordered[-1].checked_on
    span = max((end - start).days, 1)
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x_for(day):
        if start == end:
            return PAD_LEFT + plot_width / 2
        return PAD_LEFT + plot_width * (day - start).days / span

    def y_for(score):
        return PAD_TOP + plot_height * (5 - score) / 4

    for chart in charts:
        chart.points = [
            Point(
                x_for(c.checked_on),
                y_for(getattr(c, chart.field)),
                c.checked_on,
                getattr(c, chart.field),
            )
            for c in ordered
        ]
    axis = Axis(
        y_ticks=[(score, y_for(score)) for score in SCORES],
        x_start_label=date_format(start, pgettext("month on a chart's axis", "M Y")),
        x_end_label=date_format(end, pgettext("month on a chart's axis", "M Y")),
        baseline=HEIGHT - PAD_BOTTOM,
    )
    return charts, axis
