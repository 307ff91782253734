import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cores import services
from cores.models import (
    DEFAULT_MILESTONES,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Phase,
    ReviewNote,
    ReviewState,
)
from tests.adminforms import changeform_data
from tests.factories import (
    AlignmentFactory,
    CoreGroupFactory,
    InvitationFactory,
    LeadFactory,
    MemberFactory,
    ReviewNoteFactory,
    TendencyFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)

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


# Cores: made by create_core, moved by advance_phase and return_to_previous_phase

CORE_ADD = reverse("admin:cores_coregroup_add")


def _inline(response, prefix):
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    ]
    return formset


def _milestone_row(response, milestone):
    formset = _inline(response, "milestones")
    (index,) = [i for i, form in enumerate(formset.forms) if form.instance.pk == milestone.pk]
    return index


def test_core_added_in_the_admin_gets_its_leads_and_default_milestones(
    as_user, admin_user, tendency_a, lead_a
):
    client = as_user(admin_user)
    form = changeform_data(
        client.get(CORE_ADD),
        name="Democratic Front core",
        slug="df-core",
        tendency=str(tendency_a.pk),
        leads=[str(lead_a.pk)],
    )

    assert client.post(CORE_ADD, form).status_code == 302

    core = CoreGroup.objects.get()
    assert (core.phase, list(core.leads.all())) == (Phase.COHERING, [lead_a])
    assert set(core.milestones.values_list("phase", "title")) == {
        (phase, title) for phase, titles in DEFAULT_MILESTONES.items() for title in titles
    }


