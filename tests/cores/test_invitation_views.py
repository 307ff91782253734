import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cores import services
from cores.models import Alignment, Invitation, InvitationStage
from members.models import Member, MemberStatus
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    MemberFactory,
    ReviewNoteFactory,
    UserFactory,
)

TODAY = timezone.localdate()


def days_ago(n):
    return TODAY - dt.timedelta(days=n)


def list_url(core, **params):
    url = reverse("cores:invitation_list", args=[core.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def detail_url(invitation):
    return reverse("cores:invitation_detail", args=[invitation.core.slug, invitation.pk])


def add_url(core):
    return reverse("cores:invitation_add", args=[core.slug])


def invite_url(member):
    return reverse("core_people:invite_person", args=[member.pk])


def move(client, invitation, stage, on=None, reason="", expected=None):
    return client.post(
        detail_url(invitation),
        {
            "action": "move",
            "stage": stage,
            "on": (on or TODAY).isoformat(),
            "reason": reason,
            "expected_stage": expected or invitation.stage,
        },
    )


QUICK_ADD = {
    "action": "add",
    "name": "Ella Baker",
    "email": "ella@example.org",
    "phone": "",
    "city": "Oakland",
    "status": MemberStatus.PROSPECT,
    "joining_story_kind": "other",
    "joining_story": "",
}


# --- inviting from the core's pages ------------------------------------------------------


def test_search_finds_people_and_marks_those_the_core_already_follows(as_user, lead_a, core_a):
    fresh = MemberFactory(name="Grace Lee Boggs", city="Detroit")
    followed = MemberFactory(name="Grace Paley", city="New York")
    invitation = InvitationFactory(core=core_a, member=followed)
    response = as_user(lead_a).get(add_url(core_a), {"q": "grace"})
    body = response.content.decode()
    assert [p.pk for p in response.context["matches"]] == [fresh.pk, followed.pk]
    assert f'name="member" value="{fresh.pk}"' in body
    assert f'name="member" value="{followed.pk}"' not in body
    assert detail_url(invitation) in body


def test_lead_invites_an_existing_person_found_by_search(as_user, lead_a, core_a):
    person = MemberFactory(name="Grace Lee Boggs")
    response = as_user(lead_a).post(add_url(core_a), {"action": "invite", "member": person.pk})
    invitation = Invitation.objects.get(core=core_a, member=person)
    assert response.status_code == 302
    assert response["Location"] == detail_url(invitation)
    assert invitation.stage == InvitationStage.IDENTIFIED
    assert invitation.identified_on == TODAY
    assert invitation.invited_by == lead_a
    assert invitation.history.latest().history_user == lead_a


def test_inviting_someone_already_followed_opens_that_invitation(as_user, lead_a, core_a):
    invitation = InvitationFactory(core=core_a)
    response = as_user(lead_a).post(
        add_url(core_a), {"action": "invite", "member": invitation.member_id}
    )
    assert response["Location"] == detail_url(invitation)
    assert Invitation.objects.filter(core=core_a).count() == 1


def test_quick_add_creates_a_prospect_and_invites_them(as_user, lead_a, core_a):
    response = as_user(lead_a).post(add_url(core_a), QUICK_ADD)
    person = Member.objects.get(email="ella@example.org")
    invitation = Invitation.objects.get(core=core_a, member=person)
    assert response["Location"] == detail_url(invitation)
    assert person.status == MemberStatus.PROSPECT
    assert person.added_by == lead_a


def test_quick_add_warns_of_a_duplicate_before_saving_anything(as_user, lead_a, core_a):
    # No email saved: two different emails would say two people (members.duplicates).
    existing = MemberFactory(name="Ella J. Baker", email="", city="Oakland")
    client = as_user(lead_a)
    response = client.post(add_url(core_a), QUICK_ADD)
    body = response.content.decode()
    assert response.status_code == 200
    assert [match.member for match in response.context["duplicates"]] == [existing]
    assert "This may be someone already here" in body
    assert f"Invite {existing} instead" in body
    assert 'value="ella@example.org"' in body  # what was typed stays
    assert Member.objects.count() == 1
    assert not Invitation.objects.exists()

    confirmed = client.post(add_url(core_a), {**QUICK_ADD, "confirm_different": "yes"})
    new = Member.objects.exclude(pk=existing.pk).get()
    assert confirmed["Location"] == detail_url(Invitation.objects.get(member=new))
    assert f"#{existing.pk}" in new.history.earliest().history_change_reason


def test_quick_add_of_someone_sharing_a_phone_under_another_name_is_not_stopped(
    as_user, lead_a, core_a
):
    household = MemberFactory(name="Marta Solis", phone="(510) 555-0123", city="Oakland")
    data = {**QUICK_ADD, "name": "Diego Solis", "email": "", "phone": "510.555.0123"}

    response = as_user(lead_a).post(add_url(core_a), data)

    diego = Member.objects.get(name="Diego Solis")
    assert response["Location"] == detail_url(Invitation.objects.get(member=diego))
    assert f"Shares a phone with Marta Solis (#{household.pk})" in (
        diego.history.earliest().history_change_reason
    )


def test_quick_add_with_an_invalid_field_saves_nothing(as_user, lead_a, core_a):
    response = as_user(lead_a).post(add_url(core_a), {**QUICK_ADD, "name": "   "})
    assert "name" in response.context["form"].errors
    assert not Member.objects.exists()
    assert not Invitation.objects.exists()


# --- inviting from the person page -------------------------------------------------------


def test_invite_from_the_person_page_with_point_person_and_next_step(as_user, lead_a, core_a):
    person = MemberFactory(name="Kwame Ture")
    follower = MemberFactory(name="Fannie Lou Hamer")
    core_a.members.add(follower)
    client = as_user(lead_a)
    page = client.get(reverse("members:person_detail", args=[person.pk])).content.decode()
    assert f"{invite_url(person)}?core={core_a.slug}" in page
    assert f"Invite to {core_a}" in page
    next_week = TODAY + dt.timedelta(days=7)
    response = client.post(
        invite_url(person),
        {"core": core_a.slug, "point_person": follower.pk, "next_step_on": next_week},
    )
    assert response["Location"] == person.get_absolute_url() + "#invitations"
    invitation = Invitation.objects.get(core=core_a, member=person)
    assert (invitation.point_person, invitation.next_step_on) == (follower, next_week)
    page = client.get(reverse("members:person_detail", args=[person.pk])).content.decode()
    assert f"Invite to {core_a}" not in page  # invited now
    assert "Fannie Lou Hamer" in page


def test_invite_refuses_a_point_person_outside_the_core(as_user, lead_a, core_a):
    person = MemberFactory()
    outsider = MemberFactory(name="Not In The Core")
    response = as_user(lead_a).post(
        invite_url(person), {"core": core_a.slug, "point_person": outsider.pk, "note": "Call"}
    )
    form = response.context["form"]
    assert form.errors["point_person"] == ["The point person must be a member of this core."]
    assert form["note"].value() == "Call"
    assert not Invitation.objects.exists()


def test_invite_page_goes_straight_to_the_one_core_a_lead_leads(as_user, lead_a, core_a, core_b):
    response = as_user(lead_a).get(invite_url(MemberFactory()))
    assert response.context["core"] == core_a


def test_invite_to_a_core_one_does_not_lead_is_404(as_user, lead_a, core_a, core_b):
    person = MemberFactory()
    client = as_user(lead_a)
    assert client.get(invite_url(person), {"core": core_b.slug}).status_code == 404
    assert client.post(invite_url(person), {"core": core_b.slug}).status_code == 404
    assert not Invitation.objects.exists()


def test_organizer_may_not_invite(as_user, organizer, core_a):
    person = MemberFactory()
    client = as_user(organizer)
    assert client.get(invite_url(person), {"core": core_a.slug}).status_code == 403
    refused = client.post(add_url(core_a), {"action": "invite", "member": person.pk})
    assert refused.status_code == 403
    page = client.get(reverse("members:person_detail", args=[person.pk])).content.decode()
    assert "Invite to" not in page
    assert not Invitation.objects.exists()


def test_lead_of_another_core_cannot_invite_into_it(as_user, lead_b, core_a, core_b):
    person = MemberFactory()
    response = as_user(lead_b).post(add_url(core_a), {"action": "invite", "member": person.pk})
    assert response.status_code == 404
    assert as_user(lead_b).get(add_url(core_a)).status_code == 404


# --- moving through the stages -----------------------------------------------------------


def test_moves_keep_each_stages_date(as_user, lead_a, core_a):
    invitation = services.invite_to_core(core_a, MemberFactory(), by=lead_a, on=days_ago(40))
    client = as_user(lead_a)
    for stage, on in [
        (InvitationStage.INVITED, days_ago(30)),
        (InvitationStage.IN_CONVERSATION, days_ago(12)),
        (InvitationStage.JOINED, days_ago(2)),
    ]:
        response = move(client, invitation, stage, on=on)
        assert response.status_code == 302, response.context["move_form"].errors
        invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.JOINED
    assert (
        invitation.identified_on,
        invitation.invited_on,
        invitation.conversation_on,
        invitation.joined_on,
        invitation.moved_on,
    ) == (days_ago(40), days_ago(30), days_ago(12), days_ago(2), days_ago(2))
    page = client.get(detail_url(invitation))
    steps = {step.value: step.on for step in page.context["steps"]}
    assert steps == {
        "identified": days_ago(40),
        "invited": days_ago(30),
        "in_conversation": days_ago(12),
        "joined": days_ago(2),
        "declined": None,
    }
    history = page.context["history"]
    assert [entry.who for entry in history] == ["Alice Lead"] * 4
    assert history[0].changes[0].label == "Stage"
    assert (history[0].changes[0].old, history[0].changes[0].new) == (
        "In conversation",
        "Joined the process",
    )


def test_declined_keeps_the_reason_and_ends_the_invitation(as_user, lead_a, core_a):
    invitation = InvitationFactory(core=core_a, stage=InvitationStage.INVITED)
    client = as_user(lead_a)
    response = move(client, invitation, "declined", reason="  Moving abroad for two years. ")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.DECLINED
    assert invitation.declined_on == TODAY
    assert invitation.declined_reason == "Moving abroad for two years."
    page = client.get(detail_url(invitation))
    assert "Moving abroad for two years." in page.content.decode()
    assert "where an invitation ends" in page.content.decode()


@pytest.mark.parametrize("end", [InvitationStage.JOINED, InvitationStage.DECLINED])
def test_moving_out_of_an_end_stage_is_refused_on_the_stage_field(as_user, lead_a, core_a, end):
    invitation = InvitationFactory(
        core=core_a, stage=end, joined_on=TODAY, declined_on=TODAY, moved_on=days_ago(3)
    )
    before = Invitation.objects.values().get(pk=invitation.pk)
    response = move(as_user(lead_a), invitation, "in_conversation", on=days_ago(1))
    form = response.context["move_form"]
    assert response.status_code == 200
    assert form.errors["stage"] == [
        f"“{end.label}” is where this invitation ends; it cannot move to another stage."
    ]
    assert form["on"].value() == days_ago(1).isoformat()  # what was typed stays
    assert Invitation.objects.values().get(pk=invitation.pk) == before
    assert invitation.history.count() == 1


def test_a_move_on_a_stale_page_is_refused(as_user, lead_a, core_a):
    invitation = InvitationFactory(core=core_a, stage=InvitationStage.INVITED)
    response = move(
        as_user(lead_a), invitation, "in_conversation", expected=InvitationStage.IDENTIFIED
    )
    form = response.context["move_form"]
    assert "Someone moved this invitation meanwhile" in form.errors["stage"][0]
    assert form["expected_stage"].value() == "invited"  # a second try is judged afresh
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.INVITED


def test_a_move_into_the_future_or_a_reason_without_declining_is_refused(as_user, lead_a, core_a):
    invitation = InvitationFactory(core=core_a)
    client = as_user(lead_a)
    future = move(client, invitation, "invited", on=TODAY + dt.timedelta(days=1))
    assert future.context["move_form"].errors["on"] == ["This date cannot be in the future."]
    reason = move(client, invitation, "invited", reason="Busy")
    assert "reason" in reason.context["move_form"].errors
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.IDENTIFIED


def test_follow_up_point_person_must_be_a_member_of_the_core(as_user, lead_a, core_a):
    invitation = InvitationFactory(core=core_a)
    member_of_core, outsider = MemberFactory(), MemberFactory()
    core_a.members.add(member_of_core)
    client = as_user(lead_a)
    refused = client.post(
        detail_url(invitation),
        {"action": "follow_up", "point_person": outsider.pk, "note": "Met at the assembly"},
    )
    form = refused.context["follow_up_form"]
    assert form.errors["point_person"] == ["The point person must be a member of this core."]
    assert form["note"].value() == "Met at the assembly"
    invitation.refresh_from_db()
    assert invitation.point_person is None
    assert invitation.note == ""

    saved = client.post(
        detail_url(invitation),
        {"action": "follow_up", "point_person": member_of_core.pk, "next_step_on": TODAY},
    )
    assert saved.status_code == 302
    invitation.refresh_from_db()
    assert (invitation.point_person, invitation.next_step_on) == (member_of_core, TODAY)


# --- the list ----------------------------------------------------------------------------


def test_list_flags_stalled_invitations_and_filters_them(as_user, organizer, core_a, settings):
    settings.INVITATION_STALLED_AFTER_DAYS = 30
    stalled = InvitationFactory(core=core_a, stage="invited", moved_on=days_ago(31))
    fresh = InvitationFactory(core=core_a, stage="invited", moved_on=days_ago(29))
    ended = InvitationFactory(core=core_a, stage="joined", joined_on=TODAY, moved_on=days_ago(90))
    client = as_user(organizer)
    everything = client.get(list_url(core_a))
    body = everything.content.decode()
    assert body.count('class="badge badge-stalled"') == 1
    assert everything.context["counts"]["stalled"] == 1
    flagged = client.get(list_url(core_a, stalled=1)).context["invitations"]
    assert [i.pk for i in flagged] == [stalled.pk]
    invited = client.get(list_url(core_a, stage="invited")).context["invitations"]
    assert {i.pk for i in invited} == {stalled.pk, fresh.pk}
    assert ended.pk not in {i.pk for i in invited}


def test_list_with_an_unknown_stage_says_so(as_user, organizer, core_a):
    InvitationFactory(core=core_a)
    response = as_user(organizer).get(list_url(core_a, stage="bogus"))
    assert response.status_code == 200
    assert list(response.context["invitations"]) == []
    assert "not one of the stages" in response.content.decode()


def test_also_in_conversation_shows_nothing_of_the_other_core(
    as_user, lead_a, lead_b, core_a, core_b
):
    person = MemberFactory(name="Assata Shakur")
    ours = InvitationFactory(
        core=core_a, member=person, stage="in_conversation", note="OUR-INVITATION-NOTE"
    )
    InvitationFactory(
        core=core_b,
        member=person,
        stage="in_conversation",
        conversation_on=days_ago(3),
        note="THEIR-INVITATION-NOTE",
        point_person=None,
    )
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=person, tendency=core_b.tendency),
        author=lead_b,
        body="THEIR-REVIEW-NOTE",
    )
    lone = InvitationFactory(core=core_a, stage="in_conversation")
    client = as_user(lead_a)
    listing = client.get(list_url(core_a)).content.decode()
    detail = client.get(detail_url(ours)).content.decode()
    for body in (listing, detail):
        assert "also in conversation with another core" in body.lower()
        assert "THEIR-" not in body
        assert core_b.name not in body
    assert "OUR-INVITATION-NOTE" in detail
    assert "also in conversation" not in client.get(detail_url(lone)).content.decode().lower()


