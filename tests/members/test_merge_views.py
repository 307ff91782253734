"""The merge pages: the person page's panel, the picker, the side-by-side page, undo, the
admin action; permissions, 404 scoping and query counts."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cores.models import Alignment, ReviewState
from members.forms import MergeForm
from members.merging import merge_people
from members.models import Member, MergeRecord
from members.services import update_member
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
    SectorFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    older = MemberFactory(
        name="Maria Lopez", email="", phone="(512) 555-0123", city="Austin", region="TX"
    )
    newer = MemberFactory(
        name="Maria Lopez",
        email="maria@example.org",
        phone="(512) 555-0123",
        city="Austin",
        region="TX",
        note="From the spring canvass.",
    )
    return older, newer


def merge_url(a, b):
    return reverse("members:person_merge", args=[a.pk, b.pk])


def post_data(a, b, **choices):
    """What the page submits as shown (every radio at its default), with `choices` changed."""
    form = MergeForm(a=a, b=b)
    return {name: field.initial for name, field in form.fields.items()} | choices


def flash(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the person page's panel --------------------------------------------------------------


def test_person_page_lists_possible_duplicates_with_their_evidence_and_a_merge_link(
    as_user, organizer, pair
):
    older, newer = pair
    response = as_user(organizer).get(older.get_absolute_url())
    body = response.content.decode()
    assert "Possible duplicates" in body
    assert "same phone number" in body
    assert merge_url(older, newer) in body
    assert reverse("members:person_merge_pick", args=[older.pk]) in body


def test_person_page_says_when_no_duplicate_is_found(as_user, organizer):
    person = MemberFactory(name="Unique Person", city="Nowhere")
    body = as_user(organizer).get(person.get_absolute_url()).content.decode()
    assert "No likely duplicates found" in body


def test_picker_finds_anyone_by_search(as_user, organizer, pair):
    older, _ = pair
    someone = MemberFactory(name="Mary Lopes", city="Dallas", email="mary@example.net")
    response = as_user(organizer).get(
        reverse("members:person_merge_pick", args=[older.pk]), {"q": "lopes"}
    )
    assert response.status_code == 200
    assert merge_url(older, someone) in response.content.decode()
    assert older not in response.context["found"]


# --- the side-by-side page ----------------------------------------------------------------


def test_merge_page_shows_both_records_with_a_choice_per_differing_field(as_user, organizer, pair):
    older, newer = pair
    response = as_user(organizer).get(merge_url(older, newer))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.differing) >= {"email", "note"}
    assert "phone" not in form.differing  # the same on both
    body = response.content.decode()
    # The survivor's empty email gives way to the other's by default; notes are joined.
    assert 'name="email" value="b" checked' in body
    assert 'name="note" value="b" checked' in body
    assert 'name="note" value="both"' in body
    assert "maria@example.org" in body


def test_merging_keeps_the_chosen_record_and_values(as_user, organizer, pair):
    older, newer = pair
    CapacityCheckInFactory(member=older)
    response = as_user(organizer).post(
        merge_url(older, newer), {**post_data(older, newer), "survivor": "b", "email": "b"}
    )
    assert response.status_code == 302
    assert response["Location"] == newer.get_absolute_url()
    assert not Member.objects.filter(pk=older.pk).exists()
    newer.refresh_from_db()
    assert newer.email == "maria@example.org"
    assert newer.note == "From the spring canvass."
    assert newer.check_ins.count() == 1
    assert "Merged Maria Lopez" in flash(response)[0]
    record = MergeRecord.objects.get()
    assert (record.survivor_pk, record.merged_pk, record.merged_by) == (
        newer.pk,
        older.pk,
        organizer,
    )


def test_a_value_chosen_from_the_record_that_goes_stays(as_user, organizer, pair):
    older, newer = pair
    as_user(organizer).post(merge_url(older, newer), {**post_data(older, newer), "note": "a"})
    older.refresh_from_db()
    assert older.note == ""


def test_merge_refused_when_a_record_was_saved_meanwhile_keeps_the_choices(
    as_user, organizer, pair
):
    older, newer = pair
    data = {**post_data(older, newer), "survivor": "b", "note": "a"}
    newer.city = "Round Rock"
    update_member(newer, by=organizer, expected_version=newer.version)
    response = as_user(organizer).post(merge_url(older, newer), data)
    assert response.status_code == 200
    assert "saved one of these people" in " ".join(response.context["form"].non_field_errors())
    assert Member.objects.filter(pk=older.pk).exists()
    form = response.context["form"]
    assert form["survivor"].value() == "b"
    assert form["note"].value() == "a"
    # The page now shows the records as saved; a second submit goes through.
    assert form.data["version_b"] == newer.version
    # The city differs only now: it asks for a choice too.
    assert "city" in form.errors
    again = as_user(organizer).post(merge_url(older, newer), {**form.data.dict(), "city": "b"})
    assert again.status_code == 302


def test_a_choice_not_offered_is_an_error_on_its_field(as_user, organizer, pair):
    older, newer = pair
    response = as_user(organizer).post(
        merge_url(older, newer), {**post_data(older, newer), "email": "both"}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert MergeRecord.objects.count() == 0


def test_merge_page_of_one_person_twice_or_of_someone_gone_is_404(as_user, organizer, pair):
    older, _ = pair
    client = as_user(organizer)
    assert client.get(merge_url(older, older)).status_code == 404
    assert client.get(reverse("members:person_merge", args=[older.pk, 999999])).status_code == 404
    assert client.get(reverse("members:person_merge_pick", args=[999999])).status_code == 404


def test_user_without_the_merge_permission_is_refused(as_user, stranger, pair):
    older, newer = pair
    client = as_user(stranger)
    assert client.get(merge_url(older, newer)).status_code == 403
    assert client.post(merge_url(older, newer), post_data(older, newer)).status_code == 403
    assert client.get(reverse("members:person_merge_pick", args=[older.pk])).status_code == 403
    assert Member.objects.filter(pk=newer.pk).exists()


def test_both_roles_may_merge(organizer, lead_a):
    assert organizer.has_perm("members.merge_people")
    assert lead_a.has_perm("members.merge_people")
    assert not organizer.has_perm("members.delete_member")


# --- undo -----------------------------------------------------------------------------------


def test_the_merger_undoes_from_the_survivors_page(as_user, organizer, pair):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    client = as_user(organizer)
    page = client.get(older.get_absolute_url()).content.decode()
    undo_url = reverse("members:merge_undo", args=[record.pk])
    assert undo_url in page
    response = client.post(undo_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:person_detail", args=[newer.pk])
    assert Member.objects.filter(pk=newer.pk).exists()
    assert "Undid merge" in flash(response)[0]


def test_undo_refused_names_what_changed_since(as_user, organizer, lead_a, pair):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    older.refresh_from_db()
    older.city = "Round Rock"
    update_member(older, by=lead_a, expected_version=older.version)
    response = as_user(organizer).post(reverse("members:merge_undo", args=[record.pk]))
    assert response["Location"] == older.get_absolute_url()
    message = flash(response)[0]
    assert "Alice Lead" in message
    assert "city" in message
    assert not Member.objects.filter(pk=newer.pk).exists()


def test_another_users_merge_is_404_to_undo_but_an_admin_may(
    as_user, organizer, lead_a, admin_user, pair
):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    url = reverse("members:merge_undo", args=[record.pk])
    assert as_user(lead_a).post(url).status_code == 404
    assert "Undo this merge" not in as_user(lead_a).get(older.get_absolute_url()).content.decode()
    assert as_user(admin_user).post(url).status_code == 302
    assert Member.objects.filter(pk=newer.pk).exists()


def test_undo_answers_post_only_and_needs_the_permission(as_user, organizer, stranger, pair):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    url = reverse("members:merge_undo", args=[record.pk])
    assert as_user(organizer).get(url).status_code == 405
    assert as_user(stranger).post(url).status_code == 403
    assert as_user(organizer).post(reverse("members:merge_undo", args=[999999])).status_code == 404


# --- the admin action -------------------------------------------------------------------------


def admin_action(client, people):
    return client.post(
        reverse("admin:members_member_changelist"),
        {"action": "merge_two_people", "_selected_action": [p.pk for p in people]},
    )


def test_admin_action_opens_the_merge_page_for_two_people(as_user, admin_user, pair):
    older, newer = pair
    response = admin_action(as_user(admin_user), [newer, older])
    assert response.status_code == 302
    assert response["Location"] == merge_url(older, newer)


@pytest.mark.parametrize("count", [1, 3])
def test_admin_action_wants_exactly_two(as_user, admin_user, count):
    people = MemberFactory.create_batch(count)
    client = as_user(admin_user)
    response = admin_action(client, people)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:members_member_changelist")
    assert "exactly two" in flash(response)[0]
    assert Member.objects.count() == count


def test_admin_action_is_offered_only_with_the_merge_permission(as_user, staff_lead_a):
    url = reverse("admin:members_member_changelist")
    assert "merge_two_people" in as_user(staff_lead_a).get(url).content.decode()
    staff_lead_a.groups.clear()
    staff_lead_a.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="members", codename__in=["view_member", "change_member"]
        )
    )
    staff_lead_a = type(staff_lead_a).objects.get(pk=staff_lead_a.pk)  # no cached perms
    assert "merge_two_people" not in as_user(staff_lead_a).get(url).content.decode()


# --- query counts -----------------------------------------------------------------------------


def _populate(n, core_a, core_b, tendency_a, tendency_b):
    """n people in both cores, with an alignment each toward both tendencies."""
    people = MemberFactory.create_batch(n)
    core_a.members.add(*people)
    core_b.members.add(*people)
    for person in people:
        AlignmentFactory(member=person, tendency=tendency_a)
        AlignmentFactory(member=person, tendency=tendency_b)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_merge_page_query_count_is_flat_from_10_to_500_people(
    as_user, organizer, pair, core_a, core_b, tendency_a, tendency_b
):
    older, newer = pair
    sector = SectorFactory()
    older.sectors.add(sector)
    core_a.members.add(older, newer)
    AlignmentFactory(member=older, tendency=tendency_a)
    AlignmentFactory(
        member=newer,
        tendency=tendency_a,
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now(),
    )
    InvitationFactory(core=core_b, member=newer)
    CapacityCheckInFactory(member=older)
    client = as_user(organizer)
    url = merge_url(older, newer)
    _populate(10, core_a, core_b, tendency_a, tendency_b)
    few = _count(client, url)
    _populate(490, core_a, core_b, tendency_a, tendency_b)
    many = _count(client, url)
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions; both people + added_by, their sectors; check-ins counted per person;
    # the cores' steps: core names, alignments + tendencies, invitations + cores
    assert few == many == 11
    assert Alignment.objects.count() == 1002


def test_person_page_panel_query_count_is_flat(as_user, organizer, pair):
    older, _ = pair
    client = as_user(organizer)
    few = _count(client, older.get_absolute_url())
    for _ in range(20):
        MemberFactory(name="Maria Lopez", city="Austin", region="TX")
    merge_people(older, MemberFactory(name="Maria L.", city="Austin"), by=organizer)
    many = _count(client, older.get_absolute_url())
    assert few == many


def test_the_address_of_a_merged_away_person_leads_to_who_they_are_now(as_user, organizer, pair):
    older, newer = pair
    third = MemberFactory(name="M. Lopez", email="m.lopez@example.net")
    merge_people(older, newer, by=organizer)
    merge_people(third, older, by=organizer)
    response = as_user(organizer).get(reverse("members:person_detail", args=[newer.pk]))
    assert response.status_code == 302
    assert response["Location"] == third.get_absolute_url()
    assert f"Person #{newer.pk} was merged into" in flash(response)[0]


def test_picker_query_count_is_flat_from_10_to_500_people(as_user, organizer, pair):
    older, _ = pair
    client = as_user(organizer)
    url = reverse("members:person_merge_pick", args=[older.pk]) + "?q=lopez"
    MemberFactory.create_batch(10, name="Ana Lopez", city="Dallas")
    few = _count(client, url)
    MemberFactory.create_batch(490, name="Ana Lopez", city="Dallas")
    many = _count(client, url)
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions; the person; possible duplicates (two queries); the access log's entry
    # for the search: 9. Then the first 20 found, tier by tier (Member.objects.search):
    # one query per tier read, at most five (STARTS is two), and on SQLite one to ask the
    # search index whether the term is common. A page that fills in an earlier tier reads
    # fewer, so more people never cost more queries.
    assert few <= 9 + 5 + 1
    assert many <= few
