"""cores.stats against small hand-counted fixtures: queue, levels, sectors, funnel."""

import datetime as dt

import pytest
from django.utils import timezone

from cores import stats
from cores.models import AlignmentLevel, Invitation, InvitationStage, ReviewState
from members.models import MemberStatus, Sector
from tests.factories import (
    AlignmentFactory,
    CoreGroupFactory,
    InvitationFactory,
    MemberFactory,
    SectorFactory,
    TendencyFactory,
)

NOW = timezone.now()
TODAY = timezone.localdate()


def days_ago(days):
    return NOW - dt.timedelta(days=days)


# --- queue ----------------------------------------------------------------------------


def test_queue_summary_counts_waiting_and_stale_and_names_the_oldest(tendency_a, tendency_b):
    AlignmentFactory(tendency=tendency_a, queued_at=days_ago(3))
    oldest = AlignmentFactory(tendency=tendency_a, queued_at=days_ago(40))
    # Reviewed 200 days ago: stale since day 182, so it has waited 18 days.
    AlignmentFactory(
        tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=days_ago(200)
    )
    AlignmentFactory(
        tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=days_ago(10)
    )
    AlignmentFactory(tendency=tendency_b, queued_at=days_ago(90))  # the other queue

    summary = stats.queue_summary(tendency_a, now=NOW)

    assert (summary.size, summary.stale) == (3, 1)
    assert summary.oldest.pk == oldest.pk
    assert summary.oldest.member == oldest.member
    assert summary.waited_days == 40


def test_a_stale_review_can_be_the_oldest_item(tendency_a):
    AlignmentFactory(tendency=tendency_a, queued_at=days_ago(5))
    stale = AlignmentFactory(
        tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=days_ago(300)
    )
    summary = stats.queue_summary(tendency_a, now=NOW)
    assert summary.oldest.pk == stale.pk
    assert summary.oldest.is_stale
    assert summary.waited_days == 300 - 182


def test_an_empty_queue_has_no_oldest_item(tendency_a, django_assert_num_queries):
    AlignmentFactory(tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=NOW)
    with django_assert_num_queries(1):  # the counts; no need to look for the oldest
        summary = stats.queue_summary(tendency_a, now=NOW)
    assert (summary.size, summary.oldest, summary.waited) == (0, None, None)


def test_queue_sizes_of_several_tendencies_in_one_query(
    tendency_a, tendency_b, django_assert_num_queries
):
    AlignmentFactory.create_batch(2, tendency=tendency_a)
    AlignmentFactory(
        tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=days_ago(400)
    )
    AlignmentFactory(tendency=tendency_a, review_state=ReviewState.REVIEWED, reviewed_at=NOW)
    empty = TendencyFactory()
    with django_assert_num_queries(1):
        sizes = stats.queue_sizes([tendency_a.pk, tendency_b.pk, empty.pk])
    assert sizes == {tendency_a.pk: 3, tendency_b.pk: 0, empty.pk: 0}


# --- levels ---------------------------------------------------------------------------


def test_alignment_levels_count_every_person_per_level_in_order(tendency_a, tendency_b):
    for level, count in [("exploring", 2), ("aligned", 3), ("committed", 1)]:
        AlignmentFactory.create_batch(count, tendency=tendency_a, level=level)
    AlignmentFactory(
        tendency=tendency_a, level="leaning", review_state=ReviewState.REVIEWED, reviewed_at=NOW
    )
    AlignmentFactory.create_batch(4, tendency=tendency_b, level="committed")

    levels = stats.alignment_levels(tendency_a)

    assert [(row.level, row.count) for row in levels] == [
        ("not_yet_clear", 0),
        ("exploring", 2),
        ("leaning", 1),
        ("aligned", 3),
        ("committed", 1),
    ]
    assert [row.label for row in levels] == AlignmentLevel.labels


# --- sectors --------------------------------------------------------------------------


@pytest.fixture
def sectors(db):
    # Only these four: the sectors a migration seeds are removed for a countable fixture.
    Sector.objects.all().delete()
    return {
        name: SectorFactory(name=name.capitalize(), slug=name)
        for name in ["labor", "housing", "climate", "abolition"]
    }


def test_sector_coverage_counts_members_and_invitees_and_lists_gaps(core_a, core_b, sectors):
    retired = SectorFactory(name="Retired", slug="retired", active=False)
    labor, housing = sectors["labor"], sectors["housing"]
    ana = MemberFactory(sectors=[labor, housing])
    ben = MemberFactory(sectors=[labor, retired])
    cal = MemberFactory(sectors=[housing])  # invited and a member: counted once
    core_a.members.add(ana, ben, cal)
    InvitationFactory(core=core_a, member=cal, stage=InvitationStage.INVITED)
    InvitationFactory(
        core=core_a, member=MemberFactory(sectors=[labor]), stage=InvitationStage.IDENTIFIED
    )
    InvitationFactory(
        core=core_a, member=MemberFactory(sectors=[sectors["climate"]]), stage="declined"
    )
    core_b.members.add(MemberFactory(sectors=[sectors["abolition"]]))
    MemberFactory(sectors=[sectors["abolition"]])  # in no core

    coverage = stats.sector_coverage(core_a)

    assert [(item.sector.name, item.count) for item in coverage.covered] == [
        ("Labor", 3),
        ("Housing", 2),
    ]
    assert [sector.name for sector in coverage.lacking] == ["Abolition", "Climate"]
    assert coverage.people == 4


