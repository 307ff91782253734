"""The network's counts for the dashboard, against small hand-computed fixtures."""

import datetime as dt
from decimal import Decimal

import pytest

from members import stats
from members.models import CAPACITY_FIELDS, JoiningStoryKind, MemberStatus, Sector
from tests.factories import CapacityCheckInFactory, MemberFactory, SectorFactory

pytestmark = pytest.mark.django_db

D = dt.date


def rows(result):
    return {row.key: row.value for row in result}


def test_people_counts_by_status_and_story_list_every_choice():
    MemberFactory.create_batch(
        3, status=MemberStatus.MEMBER, joining_story_kind=JoiningStoryKind.SOCIAL_MOVEMENT
    )
    MemberFactory(status=MemberStatus.MEMBER, joining_story_kind=JoiningStoryKind.NCM_VETERAN)
    MemberFactory.create_batch(
        2, status=MemberStatus.PROSPECT, joining_story_kind=JoiningStoryKind.OTHER
    )

    counts = stats.people_counts()

    assert counts.total == 6
    assert rows(counts.by_status) == {"prospect": 2, "member": 4, "former": 0}
    assert [row.label for row in counts.by_status] == ["Prospect", "Member", "Former member"]
    assert rows(counts.by_story) == {
        "social_movement": 3,
        "ncm_veteran": 1,
        "middle_generation": 0,
        "other": 2,
    }


def test_people_without_a_sector_are_counted_once_and_sectors_count_each_person_once():
    Sector.objects.all().delete()  # the sectors a migration seeds; these are hand-made
    housing = SectorFactory(name="Housing", slug="housing")
    labor = SectorFactory(name="Labor", slug="labor")
    SectorFactory(name="Climate", slug="climate")  # active, nobody: still listed at 0
    retired = SectorFactory(name="Tenant unions", slug="tenant-unions", active=False)
    SectorFactory(name="Old retired", slug="old-retired", active=False)  # nobody: hidden
    MemberFactory(sectors=[housing, labor])
    MemberFactory(sectors=[housing])
    MemberFactory(sectors=[housing, retired])
    MemberFactory.create_batch(2)  # no sector

    by_sector = stats.people_by_sector()

    assert [(row.key, row.value) for row in by_sector] == [
        ("housing", 3),
        ("labor", 1),
        ("tenant-unions", 1),
        ("climate", 0),
    ]
    assert stats.people_counts().without_sector == 2


def test_check_ins_per_month_covers_24_months_with_zeros_and_the_edges():
    today = D(2025, 3, 15)
    ana, ben = MemberFactory(), MemberFactory()
    for member, day in [
        (ana, D(2025, 3, 1)),
        (ana, D(2025, 3, 15)),  # today counts
        (ben, D(2025, 3, 10)),
        (ben, D(2025, 3, 16)),  # after today: not counted
        (ana, D(2025, 1, 31)),
        (ben, D(2024, 2, 29)),
        (ana, D(2023, 4, 1)),  # first day of the window
        (ben, D(2023, 3, 31)),  # the day before it
    ]:
        CapacityCheckInFactory(member=member, checked_on=day)

    months = stats.check_ins_per_month(today=today)

    assert len(months) == 24
    assert months[0].start == D(2023, 4, 1)
    assert months[-1].start == D(2025, 3, 1)
    counts = {m.start: m.check_ins for m in months if m.check_ins}
    assert counts == {
        D(2023, 4, 1): 1,
        D(2024, 2, 1): 1,
        D(2025, 1, 1): 1,
        D(2025, 3, 1): 3,
    }
    assert sum(m.check_ins for m in months) == 6


def test_check_ins_per_month_crosses_the_new_year():
    months = stats.check_ins_per_month(months=3, today=D(2025, 1, 2))
    assert [m.start for m in months] == [D(2024, 11, 1), D(2024, 12, 1), D(2025, 1, 1)]


def check_in(member, day, strategic, political=3):
    return CapacityCheckInFactory(
        member=member,
        checked_on=day,
        strategic_skills=strategic,
        political_organizing_skills=political,
    )


