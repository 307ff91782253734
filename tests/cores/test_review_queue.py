"""The queue page of a core: who may open it, its order, stale items, skips and paging."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cores.models import Alignment, AlignmentLevel, ReviewState
from cores.views.review import PAGE_SIZE
from tests.factories import AlignmentFactory, MemberFactory

UTC = dt.UTC


def at(year, month, day, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


def waiting(tendency, name, *, queued_at, level=AlignmentLevel.EXPLORING):
    """A new or changed level, in the queue since `queued_at`."""
    return AlignmentFactory(
        member=MemberFactory(name=name),
        tendency=tendency,
        level=level,
        review_state=ReviewState.NEEDS_REVIEW,
        queued_at=queued_at,
    )


def reviewed(tendency, name, *, reviewed_at, by=None, level=AlignmentLevel.LEANING):
    return AlignmentFactory(
        member=MemberFactory(name=name),
        tendency=tendency,
        level=level,
        review_state=ReviewState.REVIEWED,
        reviewed_at=reviewed_at,
        reviewed_by=by,
        queued_at=reviewed_at - dt.timedelta(days=3),
    )


@pytest.fixture
def queue_a(settings, core_a, core_b, tendency_a, tendency_b, lead_a):
    """Hand-computed: with stale after 182 days the queue of tendency A is, in order,
    Bea (stale: reviewed Aug 1 2023, waiting since Jan 30 2024), Cleo (Feb 15 2024),
    Ayo (Mar 1 2024, 10:00) and Eli (the same moment, a later id). Dana was reviewed ten
    days ago and does not wait; Omar waits in the other tendency's queue only."""
    settings.REVIEW_STALE_AFTER_DAYS = 182
    ayo = waiting(tendency_a, "Ayo Ade", queued_at=at(2024, 3, 1, 10))
    bea = reviewed(tendency_a, "Bea Bell", reviewed_at=at(2023, 8, 1), by=lead_a)
    cleo = waiting(tendency_a, "Cleo Cruz", queued_at=at(2024, 2, 15))
    dana = reviewed(tendency_a, "Dana Diaz", reviewed_at=timezone.now() - dt.timedelta(days=10))
    eli = waiting(tendency_a, "Eli Eze", queued_at=at(2024, 3, 1, 10))
    omar = waiting(tendency_b, "Omar Obi", queued_at=at(2023, 1, 1))
    return {"ayo": ayo, "bea": bea, "cleo": cleo, "dana": dana, "eli": eli, "omar": omar}


def queue_url(core):
    return reverse("cores:review_queue", args=[core.slug])


def item_url(core, alignment):
    return reverse("cores:review_item", args=[core.slug, alignment.pk])


def names_in_order(body, names):
    positions = {name: body.find(name) for name in names}
    assert all(p >= 0 for p in positions.values()), positions
    return sorted(names, key=positions.get)


# --- the order and the stale rule --------------------------------------------------------


def test_queue_is_oldest_waiting_first_with_stale_and_new_mixed(queue_a, tendency_a):
    rows = list(Alignment.objects.review_queue(tendency_a))
    assert [row.member.name for row in rows] == ["Bea Bell", "Cleo Cruz", "Ayo Ade", "Eli Eze"]
    assert [row.is_stale for row in rows] == [True, False, False, False]
    assert rows[0].waiting_since == at(2023, 8, 1) + dt.timedelta(days=182)
    assert rows[1].waiting_since == at(2024, 2, 15)


def test_queue_page_lists_the_queue_in_order_with_stale_badges(as_user, lead_a, core_a, queue_a):
    response = as_user(lead_a).get(queue_url(core_a))
    assert response.status_code == 200
    body = response.content.decode()
    names = ["Bea Bell", "Cleo Cruz", "Ayo Ade", "Eli Eze"]
    assert names_in_order(body, names) == names
    assert "Dana Diaz" not in body
    assert "Omar Obi" not in body
    assert response.context["totals"] == {"size": 4, "stale": 1}
    assert body.count('class="badge badge-stale"') == 1
    assert "Jan 30, 2024" in body  # Bea waits since her review went stale
    # Start goes to the oldest item.
    assert f'href="{item_url(core_a, queue_a["bea"])}"' in body
    assert response.context["start_pk"] == queue_a["bea"].pk


