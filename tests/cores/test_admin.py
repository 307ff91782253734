import pytest
from django.urls import reverse
from django.utils import timezone

from cores.models import (
    Alignment,
    AlignmentLevel,
    Invitation,
    InvitationStage,
    Phase,
    ReviewNote,
    ReviewState,
)
from tests.adminforms import changeform_data
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    MemberFactory,
    ReviewNoteFactory,
)

pytestmark = pytest.mark.django_db

ALIGNMENT_ADD = reverse("admin:cores_alignment_add")
INVITATION_ADD = reverse("admin:cores_invitation_add")
NOTES = reverse("admin:cores_reviewnote_changelist")
NOTE_ADD = reverse("admin:cores_reviewnote_add")


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_alignment_added_and_changed_in_the_admin_is_attributed_to_the_lead(
    as_user, staff_lead_a, tendency_a
):
    member = MemberFactory()
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(ALIGNMENT_ADD),
        member=str(member.pk),
        tendency=str(tendency_a.pk),
        level=AlignmentLevel.EXPLORING,
    )
    assert client.post(ALIGNMENT_ADD, form).status_code == 302
    alignment = Alignment.objects.get()
    form = changeform_data(client.get(change_url(alignment)), level=AlignmentLevel.LEANING)

    assert client.post(change_url(alignment), form).status_code == 302

    rows = alignment.history.order_by("history_id")
    assert [(row.history_type, row.level, row.history_user) for row in rows] == [
        ("+", AlignmentLevel.EXPLORING, staff_lead_a),
        ("~", AlignmentLevel.LEANING, staff_lead_a),
    ]


def test_lead_reviewing_in_the_admin_is_recorded_as_reviewer(as_user, staff_lead_a, tendency_a):
    alignment = AlignmentFactory(tendency=tendency_a)
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(alignment)), review_state=ReviewState.REVIEWED)

    assert client.post(change_url(alignment), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.review_state, alignment.reviewed_by) == (ReviewState.REVIEWED, staff_lead_a)


def test_changed_level_in_the_admin_goes_back_in_the_review_queue(
    as_user, staff_lead_a, tendency_a, lead_b
):
    alignment = AlignmentFactory(
        tendency=tendency_a,
        review_state=ReviewState.REVIEWED,
        reviewed_by=lead_b,
        reviewed_at=timezone.now(),
    )
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(alignment)), level=AlignmentLevel.COMMITTED)

    assert client.post(change_url(alignment), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.review_state, alignment.reviewed_by, alignment.reviewed_at) == (
        ReviewState.NEEDS_REVIEW,
        None,
        None,
    )


def test_lead_of_other_tendency_cannot_review_its_alignments_in_the_admin(
    as_user, staff_lead_a, tendency_b
):
    alignment = AlignmentFactory(tendency=tendency_b)
    client = as_user(staff_lead_a)
    page = client.get(change_url(alignment))
    assert "review_state" not in page.context["adminform"].form.fields

    client.post(change_url(alignment), {**changeform_data(page), "review_state": "reviewed"})

    alignment.refresh_from_db()
    assert alignment.review_state == ReviewState.NEEDS_REVIEW


def test_alignment_added_on_the_person_page_is_attributed_to_the_lead(
    as_user, staff_lead_a, tendency_a
):
    member = MemberFactory()
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(member)))
    form.update(
        {
            "alignments-TOTAL_FORMS": "1",
            "alignments-0-member": str(member.pk),
            "alignments-0-tendency": str(tendency_a.pk),
            "alignments-0-level": AlignmentLevel.ALIGNED,
            "alignments-0-stated_on": "2024-05-01",
        }
    )

    assert client.post(change_url(member), form).status_code == 302

    alignment = member.alignments.get()
    assert alignment.level == AlignmentLevel.ALIGNED
    assert alignment.history.get().history_user == staff_lead_a


