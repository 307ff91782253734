"""Geometry for the capacity growth pictures, drawn as SVG by templates/charts/."""

from dataclasses import dataclass, field

from members.models import CAPACITY_FIELDS, CapacityCheckIn

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
            return f"{self.label}: no check-ins yet."
        if len(self.points) == 1:
            return f"{self.label}: {self.latest} of 5 on {self.points[0].date:%b %-d, %Y}."
        trend = "up" if self.change > 0 else "down" if self.change < 0 else "unchanged"
        return (
            f"{self.label}: {self.first} to {self.latest} of 5 ({trend}) over "
            f"{len(self.points)} check-ins."
        )


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
        x_start_label=f"{start:%b %Y}",
        x_end_label=f"{end:%b %Y}",
        baseline=HEIGHT - PAD_BOTTOM,
    )
    return charts, axis