def test_also_in_conversation_needs_both_cores_in_conversation(as_user, lead_a, core_a, core_b):
    person = MemberFactory()
    ours = InvitationFactory(core=core_a, member=person, stage="in_conversation")
    InvitationFactory(core=core_b, member=person, stage="invited")
    body = as_user(lead_a).get(detail_url(ours)).content.decode()
    assert "also in conversation" not in body.lower()


# --- who may do what ---------------------------------------------------------------------


def test_organizer_reads_the_invitations_without_forms_or_the_cores_note(
    as_user, organizer, core_a
):
    invitation = InvitationFactory(core=core_a, note="PRIVATE-CORE-NOTE")
    client = as_user(organizer)
    assert client.get(list_url(core_a)).status_code == 200
    response = client.get(detail_url(invitation))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["move_form"] is None
    assert 'name="action"' not in body
    assert "Invite someone" not in client.get(list_url(core_a)).content.decode()
    assert "PRIVATE-CORE-NOTE" not in body


def test_writes_by_others_are_refused_403_without_the_role_404_outside_scope(
    as_user, organizer, lead_b, stranger, core_a, core_b
):
    invitation = InvitationFactory(core=core_a)
    assert move(as_user(organizer), invitation, "invited").status_code == 403
    assert move(as_user(lead_b), invitation, "invited").status_code == 404
    assert as_user(stranger).get(detail_url(invitation)).status_code == 403
    assert as_user(stranger).get(list_url(core_a)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.IDENTIFIED


def test_an_invitation_of_another_core_is_404_under_this_core(as_user, lead_a, core_a, core_b):
    theirs = InvitationFactory(core=core_b)
    url = reverse("cores:invitation_detail", args=[core_a.slug, theirs.pk])
    assert as_user(lead_a).get(url).status_code == 404


def test_superuser_manages_any_core(as_user, admin_user, core_b):
    invitation = InvitationFactory(core=core_b)
    assert move(as_user(admin_user), invitation, "invited").status_code == 302


# --- query counts ------------------------------------------------------------------------


def _people_in_cores(n, core_a, core_b):
    """n people, each a member of core_a, aligned with both tendencies, invited by both.

    Alignments and invitations are bulk-created: their history is not what is measured.
    """
    people = MemberFactory.create_batch(n)
    core_a.members.add(*people)
    Alignment.objects.bulk_create(
        Alignment(member=person, tendency=core.tendency)
        for person in people
        for core in (core_a, core_b)
    )
    Invitation.objects.bulk_create(
        Invitation(
            core=core,
            member=person,
            stage=InvitationStage.IN_CONVERSATION,
            point_person=person if core == core_a else None,
        )
        for person in people
        for core in (core_a, core_b)
    )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 10),
        # Nobody here has stalled: an empty page looks up no other core's conversations.
        ({"stalled": 1}, 9),
        ({"stage": "in_conversation"}, 10),
    ],
)
def test_invitation_list_query_count_is_flat_from_10_to_500_people(
    as_user, lead_a, core_a, core_b, params, expected
):
    client = as_user(lead_a)
    _people_in_cores(10, core_a, core_b)
    few = count_queries(client, list_url(core_a, **params))
    _people_in_cores(490, core_a, core_b)
    many = count_queries(client, list_url(core_a, **params))
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions, the core + tendency, the page of invitations + people + point persons,
    # which of the page's people in conversation another core is also talking with
    # (only when the page has any), the stage counts (one grouped query), the cores the
    # user leads (can_manage_core)
    assert few == many == expected


