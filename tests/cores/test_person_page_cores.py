"""The cores' part of the person page (cores.templatetags.cores_person) and stating a level."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cores.models import (
    Alignment,
    AlignmentLevel,
    Invitation,
    InvitationStage,
    ReviewNote,
    ReviewState,
)
from sos_tracker.roles import ORGANIZERS
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    LeadFactory,
    MemberFactory,
    ReviewNoteFactory,
    UserFactory,
)

TODAY = timezone.localdate()


def page_of(client, person):
    response = client.get(reverse("members:person_detail", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def state_url(person):
    return reverse("core_people:state_alignment", args=[person.pk])


# --- stating a level ---------------------------------------------------------------------


def test_organizer_records_a_stated_level_which_enters_the_queue(as_user, organizer, tendency_a):
    person = MemberFactory(name="Ella Baker")
    client = as_user(organizer)
    assert "Record a stated level" in page_of(client, person)
    response = client.post(
        state_url(person),
        {"tendency": tendency_a.pk, "level": "leaning", "stated_on": TODAY.isoformat()},
    )
    assert response["Location"] == person.get_absolute_url() + "#alignment"
    alignment = Alignment.objects.get(member=person, tendency=tendency_a)
    assert alignment.level == AlignmentLevel.LEANING
    assert alignment.review_state == ReviewState.NEEDS_REVIEW
    assert alignment.history.latest().history_user == organizer
    assert list(Alignment.objects.review_queue(tendency_a)) == [alignment]
    body = page_of(client, person)
    assert "Leaning" in body
    assert "Needs review" in body


def test_a_changed_level_goes_back_to_the_queue_and_the_same_level_changes_nothing(
    as_user, organizer, tendency_a
):
    person = MemberFactory()
    alignment = AlignmentFactory(
        member=person,
        tendency=tendency_a,
        level="exploring",
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now(),
    )
    client = as_user(organizer)
    same = client.post(
        state_url(person),
        {"tendency": tendency_a.pk, "level": "exploring", "stated_on": TODAY.isoformat()},
        follow=True,
    )
    assert "nothing changed" in same.content.decode()
    alignment.refresh_from_db()
    assert alignment.review_state == ReviewState.REVIEWED

    client.post(
        state_url(person),
        {"tendency": tendency_a.pk, "level": "aligned", "stated_on": TODAY.isoformat()},
    )
    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state) == ("aligned", ReviewState.NEEDS_REVIEW)


def test_a_stated_level_in_the_future_is_refused_on_its_field(as_user, organizer, tendency_a):
    person = MemberFactory()
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    response = as_user(organizer).post(
        state_url(person), {"tendency": tendency_a.pk, "level": "leaning", "stated_on": tomorrow}
    )
    form = response.context["form"]
    assert form.errors["stated_on"] == ["The date stated cannot be in the future."]
    assert form["level"].value() == "leaning"
    assert "Stated on</a>: The date stated cannot be in the future." in response.content.decode()
    assert not Alignment.objects.exists()


def test_a_date_before_1900_is_refused_on_its_field(as_user, organizer, tendency_a):
    response = as_user(organizer).post(
        state_url(MemberFactory()),
        {"tendency": tendency_a.pk, "level": "committed", "stated_on": "1800-01-01"},
    )
    assert response.context["form"].errors["stated_on"] == [
        "The date stated, 1800-01-01, is too early; give a date from 1900 on."
    ]
    assert "Stated on</a>: The date stated, 1800-01-01, is too early" in response.content.decode()
    assert not Alignment.objects.exists()


def test_a_level_stated_before_the_current_one_does_not_replace_it(as_user, organizer, tendency_a):
    person = MemberFactory()
    alignment = AlignmentFactory(
        member=person, tendency=tendency_a, level="leaning", stated_on=dt.date(2025, 3, 14)
    )
    response = as_user(organizer).post(
        state_url(person),
        {"tendency": tendency_a.pk, "level": "committed", "stated_on": "2024-06-01"},
    )
    assert response.status_code == 200
    error = response.context["form"].errors["stated_on"][0]
    assert error.startswith("The current level (Leaning) was stated on Mar 14, 2025;")
    assert response.context["form"]["level"].value() == "committed"
    alignment.refresh_from_db()
    assert (alignment.level, alignment.stated_on) == ("leaning", dt.date(2025, 3, 14))


def test_an_unknown_level_is_refused_on_its_field(as_user, organizer, tendency_a):
    response = as_user(organizer).post(
        state_url(MemberFactory()),
        {"tendency": tendency_a.pk, "level": "devoted", "stated_on": TODAY.isoformat()},
    )
    assert response.context["form"].errors["level"] == ["Choose one of the alignment levels."]
    assert not Alignment.objects.exists()


def test_the_form_page_preselects_a_tendency_and_its_level(as_user, organizer, tendency_a):
    person = MemberFactory()
    AlignmentFactory(member=person, tendency=tendency_a, level="aligned")
    response = as_user(organizer).get(state_url(person), {"tendency": tendency_a.pk})
    form = response.context["form"]
    assert (form["tendency"].value(), form["level"].value()) == (tendency_a.pk, "aligned")


def test_without_the_permission_no_level_is_recorded(as_user, stranger, tendency_a):
    person = MemberFactory()
    client = as_user(stranger)
    assert client.get(state_url(person)).status_code == 403
    refused = client.post(
        state_url(person),
        {"tendency": tendency_a.pk, "level": "leaning", "stated_on": TODAY.isoformat()},
    )
    assert refused.status_code == 403
    assert not Alignment.objects.exists()


def test_a_person_who_does_not_exist_is_404(as_user, organizer):
    response = as_user(organizer).get(reverse("core_people:state_alignment", args=[9999]))
    assert response.status_code == 404


# --- private notes -----------------------------------------------------------------------


@pytest.fixture
def noted_person(lead_a, lead_b, core_a, core_b):
    """Someone exploring both tendencies, with a private note from each tendency's lead."""
    person = MemberFactory(name="Assata Shakur")
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=person, tendency=core_a.tendency),
        author=lead_a,
        body="MARKER-NOTE-OF-TENDENCY-A",
    )
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=person, tendency=core_b.tendency),
        author=lead_b,
        body="MARKER-NOTE-OF-TENDENCY-B",
    )
    return person


