"""The network dashboard (the home page): its numbers against hand-computed fixtures, the
same queries at 10 and 500 people who are in cores, aligned, invited and checked in, and
how the figures the background worker counts (sos_tracker.figures) reach the page.

No worker runs in tests: `home()` counts the figures as the worker's task would before it
asks for the page; the tests of the counting itself say when the worker is asked."""

import datetime as dt
import random

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cores.models import (
    Alignment,
    AlignmentLevel,
    Invitation,
    InvitationStage,
    Milestone,
    Phase,
    ReviewState,
)
from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)
from members.services import create_member, record_check_in
from sos_tracker import dashboard, figures
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
    SectorFactory,
)

pytestmark = pytest.mark.django_db


def bars(chart):
    return {bar.label: bar.value for bar in chart.bars}


def home(client):
    """The home page once the worker has counted its figures (recount_all does what the
    worker's tasks do)."""
    figures.recount_all()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def test_home_shows_people_by_status_story_and_sector_with_numbers(as_user, organizer):
    housing = SectorFactory(name="Housing", slug="housing")
    MemberFactory.create_batch(
        3,
        status=MemberStatus.MEMBER,
        joining_story_kind=JoiningStoryKind.MIDDLE_GENERATION,
        sectors=[housing],
    )
    MemberFactory(status=MemberStatus.FORMER, joining_story_kind=JoiningStoryKind.NCM_VETERAN)
    MemberFactory(status=MemberStatus.PROSPECT, joining_story_kind=JoiningStoryKind.OTHER)

    response = home(as_user(organizer))

    people = response.context["people"]
    assert people["total"] == 5
    assert bars(people["status"]) == {"Prospect": 1, "Member": 3, "Former member": 1}
    assert bars(people["story"]) == {
        "Social-movement leftist": 0,
        "New Communist Movement veteran": 1,
        "Middle generation": 3,
        "Other / not yet stated": 1,
    }
    assert bars(people["sector"])["Housing"] == 3
    assert people["without_sector"] == 2
    html = response.content.decode()
    # Each bar links to the people list with that filter; the numbers are in a table.
    assert f"{reverse('members:people_list')}?status=former" in html
    assert f"{reverse('members:people_list')}?kind=middle_generation" in html
    assert f"{reverse('members:people_list')}?sector=housing" in html
    assert '<table class="table compact numbers bar-numbers">' in html


