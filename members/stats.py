"""Counts over the whole network for the dashboard: a few grouped queries, never a loop.

Every function here answers in a fixed number of queries however many people there are,
and counts in the database (GROUP BY on indexed columns, or correlated subqueries on an
index); nothing loads every person or every check-in into Python. Measured at 100,000
people on SQLite (`make bench`): the counts take 10 to 30 ms each, capacity growth about
100 to 150 ms (two indexed lookups for each of the ~34,000 people with repeat check-ins).
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)

# A score is 1 to 5, so a change between two check-ins is -4 to +4.
CHANGES = range(-4, 5)
TIMELINE_MONTHS = 24


@dataclass(frozen=True)
class Row:
    """One bar's worth: a stable key, its label and how many people (or check-ins)."""

    key: str
    label: str
    value: int


@dataclass(frozen=True)
class PeopleCounts:
    """Everyone, by status and by joining-story kind, each in the order of its choices."""

    total: int
    by_status: list[Row]
    by_story: list[Row]
    without_sector: int


def people_counts() -> PeopleCounts:
    """People by status and by joining-story kind, and how many have no sector.

    Two queries. Everyone grouped by (status, kind): at most 12 rows, read off the
    (status, joining_story_kind) index without touching the wide people rows. Then the
    people with a sector, counted once each on the sectors link table's (member, sector)
    index; the rest have none. Every choice is listed, with 0 where nobody has it.
    """
    grouped = (
        Member.objects.order_by()
        .values("status", "joining_story_kind")
        .annotate(n=Count("pk"))
        .values_list("status", "joining_story_kind", "n")
    )
    by_status, by_story = Counter(), Counter()
    for status, kind, n in grouped:
        by_status[status] += n
        by_story[kind] += n
    total = sum(by_status.values())
    with_sector = Member.sectors.through.objects.aggregate(
        people=Count("member_id", distinct=True)
    )["people"]
    return PeopleCounts(
        total=total,
        by_status=[Row(s.value, s.label, by_status[s.value]) for s in MemberStatus],
        by_story=[Row(k.value, k.label, by_story[k.value]) for k in JoiningStoryKind],
        without_sector=total - with_sector,
    )