def test_a_review_older_than_the_setting_comes_back_marked_stale(
    settings, as_user, lead_a, core_a, tendency_a
):
    settings.REVIEW_STALE_AFTER_DAYS = 30
    forty_days_ago = timezone.now() - dt.timedelta(days=40)
    old = reviewed(tendency_a, "Fay Fox", reviewed_at=forty_days_ago)
    reviewed(tendency_a, "Gus Gil", reviewed_at=timezone.now() - dt.timedelta(days=20))
    client = as_user(lead_a)

    body = client.get(queue_url(core_a)).content.decode()
    assert "Fay Fox" in body
    assert "Gus Gil" not in body
    assert 'class="badge badge-stale"' in body
    assert "reviews older than 30 days" in body
    item = client.get(item_url(core_a, old)).content.decode()
    assert 'class="badge badge-stale"' in item

    # With the default six months neither has gone stale yet.
    settings.REVIEW_STALE_AFTER_DAYS = 182
    body = client.get(queue_url(core_a)).content.decode()
    assert "Fay Fox" not in body
    assert "Nothing is waiting" in body


def test_stale_item_waits_since_the_day_it_went_stale(settings, tendency_a):
    settings.REVIEW_STALE_AFTER_DAYS = 30
    item = reviewed(tendency_a, "Hal Hu", reviewed_at=at(2024, 1, 1))
    now = at(2024, 1, 31, 13)
    (row,) = Alignment.objects.review_queue(tendency_a, now=now)
    assert row.pk == item.pk
    assert row.is_stale
    assert row.waiting_since == at(2024, 1, 31)
    assert not Alignment.objects.review_queue(tendency_a, now=at(2024, 1, 31, 11)).exists()


# --- who may open it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("lead_a", 200), ("admin_user", 200), ("lead_b", 404), ("organizer", 403), ("stranger", 403)],
)
def test_only_the_cores_leads_and_superusers_open_its_queue(
    request, as_user, core_a, core_b, queue_a, role, status
):
    user = request.getfixturevalue(role)
    response = as_user(user).get(queue_url(core_a))
    assert response.status_code == status
    if status != 200:
        assert "Bea Bell" not in response.content.decode()


def test_an_unknown_core_is_not_found(as_user, lead_a, core_a):
    response = as_user(lead_a).get(reverse("cores:review_queue", args=["no-such-core"]))
    assert response.status_code == 404


def test_clearing_skips_needs_a_lead_of_the_core(as_user, lead_b, core_a, core_b):
    response = as_user(lead_b).post(queue_url(core_a), {"clear_skips": "1"})
    assert response.status_code == 404


# --- skips and an empty queue ------------------------------------------------------------


def test_skipped_items_are_marked_and_start_passes_over_them(as_user, lead_a, core_a, queue_a):
    client = as_user(lead_a)
    client.post(reverse("cores:review_skip", args=[core_a.slug, queue_a["bea"].pk]))
    response = client.get(queue_url(core_a))
    body = response.content.decode()
    assert response.context["totals"]["size"] == 4  # a skip keeps the item in the queue
    assert response.context["start_pk"] == queue_a["cleo"].pk
    assert '<span class="badge">skipped</span>' in body
    assert "You skipped 1 item in this session" in body

    response = client.post(queue_url(core_a), {"clear_skips": "1"}, follow=True)
    assert "Skipped items are back in the queue." in response.content.decode()
    assert response.context["start_pk"] == queue_a["bea"].pk
    assert response.context["skipped_count"] == 0


def test_all_skipped_leaves_no_start_button_but_a_way_back(as_user, lead_a, core_a, tendency_a):
    only = waiting(tendency_a, "Ida Ito", queued_at=at(2024, 5, 1))
    client = as_user(lead_a)
    response = client.post(reverse("cores:review_skip", args=[core_a.slug, only.pk]), follow=True)
    body = response.content.decode()
    assert response.context["start_pk"] is None
    assert "Start reviewing" not in body
    assert "Queue done, apart from 1 skipped for now" in body
    assert "Clear skips" in body