def test_cores_side_by_side_with_milestones_queue_and_funnel(as_user, lead_a, core_a, core_b):
    now = timezone.now()
    today = timezone.localdate()
    core_a.members.add(*MemberFactory.create_batch(3))
    core_b.members.add(MemberFactory())
    # core_a is cohering with 2 of its 4 cohering milestones done (11 in all phases);
    # core_b is engaging with all 4 cohering and 1 of 3 engaging milestones done.
    for title in ("Core members committed", "Strategy drafted"):
        Milestone.objects.filter(core=core_a, title=title).update(done_on=today)
    core_b.phase = Phase.ENGAGING
    core_b.save(update_fields=["phase"])
    Milestone.objects.filter(core=core_b, phase=Phase.COHERING).update(done_on=today)
    Milestone.objects.filter(core=core_b, title="Invitation list identified").update(done_on=today)
    # tendency_a's queue: 2 new, 1 reviewed long ago (stale); 1 reviewed recently stays out.
    AlignmentFactory.create_batch(2, tendency=core_a.tendency)
    AlignmentFactory(
        tendency=core_a.tendency,
        review_state=ReviewState.REVIEWED,
        reviewed_at=now - dt.timedelta(days=400),
    )
    AlignmentFactory(
        tendency=core_a.tendency,
        review_state=ReviewState.REVIEWED,
        reviewed_at=now - dt.timedelta(days=3),
    )
    # core_a's funnel: one in each stage, and one who declined after being invited.
    for stage in (
        InvitationStage.IDENTIFIED,
        InvitationStage.INVITED,
        InvitationStage.IN_CONVERSATION,
        InvitationStage.JOINED,
    ):
        InvitationFactory(core=core_a, stage=stage)
    InvitationFactory(core=core_a, stage=InvitationStage.DECLINED, invited_on=today)

    response = home(as_user(lead_a))

    a, b = response.context["cores"]
    assert (a.core, b.core) == (core_a, core_b)
    assert (a.core.people, b.core.people) == (3, 1)
    assert (a.this_phase.done, a.this_phase.total, a.done, a.total) == (2, 4, 2, 11)
    assert (b.this_phase.done, b.this_phase.total, b.done, b.total) == (1, 3, 5, 11)
    assert (a.queue, b.queue) == (3, 0)
    assert (a.led, b.led) == (True, False)
    assert (a.can_review, b.can_review) == (True, False)
    # reached at least: identified 5, invited 4 (3 open or joined + the declined one
    # who had been invited), in conversation 2, joined 1; declined beside the funnel
    assert [(bar.label, bar.value, bar.note) for bar in a.funnel_chart.bars] == [
        ("Identified", 5, ""),
        ("Invited", 4, "80 %"),
        ("In conversation", 2, "50 %"),
        ("Joined the process", 1, "50 %"),
        ("Declined", 1, ""),
    ]
    assert a.open_invitations == "1 identified, 1 invited, 1 in conversation"
    assert b.funnel.total == 0
    html = response.content.decode()
    assert core_a.get_absolute_url() in html
    assert core_b.get_absolute_url() in html
    # lead_a may work core_a's queue, not core_b's
    assert reverse("cores:review_queue", args=[core_a.slug]) in html
    assert reverse("cores:review_queue", args=[core_b.slug]) not in html
    assert "you lead" in html
    assert "2 of 4 milestones done" in html


def test_organizer_sees_both_cores_read_only_without_queue_links(as_user, organizer, core_a):
    AlignmentFactory(tendency=core_a.tendency)
    response = home(as_user(organizer))
    (summary,) = response.context["cores"]
    assert summary.queue == 1
    assert not summary.led
    assert not summary.can_review
    assert reverse("cores:review_queue", args=[core_a.slug]) not in response.content.decode()


def test_timeline_counts_check_ins_per_month_over_two_years(as_user, organizer):
    today = timezone.localdate()
    person = MemberFactory()
    CapacityCheckInFactory(member=person, checked_on=today)
    CapacityCheckInFactory(member=MemberFactory(), checked_on=today)
    CapacityCheckInFactory(member=person, checked_on=today - dt.timedelta(days=800))  # too old

    response = home(as_user(organizer))

    timeline = response.context["timeline"]
    assert len(timeline.bars) == 24
    assert timeline.total == 2
    assert timeline.bars[-1].month.start == today.replace(day=1)
    assert timeline.bars[-1].month.check_ins == 2
    assert timeline.busiest.start == today.replace(day=1)
    # the busiest month fills the plot; an empty month has no height
    assert timeline.bars[-1].y == pytest.approx(dashboard.TIMELINE_PAD_TOP)
    assert timeline.bars[0].height == 0
    assert "2 in all" in timeline.summary


def test_growth_shows_the_median_change_and_how_many_people(as_user, organizer):
    # strategic skills: +2, +1, 0, -1 -> median (0 + 1) / 2 = +0.5 over 4 people;
    # the person with one check-in is left out.
    changes = [2, 1, 0, -1]
    for change in changes:
        person = MemberFactory()
        CapacityCheckInFactory(member=person, checked_on=dt.date(2024, 1, 1), strategic_skills=3)
        CapacityCheckInFactory(
            member=person, checked_on=dt.date(2024, 6, 1), strategic_skills=3 + change
        )
    CapacityCheckInFactory(member=MemberFactory(), strategic_skills=5)

    response = home(as_user(organizer))

    growth = response.context["growth"]
    strategic = growth.rows[0]
    assert strategic.growth.label == "Strategic skills"
    assert (strategic.median_text, strategic.growth.people) == ("+0.5", 4)
    assert [(part.kind, part.people) for part in strategic.segments] == [
        ("declined", 1),
        ("unchanged", 1),
        ("grew", 2),
    ]
    # the three parts fill the bar area exactly
    assert sum(part.width for part in strategic.segments) == pytest.approx(dashboard.GROWTH_WIDTH)
    assert growth.rows[1].median_text == "0"
    assert growth.people == 4
    assert "<strong>+0.5</strong>" in response.content.decode()


