"""The core page and the list of cores: who sees what, and the same queries at any size."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cores.models import Alignment, AlignmentLevel, Invitation, InvitationStage, Phase, ReviewState
from members.models import CapacityCheckIn, Member, Sector
from sos_tracker.figures import recount_all, recount_task
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
    MilestoneFactory,
    PhaseDecisionFactory,
    ReviewNoteFactory,
    SectorFactory,
)

TODAY = timezone.localdate()
NOTE_MARKER = "PRIVATE-NOTE-MARKER-7731"


def page(client, core):
    return client.get(reverse("cores:core_detail", args=[core.slug]))


@pytest.fixture
def populated(core_a, core_b, lead_a, lead_b):
    """core_a with a decision, a ticked milestone, a rule, a queue, a note and invitations."""
    labor = SectorFactory(name="Labor", slug="labor")
    member = MemberFactory(name="Rosa Parks-Lee", sectors=[labor])
    core_a.members.add(member)
    alignment = AlignmentFactory(
        member=member,
        tendency=core_a.tendency,
        level=AlignmentLevel.ALIGNED,
        queued_at=timezone.now() - dt.timedelta(days=12),
    )
    ReviewNoteFactory(alignment=alignment, author=lead_a, body=NOTE_MARKER)
    PhaseDecisionFactory(
        core=core_a,
        from_phase=Phase.COHERING,
        to_phase=Phase.ENGAGING,
        decided_by=lead_a,
        reason="Drafts agreed at the March retreat.",
    )
    core_a.phase = Phase.ENGAGING
    core_a.save(update_fields=["phase"])
    ticked = core_a.milestones.get(phase=Phase.ENGAGING, title="Invitation list identified")
    ticked.done_on = TODAY
    ticked.done_by = lead_a
    ticked.note = "List kept in the shared drive."
    ticked.save()
    MilestoneFactory(
        core=core_a,
        phase=Phase.ENGAGING,
        title="Enough aligned people",
        rule_min_people=2,
        rule_min_level=AlignmentLevel.ALIGNED,
    )
    InvitationFactory(core=core_a, stage=InvitationStage.INVITED)
    InvitationFactory(
        core=core_a,
        stage=InvitationStage.IDENTIFIED,
        moved_on=TODAY - dt.timedelta(days=40),
    )
    return core_a


def test_core_page_shows_the_core_at_a_glance(as_user, organizer, populated):
    recount_all()  # what the background worker does (sos_tracker.figures)
    response = page(as_user(organizer), populated)
    assert response.status_code == 200
    html = response.content.decode()
    assert "as of <time" in html
    assert "a newer count is on its way" not in html
    # phases, the decision with who and why, the current phase marked
    assert 'aria-current="step"' in html
    assert "Drafts agreed at the March retreat." in html
    assert "Alice Lead" in html
    # this phase's milestones with who ticked one, and the next phase's below
    assert "List kept in the shared drive." in html
    assert "Founding documents adopted" in html
    # the readiness rule, not met: 1 of 2
    assert "1 of the 2 needed, 1 more to go: at least 2 people aligned or above" in html
    # the queue: one item, 12 days
    assert response.context["queue"].size == 1
    assert "12 days" in html
    # the funnel with its stalled link
    assert response.context["funnel"].stalled == 1
    assert reverse("cores:invitation_list", args=[populated.slug]) + "?stalled=1" in html
    assert "<svg" in html
    assert "Labor" in html


def asked(core) -> int:
    """How many counts of `core`'s figures were asked of the background worker."""
    tasks = DBTaskResult.objects.filter(task_path=recount_task.module_path)
    return sum(task.args_kwargs["args"] == ["core", str(core.pk)] for task in tasks)


