"""The home page: the network at a glance, the same few queries however large it grows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cores.models import ReviewState
from members.models import MemberStatus
from tests.factories import AlignmentFactory, MemberFactory


def home_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_home_counts_members_prospects_and_each_cores_review_queue(as_user, lead_a, core_a, core_b):
    MemberFactory.create_batch(3, status=MemberStatus.MEMBER)
    MemberFactory.create_batch(2, status=MemberStatus.PROSPECT)
    AlignmentFactory.create_batch(
        4, tendency=core_a.tendency, review_state=ReviewState.NEEDS_REVIEW
    )
    AlignmentFactory(tendency=core_a.tendency, review_state=ReviewState.REVIEWED)
    response, _ = home_queries(as_user(lead_a))
    assert response.context["counts"] == {"members": 8, "prospects": 2}
    queues = {core.name: core.queue for core in response.context["cores"]}
    assert queues == {core_a.name: 4, core_b.name: 0}
    assert "you lead" in response.content.decode()


def test_home_query_count_does_not_grow_with_people(as_user, organizer, core_a, core_b):
    client = as_user(organizer)
    AlignmentFactory.create_batch(3, tendency=core_a.tendency)
    _, few = home_queries(client)
    AlignmentFactory.create_batch(60, tendency=core_b.tendency)
    _, many = home_queries(client)
    # session, user, user's groups (two-factor check), the two counts (one query), cores
    # with their queues, the cores the user leads, user's permissions and group
    # permissions (the navigation)
    assert few == many == 8