def test_an_empty_network_shows_empty_pictures_and_no_errors(as_user, organizer):
    response = home(as_user(organizer))
    html = response.content.decode()
    assert response.status_code == 200
    assert "No core groups yet" in html
    assert "Nobody has two check-ins yet" in html
    assert "none in the last two years" in html


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\u2013"),
        (0, "0"),
        (1, "+1"),
        ("1.5", "+1.5"),
        ("-0.5", "\u22120.5"),
        (-2, "\u22122"),
    ],
)
def test_signed_changes_read_as_people_write_them(value, text):
    from decimal import Decimal

    assert dashboard.signed(None if value is None else Decimal(value)) == text


def test_timeline_axis_rounds_up_to_a_readable_top():
    assert [dashboard._round_top(n) for n in (0, 1, 3, 7, 11, 60, 120, 4321)] == [
        1,
        1,
        5,
        10,
        20,
        100,
        200,
        5000,
    ]


# --- the query budget -------------------------------------------------------------------


def populate(n, core_a, core_b):
    """`n` more people, each in a core, aligned toward both tendencies, some invited by
    each core, with two or three check-ins: a join of two of these many-valued relations
    would multiply rows and show in the count if any query of the page made one."""
    random.seed(n)
    sectors = list(Sector.objects.filter(active=True))
    people = []
    for _ in range(n):
        person = MemberFactory.build()
        person.email = ""  # unique when given; these people need none
        person.refresh_derived_fields()  # bulk_create skips save(), which fills these
        people.append(person)
    people = Member.objects.bulk_create(people)
    Member.sectors.through.objects.bulk_create(
        Member.sectors.through(member=person, sector=sector)
        for i, person in enumerate(people)
        for sector in sectors[i % len(sectors) : i % len(sectors) + 1 + i % 2]
    )
    core_a.members.add(*people[::2])
    core_b.members.add(*people[1::2])
    levels = list(AlignmentLevel)
    states = list(ReviewState)
    Alignment.objects.bulk_create(
        Alignment(
            member=person,
            tendency=tendency,
            level=random.choice(levels),
            review_state=random.choice(states),
            reviewed_at=timezone.now() - dt.timedelta(days=random.randint(1, 400)),
        )
        for person in people
        for tendency in (core_a.tendency, core_b.tendency)
    )
    stages = list(InvitationStage)
    Invitation.objects.bulk_create(
        Invitation(
            core=core,
            member=person,
            stage=random.choice(stages),
            moved_on=timezone.localdate() - dt.timedelta(days=random.randint(0, 90)),
        )
        for i, person in enumerate(people)
        for core in (core_a, core_b)
        if i % 3
    )
    today = timezone.localdate()
    CapacityCheckIn.objects.bulk_create(
        CapacityCheckIn(
            member=person,
            checked_on=today - dt.timedelta(days=30 * months_ago),
            **{name: random.randint(1, 5) for name in CAPACITY_FIELDS},
        )
        for person in people
        for months_ago in (20, 9, 1)[: 2 + person.pk % 2]
    )