def test_moving_on_with_open_milestones_needs_the_confirmation_and_keeps_the_input(
    as_user, staff_lead_a, core_a
):
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    help_text = page.context["adminform"].form.fields["open_milestones_confirmed"].help_text
    assert "Strategy drafted" in help_text
    form = changeform_data(
        page,
        name="Renamed on the way",
        move_to_next_phase="on",
        decision_reason="We are ready.",
    )

    response = client.post(change_url(core_a), form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert list(admin_form.errors) == ["open_milestones_confirmed"]
    assert "Foundational structure drafted" in admin_form.errors["open_milestones_confirmed"][0]
    assert admin_form["decision_reason"].value() == "We are ready."
    assert admin_form["name"].value() == "Renamed on the way"
    # Nothing half-saved: not the move, and not the new name saved before it either.
    core_a.refresh_from_db()
    assert (core_a.phase, core_a.name) == (Phase.COHERING, "Democratic Front core")
    assert not core_a.phase_decisions.exists()


def test_ticking_the_last_open_milestones_and_moving_on_is_one_save(as_user, staff_lead_a, core_a):
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    changes = {"move_to_next_phase": "on", "decision_reason": "Drafts adopted."}
    for milestone in core_a.milestones.filter(phase=Phase.COHERING):
        changes[f"milestones-{_milestone_row(page, milestone)}-done_on"] = str(TODAY)

    assert client.post(change_url(core_a), changeform_data(page, **changes)).status_code == 302

    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    assert set(
        core_a.milestones.filter(phase=Phase.COHERING).values_list("done_on", "done_by")
    ) == {(TODAY, staff_lead_a.pk)}


def test_a_move_decided_on_a_page_another_lead_overtook_is_refused(
    as_user, staff_lead_a, core_a, lead_b
):
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    services.advance_phase(core_a, by=lead_b, reason="Drafts.", open_milestones_confirmed=True)
    form = changeform_data(
        page,
        move_to_next_phase="on",
        open_milestones_confirmed="on",
        decision_reason="Drafts adopted.",
    )

    response = client.post(change_url(core_a), form)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["move_to_next_phase"]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    assert core_a.phase_decisions.count() == 1


def test_lead_takes_their_core_back_one_phase_with_a_reason(as_user, staff_lead_a, core_a):
    services.advance_phase(
        core_a, by=staff_lead_a, reason="Drafts.", open_milestones_confirmed=True
    )
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    assert page.context["adminform"].form.fields["return_to_previous_phase"].label == (
        "Go back to “Cohering a core”"
    )

    no_reason = client.post(
        change_url(core_a), changeform_data(page, return_to_previous_phase="on")
    )
    assert no_reason.context["adminform"].form.errors == {
        "return_reason": ["Say why the core is going back a phase."]
    }
    form = changeform_data(
        page, return_to_previous_phase="on", return_reason="The program needs another round."
    )
    assert client.post(change_url(core_a), form).status_code == 302

    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert core_a.phase_decisions.last().reason == "The program needs another round."


def test_a_core_cannot_be_moved_on_and_back_at_once(as_user, admin_user, core_a):
    services.advance_phase(core_a, by=admin_user, reason="Drafts.", open_milestones_confirmed=True)
    client = as_user(admin_user)
    form = changeform_data(
        client.get(change_url(core_a)),
        move_to_next_phase="on",
        open_milestones_confirmed="on",
        decision_reason="On.",
        return_to_previous_phase="on",
        return_reason="Back.",
    )

    response = client.post(change_url(core_a), form)

    assert list(response.context["adminform"].form.errors) == ["return_to_previous_phase"]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING


def test_the_core_page_has_no_move_on_after_launch_and_no_going_back_before_cohering(
    as_user, admin_user, tendency_a, core_a
):
    launched = CoreGroupFactory(
        tendency=tendency_a, name="Launched core", slug="launched", phase=Phase.LAUNCHED
    )
    client = as_user(admin_user)

    def fieldset_names(core):
        return [fs.name for fs in client.get(change_url(core)).context["adminform"]]

    assert "Go back one phase" not in fieldset_names(core_a)
    assert "Move to the next phase" not in fieldset_names(launched)


# Milestones: complete_milestone and reopen_milestone


def test_milestone_ticked_in_the_core_page_is_done_by_the_lead_and_cleared_reopens_it(
    as_user, staff_lead_a, core_a
):
    milestone = core_a.milestones.get(title="Strategy drafted")
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    row = _milestone_row(page, milestone)

    form = changeform_data(page, **{f"milestones-{row}-done_on": str(TODAY - DAY)})
    assert client.post(change_url(core_a), form).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (TODAY - DAY, staff_lead_a)

    page = client.get(change_url(core_a))
    form = changeform_data(page, **{f"milestones-{row}-done_on": ""})
    assert client.post(change_url(core_a), form).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (None, None)
    rows = milestone.history.order_by("history_id")
    assert [(r.done_on, r.history_user) for r in rows][-2:] == [
        (TODAY - DAY, staff_lead_a),
        (None, staff_lead_a),
    ]


def test_milestone_ticked_in_the_future_comes_back_on_its_row(as_user, staff_lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))
    row = _milestone_row(page, milestone)
    form = changeform_data(page, **{f"milestones-{row}-done_on": str(TODAY + DAY)})

    response = client.post(change_url(core_a), form)

    assert response.status_code == 200
    assert list(_inline(response, "milestones").forms[row].errors) == ["done_on"]
    milestone.refresh_from_db()
    assert milestone.done_on is None


def test_milestone_page_ticks_through_the_service_and_edits_the_readiness_rule(
    as_user, staff_lead_a, core_a, lead_b
):
    milestone = core_a.milestones.get(title="Core members committed")
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(milestone)),
        done_on=str(TODAY),
        rule_min_people="12",
        rule_min_level=AlignmentLevel.ALIGNED,
        rule_capacity="organization_building_skills",
        rule_capacity_min="3",
    )

    assert client.post(change_url(milestone), form).status_code == 302

    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (TODAY, staff_lead_a)
    assert (
        milestone.rule_min_people,
        milestone.rule_min_level,
        milestone.rule_capacity,
        milestone.rule_capacity_min,
    ) == (12, AlignmentLevel.ALIGNED, "organization_building_skills", 3)
    core_page = client.get(change_url(core_a))
    assert "at least 12 people aligned or committed" in core_page.text


