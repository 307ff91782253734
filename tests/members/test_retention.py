"""The retention list: prospects who stayed "identified" with no activity (members.retention,
cores.retention) and the admin's page to erase or keep them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cores.models import Alignment, Invitation, ReviewNote
from cores.services import add_review_note, invite_to_core, move_invitation, state_alignment
from members.erasure import erase_person
from members.models import CapacityCheckIn, Member, MemberStatus, RetentionReview
from members.retention import keep_prospect, prospects_for_review
from members.services import record_check_in
from tests.factories import MemberFactory

# The list is read this far ahead: everything made in the test is older than the period
# (365 days by default), unless a test dates one activity inside it (LATELY).
LATER = timezone.now() + dt.timedelta(days=400)
LATELY = timezone.now() + dt.timedelta(days=100)

pytestmark = pytest.mark.django_db


def _prospect(name):
    return MemberFactory(name=name, status=MemberStatus.PROSPECT)


def _listed(now=LATER):
    return list(prospects_for_review(now=now).values_list("name", flat=True))


def _date_latest_history(model, **filters):
    """Move the newest history row matching `filters` into the period (it happened lately)."""
    history = model.history.model._base_manager
    newest = history.filter(**filters).latest("history_id")
    history.filter(history_id=newest.history_id).update(history_date=LATELY)


def test_quiet_prospects_identified_or_never_invited_are_listed(core_a, lead_a):
    _prospect("Never Invited")
    identified = _prospect("Only Identified")
    invite_to_core(core_a, identified, by=lead_a)

    assert sorted(_listed()) == ["Never Invited", "Only Identified"]
    # Not before the period has passed.
    assert _listed(now=timezone.now()) == []


def test_members_former_members_and_the_erased_are_not_listed(admin_user):
    MemberFactory(name="A Member", status=MemberStatus.MEMBER)
    MemberFactory(name="A Former Member", status=MemberStatus.FORMER)
    erased = _prospect("Asked To Go")
    erase_person(erased, by=admin_user, reason="Asked")

    assert _listed() == []


@pytest.mark.parametrize("stage", ["invited", "in_conversation", "joined", "declined"])
def test_a_prospect_any_core_took_past_identified_is_not_listed(core_a, lead_a, stage):
    person = _prospect("Talked To")
    invitation = invite_to_core(core_a, person, by=lead_a)
    for step in {
        "invited": ["invited"],
        "in_conversation": ["invited", "in_conversation"],
        "joined": ["invited", "in_conversation", "joined"],
        "declined": ["declined"],
    }[stage]:
        invitation = move_invitation(invitation, step, by=lead_a)
    assert invitation.stage == stage

    assert _listed() == []


def test_a_change_to_the_record_is_activity(organizer):
    person = _prospect("Recently Edited")
    _prospect("Quiet One")
    person.city = "Tucson"
    person._history_user = organizer
    person.save()
    _date_latest_history(Member, id=person.pk)

    assert _listed() == ["Quiet One"]


def test_a_check_in_is_activity(organizer):
    person = _prospect("Checked In")
    check_in = record_check_in(
        person,
        by=organizer,
        strategic_skills=2,
        political_organizing_skills=2,
        social_emotional_capacities=2,
        organization_building_skills=2,
    )
    CapacityCheckIn.objects.filter(pk=check_in.pk).delete()  # its history is not activity
    assert _listed() == ["Checked In"]
    check_in = record_check_in(
        person,
        by=organizer,
        strategic_skills=2,
        political_organizing_skills=2,
        social_emotional_capacities=2,
        organization_building_skills=2,
    )
    CapacityCheckIn._base_manager.filter(pk=check_in.pk).update(created_at=LATELY)

    assert _listed() == []


def test_an_invitation_made_or_edited_lately_is_activity(core_a, lead_a):
    person = _prospect("Freshly Identified")
    invite_to_core(core_a, person, by=lead_a)
    _date_latest_history(Invitation, member_id=person.pk)

    assert _listed() == []


def test_an_alignment_stated_or_a_review_note_lately_is_activity(tendency_a, organizer, lead_a):
    stated = _prospect("Stated Lately")
    state_alignment(stated, tendency_a, "exploring", by=organizer)
    _date_latest_history(Alignment, member_id=stated.pk)
    noted = _prospect("Noted Lately")
    alignment = state_alignment(noted, tendency_a, "exploring", by=organizer)
    note = add_review_note(alignment, by=lead_a, body="Talk again in spring")
    ReviewNote.objects.filter(pk=note.pk).update(created_at=LATELY)

    assert _listed() == []


def test_keeping_a_prospect_takes_them_off_the_list_for_another_period(admin_user):
    person = _prospect("Kept Once")
    review = keep_prospect(person, by=admin_user)
    RetentionReview.objects.filter(pk=review.pk).update(reviewed_at=LATELY)

    assert _listed() == []
    # Another full period after the review, they are back.
    assert _listed(now=LATELY + dt.timedelta(days=366)) == ["Kept Once"]


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def due_now(settings):
    """A period of 0 days: everything made before the request is quiet long enough."""
    settings.PROSPECT_REVIEW_AFTER_DAYS = 0


def test_admin_sees_the_list_with_last_activity_and_both_actions(due_now, admin_user, as_user):
    person = _prospect("Long Quiet")
    MemberFactory(name="Busy Member", status=MemberStatus.MEMBER)
    client = as_user(admin_user)

    page = client.get(reverse("members:retention_list"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Long Quiet" in html
    assert "Busy Member" not in html
    assert "(record changed)" in html
    assert reverse("members:retention_keep", args=[person.pk]) in html
    assert reverse("admin:members_member_erase", args=[person.pk]) + "?reason=Retention" in html


def test_the_erase_link_fills_in_the_reason_to_check(due_now, admin_user, as_user):
    person = _prospect("Long Quiet")
    client = as_user(admin_user)
    url = reverse("admin:members_member_erase", args=[person.pk])

    page = client.get(url, {"reason": "Retention review: no activity since 2025-01-02"})

    assert "Retention review: no activity since 2025-01-02" in page.content.decode()
    assert Member.objects.get(pk=person.pk).erased_at is None


def test_keep_records_who_and_when_and_the_person_leaves_the_list(due_now, admin_user, as_user):
    person = _prospect("Long Quiet")
    client = as_user(admin_user)

    response = client.post(reverse("members:retention_keep", args=[person.pk]))

    assert response.status_code == 302
    review = RetentionReview.objects.get()
    assert (review.member, review.reviewed_by) == (person, admin_user)
    assert timezone.now() - review.reviewed_at < dt.timedelta(minutes=1)


def test_keep_is_a_post(due_now, admin_user, as_user):
    person = _prospect("Long Quiet")
    client = as_user(admin_user)
    assert client.get(reverse("members:retention_keep", args=[person.pk])).status_code == 405
    assert not RetentionReview.objects.exists()


def test_only_admins_see_or_act_on_the_list(due_now, organizer, lead_a, stranger, as_user):
    person = _prospect("Long Quiet")
    for user in (organizer, lead_a, stranger):
        client = as_user(user)
        assert client.get(reverse("members:retention_list")).status_code == 403
        keep = client.post(reverse("members:retention_keep", args=[person.pk]))
        assert keep.status_code == 403
    assert not RetentionReview.objects.exists()


def test_the_list_costs_the_same_queries_for_more_people(
    due_now, admin_user, as_user, django_assert_max_num_queries
):
    for n in range(3):
        _prospect(f"Quiet {n}")
    client = as_user(admin_user)
    client.get(reverse("members:retention_list"))  # warm the session and permissions
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("members:retention_list"))
    for n in range(20):
        _prospect(f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("members:retention_list"))
    assert page.content.decode().count("?reason=Retention") == 23