def test_home_query_count_is_the_same_at_10_and_500_people(
    client, lead_a, organizer, core_a, core_b, django_assert_num_queries
):
    # Request: the session, the user, then the two-factor check: a lead's device (a lead
    # must use one) or an organizer's groups.
    # Dashboard: the network-wide figures as the worker counted them (1: the kept row,
    # with the newest history ids of people and check-ins); the cores with their tendency
    # (1); milestones grouped by core and phase (1); the cores' figures as counted (1:
    # every core's row, member count and funnel, with the newest history ids they watch);
    # the queue sizes, live (1: two index ranges per tendency); the cores the user leads
    # (1); the user's permissions and group permissions (2, then cached for the
    # navigation); for a lead, who may review, the tendencies they lead (1, for the queue
    # link). Nothing else is counted by the request.
    expected = {lead_a: 12, organizer: 11}
    results = {}
    for n in (10, 490):
        populate(n, core_a, core_b)
        # populate() writes without history, which the pages would not notice: count now,
        # as the worker does.
        figures.recount_all()
        for user in (lead_a, organizer):
            log_in(client, user)
            with django_assert_num_queries(expected[user]):
                results[user, n] = client.get(reverse("home"))
    assert not asked()  # the figures were current: nothing to ask the worker for
    few, many = results[lead_a, 10], results[lead_a, 490]
    assert few.context["people"]["total"] == 10
    assert many.context["people"]["total"] == 500
    a, b = many.context["cores"]
    assert a.core.people + b.core.people == 500
    assert a.queue > 0
    assert a.funnel.total > 0
    assert many.context["growth"].people == 500
    assert many.context["timeline"].total > 500


# --- the figures the worker counts, and when it is asked ---------------------------------


def asked() -> list[tuple[str, str]]:
    """The counts asked of the worker so far, as (kind, argument) pairs: the tasks in its
    queue (the database task backend's table)."""
    tasks = DBTaskResult.objects.filter(task_path=figures.recount_task.module_path)
    return [tuple(task.args_kwargs["args"]) for task in tasks.order_by("enqueued_at")]


def test_before_the_first_count_the_page_says_so_and_asks_the_worker_once(
    as_user, organizer, core_a
):
    MemberFactory.create_batch(2)
    client = as_user(organizer)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert response.context["figures"] is None
    (summary,) = response.context["cores"]
    assert summary.counted is None
    assert summary.queue == 0  # shown as zero until counted, and said so
    html = response.content.decode()
    assert "The network's figures" in html
    assert "are being counted in the background" in html
    assert "This core's counts are being counted in the background" in html
    assert "Network figures as of" not in html
    assert sorted(asked()) == [("core", str(core_a.pk)), ("network", "")]
    # Asked once, not on every request: the next ones wait for the worker.
    client.get(reverse("home"))
    client.get(reverse("home"))
    assert len(asked()) == 2

    # What the worker then does; the page shows the figures with their time.
    figures.recount_task.call("network")
    figures.recount_task.call("core", str(core_a.pk))
    response = client.get(reverse("home"))
    assert response.context["people"]["total"] == 2
    assert response.context["figures_current"]
    html = response.content.decode()
    assert "being counted" not in html
    as_of = timezone.localtime(response.context["figures_as_of"]).isoformat()
    assert f'Network figures as of <time datetime="{as_of}">' in html
    assert "Counts as of" in html  # the core's own time
    assert "a newer count is on its way" not in html
    assert len(asked()) == 2


def test_counted_figures_are_read_in_one_query_with_their_time(django_assert_num_queries):
    MemberFactory.create_batch(2)
    figures.recount_all()
    counted = figures.read("network")
    with django_assert_num_queries(1):  # the kept row with the newest history ids
        network = dashboard.network_figures()
    assert network.as_of == counted.counted_at
    assert network.counts.total == 2
    assert network.current
    assert not asked()