def test_core_page_before_its_first_count_says_so_then_shows_it(as_user, organizer, populated):
    client = as_user(organizer)
    response = page(client, populated)
    assert response.status_code == 200
    assert response.context["figures"] is None
    html = response.content.decode()
    assert "This core's counts (alignment, sectors, invitations, readiness)" in html
    assert "are being counted in the background" in html
    # The queue's oldest item is read live: the queue is not shown as empty meanwhile.
    assert (response.context["queue"].size, response.context["queue"].waited_days) == (1, 12)
    # The worker is asked once, not on every visit.
    page(client, populated)
    assert asked(populated) == 1

    recount_task.call("core", str(populated.pk))
    html = page(client, populated).content.decode()
    assert "being counted" not in html
    assert "as of <time" in html
    # Just counted reads as people say it ("now", "12 seconds ago"), never "0 minutes ago".
    assert re.search(r"as of <time[^>]*>(now|\d+ seconds? ago)</time>", html)
    assert "1 of the 2 needed, 1 more to go" in html

    # Someone else aligned: the page keeps its counts, says a newer one is on its way, and
    # asks for it once.
    AlignmentFactory(tendency=populated.tendency, level=AlignmentLevel.ALIGNED)
    for _ in range(2):
        html = page(client, populated).content.decode()
        assert "(a newer count is on its way)" in html
        assert "1 of the 2 needed, 1 more to go" in html
    assert asked(populated) == 2
    recount_task.call("core", str(populated.pk))
    html = page(client, populated).content.decode()
    assert "a newer count is on its way" not in html
    assert "1 of the 2 needed" not in html  # the rule is met now


def test_readers_see_no_buttons_and_no_notes(as_user, organizer, lead_b, populated):
    for user in (organizer, lead_b):
        html = page(as_user(user), populated).content.decode()
        assert NOTE_MARKER not in html
        assert reverse("cores:phase_advance", args=[populated.slug]) not in html
        assert "Tick off" not in html
        assert "Work the queue" not in html


def test_own_lead_sees_buttons_and_the_way_into_the_queue(as_user, lead_a, populated):
    response = page(as_user(lead_a), populated)
    html = response.content.decode()
    assert reverse("cores:phase_advance", args=[populated.slug]) in html
    assert reverse("cores:phase_back", args=[populated.slug]) in html
    assert "Tick off" in html
    assert "Reopen" in html
    assert "Work the queue" in html
    # Even the core's own lead reads no notes on this page.
    assert NOTE_MARKER not in html


def test_superuser_manages_any_core(as_user, admin_user, populated):
    html = page(as_user(admin_user), populated).content.decode()
    assert "Work the queue" in html
    assert "Tick off" in html


def test_stranger_is_refused(as_user, stranger, core_a):
    assert page(as_user(stranger), core_a).status_code == 403
    assert as_user(stranger).get(reverse("cores:core_list")).status_code == 403


def test_unknown_core_is_404(as_user, organizer, core_a):
    response = as_user(organizer).get(reverse("cores:core_detail", args=["no-such-core"]))
    assert response.status_code == 404


def test_launched_core_shows_its_launch_date(as_user, organizer, core_a):
    core_a.phase = Phase.LAUNCHED
    core_a.launched_on = dt.date(2026, 1, 15)
    core_a.save(update_fields=["phase", "launched_on"])
    html = page(as_user(organizer), core_a).content.decode()
    assert "launched Jan 15, 2026" in html


