"""A milestone's readiness rule, computed from the people: met or not, and who is closest.

A rule reads "at least N people aligned at LEVEL or above toward the core's tendency,
with CAPACITY at MIN or more at their latest check-in" (the capacity part is optional).
The lead still decides when the milestone is done; this only shows where things stand.
"""

from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cores.models import Alignment, AlignmentLevel, Milestone
from members.models import CapacityCheckIn, Member, MemberStatus

# How many of the people closest to meeting a rule the core page names.
CLOSEST_LIMIT = 5
# The highest score a capacity takes (CapacityCheckIn's validators and constraints).
MAX_SCORE = 5
# Added to a score to tell "enough level" apart from "one level below" in one number.
ENOUGH_MARK = 100


@dataclass(frozen=True)
class Candidate:
    """Someone one step short of counting toward a rule, and what they lack.

    `member` is the Member; `level` their alignment level value; `capacity` their latest
    score in the rule's capacity (None without a capacity rule or without a check-in);
    `short_of` says in words what is missing ("organization building skills 2 of 3").
    """

    member: Member
    level: str
    capacity: int | None
    short_of: str


@dataclass(frozen=True)
class Readiness:
    """The result of a milestone's rule: `count` people meet it of `required`, `met` when
    count >= required, and `closest`: up to CLOSEST_LIMIT people one step short."""

    milestone: Milestone
    required: int
    count: int
    closest: list[Candidate]

    @property
    def met(self) -> bool:
        return self.count >= self.required

    @property
    def missing(self) -> int:
        return max(self.required - self.count, 0)


def rule_text(milestone: Milestone) -> str:
    """The rule in words: "at least 12 people aligned or above, organization building
    skills 3 or more at their latest check-in"; "" for a milestone without a rule."""
    if not milestone.has_readiness_rule:
        return ""
    level = AlignmentLevel(milestone.rule_min_level)
    levels = AlignmentLevel.at_least(level)
    params = {"count": milestone.rule_min_people, "level": level.label.lower()}
    if len(levels) > 1:
        text = ngettext(
            "at least %(count)d person %(level)s or above",
            "at least %(count)d people %(level)s or above",
            milestone.rule_min_people,
        )
    else:
        text = ngettext(
            "at least %(count)d person %(level)s",
            "at least %(count)d people %(level)s",
            milestone.rule_min_people,
        )
    text %= params
    if milestone.rule_capacity:
        text = _("%(people)s, %(capacity)s %(score)s or more at their latest check-in") % {
            "people": text,
            "capacity": milestone.get_rule_capacity_display().lower(),
            "score": milestone.rule_capacity_min,
        }
    return text


def latest_capacity(capacity: str) -> Subquery:
    """The person's score in `capacity` (a CAPACITY_FIELDS name) at their latest check-in
    (by date, then by pk for two on one day), as a subquery on an Alignment row; NULL for
    a person without a check-in."""
    latest = CapacityCheckIn.objects.filter(member_id=OuterRef("member_id")).order_by(
        "-checked_on", "-pk"
    )
    return Subquery(latest.values(capacity)[:1], output_field=IntegerField())


def _aligned(milestone: Milestone, levels) -> QuerySet:
    """The tendency's alignments at one of `levels` (AlignmentLevel values).

    The levels come first so the database reads only those alignments, through the
    (tendency, level) index, before it looks up anyone's latest check-in: a lookup per
    alignment of the tendency is what made the rule grow with the people.
    """
    # Former members are not building the new formation, so they never count. As a NOT IN
    # over the former ones (a few, found by the status index) rather than a join: with
    # the join, PostgreSQL read the whole people table to hash it (65 ms at 100,000).
    former = Member.objects.filter(status=MemberStatus.FORMER).values("pk")
    return Alignment.objects.filter(
        tendency_id=milestone.core.tendency_id, level__in=list(levels)
    ).exclude(member_id__in=former)