def test_half_a_capacity_rule_comes_back_on_its_field(as_user, staff_lead_a, core_a):
    milestone = core_a.milestones.first()
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(milestone)),
        rule_min_people="5",
        rule_capacity="organization_building_skills",
    )

    response = client.post(change_url(milestone), form)

    assert response.context["adminform"].form.errors == {
        "rule_capacity_min": ["Give both the capacity and its lowest score, or neither."]
    }


# Alignments: state_alignment, review_alignment, reopen_review


def test_level_changed_in_the_admin_enters_the_queue_with_a_new_version(
    as_user, organizer, tendency_a, lead_a
):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=lead_a
    )
    services.review_alignment(alignment, by=lead_a)
    alignment.refresh_from_db()
    version, queued_at = alignment.version, alignment.queued_at
    organizer.is_staff = True
    organizer.save(update_fields=["is_staff"])
    client = as_user(organizer)
    form = changeform_data(client.get(change_url(alignment)), level=AlignmentLevel.ALIGNED)

    assert client.post(change_url(alignment), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state, alignment.version) == (
        AlignmentLevel.ALIGNED,
        ReviewState.NEEDS_REVIEW,
        version + 1,
    )
    assert alignment.queued_at > queued_at
    assert alignment.stated_on == TODAY
    assert alignment.history.latest().history_user == organizer


def test_review_in_the_admin_after_another_lead_is_refused_on_the_review_state(
    as_user, staff_lead_a, tendency_a, admin_user
):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=admin_user
    )
    client = as_user(staff_lead_a)
    page = client.get(change_url(alignment))
    services.review_alignment(alignment, by=admin_user)  # a moment earlier, elsewhere
    form = changeform_data(page, review_state=ReviewState.REVIEWED)
    form.update({"review_notes-TOTAL_FORMS": "1", "review_notes-0-body": "My note."})

    response = client.post(change_url(alignment), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["review_state"]
    assert errors["review_state"][0].startswith("Ada Admin reviewed this alignment a moment ago")
    assert _inline(response, "review_notes").forms[0]["body"].value() == "My note."
    alignment.refresh_from_db()
    assert alignment.reviewed_by == admin_user
    assert not ReviewNote.objects.exists()


def test_lead_adjusting_the_level_while_reviewing_saves_a_review_of_that_level(
    as_user, staff_lead_a, tendency_a
):
    alignment = AlignmentFactory(tendency=tendency_a, level=AlignmentLevel.COMMITTED)
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(alignment)),
        level=AlignmentLevel.ALIGNED,
        review_state=ReviewState.REVIEWED,
    )

    assert client.post(change_url(alignment), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state, alignment.reviewed_by) == (
        AlignmentLevel.ALIGNED,
        ReviewState.REVIEWED,
        staff_lead_a,
    )


def test_marking_a_reviewed_alignment_needs_review_puts_it_back_in_the_queue(
    as_user, staff_lead_a, tendency_a
):
    alignment = AlignmentFactory(tendency=tendency_a)
    services.review_alignment(alignment, by=staff_lead_a)
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(change_url(alignment)), review_state=ReviewState.NEEDS_REVIEW)

    assert client.post(change_url(alignment), form).status_code == 302

    assert list(Alignment.objects.review_queue(tendency_a)) == [alignment]


def test_level_changed_on_the_person_page_enters_the_queue(as_user, staff_lead_a, tendency_a):
    alignment = AlignmentFactory(tendency=tendency_a, level=AlignmentLevel.EXPLORING)
    services.review_alignment(alignment, by=staff_lead_a)
    alignment.refresh_from_db()
    version = alignment.version
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(alignment.member)),
        **{"alignments-0-level": AlignmentLevel.COMMITTED},
    )

    assert client.post(change_url(alignment.member), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state, alignment.version) == (
        AlignmentLevel.COMMITTED,
        ReviewState.NEEDS_REVIEW,
        version + 1,
    )