def test_core_list_links_each_core(as_user, organizer, core_a, core_b):
    InvitationFactory(core=core_a, stage=InvitationStage.JOINED)
    response = as_user(organizer).get(reverse("cores:core_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert core_a.get_absolute_url() in html
    assert core_b.get_absolute_url() in html
    rows = {core.pk: core for core in response.context["cores"]}
    assert rows[core_a.pk].funnel.reached["joined"] == 1
    assert rows[core_a.pk].milestones_total == 4
    assert rows[core_a.pk].milestones_done == 0


def test_navigation_links_the_cores(as_user, organizer):
    html = as_user(organizer).get(reverse("home")).content.decode()
    assert reverse("cores:core_list") in html


def crowd(core, people):
    """`people` people in the core, each aligned, with a check-in and a sector, half of
    them invited: a join of two many-valued relations would multiply the counts.
    Written in bulk (no history needed here) so 500 people take a second, not a minute."""
    sector, _ = Sector.objects.get_or_create(slug="housing", defaults={"name": "Housing"})
    members = MemberFactory.build_batch(people)
    for member in members:
        member.refresh_derived_fields()
    members = Member.objects.bulk_create(members)
    Member.sectors.through.objects.bulk_create(
        Member.sectors.through(member=member, sector=sector) for member in members
    )
    core.members.add(*members)
    Alignment.objects.bulk_create(
        Alignment(
            member=member,
            tendency=core.tendency,
            level=AlignmentLevel.values[index % 5],
            review_state=ReviewState.NEEDS_REVIEW if index % 3 else ReviewState.REVIEWED,
            reviewed_at=None if index % 3 else timezone.now(),
        )
        for index, member in enumerate(members)
    )
    CapacityCheckIn.objects.bulk_create(
        CapacityCheckInFactory.build(member=member, organization_building_skills=1 + index % 5)
        for index, member in enumerate(members)
    )
    Invitation.objects.bulk_create(
        Invitation(core=core, member=member, stage=InvitationStage.values[index % 5])
        for index, member in enumerate(members)
        if index % 2
    )


def page_queries(client, core):
    with CaptureQueriesContext(connection) as ctx:
        response = page(client, core)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


@pytest.mark.parametrize("user", ["lead_a", "organizer"])
def test_core_page_queries_do_not_grow_with_people(request, user, core_a, core_b):
    client = request.getfixturevalue("as_user")(request.getfixturevalue(user))
    MilestoneFactory(
        core=core_a,
        phase=Phase.COHERING,
        title="Builders",
        rule_min_people=5,
        rule_capacity="organization_building_skills",
        rule_capacity_min=3,
    )
    MilestoneFactory(core=core_a, phase=Phase.ENGAGING, title="Enough", rule_min_people=8)
    # crowd() writes without history, which the page would not notice: count after it,
    # as the worker would.
    crowd(core_a, 10)
    recount_all()
    response, few = page_queries(client, core_a)
    assert response.context["aligned_total"] == 10
    crowd(core_a, 490)
    recount_all()
    response, many = page_queries(client, core_a)
    assert response.context["aligned_total"] == 500
    assert response.context["coverage"].covered[0].count == 500
    # session, user, the second-factor check (the lead's TOTP device; the organizer's
    # groups), the user's permissions and group permissions; the core; its decisions;
    # its milestones; its figures as the worker counted them (one row, with the newest
    # history ids it watches: member count, alignment levels, sector coverage, funnel,
    # readiness); the active sectors (for the coverage); the queue live: its size (two
    # index ranges in one query) and its oldest item (the first of each of its two
    # slices); for the lead only, the cores they lead (can_manage_core) and those cores'
    # tendencies (can_review_tendency): an organizer lacks the role permissions, so
    # neither is looked up. Nothing else is counted by the request.
    expected = {"lead_a": 15, "organizer": 13}[user]
    assert few == many == expected


def test_core_list_queries_do_not_grow_with_people(as_user, lead_a, core_a, core_b):
    client = as_user(lead_a)

    def list_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("cores:core_list"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    crowd(core_a, 10)
    few = list_queries()
    crowd(core_b, 200)
    # session, user, TOTP device, permissions, group permissions; the cores with their
    # member and milestone counts (subqueries); their leads; queue sizes; the funnel
    # (stages, stalled); the cores the user leads ("you lead").
    assert few == list_queries() == 11


def test_the_queue_box_is_live_while_the_other_figures_wait_for_the_worker(
    as_user, lead_a, core_a, populated
):
    client = as_user(lead_a)
    recount_all()
    before = page(client, core_a).context["queue"].size
    member = MemberFactory(name="Newly Waiting")
    AlignmentFactory(
        member=member, tendency=core_a.tendency, queued_at=timezone.now() - dt.timedelta(days=1)
    )

    response = page(client, core_a)

    # A lead works the queue: an item that joins it (or a review that takes one out)
    # shows at once, not when the worker next counts.
    assert response.context["queue"].size == before + 1
    assert response.context["figures"] is not None
