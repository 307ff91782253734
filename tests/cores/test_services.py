import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cores import services
from cores.models import (
    DEFAULT_MILESTONES,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    InvitationStage,
    Phase,
    ReviewNote,
    ReviewState,
)
from tests.factories import CoreGroupFactory, InvitationFactory, MemberFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def test_advance_phase_moves_through_every_phase_recording_each_decision(core_a, lead_a):
    reasons = ["Drafts adopted.", "Enough people invited.", "Founding convening held."]

    decisions = [services.advance_phase(core_a, by=lead_a, reason=reason) for reason in reasons]

    core_a.refresh_from_db()
    assert core_a.phase == Phase.LAUNCHED
    assert [(d.from_phase, d.to_phase, d.decided_by, d.reason) for d in decisions] == [
        (Phase.COHERING, Phase.ENGAGING, lead_a, "Drafts adopted."),
        (Phase.ENGAGING, Phase.LAUNCHING, lead_a, "Enough people invited."),
        (Phase.LAUNCHING, Phase.LAUNCHED, lead_a, "Founding convening held."),
    ]
    assert list(core_a.phase_decisions.all()) == decisions
    assert all(timezone.now() - d.decided_at < dt.timedelta(minutes=1) for d in decisions)


def test_advance_phase_keeps_the_time_it_was_decided_at(core_a, lead_a):
    retreat = timezone.now() - dt.timedelta(days=30)

    decision = services.advance_phase(core_a, by=lead_a, reason="At the retreat.", at=retreat)

    assert decision.decided_at == retreat


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_advance_phase_refuses_without_a_reason_and_changes_nothing(core_a, lead_a, reason):
    with pytest.raises(ValidationError) as exc:
        services.advance_phase(core_a, by=lead_a, reason=reason)

    assert list(exc.value.message_dict) == ["reason"]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not core_a.phase_decisions.exists()


def test_advance_phase_refuses_to_move_a_launched_core(tendency_a, lead_a):
    core = CoreGroupFactory(tendency=tendency_a, phase=Phase.LAUNCHED)

    with pytest.raises(ValidationError) as exc:
        services.advance_phase(core, by=lead_a, reason="Once more.")

    assert exc.value.message_dict == {"phase": ["This core has launched; there is no later phase."]}
    assert not core.phase_decisions.exists()


def test_advance_phase_reads_the_saved_phase_not_a_stale_copy(core_a, lead_a):
    stale = CoreGroup.objects.get(pk=core_a.pk)
    services.advance_phase(core_a, by=lead_a, reason="Drafts adopted.")

    decision = services.advance_phase(stale, by=lead_a, reason="Invitations out.")

    assert (decision.from_phase, decision.to_phase) == (Phase.ENGAGING, Phase.LAUNCHING)


def test_create_core_makes_the_default_milestones_of_every_phase(tendency_a, lead_a):
    core = services.create_core(
        name="Democratic Front core", slug="df-core", tendency=tendency_a, leads=[lead_a]
    )

    assert list(core.leads.all()) == [lead_a]
    titles = {
        phase: list(core.milestones.filter(phase=phase).values_list("title", flat=True))
        for phase in Phase
    }
    assert titles == DEFAULT_MILESTONES


def test_default_milestones_are_not_added_twice(core_a):
    count = core_a.milestones.count()

    assert services.add_default_milestones(core_a) == []
    assert core_a.milestones.count() == count


def test_complete_milestone_records_who_and_when(core_a, lead_a):
    milestone = core_a.milestones.first()

    services.complete_milestone(milestone, by=lead_a, note="Adopted unanimously.")

    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by, milestone.note) == (
        TODAY,
        lead_a,
        "Adopted unanimously.",
    )


def test_state_alignment_puts_a_new_level_in_the_review_queue(tendency_a, organizer):
    member = MemberFactory()

    alignment = services.state_alignment(member, tendency_a, AlignmentLevel.EXPLORING, by=organizer)

    assert (alignment.level, alignment.review_state) == (
        AlignmentLevel.EXPLORING,
        ReviewState.NEEDS_REVIEW,
    )
    assert alignment.stated_on == TODAY
    assert alignment.history.get().history_user == organizer


