"""Read functions for a core's page and the dashboard: its queue, levels, sectors and funnel.

Every count is done in the database with a grouped aggregate or a subquery, and each
function costs a fixed number of queries however many people there are. None of them
joins two many-valued relations in one query (alignments by core members, say): at
100,000 people such a join plans billions of rows, which is what the old home page did.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cores.models import (
    FUNNEL_STAGES,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Milestone,
)
from members.models import CapacityCheckIn, Member, Sector
from sos_tracker import figures

# --- the review queue -------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSummary:
    """How a tendency's review queue stands.

    `size` counts every waiting alignment, `stale` those of them back because their review
    grew old. `oldest` is the alignment waiting longest (with `member`, `waiting_since`
    and `is_stale`), None when the queue is empty; `waited` is how long it has waited.
    """

    size: int
    stale: int
    oldest: Alignment | None
    waited: dt.timedelta | None

    @property
    def waited_days(self) -> int | None:
        return self.waited.days if self.waited is not None else None


def queue_summary(tendency, *, now: dt.datetime | None = None) -> QueueSummary:
    """The size of `tendency`'s review queue and its oldest waiting item.

    `tendency` is a Tendency or its id; `now` an aware datetime (default: now). Three
    queries, each reading index ranges rather than sorting the queue: the counts, then
    the first item of each of the queue's two slices (needs review, gone stale) with its
    person. An empty queue costs the counts only. Nothing of review notes is read.
    """
    now = now or timezone.now()
    tendency_id = getattr(tendency, "pk", tendency)
    needs, stale = Alignment.objects.queue_counts([tendency_id], now=now).get(tendency_id, (0, 0))
    size = needs + stale
    oldest = None
    if size:
        (oldest,) = Alignment.objects.waiting_page(tendency_id, limit=1, now=now)
    waited = max(now - oldest.waiting_since, dt.timedelta(0)) if oldest else None
    return QueueSummary(size=size, stale=stale, oldest=oldest, waited=waited)


def queue_sizes(tendency_ids, *, now: dt.datetime | None = None) -> dict[int, int]:
    """{tendency id: number of alignments waiting in its review queue}, in one query.

    The same rule as Alignment.objects.review_queue (needs review, or a review gone
    stale), for several tendencies at once; tendencies with nothing waiting map to 0.
    Each count reads a range of an index (Alignment.objects.queue_counts).
    """
    tendency_ids = list(tendency_ids)
    sizes = dict.fromkeys(tendency_ids, 0)
    counts = Alignment.objects.queue_counts(tendency_ids, now=now)
    sizes.update({pk: needs + stale for pk, (needs, stale) in counts.items()})
    return sizes


# --- alignment levels -------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCount:
    level: str
    label: str
    count: int


def alignment_levels(tendency) -> list[LevelCount]:
    """How many people stand at each level toward `tendency`, in AlignmentLevel order.

    Counts every person with an alignment to the tendency (one alignment per person and
    tendency), whatever its review state; levels nobody holds count 0. One grouped query,
    answered from the (tendency, level) index alone (alignment_level_idx), in level order,
    without reading or sorting the alignment rows.
    """
    rows = (
        Alignment.objects.filter(tendency=tendency)
        .order_by()
        .values("level")
        .annotate(n=Count("pk"))
    )
    counts = {row["level"]: row["n"] for row in rows}
    return [
        LevelCount(level.value, level.label, counts.get(level.value, 0)) for level in AlignmentLevel
    ]


# --- sector coverage --------------------------------------------------------------------


@dataclass(frozen=True)
class SectorCount:
    sector: Sector
    count: int


@dataclass(frozen=True)
class SectorCoverage:
    """Which active sectors the core's people organize in (most people first) and which
    active sectors none of them do (by name). `people` is how many people were looked at."""

    covered: list[SectorCount]
    lacking: list[Sector]
    people: int


def core_people(core) -> QuerySet:
    """The people of `core` for coverage: its members and everyone it invited who has not
    declined. A UNION of the two lists' member ids (each person once), so callers can
    filter with it (`member_id__in=`) or count it without joining core members to
    invitations, and without reading the whole people table: an OR of two IN tests on
    Member had the database test every person (100,000) against both lists.
    """
    members = CoreGroup.members.through.objects.filter(coregroup=core).values("member_id")
    invitees = (
        Invitation.objects.filter(core=core)
        .exclude(stage=InvitationStage.DECLINED)
        .values("member_id")
    )
    return members.union(invitees)


def sector_coverage(core) -> SectorCoverage:
    """The active sectors `core`'s members and (not declined) invitees organize in.

    Three queries: the people counted, the count per sector, grouped on the person-sector
    table over the core's people only (found by its member index: it never reads the
    other people); and the active sectors. A person organizing in two sectors counts once
    in each. Retired sectors are left out on both sides.
    """
    people = core_people(core)
    total = people.count()
    through = Member.sectors.through
    rows = (
        through.objects.filter(member_id__in=people, sector__active=True)
        .order_by()
        .values("sector_id")
        .annotate(n=Count("member_id"))
    )
    counts = {row["sector_id"]: row["n"] for row in rows}
    sectors = list(Sector.objects.filter(active=True).order_by("name"))
    covered = sorted(
        (SectorCount(sector, counts[sector.pk]) for sector in sectors if sector.pk in counts),
        key=lambda item: (-item.count, item.sector.name),
    )
    lacking = [sector for sector in sectors if sector.pk not in counts]
    return SectorCoverage(covered=covered, lacking=lacking, people=total)


# --- the invitation funnel --------------------------------------------------------------

# An invitation has "reached at least" a stage when it is there now or further on. An open
# invitation is exactly where its stage says: moving back is a correction, so a date left
# from the stage it moved back from does not count. Joined has passed every stage. A
# declined one reached the furthest stage whose date it carries (it may have declined
# at any point), so dates decide for it alone.
_DECLINED = Q(stage=InvitationStage.DECLINED)
REACHED = {
    InvitationStage.IDENTIFIED: Q(),
    InvitationStage.INVITED: Q(
        stage__in=[
            InvitationStage.INVITED,
            InvitationStage.IN_CONVERSATION,
            InvitationStage.JOINED,
        ]
    )
    | (_DECLINED & (Q(invited_on__isnull=False) | Q(conversation_on__isnull=False))),
    InvitationStage.IN_CONVERSATION: Q(
        stage__in=[InvitationStage.IN_CONVERSATION, InvitationStage.JOINED]
    )
    | (_DECLINED & Q(conversation_on__isnull=False)),
    InvitationStage.JOINED: Q(stage=InvitationStage.JOINED),
}


@dataclass(frozen=True)
class FunnelStep:
    """One stage of the funnel: how many are there now, how many got at least this far,
    and the percentage of those who reached the stage before that reached this one (an
    int, rounded; None for the first stage or when nobody reached the one before)."""

    stage: str
    label: str
    current: int
    reached: int
    conversion: int | None


@dataclass
class Funnel:
    """A core's invitations: counts per current stage and per stage reached at least,
    declined beside the funnel, and how many open ones have stalled (no move for
    INVITATION_STALLED_AFTER_DAYS days). All counts are ints; a core without invitations
    has zeros everywhere."""

    core_id: int
    current: dict[str, int] = field(default_factory=dict)
    reached: dict[str, int] = field(default_factory=dict)
    declined: int = 0
    stalled: int = 0

    @property
    def total(self) -> int:
        return self.reached.get(InvitationStage.IDENTIFIED, 0)

    @property
    def open(self) -> int:
        return sum(self.current.get(stage, 0) for stage in FUNNEL_STAGES[:-1])

    @property
    def steps(self) -> list[FunnelStep]:
        steps, before = [], None
        for stage in FUNNEL_STAGES:
            reached = self.reached.get(stage.value, 0)
            conversion = None
            if before:
                conversion = round(100 * reached / before)
            current = self.current.get(stage.value, 0)
            steps.append(FunnelStep(stage.value, stage.label, current, reached, conversion))
            before = reached
        return steps

    @property
    def joined_of_identified(self) -> int | None:
        """Percent of every invitation that joined the process; None without any."""
        if not self.total:
            return None
        return round(100 * self.reached.get(InvitationStage.JOINED, 0) / self.total)


def _stage_key(stage) -> str:
    return f"now_{stage}"


def _reached_key(stage) -> str:
    return f"reached_{stage}"


def funnel_counts(core_ids, *, today: dt.date | None = None) -> dict[int, Funnel]:
    """{core id: Funnel} for each of `core_ids`, in two queries however many cores.

    One grouped query counts every stage (now, and reached at least) per core; a second
    counts the stalled ones with Invitation.objects.stalled(today=today). Cores without
    invitations get an all-zero Funnel. `today` is a date (default: today).
    """
    core_ids = list(core_ids)
    aggregates = {
        _stage_key(stage): Count("pk", filter=Q(stage=stage)) for stage in InvitationStage
    }
    aggregates.update({_reached_key(stage): Count("pk", filter=q) for stage, q in REACHED.items()})
    rows = (
        Invitation.objects.filter(core_id__in=core_ids)
        .order_by()
        .values("core_id")
        .annotate(**aggregates)
    )
    stalled = dict(
        Invitation.objects.stalled(today=today)
        .filter(core_id__in=core_ids)
        .order_by()
        .values("core_id")
        .annotate(n=Count("pk"))
        .values_list("core_id", "n")
    )
    funnels = {
        core_id: Funnel(
            core_id,
            current={stage.value: 0 for stage in FUNNEL_STAGES},
            reached={stage.value: 0 for stage in FUNNEL_STAGES},
        )
        for core_id in core_ids
    }
    for row in rows:
        funnel = funnels[row["core_id"]]
        funnel.current = {stage.value: row[_stage_key(stage)] for stage in FUNNEL_STAGES}
        funnel.reached = {stage.value: row[_reached_key(stage)] for stage in FUNNEL_STAGES}
        funnel.declined = row[_stage_key(InvitationStage.DECLINED)]
    for core_id, count in stalled.items():
        funnels[core_id].stalled = count
    return funnels


def funnel(core, *, today: dt.date | None = None) -> Funnel:
    """The invitation funnel of one core (see funnel_counts); two queries."""
    return funnel_counts([core.pk], today=today)[core.pk]


# --- a core's figures, counted by the worker ----------------------------------------------

# Levels, coverage, the funnel and the readiness rules each read a share
# of the network (a tendency's alignments, a core's invitations and their people), so
# their cost grows with it: at 100,000 people the core page took 3.5 to 4.5 times as long
# as at 1,000. The worker counts them (sos_tracker.figures); the pages read one row.


@figures.counts("core", watches=(Member, CapacityCheckIn, Alignment, Invitation, Milestone))
def count_core_figures(argument: str, *, now: dt.datetime | None = None) -> dict:
    """Count the figures of the core whose pk is `argument` (a string), as plain JSON:
    its member count, people per alignment level, sector coverage, invitation funnel
    and each readiness rule's result (the review queue is read live by the pages). Run
    by the worker (sos_tracker.figures), never by a request. {} for a core deleted
    meanwhile. `now` is an aware datetime (default: now): when invitations stall."""
    from cores import readiness

    now = now or timezone.now()
    core = CoreGroup.objects.select_related("tendency").filter(pk=int(argument)).first()
    if core is None:
        return {}
    coverage = sector_coverage(core)
    counted = funnel(core, today=timezone.localdate(now))
    results = readiness.evaluate_all(core.milestones.select_related("core"))
    return {
        "people": core.members.count(),
        "levels": {item.level: item.count for item in alignment_levels(core.tendency_id)},
        "coverage": {
            "people": coverage.people,
            "covered": [[item.sector.pk, item.count] for item in coverage.covered],
        },
        "funnel": {
            "current": counted.current,
            "reached": counted.reached,
            "declined": counted.declined,
            "stalled": counted.stalled,
        },
        "readiness": {
            str(pk): {
                "rule": _rule_of(result.milestone),
                "count": result.count,
                "closest": [
                    [c.member.pk, c.member.name, c.level, c.capacity, c.short_of]
                    for c in result.closest
                ],
            }
            for pk, result in results.items()
        },
    }


def _rule_of(milestone) -> list:
    return [
        milestone.rule_min_people,
        milestone.rule_min_level,
        milestone.rule_capacity,
        milestone.rule_capacity_min,
    ]


@dataclass
class CoreFigures:
    """A core's figures as the worker last counted them (count_core_figures): `people`
    in its member list, `levels` (LevelCount, in level
    order), `funnel` (Funnel), the raw `data` (for coverage and readiness), `as_of` (an
    aware datetime) and `current` (False while a newer count is awaited)."""

    core_id: int
    people: int
    levels: list[LevelCount]
    funnel: Funnel
    data: dict
    as_of: dt.datetime
    current: bool

    def coverage(self) -> SectorCoverage:
        """The sector coverage, with the active sectors read now (one query: a handful
        of rows); a sector retired since the count is left out."""
        sectors = {sector.pk: sector for sector in Sector.objects.filter(active=True)}
        counts = dict(self.data["coverage"]["covered"])
        covered = [
            SectorCount(sectors[pk], n)
            for pk, n in self.data["coverage"]["covered"]
            if pk in sectors
        ]
        lacking = sorted(
            (sector for pk, sector in sectors.items() if pk not in counts), key=lambda s: s.name
        )
        return SectorCoverage(
            covered=covered, lacking=lacking, people=self.data["coverage"]["people"]
        )

    def readiness(self, milestone):
        """`milestone`'s readiness (cores.readiness.Readiness) as counted, or None when it
        has no rule, or its rule changed since the count (the next count has it)."""
        from cores.readiness import Candidate, Readiness

        counted = self.data["readiness"].get(str(milestone.pk))
        if (
            not milestone.has_readiness_rule
            or not counted
            or counted["rule"] != _rule_of(milestone)
        ):
            return None
        closest = [
            Candidate(
                member=Member(pk=pk, name=name), level=level, capacity=capacity, short_of=short_of
            )
            for pk, name, level, capacity, short_of in counted["closest"]
        ]
        return Readiness(
            milestone=milestone,
            required=milestone.rule_min_people,
            count=counted["count"],
            closest=closest,
        )


def core_figures(cores, *, now: dt.datetime | None = None) -> dict[int, CoreFigures | None]:
    """{core pk: CoreFigures, or None before the worker first counted it} for `cores`
    (CoreGroup objects), in one query (sos_tracker.figures.read_many)."""
    counted = figures.read_many("core", [str(core.pk) for core in cores], now=now)
    found = {}
    for core in cores:
        item = counted[str(core.pk)]
        if item is None or not item.data:
            found[core.pk] = None
            continue
        data = item.data
        levels = data["levels"]
        funnel_data = data["funnel"]
        found[core.pk] = CoreFigures(
            core_id=core.pk,
            people=data["people"],
            levels=[
                LevelCount(level.value, level.label, levels.get(level.value, 0))
                for level in AlignmentLevel
            ],
            funnel=Funnel(
                core.pk,
                current=funnel_data["current"],
                reached=funnel_data["reached"],
                declined=funnel_data["declined"],
                stalled=funnel_data["stalled"],
            ),
            data=data,
            as_of=item.counted_at,
            current=item.current,
        )
    return found