def test_a_lead_sees_only_their_own_tendencys_notes(as_user, lead_a, lead_b, noted_person):
    body_a = page_of(as_user(lead_a), noted_person)
    assert "MARKER-NOTE-OF-TENDENCY-A" in body_a
    assert "MARKER-NOTE-OF-TENDENCY-B" not in body_a
    body_b = page_of(as_user(lead_b), noted_person)
    assert "MARKER-NOTE-OF-TENDENCY-B" in body_b
    assert "MARKER-NOTE-OF-TENDENCY-A" not in body_b


def test_a_superuser_sees_both_tendencies_notes(as_user, admin_user, noted_person):
    body = page_of(as_user(admin_user), noted_person)
    assert "MARKER-NOTE-OF-TENDENCY-A" in body
    assert "MARKER-NOTE-OF-TENDENCY-B" in body


def test_organizer_and_staff_without_a_lead_role_see_no_notes(as_user, organizer, noted_person):
    staff = UserFactory(username="sam", is_staff=True)
    staff.groups.add(Group.objects.get(name=ORGANIZERS))
    for user in (organizer, staff):
        body = page_of(as_user(user), noted_person)
        assert "MARKER-NOTE" not in body
        assert "Private notes" not in body
        # The levels themselves are for everyone.
        assert body.count('class="level level-exploring"') == 2


def test_a_lead_of_no_core_sees_no_notes(as_user, noted_person):
    body = page_of(as_user(LeadFactory(username="nocore")), noted_person)
    assert "MARKER-NOTE" not in body


# --- invitations -------------------------------------------------------------------------


def test_invitations_show_core_stage_point_person_and_stalled(
    as_user, organizer, core_a, core_b, settings
):
    settings.INVITATION_STALLED_AFTER_DAYS = 30
    person = MemberFactory()
    follower = MemberFactory(name="Fannie Lou Hamer")
    core_a.members.add(follower)
    InvitationFactory(
        core=core_a,
        member=person,
        stage=InvitationStage.INVITED,
        invited_on=TODAY - dt.timedelta(days=40),
        moved_on=TODAY - dt.timedelta(days=40),
        point_person=follower,
        note="PRIVATE-CORE-NOTE",
    )
    InvitationFactory(core=core_b, member=person, stage=InvitationStage.IN_CONVERSATION)
    body = page_of(as_user(organizer), person)
    assert "Fannie Lou Hamer" in body
    assert "Invited" in body
    assert "In conversation" in body
    assert body.count('class="badge badge-stalled"') == 1
    assert "PRIVATE-CORE-NOTE" not in body
    assert "Invite to" not in body  # organizers do not invite