def test_capacity_growth_medians_latest_minus_first_over_people_with_two_check_ins():
    p1, p2, p3, p4, once = MemberFactory.create_batch(5)
    # p1: strategic 1 -> 3 (+2); political 3 -> 1 (-2)
    check_in(p1, D(2024, 1, 10), 1)
    check_in(p1, D(2024, 3, 10), 3, political=1)
    # p2: entered out of date order; the middle score is ignored: 2 -> 3 (+1)
    check_in(p2, D(2024, 6, 1), 3)
    check_in(p2, D(2024, 1, 1), 2)
    check_in(p2, D(2024, 2, 1), 5)
    # p3: two on the same day, latest is the one entered last: 4 -> 2 (-2)
    check_in(p3, D(2024, 5, 5), 4)
    check_in(p3, D(2024, 5, 5), 2)
    # p4: 1 -> 5 (+4); political 3 -> 4 (+1)
    check_in(p4, D(2023, 1, 1), 1)
    check_in(p4, D(2024, 1, 1), 5, political=4)
    # one check-in only: no change to measure, left out
    check_in(once, D(2024, 1, 1), 5, political=5)

    growth = {g.field: g for g in stats.capacity_growth()}

    strategic = growth["strategic_skills"]
    assert strategic.people == 4
    assert {k: v for k, v in strategic.histogram.items() if v} == {-2: 1, 1: 1, 2: 1, 4: 1}
    # sorted -2, 1, 2, 4: an even count, the mean of the middle two
    assert strategic.median == Decimal("1.5")
    assert (strategic.grew, strategic.unchanged, strategic.declined) == (3, 0, 1)

    political = growth["political_organizing_skills"]
    # -2, 0, 0, +1
    assert political.median == Decimal(0)
    assert (political.grew, political.unchanged, political.declined) == (1, 2, 1)
    assert growth["social_emotional_capacities"].histogram[0] == 4
    assert [g.label for g in growth.values()] == [
        "Strategic skills",
        "Political organizing skills",
        "Social-emotional capacities",
        "Organization-building skills",
    ]


def test_capacity_growth_without_repeat_check_ins_has_no_median():
    check_in(MemberFactory(), D(2024, 1, 1), 4)
    growth = stats.capacity_growth()
    assert [g.people for g in growth] == [0, 0, 0, 0]
    assert [g.median for g in growth] == [None] * 4


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ({}, None),
        ({0: 0, 1: 0}, None),
        ({3: 1}, Decimal(3)),
        ({-1: 1, 2: 1}, Decimal("0.5")),
        ({-1: 1, 0: 1, 4: 1}, Decimal(0)),
        ({1: 2, 2: 2}, Decimal("1.5")),
        ({-4: 3, 0: 1, 4: 3}, Decimal(0)),
        ({-2: 5, 3: 1, 4: 4}, Decimal("0.5")),
    ],
)
def test_median_from_histogram(histogram, median):
    assert stats.median_from_histogram(histogram) == median


def test_capacity_growth_keeps_extreme_changes_of_each_capacity_apart():
    # The four changes travel packed in one number; the extremes must not bleed into the
    # neighbouring capacity's digit.
    for scores_then, scores_now in [((1, 5, 1, 5), (5, 1, 5, 1)), ((5, 1, 3, 4), (1, 5, 3, 3))]:
        person = MemberFactory()
        for day, scores in [(D(2024, 1, 1), scores_then), (D(2024, 9, 1), scores_now)]:
            fields = dict(zip(CAPACITY_FIELDS, scores, strict=True))
            CapacityCheckInFactory(member=person, checked_on=day, **fields)

    growth = {g.field: {k: v for k, v in g.histogram.items() if v} for g in stats.capacity_growth()}

    assert growth == {
        "strategic_skills": {4: 1, -4: 1},
        "political_organizing_skills": {-4: 1, 4: 1},
        "social_emotional_capacities": {4: 1, 0: 1},
        "organization_building_skills": {-4: 1, -1: 1},
    }


def test_each_count_takes_a_fixed_number_of_queries(django_assert_num_queries):
    person = MemberFactory(sectors=[SectorFactory()])
    check_in(person, D(2024, 1, 1), 2)
    check_in(person, D(2024, 2, 1), 4)
    # people grouped by status and kind; the people with a sector
    with django_assert_num_queries(2):
        stats.people_counts()
    with django_assert_num_queries(1):
        stats.people_by_sector()
    with django_assert_num_queries(1):
        stats.check_ins_per_month()
    with django_assert_num_queries(1):
        stats.capacity_growth()