def test_invitation_detail_query_count_is_flat(as_user, lead_a, core_a, core_b):
    client = as_user(lead_a)
    _people_in_cores(10, core_a, core_b)
    invitation = services.invite_to_core(
        core_a, MemberFactory(), by=lead_a, point_person=core_a.members.first()
    )
    few = count_queries(client, detail_url(invitation))
    _people_in_cores(490, core_a, core_b)
    for day in range(5):
        services.update_follow_up(invitation, by=lead_a, next_step_on=days_ago(day))
    many = count_queries(client, detail_url(invitation))
    # session, user, groups (two-factor), user's and group permissions, core + tendency,
    # invitation + person + point person + who identified them, cores the user leads, the
    # point person choices, history + users, point person names in the history
    assert few == many == 11


def test_staff_without_a_lead_role_sees_no_forms(as_user, core_a):
    staff = UserFactory(username="sam", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_invitation"))
    invitation = InvitationFactory(core=core_a, note="PRIVATE-CORE-NOTE")
    response = as_user(staff).get(detail_url(invitation))
    assert response.status_code == 200
    assert response.context["move_form"] is None
    assert "PRIVATE-CORE-NOTE" not in response.content.decode()


def test_the_history_shows_the_cores_note_only_to_those_who_manage_it(
    as_user, organizer, lead_a, lead_b, core_a, core_b
):
    invitation = services.invite_to_core(core_a, MemberFactory(), by=lead_a)
    services.update_follow_up(invitation, by=lead_a, note="LATER-CORE-NOTE")
    services.move_invitation(invitation, "invited", by=lead_a)
    lead_history = as_user(lead_a).get(detail_url(invitation)).context["history"]
    assert [change.label for entry in lead_history for change in entry.changes] == [
        "Stage",
        "Invited on",
        "Note",
    ]
    for outsider in (organizer, lead_b):
        response = as_user(outsider).get(detail_url(invitation))
        assert "LATER-CORE-NOTE" not in response.content.decode()
        labels = [change.label for entry in response.context["history"] for change in entry.changes]
        assert labels == ["Stage", "Invited on"]


# --- fixes after the fresh user's walk -----------------------------------------------------


def test_invite_to_core_refuses_one_of_the_cores_own_members(core_a, lead_a):
    member = MemberFactory(name="Ryan Sullivan")
    core_a.members.add(member)

    with pytest.raises(ValidationError) as exc:
        services.invite_to_core(core_a, member, by=lead_a)

    assert exc.value.message_dict == {"member": ["Ryan Sullivan is already a member of this core."]}
    assert not core_a.invitations.exists()


def test_the_invited_person_cannot_be_their_own_point_person(core_a, lead_a):
    # Someone invited before they became a member (or by an older version) stays invited.
    invitation = InvitationFactory(core=core_a)
    core_a.members.add(invitation.member)

    with pytest.raises(ValidationError) as exc:
        services.update_follow_up(invitation, by=lead_a, point_person=invitation.member)

    assert exc.value.message_dict == {
        "point_person": ["The point person cannot be the invited person themselves."]
    }
    invitation.refresh_from_db()
    assert invitation.point_person is None


def test_search_shows_a_core_member_as_in_the_core_without_an_invite_button(
    as_user, lead_a, core_a
):
    member = MemberFactory(name="Ryan Sullivan")
    core_a.members.add(member)
    MemberFactory(name="Ryan Sullivant")

    response = as_user(lead_a).get(add_url(core_a) + "?q=ryan")

    body = response.content.decode()
    assert body.count("in the core") == 1
    assert body.count(f'name="member" value="{member.pk}"') == 0
    assert body.count('name="member" value=') == 1  # the other Ryan is offered


def test_inviting_a_core_member_by_post_is_refused_with_the_reason(as_user, lead_a, core_a):
    member = MemberFactory(name="Ryan Sullivan")
    core_a.members.add(member)

    response = as_user(lead_a).post(
        add_url(core_a), {"action": "invite", "member": member.pk}, follow=True
    )

    assert "Ryan Sullivan is already a member of this core." in response.content.decode()
    assert not Invitation.objects.exists()


def test_invite_from_the_person_page_to_a_core_they_are_a_member_of_is_not_offered(
    as_user, lead_a, core_a
):
    member = MemberFactory()
    core_a.members.add(member)
    client = as_user(lead_a)

    assert client.get(invite_url(member)).context["open_cores"] == []
    response = client.post(invite_url(member), {"core": core_a.slug})
    assert response.status_code == 302
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("tampered", ["abc", "1e3", "", "99999999"])
def test_a_tampered_member_id_is_a_bad_request_not_a_server_error(
    as_user, lead_a, core_a, tampered
):
    response = as_user(lead_a).post(add_url(core_a), {"action": "invite", "member": tampered})

    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("tampered", ["abc", "1e3", "-1"])
def test_a_tampered_point_person_or_stage_is_a_form_error(as_user, lead_a, core_a, tampered):
    invitation = InvitationFactory(core=core_a)
    client = as_user(lead_a)

    follow_up = client.post(
        detail_url(invitation), {"action": "follow_up", "point_person": tampered}
    )
    moved = move(client, invitation, tampered)
    listed = client.get(list_url(core_a, page=tampered, stage=tampered))

    assert (follow_up.status_code, moved.status_code, listed.status_code) == (200, 200, 200)
    assert follow_up.context["follow_up_form"].errors["point_person"]
    assert moved.context["move_form"].errors["stage"]


def test_quick_add_with_an_email_already_here_offers_only_that_person(as_user, lead_a, core_a):
    existing = MemberFactory(name="Ella Baker", email="Ella@Example.org", city="Oakland")

    response = as_user(lead_a).post(add_url(core_a), QUICK_ADD)

    body = response.content.decode()
    assert response.context["form"].email_holder == existing
    assert not response.context["can_add_anyway"]
    assert f"Invite {existing} instead" in body
    assert f"already belongs to {existing}" in body
    assert 'name="confirm_different"' not in body
    assert "This is a different person" not in body


def test_quick_add_with_a_hard_stop_besides_the_email_offers_only_to_check_again(
    as_user, lead_a, core_a
):
    """A duplicate warning over a form the save would refuse anyway (a phone too short):
    "add anyway" could never succeed, so only "check again" is offered."""
    MemberFactory(name="Ella J. Baker", email="", city="Oakland")

    response = as_user(lead_a).post(add_url(core_a), {**QUICK_ADD, "phone": "12"})

    body = response.content.decode()
    assert response.context["duplicates"]
    assert response.context["form"].errors["phone"]
    assert 'name="confirm_different"' not in body
    assert "Check again" in body


def test_quick_add_on_weaker_evidence_still_offers_a_different_person(as_user, lead_a, core_a):
    MemberFactory(name="Ella J. Baker", email="", city="Oakland")

    body = as_user(lead_a).post(add_url(core_a), QUICK_ADD).content.decode()

    assert "This is a different person — add and invite them" in body


def test_point_person_choices_sort_by_the_name_shown_casefolded(core_a):
    from cores.forms.invitations import FollowUpForm

    core_a.members.add(
        MemberFactory(name="Zelda Adams", preferred_name="abby"),
        MemberFactory(name="Aaron Zimmer", preferred_name="Zed"),
        MemberFactory(name="Bea Moss", preferred_name=""),
    )

    labels = [label for _, label in FollowUpForm(core=core_a).fields["point_person"].choices]

    assert labels == ["Nobody yet", "abby", "Bea Moss", "Zed"]


def test_a_past_next_step_is_flagged_overdue_and_an_ended_invitation_shows_none(
    as_user, lead_a, core_a
):
    late = InvitationFactory(core=core_a, next_step_on=days_ago(1))
    InvitationFactory(core=core_a, next_step_on=TODAY)
    ended = InvitationFactory(
        core=core_a,
        stage=InvitationStage.JOINED,
        joined_on=TODAY,
        moved_on=TODAY,
        next_step_on=days_ago(5),
    )
    client = as_user(lead_a)

    listed = client.get(list_url(core_a)).content.decode()
    assert listed.count(">overdue</span>") == 1
    assert days_ago(5).strftime("%b %-d, %Y") not in listed
    assert ">overdue</span>" in client.get(detail_url(late)).content.decode()
    ended_page = client.get(detail_url(ended)).content.decode()
    assert "<dt>Next step</dt>" not in ended_page


def test_the_follow_up_form_shows_no_label_for_its_hidden_version(as_user, lead_a, core_a):
    invitation = services.invite_to_core(core_a, MemberFactory(), by=lead_a)

    body = as_user(lead_a).get(detail_url(invitation)).content.decode()

    follow_up = body.split('id="follow-up-heading"')[1].split("</form>")[0]
    assert 'type="hidden" name="version"' in follow_up
    assert ">Version<" not in follow_up