def test_duplicate_alignment_comes_back_on_the_tendency_field_with_the_input_kept(
    as_user, admin_user, tendency_a
):
    existing = AlignmentFactory(tendency=tendency_a)
    client = as_user(admin_user)
    form = changeform_data(
        client.get(ALIGNMENT_ADD),
        member=str(existing.member.pk),
        tendency=str(tendency_a.pk),
        level=AlignmentLevel.COMMITTED,
        stated_on="2024-05-01",
    )

    response = client.post(ALIGNMENT_ADD, form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert admin_form.errors == {
        "tendency": ["This person already has an alignment with this tendency."]
    }
    assert (admin_form["level"].value(), admin_form["stated_on"].value()) == (
        AlignmentLevel.COMMITTED,
        "2024-05-01",
    )
    assert Alignment.objects.count() == 1


def test_duplicate_alignment_on_the_person_page_comes_back_on_the_tendency_field(
    as_user, admin_user, tendency_a
):
    existing = AlignmentFactory(tendency=tendency_a)
    member = existing.member
    client = as_user(admin_user)
    form = changeform_data(client.get(change_url(member)))
    form.update(
        {
            "alignments-TOTAL_FORMS": "2",
            "alignments-1-member": str(member.pk),
            "alignments-1-tendency": str(tendency_a.pk),
            "alignments-1-level": AlignmentLevel.COMMITTED,
            "alignments-1-stated_on": "2024-05-01",
        }
    )

    response = client.post(change_url(member), form)

    assert response.status_code == 200
    (alignments,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "alignments"
    ]
    assert alignments.forms[1].errors == {
        "tendency": ["This person already has an alignment with this tendency."]
    }
    assert alignments.forms[1]["level"].value() == AlignmentLevel.COMMITTED
    assert Alignment.objects.count() == 1


def test_invitation_added_and_moved_in_the_admin_is_attributed_and_stamped(
    as_user, staff_lead_a, core_a
):
    person = MemberFactory()
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(INVITATION_ADD),
        core=str(core_a.pk),
        member=str(person.pk),
        identified_on="2024-01-10",
    )
    assert client.post(INVITATION_ADD, form).status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.invited_by == staff_lead_a
    form = changeform_data(client.get(change_url(invitation)), stage=InvitationStage.INVITED)

    assert client.post(change_url(invitation), form).status_code == 302

    invitation.refresh_from_db()
    assert (invitation.stage, invitation.invited_on) == (
        InvitationStage.INVITED,
        timezone.localdate(),
    )
    rows = invitation.history.order_by("history_id")
    assert [(row.history_type, row.stage, row.history_user) for row in rows] == [
        ("+", InvitationStage.IDENTIFIED, staff_lead_a),
        ("~", InvitationStage.INVITED, staff_lead_a),
    ]


def test_lead_cannot_change_the_invitations_of_another_core(as_user, staff_lead_a, core_b):
    invitation = InvitationFactory(core=core_b)
    client = as_user(staff_lead_a)
    page = client.get(change_url(invitation))

    client.post(change_url(invitation), changeform_data(page, stage=InvitationStage.DECLINED))

    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.IDENTIFIED


def test_lead_moves_their_core_on_in_the_admin_with_a_recorded_reason(
    as_user, staff_lead_a, core_a
):
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(core_a)),
        move_to_next_phase="on",
        open_milestones_confirmed="on",
        decision_reason="Structure, strategy and program drafts adopted.",
    )

    assert client.post(change_url(core_a), form).status_code == 302

    core_a.refresh_from_db()
    decision = core_a.phase_decisions.get()
    assert core_a.phase == Phase.ENGAGING
    assert (decision.decided_by, decision.reason) == (
        staff_lead_a,
        "Structure, strategy and program drafts adopted.",
    )


def test_moving_a_core_on_without_a_reason_comes_back_on_the_reason_field(
    as_user, admin_user, core_a
):
    client = as_user(admin_user)
    form = changeform_data(client.get(change_url(core_a)), move_to_next_phase="on")

    response = client.post(change_url(core_a), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "decision_reason": ["Say why the core is moving on."]
    }
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING


@pytest.fixture
def notes_of_b(core_b, lead_b):
    """A private note by lead_b on an alignment with tendency_b."""
    alignment = AlignmentFactory(tendency=core_b.tendency)
    return ReviewNoteFactory(
        alignment=alignment, author=lead_b, body="Private to Dual Power: shaky on the program."
    )


def test_lead_of_other_tendency_cannot_see_review_notes_in_the_list(
    as_user, staff_lead_a, core_a, notes_of_b
):
    own = ReviewNoteFactory(
        alignment=AlignmentFactory(tendency=core_a.tendency),
        author=staff_lead_a,
        body="Ours: ready for the engaging phase.",
    )
    client = as_user(staff_lead_a)

    response = client.get(NOTES)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert "Dual Power" not in response.text


def test_lead_of_other_tendency_cannot_see_review_notes_on_the_alignment_page(
    as_user, staff_lead_a, notes_of_b
):
    client = as_user(staff_lead_a)

    response = client.get(change_url(notes_of_b.alignment))

    assert response.status_code == 200
    assert notes_of_b.body not in response.text
    assert not any(
        inline.formset.model is ReviewNote for inline in response.context["inline_admin_formsets"]
    )


