"""The home page view: the network at a glance for everyone signed in.

The dashboard's numbers, pictures and query budget (equal at 10 and 500 people) are
tested in tests/test_dashboard.py.
"""

from django.urls import reverse

from cores.models import ReviewState
from members.models import MemberStatus
from sos_tracker.figures import recount_all
from tests.factories import AlignmentFactory, MemberFactory


def test_home_counts_members_prospects_and_each_cores_review_queue(as_user, lead_a, core_a, core_b):
    MemberFactory.create_batch(3, status=MemberStatus.MEMBER)
    MemberFactory.create_batch(2, status=MemberStatus.PROSPECT)
    AlignmentFactory.create_batch(
        4, tendency=core_a.tendency, review_state=ReviewState.NEEDS_REVIEW
    )
    AlignmentFactory(tendency=core_a.tendency, review_state=ReviewState.REVIEWED)
    recount_all()  # what the background worker does (sos_tracker.figures)
    response = as_user(lead_a).get(reverse("home"))
    assert response.status_code == 200
    # The alignment factory makes a member for each alignment: 3 + 5 members.
    statuses = {bar.label: bar.value for bar in response.context["people"]["status"].bars}
    assert statuses == {"Prospect": 2, "Member": 8, "Former member": 0}
    queues = {summary.core.name: summary.queue for summary in response.context["cores"]}
    assert queues == {core_a.name: 4, core_b.name: 0}
    assert "you lead" in response.content.decode()


def test_home_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_refused_page_keeps_the_navigation_and_says_why(as_user, organizer, core_a):
    response = as_user(organizer).get(f"/cores/{core_a.slug}/review/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html
    assert 'aria-label="Main"' in html  # the site's navigation, not a bare page


def test_a_page_out_of_scope_answers_a_styled_404(as_user, lead_b, core_a):
    response = as_user(lead_b).get(f"/cores/{core_a.slug}/review/")

    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
