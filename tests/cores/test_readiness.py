"""Readiness rules of milestones: counted from the people, met or not, who is closest."""

import datetime as dt

import pytest
from django.utils import timezone

from cores import readiness
from cores.models import AlignmentLevel, Phase
from members.models import MemberStatus
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    MemberFactory,
    MilestoneFactory,
)

TODAY = timezone.localdate()
CAPACITY = "organization_building_skills"


def person(tendency, level, *scores, status=MemberStatus.MEMBER, name=None):
    """A person aligned at `level` with one check-in per score (oldest first), whose
    organization-building score is that number."""
    member = MemberFactory(status=status, **({"name": name} if name else {}))
    AlignmentFactory(member=member, tendency=tendency, level=level)
    for age, score in enumerate(reversed(scores)):
        CapacityCheckInFactory(
            member=member, checked_on=TODAY - dt.timedelta(days=30 * age), **{CAPACITY: score}
        )
    return member


@pytest.fixture
def rule(core_a):
    """At least 3 people aligned or committed with organization building 3 or more."""
    return MilestoneFactory(
        core=core_a,
        phase=Phase.COHERING,
        title="Enough organization builders",
        rule_min_people=3,
        rule_min_level=AlignmentLevel.ALIGNED,
        rule_capacity=CAPACITY,
        rule_capacity_min=3,
    )


def test_rule_counts_aligned_people_by_their_latest_check_in(rule, tendency_a, tendency_b):
    person(tendency_a, "aligned", 3)  # counts
    person(tendency_a, "committed", 1, 4)  # counts: grew to 4
    person(tendency_a, "aligned", 5, 2)  # latest is 2: close, not counted
    person(tendency_a, "leaning", 4)  # one level below: close, not counted
    person(tendency_a, "exploring", 5)  # too far
    person(tendency_a, "aligned")  # no check-in yet
    person(tendency_a, "committed", 5, status=MemberStatus.FORMER)  # former: never counts
    person(tendency_b, "committed", 5)  # the other tendency

    result = readiness.evaluate(rule)

    assert (result.count, result.required, result.met, result.missing) == (2, 3, False, 1)
    assert {candidate.short_of for candidate in result.closest} == {
        "organization building skills 2 of 3",
        "Leaning, not yet aligned",
    }


def test_rule_is_met_at_the_required_count(rule, tendency_a):
    for _ in range(3):
        person(tendency_a, "aligned", 3)
    result = readiness.evaluate(rule)
    assert result.met
    assert result.count == 3
    assert result.missing == 0


def test_two_check_ins_on_one_day_the_later_one_counts(rule, tendency_a):
    member = person(tendency_a, "aligned", 4)
    # Entered after the first one, on the same day: it is the latest.
    CapacityCheckInFactory(member=member, checked_on=TODAY, **{CAPACITY: 2})
    result = readiness.evaluate(rule)
    assert result.count == 0
    assert [candidate.member for candidate in result.closest] == [member]


def test_closest_people_are_few_and_best_first(rule, tendency_a):
    for index in range(4):
        person(tendency_a, "aligned", 2, name=f"Aligned {index}")
    for index in range(3):
        person(tendency_a, "leaning", 5, name=f"Leaning {index}")
    result = readiness.evaluate(rule)
    assert len(result.closest) == readiness.CLOSEST_LIMIT == 5
    # The highest score first: the leaning people already have capacity 5.
    assert [c.member.name for c in result.closest[:3]] == ["Leaning 0", "Leaning 1", "Leaning 2"]
    assert result.closest[0].capacity == 5


def test_a_rule_without_capacity_counts_levels_only(core_a, tendency_a):
    milestone = MilestoneFactory(core=core_a, rule_min_people=2, rule_min_level="committed")
    AlignmentFactory(tendency=tendency_a, level="committed")
    near = AlignmentFactory(tendency=tendency_a, level="aligned")
    AlignmentFactory(tendency=tendency_a, level="leaning")
    result = readiness.evaluate(milestone)
    assert (result.count, result.met) == (1, False)
    assert [c.member for c in result.closest] == [near.member]
    assert result.closest[0].short_of == "Aligned, not yet committed"
    assert readiness.rule_text(milestone) == "at least 2 people committed"


def test_the_lowest_level_has_nobody_below_it(core_a, tendency_a):
    milestone = MilestoneFactory(core=core_a, rule_min_people=1, rule_min_level="not_yet_clear")
    AlignmentFactory(tendency=tendency_a, level="not_yet_clear")
    result = readiness.evaluate(milestone)
    assert result.met
    assert result.closest == []


def test_a_milestone_without_a_rule_has_no_result(core_a):
    milestone = core_a.milestones.first()
    assert readiness.evaluate(milestone) is None
    assert readiness.rule_text(milestone) == ""


def test_rule_in_words(rule):
    assert readiness.rule_text(rule) == (
        "at least 3 people aligned or above, organization building skills 3 or more "
        "at their latest check-in"
    )


@pytest.mark.parametrize("people", [3, 40])
def test_evaluating_a_rule_costs_two_queries(rule, tendency_a, people, django_assert_num_queries):
    for index in range(people):
        person(tendency_a, ["leaning", "aligned"][index % 2], 2, 3)
    rule.core  # noqa: B018 (the core is loaded with the milestone on the page)
    # the count; the closest people with their person
    with django_assert_num_queries(2):
        result = readiness.evaluate(rule)
    assert result.count == people // 2