def test_a_person_or_check_in_added_asks_for_a_newer_count_once(as_user, organizer):
    housing = SectorFactory(name="Housing", slug="housing")
    person = MemberFactory(status=MemberStatus.PROSPECT)
    client = as_user(organizer)
    figures.recount_all()
    counted_at = figures.read("network").counted_at

    # Added through the service an organizer's form calls, with a sector: the page shows
    # the figures it has, says a newer count is on its way, and asks the worker for it,
    # to run no sooner than RECOUNT_AFTER_CHANGE after the last count.
    create_member(by=organizer, name="Rosa Parks", sectors=[housing])
    response = client.get(reverse("home"))
    assert response.context["people"]["total"] == 1
    assert not response.context["figures_current"]
    assert "a newer count is on its way" in response.content.decode()
    assert asked() == [("network", "")]
    (task,) = DBTaskResult.objects.all()
    assert task.run_after == counted_at + dt.timedelta(seconds=figures.RECOUNT_AFTER_CHANGE)
    # Once: the requests after it wait for that count.
    client.get(reverse("home"))
    assert len(asked()) == 1

    figures.recount_task.call("network")
    people = client.get(reverse("home")).context["people"]
    assert people["total"] == 2
    assert bars(people["sector"])["Housing"] == 1

    # A changed status, and a sector given later, are history too; so are check-ins.
    person.status = MemberStatus.MEMBER
    person.save()
    person.sectors.add(housing)
    record_check_in(person, by=organizer, **dict.fromkeys(CAPACITY_FIELDS, 2))
    record_check_in(person, by=organizer, **dict.fromkeys(CAPACITY_FIELDS, 4))
    assert not client.get(reverse("home")).context["figures_current"]
    assert len(asked()) == 2
    figures.recount_task.call("network")
    response = client.get(reverse("home"))
    assert response.context["figures_current"]
    people = response.context["people"]
    assert bars(people["status"]) == {"Prospect": 0, "Member": 2, "Former member": 0}
    assert bars(people["sector"])["Housing"] == 2
    assert response.context["timeline"].total == 2
    assert response.context["growth"].people == 1
    assert response.context["growth"].rows[0].median_text == "+2"
    assert len(asked()) == 2


def test_a_count_asked_for_and_not_done_is_asked_for_again_later():
    figures.recount_all()
    MemberFactory()
    now = timezone.now()
    dashboard.network_figures(now=now)
    assert len(asked()) == 1
    # The worker is down: no request asks again until ASK_AGAIN_AFTER has passed.
    dashboard.network_figures(now=now + dt.timedelta(seconds=figures.ASK_AGAIN_AFTER - 1))
    assert len(asked()) == 1
    dashboard.network_figures(now=now + dt.timedelta(seconds=figures.ASK_AGAIN_AFTER + 1))
    assert len(asked()) == 2


def test_a_write_outside_the_history_waits_for_the_period(settings):
    MemberFactory()
    counted_at = timezone.localtime().replace(hour=12, minute=0)  # the period ends today
    figures.recount("network", now=counted_at)
    # A raw insert keeps no history (no writer of the app does this): nothing notices it,
    # so the figures stay current and nothing is asked ...
    person = MemberFactory.build(email="")
    person.refresh_derived_fields()
    Member.objects.bulk_create([person])
    within = counted_at + dt.timedelta(seconds=settings.DASHBOARD_CACHE_SECONDS)
    network = dashboard.network_figures(now=within)
    assert (network.counts.total, network.current) == (1, True)
    assert not asked()
    # ... until they are DASHBOARD_CACHE_SECONDS old: then the worker is asked, at once.
    later = within + dt.timedelta(seconds=1)
    assert dashboard.network_figures(now=later).counts.total == 1
    assert asked() == [("network", "")]
    figures.recount("network", now=later)
    assert dashboard.network_figures(now=later).counts.total == 2


def test_figures_counted_on_another_day_are_asked_for_again_and_roll_over(organizer):
    today = timezone.localdate()
    CapacityCheckInFactory(member=MemberFactory(), checked_on=today)
    now = timezone.now()
    figures.recount("network", now=now)
    assert dashboard.network_figures(now=now).months[-1].start == today.replace(day=1)
    assert not asked()

    tomorrow = now + dt.timedelta(days=1)
    kept = dashboard.network_figures(now=tomorrow)
    assert kept.as_of == now  # yesterday's, shown meanwhile, and not current
    assert not kept.current
    assert asked() == [("network", "")]
    figures.recount("network", now=tomorrow)
    later = dashboard.network_figures(now=tomorrow)
    assert (later.as_of, later.current) == (tomorrow, True)
    assert later.months[-1].start == timezone.localdate(tomorrow).replace(day=1)