def test_an_empty_queue_says_so(as_user, lead_a, core_a):
    body = as_user(lead_a).get(queue_url(core_a)).content.decode()
    assert "Nothing is waiting" in body
    assert "Start reviewing" not in body


def test_queue_pages_without_counting_past_the_page(as_user, lead_a, core_a, tendency_a):
    for day in range(PAGE_SIZE + 2):
        waiting(tendency_a, f"Person {day:03}", queued_at=at(2024, 1, 1) + dt.timedelta(days=day))
    client = as_user(lead_a)
    first = client.get(queue_url(core_a))
    assert first.context["page"].has_next
    assert len(first.context["page"].rows) == PAGE_SIZE
    second = client.get(queue_url(core_a) + "?page=2")
    body = second.content.decode()
    assert [row.member.name for row in second.context["page"].rows] == [
        f"Person {PAGE_SIZE:03}",
        f"Person {PAGE_SIZE + 1:03}",
    ]
    assert f"Showing {PAGE_SIZE + 1}\N{EN DASH}{PAGE_SIZE + 2}" in body
    assert second.context["totals"]["size"] == PAGE_SIZE + 2


# --- the queue read from its two slices ---------------------------------------------------


@pytest.fixture
def interleaved(settings, tendency_a, tendency_b):
    """Stale and new items taking turns in the queue, with ties across the slices: Tie
    Stale went stale at the very moment Tie New entered the queue (Jan 10 2024, noon)."""
    settings.REVIEW_STALE_AFTER_DAYS = 30
    for day in (1, 5, 9, 13):
        waiting(tendency_a, f"New {day:02}", queued_at=at(2024, 1, day))
        reviewed(tendency_a, f"Stale {day:02}", reviewed_at=at(2024, 1, day + 2) - dt.timedelta(30))
    reviewed(tendency_a, "Tie Stale", reviewed_at=at(2024, 1, 10) - dt.timedelta(days=30))
    waiting(tendency_a, "Tie New", queued_at=at(2024, 1, 10))
    reviewed(tendency_a, "Fresh", reviewed_at=timezone.now() - dt.timedelta(days=5))
    waiting(tendency_b, "Other Tendency", queued_at=at(2023, 1, 1))


def test_waiting_page_gives_review_queues_rows_in_its_order(interleaved, tendency_a):
    expected = list(Alignment.objects.review_queue(tendency_a))
    assert len(expected) == 10
    for offset, limit in [(0, 10), (0, 3), (3, 4), (8, 5), (10, 2)]:
        rows = Alignment.objects.waiting_page(tendency_a, offset=offset, limit=limit)
        assert [row.pk for row in rows] == [row.pk for row in expected[offset : offset + limit]]
        assert [(row.waiting_since, row.is_stale) for row in rows] == [
            (row.waiting_since, row.is_stale) for row in expected[offset : offset + limit]
        ]


def test_next_waiting_walks_the_queue_in_order_passing_over_excluded(interleaved, tendency_a):
    expected = [row.pk for row in Alignment.objects.review_queue(tendency_a)]
    rows = {row.pk: row for row in Alignment.objects.review_queue(tendency_a)}
    walked, pk = [], Alignment.objects.next_waiting_pk(tendency_a)
    while pk is not None:
        walked.append(pk)
        after = (rows[pk].waiting_since, pk)
        pk = Alignment.objects.next_waiting_pk(tendency_a, after=after)
    assert walked == expected
    skipped = expected[1:4]
    assert (
        Alignment.objects.next_waiting_pk(tendency_a, exclude=[expected[0], *skipped])
        == (expected[4])
    )
    first = rows[expected[0]]
    after_first = (first.waiting_since, first.pk)
    assert (
        Alignment.objects.next_waiting_pk(tendency_a, after=after_first, exclude=skipped)
        == (expected[4])
    )


def test_queue_counts_split_new_and_stale_per_tendency(
    interleaved, tendency_a, tendency_b, django_assert_num_queries
):
    with django_assert_num_queries(1):
        counts = Alignment.objects.queue_counts([tendency_a.pk, tendency_b.pk])
    assert counts == {tendency_a.pk: (5, 5), tendency_b.pk: (1, 0)}