def test_lead_cannot_rewrite_a_colleagues_note_on_the_alignment_page(
    as_user, staff_lead_a, core_a, lead_b
):
    colleague = LeadFactory(username="cora")
    core_a.leads.add(colleague)
    note = ReviewNoteFactory(
        alignment=AlignmentFactory(tendency=core_a.tendency), author=colleague, body="Mine."
    )
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(note.alignment)), **{"review_notes-0-body": "Rewritten."}
    )

    client.post(change_url(note.alignment), form)

    note.refresh_from_db()
    assert note.body == "Mine."


def test_note_filter_offers_a_lead_only_the_tendencies_they_lead(
    as_user, staff_lead_a, core_a, notes_of_b
):
    third = CoreGroupFactory(tendency=TendencyFactory(name="Third Camp", slug="third-camp"))
    third.leads.add(staff_lead_a)
    for tendency in (core_a.tendency, third.tendency):
        ReviewNoteFactory(alignment=AlignmentFactory(tendency=tendency), author=staff_lead_a)

    response = as_user(staff_lead_a).get(NOTES)

    (tendency_filter,) = response.context["cl"].filter_specs
    assert {label for _pk, label in tendency_filter.lookup_choices} == {
        "Democratic Front",
        "Third Camp",
    }
    assert "Dual Power" not in response.text


# Invitations: invite_to_core, move_invitation, update_follow_up


def test_invitation_cannot_move_out_of_joined_and_the_note_typed_is_kept(
    as_user, staff_lead_a, core_a
):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 5 * DAY)
    services.move_invitation(invitation, InvitationStage.JOINED, by=staff_lead_a)
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(invitation)),
        stage=InvitationStage.IN_CONVERSATION,
        note="Asked to step back for a while.",
    )

    response = client.post(change_url(invitation), form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert admin_form.errors == {
        "stage": [
            "“Joined the process” is where this invitation ends; it cannot move to another stage."
        ]
    }
    assert admin_form["note"].value() == "Asked to step back for a while."
    invitation.refresh_from_db()
    assert (invitation.stage, invitation.note) == (InvitationStage.JOINED, "")


def test_invitation_moved_with_a_typed_date_takes_it_and_keeps_earlier_dates(
    as_user, staff_lead_a, core_a
):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 30 * DAY)
    services.move_invitation(
        invitation, InvitationStage.INVITED, by=staff_lead_a, on=TODAY - 20 * DAY
    )
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(invitation)),
        stage=InvitationStage.IN_CONVERSATION,
        conversation_on=str(TODAY - 10 * DAY),
    )

    assert client.post(change_url(invitation), form).status_code == 302

    invitation.refresh_from_db()
    assert (
        invitation.stage,
        invitation.invited_on,
        invitation.conversation_on,
        invitation.moved_on,
    ) == (InvitationStage.IN_CONVERSATION, TODAY - 20 * DAY, TODAY - 10 * DAY, TODAY - 10 * DAY)


def test_invitation_declined_in_the_admin_keeps_why(as_user, staff_lead_a, core_a):
    invitation = InvitationFactory(core=core_a)
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(invitation)),
        stage=InvitationStage.DECLINED,
        declined_reason="Focusing on the tenant union.",
    )

    assert client.post(change_url(invitation), form).status_code == 302

    invitation.refresh_from_db()
    assert (invitation.stage, invitation.declined_on, invitation.declined_reason) == (
        InvitationStage.DECLINED,
        TODAY,
        "Focusing on the tenant union.",
    )


def test_invitation_moved_on_a_page_someone_overtook_is_refused(
    as_user, staff_lead_a, core_a, lead_b
):
    invitation = InvitationFactory(core=core_a)
    client = as_user(staff_lead_a)
    page = client.get(change_url(invitation))
    services.move_invitation(invitation, InvitationStage.INVITED, by=lead_b)

    response = client.post(
        change_url(invitation), changeform_data(page, stage=InvitationStage.DECLINED)
    )

    assert response.context["adminform"].form.errors == {
        "stage": ["Someone moved this invitation meanwhile: it is now “Invited”."]
    }
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.INVITED