def test_sector_coverage_costs_three_queries(core_a, sectors, django_assert_num_queries):
    core_a.members.add(*MemberFactory.create_batch(3, sectors=[sectors["labor"]]))
    # people counted; count per sector over the core's people; the active sectors
    with django_assert_num_queries(3):
        stats.sector_coverage(core_a)


# --- funnel ---------------------------------------------------------------------------


def invite(core, stage, **dates):
    return InvitationFactory(core=core, stage=stage, **dates)


@pytest.fixture
def funnel_fixture(core_a, core_b):
    """core_a: 10 invitations, counted by hand:

    now:     identified 3, invited 2, in conversation 2, joined 1, declined 2
    reached: identified 10; invited 2+2+1 + 1 declined after an invitation
             + 1 declined in conversation = 7; in conversation 2+1+1 = 4; joined 1
    One identified and one invited have sat for 45 days (stalled); a joined one sat
    as long but has ended, so it is not stalled.
    """
    old = TODAY - dt.timedelta(days=45)
    long_ago = TODAY - dt.timedelta(days=60)
    invite(core_a, "identified", identified_on=long_ago, moved_on=old)
    invite(core_a, "identified")
    invite(core_a, "identified")
    invite(core_a, "invited", identified_on=long_ago, invited_on=old, moved_on=old)
    invite(core_a, "invited", invited_on=TODAY)
    invite(core_a, "in_conversation", invited_on=TODAY, conversation_on=TODAY)
    # Went straight to a conversation: it reached "invited" all the same.
    invite(core_a, "in_conversation", conversation_on=TODAY)
    invite(
        core_a,
        "joined",
        identified_on=long_ago,
        invited_on=long_ago,
        conversation_on=long_ago,
        joined_on=old,
        moved_on=old,
    )
    invite(core_a, "declined", invited_on=TODAY, declined_on=TODAY)
    invite(core_a, "declined", invited_on=TODAY, conversation_on=TODAY, declined_on=TODAY)
    invite(core_b, "joined", joined_on=TODAY)
    return core_a


def test_funnel_counts_now_reached_conversions_declined_and_stalled(funnel_fixture, core_b):
    funnel = stats.funnel(funnel_fixture, today=TODAY)

    assert funnel.current == {"identified": 3, "invited": 2, "in_conversation": 2, "joined": 1}
    assert funnel.reached == {"identified": 10, "invited": 7, "in_conversation": 4, "joined": 1}
    assert (funnel.declined, funnel.stalled, funnel.total, funnel.open) == (2, 2, 10, 7)
    # 7/10 = 70 %, 4/7 = 57 %, 1/4 = 25 %
    assert [step.conversion for step in funnel.steps] == [None, 70, 57, 25]
    assert funnel.joined_of_identified == 10


def test_a_correction_backwards_counts_where_the_invitation_is_now(core_a):
    # Moved to a conversation by mistake, then back to "invited": the date stays, but it
    # has not reached a conversation.
    invite(core_a, "invited", invited_on=TODAY, conversation_on=TODAY)
    funnel = stats.funnel(core_a)
    assert funnel.reached["in_conversation"] == 0
    assert funnel.reached["invited"] == 1


def test_funnel_counts_for_several_cores_in_two_queries(
    funnel_fixture, core_b, django_assert_num_queries
):
    empty = CoreGroupFactory(tendency=TendencyFactory())
    with django_assert_num_queries(2):  # every stage per core; the stalled per core
        funnels = stats.funnel_counts([funnel_fixture.pk, core_b.pk, empty.pk], today=TODAY)
    assert funnels[funnel_fixture.pk].reached["invited"] == 7
    assert funnels[core_b.pk].current["joined"] == 1
    assert funnels[core_b.pk].reached == {
        "identified": 1,
        "invited": 1,
        "in_conversation": 1,
        "joined": 1,
    }
    assert funnels[empty.pk].total == 0
    assert [step.conversion for step in funnels[empty.pk].steps] == [None] * 4
    assert funnels[empty.pk].joined_of_identified is None


def test_stalled_follows_the_setting(core_a, settings):
    invite(core_a, "invited", moved_on=TODAY - dt.timedelta(days=12))
    assert stats.funnel(core_a).stalled == 0
    settings.INVITATION_STALLED_AFTER_DAYS = 10
    assert stats.funnel(core_a).stalled == 1


def test_funnel_stats_ignore_status_of_people(core_a):
    # A prospect or a member: an invitation counts the same.
    invite(core_a, "identified")
    InvitationFactory(
        core=core_a, member=MemberFactory(status=MemberStatus.MEMBER), stage="identified"
    )
    assert stats.funnel(core_a).total == Invitation.objects.filter(core=core_a).count() == 2
