"""The network dashboard (the home page): what it reads, and the geometry of its pictures.

sos_tracker is the wiring layer that knows both apps, so the people counts come from
members.stats and the cores' from cores.stats. Every read here is a fixed number of
grouped or subquery counts, whatever the number of people: nothing joins two
many-valued relations in one query (the old home page counted alignments against core
members that way and planned 1.7 billion rows at 100,000 people).

The network-wide figures (people by status, story and sector, check-ins per month,
capacity growth) count whole tables, so their cost grows with the network whatever the
query: at 100,000 people counting them makes the page 440 ms on SQLite and 530 ms on
PostgreSQL, against 60 to 80 ms and 35 to 40 ms when they are kept (`make bench`). So the
background worker counts them, and each core's counts, and the page reads what it kept
(sos_tracker.figures, network_figures, cores.stats.core_figures), "as of" their time.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.alerts import open_alerts
from cores.models import CoreGroup, Milestone, Phase
from cores.stats import CoreFigures, Funnel, core_figures, queue_sizes
from members import stats
from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
)
from members.stats import CapacityGrowth, Month, PeopleCounts, Row
from sos_tracker import charts, figures
from sos_tracker.permissions import can_review_tendency, led_core_ids

# --- the cores, side by side ------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneCount:
    """Milestones of one phase of a core: how many are done of how many."""

    phase: str
    label: str
    done: int
    total: int


@dataclass
class CoreSummary:
    """One core as the dashboard shows it.

    `core` comes with its tendency and `people` (its members, counted in a subquery);
    `milestones` lists every phase in order; `queue` is the size of its tendency's
    review queue (stale reviews included); `funnel` its invitations (cores.stats.Funnel);
    `led` whether the viewer leads it; `can_review` whether they may work its queue;
    `counted` the core's figures as the worker counted them (None before the first count).
    """

    core: CoreGroup
    milestones: list[MilestoneCount]
    queue: int
    funnel: Funnel
    led: bool
    can_review: bool
    counted: CoreFigures | None = None

    @cached_property
    def funnel_chart(self) -> charts.BarChart:
        """Invitations that reached each stage (with the conversion from the stage before),
        declined beside them."""
        bars = [
            charts.Bar(
                label=step.label,
                value=step.reached,
                note="" if step.conversion is None else f"{step.conversion} %",
            )
            for step in self.funnel.steps
        ]
        bars.append(charts.Bar(label=_("Declined"), value=self.funnel.declined, css="declined"))
        return charts.bar_chart(
            bars,
            title=_("Invitations, by stage reached"),
            slug=f"funnel-{self.core.slug}",
            note_heading=_("Of the stage before"),
        )

    @property
    def open_invitations(self) -> str:
        """Where the open invitations stand now: "3 identified, 2 invited, 0 in conversation"."""
        return ", ".join(f"{step.current} {step.label.lower()}" for step in self.funnel.steps[:-1])

    @property
    def this_phase(self) -> MilestoneCount:
        return next(m for m in self.milestones if m.phase == self.core.phase)

    @property
    def done(self) -> int:
        return sum(m.done for m in self.milestones)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.milestones)


def core_summaries(user, *, now: dt.datetime | None = None) -> list[CoreSummary]:
    """Every core, by name, with its milestones, queue size and invitation funnel.

    Everyone signed in sees these counts (a core's page is readable by all); nothing of
    review notes is read. At most six queries however many people or cores: the cores
    with their tendency, the milestones grouped by core and phase (a few rows a core),
    their figures as the worker last counted them (member count and funnel: one query for
    all cores, cores.stats.core_figures; a core not counted yet shows zeros and `counted`
    None), the queue sizes live (a lead works the queue and must see a review leave it;
    two index ranges per tendency, cores.stats.queue_sizes), plus the cores and
    tendencies `user` leads (sos_tracker.permissions, cached on the user; a lead's
    tendencies only when the role may review). `now` is an
    aware datetime (default: now).
    """
    now = now or timezone.now()
    cores = list(CoreGroup.objects.select_related("tendency").order_by("name"))
    if not cores:
        return []
    core_ids = [core.pk for core in cores]
    milestones = defaultdict(dict)
    grouped = (
        Milestone.objects.filter(core_id__in=core_ids)
        .order_by()
        .values("core_id", "phase")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done_on__isnull=False)))
    )
    for row in grouped:
        milestones[row["core_id"]][row["phase"]] = (row["done"], row["total"])
    counted = core_figures(cores, now=now)
    queues = queue_sizes({core.tendency_id for core in cores}, now=now)
    led = led_core_ids(user)
    summaries = []
    for core in cores:
        figures_of = counted[core.pk]
        core.people = figures_of.people if figures_of else 0
        summaries.append(
            CoreSummary(
                core=core,
                milestones=[
                    MilestoneCount(
                        phase.value, phase.label, *milestones[core.pk].get(phase, (0, 0))
                    )
                    for phase in Phase
                ],
                queue=queues[core.tendency_id],
                funnel=figures_of.funnel if figures_of else Funnel(core.pk),
                led=core.pk in led,
                can_review=can_review_tendency(user, core.tendency_id),
                counted=figures_of,
            )
        )
    return summaries


# --- people by status, story and sector -------------------------------------------------


def people_charts(user, counts: PeopleCounts, sectors: list[Row]) -> dict:
    """The three bar charts of people (by status, joining story, sector) and the totals.

    `counts` and `sectors` are members.stats.people_counts() and people_by_sector() (as
    NetworkFigures keeps them); each bar links to the people list with that filter when
    `user` may see the list (the user's permissions: two queries the first time a request
    asks, then cached on the user).
    Returns {"total", "without_sector", "status", "story", "sector"} (the last three
    sos_tracker.charts.BarChart).
    """
    linked = user.has_perm("members.view_member")

    def bars(rows, param):
        return [
            charts.Bar(
                label=row.label,
                value=row.value,
                href=_people_list({param: row.key}) if linked else "",
            )
            for row in rows
        ]

    return {
        "total": counts.total,
        "without_sector": counts.without_sector,
        "status": charts.bar_chart(
            bars(counts.by_status, "status"), title=_("Status"), slug="status"
        ),
        "story": charts.bar_chart(
            bars(counts.by_story, "kind"), title=_("Joining story"), slug="story"
        ),
        "sector": charts.bar_chart(bars(sectors, "sector"), title=_("Sector"), slug="sector"),
    }


def _people_list(params: dict) -> str:
    return f"{reverse('members:people_list')}?{urlencode(params)}"


# --- check-ins per month: a timeline of vertical bars -----------------------------------

TIMELINE_WIDTH, TIMELINE_HEIGHT = 480, 170
TIMELINE_PAD_LEFT, TIMELINE_PAD_RIGHT, TIMELINE_PAD_TOP, TIMELINE_PAD_BOTTOM = 36, 6, 8, 34


@dataclass
class MonthBar:
    month: Month
    x: float
    y: float
    width: float
    height: float
    # A tick label under the first month of each quarter, with the year under January
    # (and under the first tick). On a phone the CSS keeps only the years and the
    # "major" tick marks (January, July).
    tick: str = ""
    tick_year: str = ""
    major: bool = False

    @property
    def center(self) -> float:
        return self.x + self.width / 2


@dataclass
class Timeline:
    """Vertical bars of check-ins per month, oldest on the left, with a 0..top y axis."""

    bars: list[MonthBar]
    y_ticks: list[tuple[int, float]]
    total: int
    busiest: Month | None
    width: int = TIMELINE_WIDTH
    height: int = TIMELINE_HEIGHT
    left: int = TIMELINE_PAD_LEFT
    right: int = TIMELINE_WIDTH - TIMELINE_PAD_RIGHT
    baseline: int = TIMELINE_HEIGHT - TIMELINE_PAD_BOTTOM

    @property
    def first(self) -> Month | None:
        return self.bars[0].month if self.bars else None

    @property
    def last(self) -> Month | None:
        return self.bars[-1].month if self.bars else None

    @property
    def summary(self) -> str:
        """A sentence for screen readers, read before the table of numbers."""
        if not self.total:
            return _("Check-ins per month: none in the last two years.")
        return _(
            "Check-ins per month from %(first)s to %(last)s: %(total)s in all; the busiest "
            "month was %(busiest)s with %(busiest_count)s."
        ) % {
            "first": date_format(self.first.start, "YEAR_MONTH_FORMAT"),
            "last": date_format(self.last.start, "YEAR_MONTH_FORMAT"),
            "total": self.total,
            "busiest": date_format(self.busiest.start, "YEAR_MONTH_FORMAT"),
            "busiest_count": self.busiest.check_ins,
        }


def timeline(months: list[Month]) -> Timeline:
    """The geometry of the check-ins timeline for `months` (members.stats.Month, in order).

    The y axis runs from 0 to a round top at or above the busiest month, with 2 to 5
    whole-number ticks; each month is a bar of equal width with a small gap.
    """
    top = _round_top(max((m.check_ins for m in months), default=0))
    plot_width = TIMELINE_WIDTH - TIMELINE_PAD_LEFT - TIMELINE_PAD_RIGHT
    plot_height = TIMELINE_HEIGHT - TIMELINE_PAD_TOP - TIMELINE_PAD_BOTTOM
    baseline = TIMELINE_HEIGHT - TIMELINE_PAD_BOTTOM
    slot = plot_width / max(len(months), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, month in enumerate(months):
        height = plot_height * month.check_ins / top
        bar = MonthBar(
            month=month,
            x=TIMELINE_PAD_LEFT + index * slot + gap / 2,
            y=baseline - height,
            width=slot - gap,
            height=height,
        )
        if month.start.month in (1, 4, 7, 10):
            bar.tick = date_format(month.start, "M")  # "Jan", "Ene": the reader's language
            bar.major = month.start.month in (1, 7)
            # The year under each January, and under the first tick if it comes earlier.
            if month.start.month == 1 or not any(b.tick for b in bars):
                bar.tick_year = f"{month.start:%Y}"
        bars.append(bar)
    step = _tick_step(top)
    y_ticks = [(value, baseline - plot_height * value / top) for value in range(0, top + 1, step)]
    busiest = max(months, key=lambda m: (m.check_ins, m.start), default=None)
    return Timeline(
        bars=bars,
        y_ticks=y_ticks,
        total=sum(m.check_ins for m in months),
        busiest=busiest if busiest and busiest.check_ins else None,
    )


def _round_top(largest: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … (times a power of ten) at or above `largest`."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= largest:
                return top * factor
        top *= 10


def _tick_step(top: int) -> int:
    # top is 1, 2 or 5 times a power of ten: 5, 4 or 5 steps of a round size.
    if top <= 2:
        return 1
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000):
        if top / step <= 5:
            return step
    return top


# --- capacity growth across the network ------------------------------------------------

# Each capacity is a label line (name, median) over a bar as wide as the picture, so the
# names stay readable when the picture shrinks to a phone's width.
# Wide enough for the longest capacity label and its median on one line, in Spanish too.
GROWTH_WIDTH, GROWTH_ROW, GROWTH_LABEL_LINE, GROWTH_BAR = 380, 44, 16, 16


@dataclass
class Segment:
    """One part of a capacity's bar: the people who declined, stayed or grew."""

    kind: str
    label: str
    people: int
    x: float = 0.0
    width: float = 0.0


@dataclass
class GrowthRow:
    growth: CapacityGrowth
    y: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def text_y(self) -> float:
        return self.y + GROWTH_LABEL_LINE - 4

    @property
    def bar_y(self) -> float:
        return self.y + GROWTH_LABEL_LINE

    @property
    def median_text(self) -> str:
        return signed(self.growth.median)


@dataclass
class GrowthChart:
    """Per capacity, the share of people (2+ check-ins) whose score fell, stayed or rose
    from their first check-in to their latest, as one stacked bar each."""

    rows: list[GrowthRow]
    width: int = GROWTH_WIDTH
    height: int = 0
    bar_height: int = GROWTH_BAR

    @property
    def people(self) -> int:
        # Everyone with two check-ins has a score for all four capacities.
        return max((row.growth.people for row in self.rows), default=0)

    @property
    def summary(self) -> str:
        if not self.people:
            return _("Capacity growth: nobody has two check-ins yet.")
        parts = [
            _(
                "%(capacity)s median %(median)s, %(grew)s grew, %(unchanged)s unchanged, "
                "%(declined)s declined"
            )
            % {
                "capacity": row.growth.label,
                "median": row.median_text,
                "grew": row.growth.grew,
                "unchanged": row.growth.unchanged,
                "declined": row.growth.declined,
            }
            for row in self.rows
        ]
        return _("Capacity growth of %(people)s people since their first check-in: %(parts)s.") % {
            "people": self.people,
            "parts": "; ".join(parts),
        }


def growth_chart(growth: list[CapacityGrowth]) -> GrowthChart:
    """Stacked bars (declined, unchanged, grew) of `growth` (members.stats.capacity_growth),
    each as wide as the bar area: the parts are shares of that capacity's people."""
    rows = []
    for index, item in enumerate(growth):
        row = GrowthRow(growth=item, y=index * GROWTH_ROW)
        x = 0.0
        for kind, label, people in (
            ("declined", pgettext("capacity change", "declined"), item.declined),
            ("unchanged", pgettext("capacity change", "unchanged"), item.unchanged),
            ("grew", pgettext("capacity change", "grew"), item.grew),
        ):
            width = GROWTH_WIDTH * people / item.people if item.people else 0.0
            row.segments.append(Segment(kind, label, people, x=x, width=width))
            x += width
        rows.append(row)
    return GrowthChart(rows=rows, height=max(len(rows), 1) * GROWTH_ROW - 8)


MINUS, NO_VALUE = "\u2212", "\u2013"


def signed(value: Decimal | None) -> str:
    """A change as people read it: "+1", "0", "+1.5", with a true minus sign (U+2212)
    for a fall; an en dash (U+2013) when there is none (None)."""
    if value is None:
        return NO_VALUE
    text = f"{abs(value).normalize():f}"
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"{MINUS}{text}"
    return "0"


# --- the network-wide figures, counted by the worker -------------------------------------


@dataclass(frozen=True)
class NetworkFigures:
    """What the dashboard counts over the whole network, and when it was counted.

    `counts`, `sectors`, `months` and `growth` are what members.stats.people_counts,
    people_by_sector, check_ins_per_month and capacity_growth return; `as_of` is the aware
    datetime they were counted at; `current` is False while a newer count is awaited
    because something changed since. Plain data (no user, no URLs), so one copy serves
    every viewer.
    """

    counts: PeopleCounts
    sectors: list[Row]
    months: list[Month]
    growth: list[CapacityGrowth]
    as_of: dt.datetime
    current: bool = True


@figures.counts("network", watches=(Member, CapacityCheckIn))
def count_network_figures(_argument: str = "", *, now: dt.datetime | None = None) -> dict:
    """Count the network-wide figures now, as plain JSON data (what the worker keeps):
    five queries (people by status and story, people with a sector, people per sector,
    check-ins per month, capacity growth), each of which reads the whole network. Never
    called by a request: sos_tracker.figures runs it in the worker. `now` is an aware
    datetime (default: now)."""
    now = now or timezone.now()
    counts = stats.people_counts()

    def rows(items):
        return [[row.key, str(row.label), row.value] for row in items]

    return {
        "counts": {
            "total": counts.total,
            "by_status": rows(counts.by_status),
            "by_story": rows(counts.by_story),
            "without_sector": counts.without_sector,
        },
        "sectors": rows(stats.people_by_sector()),
        "months": [
            [month.start.isoformat(), month.check_ins]
            for month in stats.check_ins_per_month(today=timezone.localdate(now))
        ],
        "growth": [
            {
                "field": item.field,
                "label": str(item.label),
                "histogram": [[change, n] for change, n in item.histogram.items()],
            }
            for item in stats.capacity_growth()
        ],
    }


def network_figures(*, now: dt.datetime | None = None) -> NetworkFigures | None:
    """The network-wide figures as the worker last counted them, or None before the first
    count (the worker has then been asked for it).

    One query when they are current (the kept row, with the newest history ids of people
    and check-ins); when a person or check-in changed since, or they are older than
    DASHBOARD_CACHE_SECONDS, or were counted on another day, the worker is asked for a new
    count (one UPDATE, and the task's insert for the request that wins it) and the kept
    figures are shown meanwhile, "as of" their time. See sos_tracker.figures.
    """
    counted = figures.read("network", now=now)
    if counted is None:
        return None
    data = counted.data

    def rows(items, choices=None):
        # The worker kept the labels in its own language: a choice's is taken again in the
        # reader's (a sector's name is data and stays as counted).
        labels = dict(choices.choices) if choices else {}
        return [Row(key, labels.get(key, label), value) for key, label, value in items]

    counts = data["counts"]
    return NetworkFigures(
        counts=PeopleCounts(
            total=counts["total"],
            by_status=rows(counts["by_status"], MemberStatus),
            by_story=rows(counts["by_story"], JoiningStoryKind),
            without_sector=counts["without_sector"],
        ),
        sectors=rows(data["sectors"]),
        months=[Month(dt.date.fromisoformat(start), n) for start, n in data["months"]],
        growth=[
            CapacityGrowth(
                field=item["field"],
                label=capfirst(CapacityCheckIn._meta.get_field(item["field"]).verbose_name)
                if item["field"] in CAPACITY_FIELDS
                else item["label"],
                histogram=dict(item["histogram"]),
            )
            for item in data["growth"]
        ],
        as_of=counted.counted_at,
        current=counted.current,
    )


# --- the whole page ---------------------------------------------------------------------


def network_dashboard(user, *, now: dt.datetime | None = None) -> dict:
    """Everything the home page shows, as template context.

    At most ten queries on top of the request's own (session, user, permissions), the
    same at any size: the network-wide figures as the worker counted them (1; 2 or 3 when
    a new count is asked for, see network_figures) and the cores, always live (up to 7,
    see core_summaries). `figures` is None until the worker has counted them once (the
    page says they are being counted); `figures_as_of` is when they were counted (an
    aware datetime), `figures_current` False while a newer count is awaited.
    """
    now = now or timezone.now()
    network = network_figures(now=now)
    context = {
        "figures": network,
        "cores": core_summaries(user, now=now),
        "stalled_days": settings.INVITATION_STALLED_AFTER_DAYS,
        # Open bulk-access alerts, for admins only (one query; none for anyone else).
        "audit_alerts": open_alerts(user),
    }
    if network is not None:
        context.update(
            {
                "people": people_charts(user, network.counts, network.sectors),
                "timeline": timeline(network.months),
                "growth": growth_chart(network.growth),
                "figures_as_of": network.as_of,
                "figures_current": network.current,
            }
        )
    return context