def people_by_sector() -> list[Row]:
    """Each sector with how many people organize in it, most people first, then by name.

    One query: each sector's count is a subquery on the sectors link table, answered from
    its sector index alone (joining sectors to the link table would read every link row).
    Active sectors are listed even at 0 (a gap is worth seeing); a retired sector only
    while people still carry it. A person in two sectors counts once in each, so the rows
    add up to more than the people.
    """
    links = (
        Member.sectors.through.objects.filter(sector=OuterRef("pk"))
        .order_by()
        .values("sector")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sectors = (
        Sector.objects.annotate(people=Coalesce(Subquery(links), 0))
        .filter(Q(active=True) | Q(people__gt=0))
        .order_by("-people", "name")
        .values_list("slug", "name", "people")
    )
    return [Row(slug, name, people) for slug, name, people in sectors]


@dataclass(frozen=True)
class Month:
    """A calendar month (`start` is its first day) and how many check-ins were dated in it."""

    start: dt.date
    check_ins: int


def check_ins_per_month(*, months: int = TIMELINE_MONTHS, today: dt.date | None = None):
    """Check-ins dated in each of the last `months` calendar months, oldest first.

    The current month counts as one (so the default is this month and the 23 before);
    months without a check-in are listed with 0. `today` (a date) defaults to the local
    date. One query, grouped by day in the database (at most 31 rows a month come back)
    and added up per month here: grouping by a month expression would call a Python
    function per check-in on SQLite (Django's TruncMonth there), which at 100,000 people
    costs a second.
    """
    today = today or timezone.localdate()
    first = _add_months(today.replace(day=1), -(months - 1))
    per_day = (
        CapacityCheckIn.objects.filter(checked_on__gte=first, checked_on__lte=today)
        .order_by()
        .values("checked_on")
        .annotate(n=Count("pk"))
        .values_list("checked_on", "n")
    )
    per_month = Counter()
    for day, n in per_day:
        per_month[day.replace(day=1)] += n
    return [
        Month(start, per_month[start]) for start in (_add_months(first, i) for i in range(months))
    ]


@dataclass
class CapacityGrowth:
    """How one capacity moved across the network, from each person's first check-in to
    their latest (people with two check-ins or more).

    `histogram` maps each change -4..+4 to how many people changed by that much.
    """

    field: str
    label: str
    histogram: dict[int, int] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return sum(self.histogram.values())

    @property
    def median(self) -> Decimal | None:
        """The median change, a whole or half point (an even count averages the middle
        two), or None when nobody has two check-ins."""
        return median_from_histogram(self.histogram)

    @property
    def grew(self) -> int:
        return sum(n for change, n in self.histogram.items() if change > 0)

    @property
    def unchanged(self) -> int:
        return self.histogram.get(0, 0)

    @property
    def declined(self) -> int:
        return sum(n for change, n in self.histogram.items() if change < 0)


# Each capacity's score packed as one decimal digit, strategic skills first: 3, 4, 2, 5
# is 3425. One ordered lookup then fetches all four scores of a check-in.
PACKED = sum((F(name) * Value(10**i) for i, name in enumerate(reversed(CAPACITY_FIELDS))), Value(0))
# latest - first + 4444 keeps each capacity's change + 4 (0..8) in its own digit: no
# digit borrows from the next, so the four changes are read back exactly.
CHANGE_OFFSET = int("4" * len(CAPACITY_FIELDS))


def capacity_growth() -> list[CapacityGrowth]:
    """For each capacity, the distribution and median of the change in each person's
    score from their first check-in to their latest, over people with 2+ check-ins.

    One query. Each person with a second check-in (an OFFSET 1 lookup on the (member,
    checked_on) index) gets two correlated subqueries on that index: their first and
    latest check-in, each returning the four scores packed into one number (PACKED).
    The database groups people by the packed difference, so at most 9**4 rows come back
    (in practice a few hundred), never one per person or per check-in; each row is
    unpacked into the four capacities' histograms, and the medians are read off those.
    "First" and "latest" are by date, then by the order they were entered.
    """
    check_ins = CapacityCheckIn.objects.filter(member=OuterRef("pk")).order_by()
    scores = check_ins.annotate(packed=PACKED).values("packed")
    first = Subquery(scores.order_by("checked_on", "pk")[:1], output_field=IntegerField())
    latest = Subquery(scores.order_by("-checked_on", "-pk")[:1], output_field=IntegerField())
    grouped = (
        Member.objects.order_by()
        .filter(Exists(check_ins.values("pk")[1:2]))
        .annotate(changes=latest - first + Value(CHANGE_OFFSET))
        .values("changes")
        .annotate(people=Count("pk"))
        .values_list("changes", "people")
    )
    histograms = {name: Counter() for name in CAPACITY_FIELDS}
    for changes, people in grouped:
        for i, name in enumerate(reversed(CAPACITY_FIELDS)):
            histograms[name][changes // 10**i % 10 - 4] += people
    return [
        CapacityGrowth(
            field=name,
            label=CapacityCheckIn._meta.get_field(name).verbose_name.capitalize(),
            histogram={change: histograms[name][change] for change in CHANGES},
        )
        for name in CAPACITY_FIELDS
    ]


def median_from_histogram(histogram: dict[int, int]) -> Decimal | None:
    """The median of the values a histogram counts ({value: how many}), or None if empty.

    With an even count it is the mean of the two middle values, so it may end in .5.
    """
    total = sum(histogram.values())
    if not total:
        return None
    # 1-based positions of the middle value(s): the same one twice when total is odd.
    wanted = [(total + 1) // 2, total // 2 + 1]
    middle, seen = [], 0
    for value in sorted(histogram):
        seen += histogram[value]
        while wanted and wanted[0] <= seen:
            middle.append(value)
            wanted.pop(0)
    return Decimal(middle[0] + middle[1]) / 2


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