def evaluate(milestone: Milestone) -> Readiness | None:
    """Evaluate `milestone`'s readiness rule; None when it has none.

    Two queries whatever the number of people: the count of people meeting the rule,
    then the few closest to it. With a capacity rule, "closest" is someone aligned
    enough whose latest score is one below the minimum, or someone whose latest score is
    enough but who stands one level below; without one, someone one level below.
    Needs `milestone.core` (select_related it to save a query).

    Both queries read only the alignments at the levels that matter (the count: enough;
    the closest: enough or one below) and look up each one's latest check-in once.
    """
    if not milestone.has_readiness_rule:
        return None
    min_level = AlignmentLevel(milestone.rule_min_level)
    enough = AlignmentLevel.at_least(min_level)
    order = list(AlignmentLevel)
    below = order[order.index(min_level) - 1] if order.index(min_level) > 0 else None

    capacity = milestone.rule_capacity
    if capacity:
        minimum = milestone.rule_capacity_min
        count = (
            _aligned(milestone, enough)
            .alias(score=latest_capacity(capacity))
            .filter(score__gte=minimum)
            .count()
        )
        # Close: enough level with the score one short, or one level below with the
        # score enough. Written as one IN test on "score, plus ENOUGH_MARK when the level
        # is enough", the latest score is looked up once per alignment: an OR (or a
        # BETWEEN, which the databases split in two) looked it up twice. A person
        # without a check-in has no score and is never close.
        marked = F("score") + Case(
            When(level__in=enough, then=Value(ENOUGH_MARK)), default=Value(0)
        )
        close = [ENOUGH_MARK + minimum - 1]
        if below is not None:
            close += list(range(minimum, MAX_SCORE + 1))
        rows = (
            _aligned(milestone, [*enough, *([below] if below else [])])
            .annotate(score=latest_capacity(capacity))
            .alias(marked=marked)
            .filter(marked__in=close)
            .select_related("member")
            .order_by("-score", "member__name", "pk")[:CLOSEST_LIMIT]
        )
    else:
        count = _aligned(milestone, enough).count()
        rows = []
        if below is not None:
            rows = _first(_aligned(milestone, [below]), "member__name", "pk")
    closest = [_candidate(milestone, row, enough) for row in rows]
    return Readiness(
        milestone=milestone, required=milestone.rule_min_people, count=count, closest=closest
    )


def _first(candidates: QuerySet, *order: str) -> QuerySet:
    """The first CLOSEST_LIMIT of `candidates` (alignments) in `order` (field names, with
    "member__name" for the person's name), with their people, in that order.

    The few are picked in a subquery that reads each candidate's name by its key; only
    they are then joined to their people. Joining every candidate to its person first
    had PostgreSQL read the whole people table to hash it (about 55 ms at 100,000).
    (With a capacity rule the candidates are few once filtered by score, and the
    database already joins them one by one: this made that query slower, so it is used
    for the level-only rule.)
    """
    name = Subquery(Member.objects.filter(pk=OuterRef("member_id")).values("name")[:1])
    inner = ["member_name" if key == "member__name" else key for key in order]
    chosen = candidates.annotate(member_name=name).order_by(*inner)[:CLOSEST_LIMIT]
    return (
        Alignment.objects.filter(pk__in=chosen.values("pk"))
        .select_related("member")
        .order_by(*order)
    )


def _candidate(milestone: Milestone, alignment: Alignment, enough: list[str]) -> Candidate:
    score = getattr(alignment, "score", None)
    if alignment.level not in enough:
        needed = milestone.get_rule_min_level_display().lower()
        short_of = _("%(level)s, not yet %(needed)s") % {
            "level": alignment.get_level_display(),
            "needed": needed,
        }
    else:
        capacity = milestone.get_rule_capacity_display().lower()
        short_of = _("%(capacity)s %(score)s of %(minimum)s") % {
            "capacity": capacity,
            "score": score,
            "minimum": milestone.rule_capacity_min,
        }
    return Candidate(
        member=alignment.member, level=alignment.level, capacity=score, short_of=short_of
    )


def evaluate_all(milestones) -> dict[int, Readiness]:
    """{milestone pk: Readiness} for those of `milestones` that carry a rule (two queries
    per such milestone; none for the others)."""
    results = {}
    for milestone in milestones:
        result = evaluate(milestone)
        if result is not None:
            results[milestone.pk] = result
    return results