def test_point_person_and_next_step_are_set_in_the_admin(as_user, staff_lead_a, core_a):
    invitation = InvitationFactory(core=core_a)
    follower = MemberFactory()
    core_a.members.add(follower)
    client = as_user(staff_lead_a)
    page = client.get(change_url(invitation))
    assert "moved_on" not in page.context["adminform"].form.fields  # shown read-only
    form = changeform_data(page, point_person=str(follower.pk), next_step_on=str(TODAY + DAY))

    assert client.post(change_url(invitation), form).status_code == 302

    invitation.refresh_from_db()
    assert (invitation.point_person, invitation.next_step_on, invitation.stage) == (
        follower,
        TODAY + DAY,
        InvitationStage.IDENTIFIED,
    )


def test_new_invitation_with_a_point_person_outside_the_core_is_refused_on_that_field(
    as_user, staff_lead_a, core_a
):
    person = MemberFactory()
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(INVITATION_ADD),
        core=str(core_a.pk),
        member=str(person.pk),
        point_person=str(MemberFactory().pk),
        note="Met at the housing assembly.",
    )

    response = client.post(INVITATION_ADD, form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert admin_form.errors == {
        "point_person": ["The point person must be a member of this core."]
    }
    assert admin_form["note"].value() == "Met at the housing assembly."
    assert not Invitation.objects.exists()


def test_new_invitation_entered_at_a_later_stage_keeps_the_dates_typed(
    as_user, staff_lead_a, core_a
):
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(INVITATION_ADD),
        core=str(core_a.pk),
        member=str(MemberFactory().pk),
        stage=InvitationStage.IN_CONVERSATION,
        identified_on=str(TODAY - 30 * DAY),
        invited_on=str(TODAY - 20 * DAY),
        conversation_on=str(TODAY - 10 * DAY),
    )

    assert client.post(INVITATION_ADD, form).status_code == 302

    invitation = Invitation.objects.get()
    assert (
        invitation.stage,
        invitation.identified_on,
        invitation.invited_on,
        invitation.conversation_on,
        invitation.moved_on,
        invitation.invited_by,
    ) == (
        InvitationStage.IN_CONVERSATION,
        TODAY - 30 * DAY,
        TODAY - 20 * DAY,
        TODAY - 10 * DAY,
        TODAY - 10 * DAY,
        staff_lead_a,
    )


def test_saving_a_page_opened_before_a_colleague_ticked_a_milestone_keeps_their_tick(
    as_user, staff_lead_a, core_a, lead_b
):
    milestone = core_a.milestones.get(title="Strategy drafted")
    client = as_user(staff_lead_a)
    page = client.get(change_url(core_a))  # shows the milestone open
    services.complete_milestone(milestone, by=lead_b)
    response = client.post(change_url(core_a), changeform_data(page, name="New name"))

    assert response.status_code == 302

    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (TODAY, lead_b)


def test_saving_a_person_page_opened_before_a_new_level_keeps_the_new_level(
    as_user, staff_lead_a, tendency_a, organizer
):
    alignment = AlignmentFactory(tendency=tendency_a, level=AlignmentLevel.EXPLORING)
    client = as_user(staff_lead_a)
    page = client.get(change_url(alignment.member))
    services.state_alignment(alignment.member, tendency_a, AlignmentLevel.ALIGNED, by=organizer)

    assert client.post(change_url(alignment.member), changeform_data(page)).status_code == 302

    alignment.refresh_from_db()
    assert alignment.level == AlignmentLevel.ALIGNED


def test_new_level_with_needs_review_chosen_is_stated_and_queued(as_user, staff_lead_a, tendency_a):
    alignment = AlignmentFactory(tendency=tendency_a, level=AlignmentLevel.LEANING)
    services.review_alignment(alignment, by=staff_lead_a)
    client = as_user(staff_lead_a)
    form = changeform_data(
        client.get(change_url(alignment)),
        level=AlignmentLevel.COMMITTED,
        review_state=ReviewState.NEEDS_REVIEW,
    )

    assert client.post(change_url(alignment), form).status_code == 302

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state) == (
        AlignmentLevel.COMMITTED,
        ReviewState.NEEDS_REVIEW,
    )