def test_invite_buttons_only_for_cores_the_lead_manages_and_has_not_invited(
    as_user, lead_a, admin_user, core_a, core_b
):
    person = MemberFactory()
    body = page_of(as_user(lead_a), person)
    assert f"Invite to {core_a}" in body
    assert f"Invite to {core_b}" not in body
    InvitationFactory(core=core_a, member=person)
    assert "Invite to" not in page_of(as_user(lead_a), person)
    admin_body = page_of(as_user(admin_user), person)
    assert f"Invite to {core_b}" in admin_body
    assert f"Invite to {core_a}" not in admin_body


def test_a_core_member_is_shown_as_a_member_and_not_offered_an_invitation_to_it(
    as_user, lead_a, admin_user, core_a, core_b
):
    person = MemberFactory()
    core_a.members.add(person)

    body = page_of(as_user(lead_a), person)
    assert f"Invite to {core_a}" not in body
    assert "Not invited by a core" not in body
    assert f">{core_a}</a>." in body.split("Member of", 1)[1]
    admin_body = page_of(as_user(admin_user), person)
    assert f"Invite to {core_a}" not in admin_body
    assert f"Invite to {core_b}" in admin_body


def test_the_next_step_is_flagged_overdue_when_past_and_hidden_once_the_invitation_ended(
    as_user, organizer, core_a, core_b
):
    person = MemberFactory()
    InvitationFactory(core=core_a, member=person, next_step_on=TODAY - dt.timedelta(days=1))
    InvitationFactory(
        core=core_b,
        member=person,
        stage=InvitationStage.DECLINED,
        declined_on=TODAY,
        moved_on=TODAY,
        next_step_on=TODAY - dt.timedelta(days=3),
    )

    body = page_of(as_user(organizer), person)
    assert body.count(">overdue</span>") == 1
    assert (TODAY - dt.timedelta(days=3)).strftime("%b %-d, %Y") not in body


# --- query counts ------------------------------------------------------------------------


def _populate(n, person, core_a, core_b, lead_a, lead_b):
    """n more people in both cores' orbits; `person` gets one more note per tendency."""
    people = MemberFactory.create_batch(n)
    core_a.members.add(*people)
    core_b.members.add(*people)
    Alignment.objects.bulk_create(
        Alignment(member=someone, tendency=core.tendency)
        for someone in people
        for core in (core_a, core_b)
    )
    Invitation.objects.bulk_create(
        Invitation(core=core, member=someone) for someone in people for core in (core_a, core_b)
    )
    for alignment in person.alignments.all():
        author = lead_a if alignment.tendency_id == core_a.tendency_id else lead_b
        ReviewNote.objects.bulk_create(
            ReviewNote(alignment=alignment, author=author, body=f"Note {i}") for i in range(n // 10)
        )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # session, user, groups (two-factor check), user's and group permissions, person +
        # added_by, sectors, check-ins, history + users, history sectors; then the tag:
        # alignments + tendencies + reviewers, the tendencies the user leads, the notes
        # they may read + authors, invitations + cores + point persons, the stated-level
        # form's tendencies, the cores the person is a member of, the cores the user
        # leads (for "Invite to …"); the merge panel: possible duplicates (two queries),
        # merges into this person + mergers; the access log: the hour's quota (one
        # aggregate) and the entry; the timeline's other kinds (members.timeline):
        # check-ins' history, merges, alignments' history, the notes they may read,
        # invitations' history
        ("lead_a", 27),
        # the same without the lead's own lookups: no led tendencies, notes or led cores
        ("organizer", 23),
        # a superuser: no permission tables (a superuser has every permission), no led
        # tendencies to look up; all notes, all cores to invite to; and the "Who can see
        # this person" panel (tests/audit/test_who_can_see.py): who may open the record,
        # who opened it, the tendencies with notes, their leads, the superusers
        ("admin_user", 29),
    ],
)
def test_person_page_query_count_is_flat_from_10_to_500_people(
    request, as_user, lead_a, lead_b, core_a, core_b, role, expected
):
    user = request.getfixturevalue(role)
    person = MemberFactory()
    core_a.members.add(person)
    InvitationFactory(core=core_a, member=person, point_person=person)
    InvitationFactory(core=core_b, member=person)
    AlignmentFactory(member=person, tendency=core_a.tendency)
    AlignmentFactory(member=person, tendency=core_b.tendency)
    _populate(10, person, core_a, core_b, lead_a, lead_b)
    url = reverse("members:person_detail", args=[person.pk])
    client = as_user(user)
    few = count_queries(client, url)
    _populate(490, person, core_a, core_b, lead_a, lead_b)
    many = count_queries(client, url)
    assert few == many == expected