def test_state_alignment_puts_a_changed_level_back_in_the_review_queue(
    tendency_a, organizer, lead_a
):
    member = MemberFactory()
    alignment = services.state_alignment(member, tendency_a, AlignmentLevel.LEANING, by=organizer)
    services.review_alignment(alignment, by=lead_a)

    services.state_alignment(member, tendency_a, AlignmentLevel.ALIGNED, by=organizer)

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state) == (
        AlignmentLevel.ALIGNED,
        ReviewState.NEEDS_REVIEW,
    )
    assert (alignment.reviewed_by, alignment.reviewed_at) == (None, None)
    assert [row.history_user for row in alignment.history.order_by("history_id")] == [
        organizer,
        lead_a,
        organizer,
    ]
    assert list(Alignment.objects.review_queue(tendency_a)) == [alignment]


def test_state_alignment_with_the_same_level_changes_nothing(tendency_a, organizer, lead_a):
    member = MemberFactory()
    alignment = services.state_alignment(member, tendency_a, AlignmentLevel.LEANING, by=organizer)
    services.review_alignment(alignment, by=lead_a)

    again = services.state_alignment(
        member, tendency_a, AlignmentLevel.LEANING, by=organizer, on=TODAY - DAY
    )

    again.refresh_from_db()
    assert (again.pk, again.review_state, again.reviewed_by) == (
        alignment.pk,
        ReviewState.REVIEWED,
        lead_a,
    )
    assert again.stated_on == TODAY
    assert again.history.count() == 2


def test_review_alignment_marks_it_reviewed_by_the_lead(tendency_a, organizer, lead_a):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.COMMITTED, by=organizer
    )

    services.review_alignment(alignment, by=lead_a)

    alignment.refresh_from_db()
    assert (alignment.review_state, alignment.reviewed_by) == (ReviewState.REVIEWED, lead_a)
    assert timezone.now() - alignment.reviewed_at < dt.timedelta(minutes=1)
    assert alignment.history.latest().history_user == lead_a
    assert not ReviewNote.objects.exists()


def test_review_alignment_with_a_note_keeps_it_private_to_the_lead(tendency_a, organizer, lead_a):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )

    services.review_alignment(alignment, by=lead_a, note="  Wants more on program.  ")

    note = alignment.review_notes.get()
    assert (note.author, note.body) == (lead_a, "Wants more on program.")


def test_move_invitation_stamps_the_date_of_each_stage_reached(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 10 * DAY)

    services.move_invitation(invitation, InvitationStage.INVITED, by=lead_a, on=TODAY - 5 * DAY)
    services.move_invitation(invitation, InvitationStage.IN_CONVERSATION, by=lead_a)

    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.IN_CONVERSATION
    assert (invitation.invited_on, invitation.conversation_on) == (TODAY - 5 * DAY, TODAY)
    assert (invitation.joined_on, invitation.declined_on) == (None, None)
    assert [row.history_user for row in invitation.history.order_by("history_id")] == [
        None,  # made by the factory
        lead_a,
        lead_a,
    ]


def test_move_invitation_refuses_a_date_before_the_person_was_identified(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY)

    with pytest.raises(ValidationError) as exc:
        services.move_invitation(invitation, InvitationStage.INVITED, by=lead_a, on=TODAY - DAY)

    assert list(exc.value.message_dict) == ["invited_on"]
    invitation.refresh_from_db()
    assert (invitation.stage, invitation.invited_on) == (InvitationStage.IDENTIFIED, None)


def test_move_invitation_refuses_a_stage_that_does_not_exist(core_a, lead_a):
    invitation = InvitationFactory(core=core_a)

    with pytest.raises(ValueError, match="is not a valid InvitationStage"):
        services.move_invitation(invitation, "ghosted", by=lead_a)
