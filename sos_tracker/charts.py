"""Geometry for the horizontal bar charts of the dashboard and the core pages.

Drawn as SVG by templates/charts/bars.html with the same numbers in a table beside the
picture: no JavaScript, nothing from another host, readable by a screen reader. The
capacity line charts of a person have their own geometry in members/charts.py.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_lazy

# Drawing box in SVG user units; the template scales it to the width it is given.
WIDTH = 386
# Room for a label cut at 24 characters (bars.html) at 11px, e.g. "New Communist Movement …".
LABEL_WIDTH = 176
VALUE_WIDTH = 44
ROW_HEIGHT = 24
BAR_HEIGHT = 16
PAD_TOP = 4


@dataclass
class Bar:
    """One row: `label`, a whole-number `value`, and optional extras for the table.

    `note` is shown in the table's last column (e.g. a conversion "62 %"); `css` is an
    extra class for the bar (e.g. "level-aligned"); `href` links the label in the table.
    """

    label: str
    value: int
    note: str = ""
    css: str = ""
    href: str = ""
    # Filled in by bar_chart():
    x: float = LABEL_WIDTH
    y: float = 0.0
    width: float = 0.0
    text_y: float = 0.0
    value_x: float = 0.0


@dataclass
class BarChart:
    title: str
    slug: str
    unit: str
    bars: list[Bar] = field(default_factory=list)
    note_heading: str = ""
    width: int = WIDTH
    height: int = 0
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    @property
    def has_notes(self) -> bool:
        return any(bar.note for bar in self.bars)

    @property
    def summary(self) -> str:
        """A sentence for screen readers, read before the table of numbers."""
        if not self.bars or not self.total:
            return gettext("%(chart)s: none yet.") % {"chart": self.title}
        top = max(self.bars, key=lambda bar: bar.value)
        return gettext(
            "%(chart)s: %(bars)s bars, %(total)s %(unit)s in all; the largest is %(label)s "
            "with %(value)s."
        ) % {
            "chart": self.title,
            "bars": len(self.bars),
            "total": self.total,
            "unit": self.unit,
            "label": top.label,
            "value": top.value,
        }


def bar_chart(
    rows,
    *,
    title: str,
    slug: str,
    unit: str = gettext_lazy("people"),
    note_heading: str = "",
) -> BarChart:
    """A horizontal bar chart of `rows`, scaled so the largest value fills the bar area.

    `rows` is a list of Bar objects or of (label, value) pairs, drawn in the order given.
    `slug` makes the SVG's ids unique on the page (letters, digits and dashes); `unit`
    names what the values count, for the screen-reader summary; `note_heading` heads the
    table column of the bars' notes. Values must be whole numbers of 0 or more.
    """
    bars = [row if isinstance(row, Bar) else Bar(label=row[0], value=row[1]) for row in rows]
    largest = max((bar.value for bar in bars), default=0)
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    for index, bar in enumerate(bars):
        bar.y = PAD_TOP + index * ROW_HEIGHT
        bar.text_y = bar.y + BAR_HEIGHT / 2
        # A zero still shows a hairline, so the row reads as "none" and not as missing.
        bar.width = max(plot_width * bar.value / largest, 1.0) if largest else 1.0
        bar.value_x = LABEL_WIDTH + bar.width + 4
    return BarChart(
        title=title,
        slug=slug,
        unit=unit,
        bars=bars,
        note_heading=note_heading,
        height=PAD_TOP * 2 + max(len(bars), 1) * ROW_HEIGHT,
    )