def test_lead_of_other_tendency_cannot_open_a_review_note_by_its_address(
    as_user, staff_lead_a, notes_of_b
):
    client = as_user(staff_lead_a)

    response = client.get(change_url(notes_of_b))

    assert response.status_code in (302, 403, 404)
    assert notes_of_b.body not in client.get(response.get("Location", NOTES)).text


def test_lead_sees_own_tendency_notes_on_the_alignment_page(as_user, lead_b, core_b, notes_of_b):
    lead_b.is_staff = True
    lead_b.save(update_fields=["is_staff"])

    response = as_user(lead_b).get(change_url(notes_of_b.alignment))

    assert notes_of_b.body in response.text


def test_lead_cannot_write_a_note_on_an_alignment_of_the_other_tendency(
    as_user, staff_lead_a, tendency_b
):
    alignment = AlignmentFactory(tendency=tendency_b)
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(NOTE_ADD), alignment=str(alignment.pk), body="Trying to reach across."
    )

    response = client.post(NOTE_ADD, form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "alignment": ["You can write notes only on alignments of a tendency you lead."]
    }
    assert not ReviewNote.objects.exists()


@pytest.mark.parametrize("who", ["organizer", "lead_a"])
def test_staff_without_notes_of_a_tendency_never_see_them_in_the_admin(
    as_user, request, who, core_a, notes_of_b
):
    user = request.getfixturevalue(who)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = as_user(user)

    for url in (NOTES, change_url(notes_of_b.alignment), change_url(notes_of_b)):
        response = client.get(url, follow=True)
        assert notes_of_b.body not in response.text, url


@pytest.mark.parametrize("who", ["organizer", "staff_lead_a"])
def test_new_alignment_made_in_the_admin_always_enters_the_review_queue(
    as_user, request, who, tendency_b
):
    # Not even by posting the field: an organizer never reviews, and lead_a does not lead
    # tendency_b; a new alignment is reviewed after it is stated, as state_alignment does.
    user = request.getfixturevalue(who)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = as_user(user)
    form = changeform_data(
        client.get(ALIGNMENT_ADD),
        member=str(MemberFactory().pk),
        tendency=str(tendency_b.pk),
        review_state=ReviewState.REVIEWED,
    )

    assert client.post(ALIGNMENT_ADD, form).status_code == 302

    alignment = Alignment.objects.get()
    assert (alignment.review_state, alignment.reviewed_by) == (ReviewState.NEEDS_REVIEW, None)


def test_lead_cannot_write_a_note_on_a_new_alignment_of_the_other_tendency(
    as_user, staff_lead_a, tendency_b
):
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(ALIGNMENT_ADD),
        member=str(MemberFactory().pk),
        tendency=str(tendency_b.pk),
    )
    form.update({"review_notes-TOTAL_FORMS": "1", "review_notes-0-body": "Reaching across."})

    client.post(ALIGNMENT_ADD, form)

    assert not ReviewNote.objects.exists()


def test_alignment_cannot_be_moved_to_another_tendency_taking_its_notes_along(
    as_user, staff_lead_a, tendency_a, tendency_b, notes_of_b
):
    # Notes belong to the tendency: moving lead_b's alignment under tendency_a would hand
    # lead_a every private note written on it.
    alignment = notes_of_b.alignment
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(alignment)), tendency=str(tendency_a.pk))

    client.post(change_url(alignment), form)

    alignment.refresh_from_db()
    assert alignment.tendency == tendency_b
    assert not ReviewNote.objects.visible_to(staff_lead_a).exists()


def test_alignment_cannot_be_moved_to_another_tendency_on_the_person_page(
    as_user, staff_lead_a, tendency_a, tendency_b, notes_of_b
):
    alignment = notes_of_b.alignment
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(alignment.member)))
    form["alignments-0-tendency"] = str(tendency_a.pk)

    client.post(change_url(alignment.member), form)

    alignment.refresh_from_db()
    assert alignment.tendency == tendency_b
    assert not ReviewNote.objects.visible_to(staff_lead_a).exists()


def test_lead_cannot_move_their_core_to_the_other_tendency_or_choose_its_leads(
    as_user, staff_lead_a, core_a, tendency_b, stranger, notes_of_b
):
    # Leading a core of tendency_b would show lead_a tendency_b's private notes; who leads
    # which tendency is the admins' decision.
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(core_a)),
        tendency=str(tendency_b.pk),
        leads=[str(staff_lead_a.pk), str(stranger.pk)],
        name="Renamed by its lead",
    )

    assert client.post(change_url(core_a), form).status_code == 302

    core_a.refresh_from_db()
    assert core_a.name == "Renamed by its lead"
    assert core_a.tendency != tendency_b
    assert list(core_a.leads.all()) == [staff_lead_a]
    assert not ReviewNote.objects.visible_to(staff_lead_a).exists()
