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

    decisions = [
        services.advance_phase(core_a, by=lead_a, reason=reason, open_milestones_confirmed=True)
        for reason in reasons
    ]

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

    decision = services.advance_phase(
        core_a, by=lead_a, reason="At the retreat.", at=retreat, open_milestones_confirmed=True
    )

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
    services.advance_phase(
        core_a, by=lead_a, reason="Drafts adopted.", open_milestones_confirmed=True
    )

    decision = services.advance_phase(
        stale, by=lead_a, reason="Invitations out.", open_milestones_confirmed=True
    )

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

    with pytest.raises(ValidationError) as exc:
        services.move_invitation(invitation, "ghosted", by=lead_a)

    assert exc.value.message_dict == {"stage": ["Choose one of the invitation stages."]}


# Phases


def _open_titles(core):
    return list(
        core.milestones.filter(phase=core.phase, done_on__isnull=True).values_list(
            "title", flat=True
        )
    )


def test_advance_phase_with_open_milestones_needs_a_confirmation(core_a, lead_a):
    open_titles = _open_titles(core_a)

    with pytest.raises(ValidationError) as exc:
        services.advance_phase(core_a, by=lead_a, reason="Drafts adopted.")

    assert list(exc.value.message_dict) == ["open_milestones_confirmed"]
    (message,) = exc.value.message_dict["open_milestones_confirmed"]
    assert message.startswith(f"{len(open_titles)} milestones of this phase are still open")
    assert all(title in message for title in open_titles)
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not core_a.phase_decisions.exists()


def test_advance_phase_with_every_milestone_done_needs_no_confirmation(core_a, lead_a):
    for milestone in core_a.milestones.filter(phase=Phase.COHERING):
        services.complete_milestone(milestone, by=lead_a)

    decision = services.advance_phase(core_a, by=lead_a, reason="Drafts adopted.")

    assert (decision.from_phase, decision.to_phase) == (Phase.COHERING, Phase.ENGAGING)


def test_advance_phase_only_asks_about_the_milestones_of_the_current_phase(core_a, lead_a):
    for milestone in core_a.milestones.filter(phase=Phase.COHERING):
        services.complete_milestone(milestone, by=lead_a)
    assert core_a.milestones.filter(phase=Phase.ENGAGING, done_on__isnull=True).exists()

    services.advance_phase(core_a, by=lead_a, reason="Drafts adopted.")

    assert core_a.phase == Phase.ENGAGING


@pytest.mark.parametrize("to_phase", [Phase.LAUNCHING, Phase.LAUNCHED, Phase.COHERING])
def test_advance_phase_refuses_to_skip_or_stand_still(core_a, lead_a, to_phase):
    with pytest.raises(ValidationError) as exc:
        services.advance_phase(
            core_a, by=lead_a, reason="Skip.", to_phase=to_phase, open_milestones_confirmed=True
        )

    assert exc.value.message_dict == {
        "to_phase": [
            "The core is in “Cohering a core”; it can only move on to “Engaging the Left”, "
            "one phase at a time."
        ]
    }
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING


def test_advance_phase_from_a_stale_form_is_refused(core_a, lead_a, lead_b):
    # Two leads open the form in "cohering"; the first moves on, the second must not
    # move the core a second step with a reason written for the first.
    services.advance_phase(
        core_a, by=lead_a, reason="Drafts adopted.", open_milestones_confirmed=True
    )

    with pytest.raises(ValidationError) as exc:
        services.advance_phase(
            core_a,
            by=lead_b,
            reason="Drafts adopted.",
            to_phase=Phase.ENGAGING,
            open_milestones_confirmed=True,
        )

    assert list(exc.value.message_dict) == ["to_phase"]
    assert core_a.phase_decisions.count() == 1


def test_advance_phase_updates_the_callers_core(core_a, lead_a):
    services.advance_phase(core_a, by=lead_a, reason="Drafts.", open_milestones_confirmed=True)

    assert core_a.phase == Phase.ENGAGING


def test_reaching_launched_records_the_launch_date_and_going_back_clears_it(tendency_a, lead_a):
    core = CoreGroupFactory(tendency=tendency_a, phase=Phase.LAUNCHING)
    convening = timezone.now() - dt.timedelta(days=3)

    services.advance_phase(
        core, by=lead_a, reason="Convening held.", at=convening, open_milestones_confirmed=True
    )

    core.refresh_from_db()
    assert (core.phase, core.launched_on) == (Phase.LAUNCHED, timezone.localdate(convening))

    services.return_to_previous_phase(core, by=lead_a, reason="Launch postponed.")

    core.refresh_from_db()
    assert (core.phase, core.launched_on) == (Phase.LAUNCHING, None)


def test_return_to_previous_phase_records_who_when_and_why(core_a, lead_a):
    services.advance_phase(core_a, by=lead_a, reason="Drafts.", open_milestones_confirmed=True)

    decision = services.return_to_previous_phase(
        core_a, by=lead_a, reason="  The program draft needs another round.  "
    )

    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert (decision.from_phase, decision.to_phase, decision.decided_by, decision.reason) == (
        Phase.ENGAGING,
        Phase.COHERING,
        lead_a,
        "The program draft needs another round.",
    )
    assert core_a.phase_decisions.count() == 2


@pytest.mark.parametrize("reason", ["", "  "])
def test_return_to_previous_phase_refuses_without_a_reason(core_a, lead_a, reason):
    services.advance_phase(core_a, by=lead_a, reason="Drafts.", open_milestones_confirmed=True)

    with pytest.raises(ValidationError) as exc:
        services.return_to_previous_phase(core_a, by=lead_a, reason=reason)

    assert exc.value.message_dict == {"reason": ["Say why the core is going back a phase."]}
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    assert core_a.phase_decisions.count() == 1


def test_return_to_previous_phase_refuses_in_the_first_phase(core_a, lead_a):
    with pytest.raises(ValidationError) as exc:
        services.return_to_previous_phase(core_a, by=lead_a, reason="Back.")

    assert list(exc.value.message_dict) == ["phase"]
    assert not core_a.phase_decisions.exists()


def test_return_to_previous_phase_from_a_stale_form_is_refused(core_a, lead_a):
    services.advance_phase(core_a, by=lead_a, reason="Drafts.", open_milestones_confirmed=True)

    with pytest.raises(ValidationError) as exc:
        services.return_to_previous_phase(
            core_a, by=lead_a, reason="Back.", from_phase=Phase.COHERING
        )

    assert list(exc.value.message_dict) == ["from_phase"]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING


# Milestones


def test_complete_milestone_refuses_a_day_in_the_future(core_a, lead_a):
    milestone = core_a.milestones.first()

    with pytest.raises(ValidationError) as exc:
        services.complete_milestone(milestone, by=lead_a, on=TODAY + DAY)

    assert list(exc.value.message_dict) == ["done_on"]
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (None, None)


def test_reopen_milestone_clears_it_and_its_history_keeps_who_ticked_it(core_a, lead_a, lead_b):
    milestone = core_a.milestones.first()
    services.complete_milestone(milestone, by=lead_a, on=TODAY - DAY)

    services.reopen_milestone(milestone, by=lead_b)

    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by) == (None, None)
    rows = milestone.history.order_by("history_id")
    assert [(row.done_on, row.done_by_id, row.history_user) for row in rows][-2:] == [
        (TODAY - DAY, lead_a.pk, lead_a),
        (None, None, lead_b),
    ]


# Alignments


def test_state_alignment_stamps_when_it_entered_the_queue_and_counts_versions(
    tendency_a, organizer
):
    member = MemberFactory()
    before = timezone.now()

    first = services.state_alignment(member, tendency_a, AlignmentLevel.EXPLORING, by=organizer)

    assert first.version == 1
    assert before <= first.queued_at <= timezone.now()

    changed = services.state_alignment(member, tendency_a, AlignmentLevel.ALIGNED, by=organizer)

    assert (changed.pk, changed.version) == (first.pk, 2)
    assert changed.queued_at >= first.queued_at
    same = services.state_alignment(member, tendency_a, AlignmentLevel.ALIGNED, by=organizer)
    assert (same.version, same.queued_at) == (2, changed.queued_at)


def test_state_alignment_refuses_an_unknown_level_and_a_future_date(tendency_a, organizer):
    member = MemberFactory()

    with pytest.raises(ValidationError) as unknown:
        services.state_alignment(member, tendency_a, "fanatical", by=organizer)
    with pytest.raises(ValidationError) as future:
        services.state_alignment(
            member, tendency_a, AlignmentLevel.LEANING, by=organizer, on=TODAY + DAY
        )

    assert list(unknown.value.message_dict) == ["level"]
    assert list(future.value.message_dict) == ["stated_on"]
    assert not Alignment.objects.exists()


def test_state_alignment_refuses_a_date_before_the_current_levels(tendency_a, organizer):
    member = MemberFactory()
    stated = dt.date(2025, 3, 14)
    services.state_alignment(member, tendency_a, AlignmentLevel.LEANING, by=organizer, on=stated)

    with pytest.raises(ValidationError) as older:
        services.state_alignment(
            member, tendency_a, AlignmentLevel.COMMITTED, by=organizer, on=dt.date(1800, 1, 1)
        )

    assert older.value.message_dict["stated_on"][0].startswith(
        "The current level (Leaning) was stated on Mar 14, 2025;"
    )
    alignment = Alignment.objects.get()
    assert (alignment.level, alignment.stated_on, alignment.version) == (
        AlignmentLevel.LEANING,
        stated,
        1,
    )
    # The same day, or a later one, still records the change.
    services.state_alignment(member, tendency_a, AlignmentLevel.ALIGNED, by=organizer, on=stated)
    assert Alignment.objects.get().level == AlignmentLevel.ALIGNED


def test_a_second_review_from_the_same_leads_other_tab_says_so(tendency_a, organizer, lead_a):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )
    seen = alignment.version
    services.review_alignment(alignment, by=lead_a, expected_version=seen)

    with pytest.raises(services.AlreadyReviewed) as exc:
        services.review_alignment(alignment, by=lead_a, expected_version=seen)

    assert exc.value.message_dict["level"] == [
        "You reviewed this alignment in another tab a moment ago (Leaning); this save was "
        "not recorded."
    ]
    assert exc.value.current.reviewed_by == lead_a


def test_review_alignment_may_adjust_the_level(tendency_a, organizer, lead_a):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.COMMITTED, by=organizer
    )

    services.review_alignment(alignment, by=lead_a, level=AlignmentLevel.ALIGNED)

    alignment.refresh_from_db()
    assert (alignment.level, alignment.review_state, alignment.reviewed_by) == (
        AlignmentLevel.ALIGNED,
        ReviewState.REVIEWED,
        lead_a,
    )


def test_review_alignment_refuses_an_unknown_level_and_writes_nothing(
    tendency_a, organizer, lead_a
):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )

    with pytest.raises(ValidationError) as exc:
        services.review_alignment(alignment, by=lead_a, level="fanatical", note="A note.")

    assert list(exc.value.message_dict) == ["level"]
    alignment.refresh_from_db()
    assert alignment.review_state == ReviewState.NEEDS_REVIEW
    assert not ReviewNote.objects.exists()


def test_second_lead_reviewing_a_moment_later_is_told_and_overwrites_nothing(
    tendency_a, organizer, lead_a, lead_b
):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )
    seen = alignment.version  # both leads opened the item at this version
    services.review_alignment(alignment, by=lead_a, expected_version=seen, note="First look.")

    with pytest.raises(services.AlreadyReviewed) as exc:
        services.review_alignment(
            alignment,
            by=lead_b,
            level=AlignmentLevel.COMMITTED,
            expected_version=seen,
            note="Second look.",
        )

    assert exc.value.message_dict == {
        "level": [
            "Alice Lead reviewed this alignment a moment ago (Leaning); nothing of yours was saved."
        ]
    }
    alignment.refresh_from_db()
    assert (alignment.level, alignment.reviewed_by) == (AlignmentLevel.LEANING, lead_a)
    assert [note.body for note in alignment.review_notes.all()] == ["First look."]


def test_review_of_an_alignment_restated_since_the_page_opened_is_refused(
    tendency_a, organizer, lead_a
):
    member = MemberFactory()
    alignment = services.state_alignment(member, tendency_a, AlignmentLevel.LEANING, by=organizer)
    seen = alignment.version
    services.state_alignment(member, tendency_a, AlignmentLevel.ALIGNED, by=organizer)

    with pytest.raises(services.AlreadyReviewed) as exc:
        services.review_alignment(alignment, by=lead_a, expected_version=seen)

    assert "changed since you opened it (now Aligned)" in exc.value.message_dict["level"][0]
    alignment.refresh_from_db()
    assert alignment.review_state == ReviewState.NEEDS_REVIEW


def test_review_alignment_with_the_current_version_passes_and_counts_a_new_one(
    tendency_a, organizer, lead_a
):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )

    reviewed = services.review_alignment(alignment, by=lead_a, expected_version=alignment.version)

    assert reviewed.version == 2
    assert alignment.version == 2  # the caller's copy is not left stale


def test_reopen_review_puts_it_back_in_the_queue_with_a_new_version(tendency_a, organizer, lead_a):
    alignment = services.state_alignment(
        MemberFactory(), tendency_a, AlignmentLevel.LEANING, by=organizer
    )
    stale = Alignment.objects.get(pk=alignment.pk)
    services.review_alignment(alignment, by=lead_a)

    services.reopen_review(stale, by=lead_a)

    alignment.refresh_from_db()
    assert (alignment.review_state, alignment.reviewed_by, alignment.reviewed_at) == (
        ReviewState.NEEDS_REVIEW,
        None,
        None,
    )
    # Counted from the saved row, not from the stale copy's version 1.
    assert alignment.version == stale.version == 3
    assert list(Alignment.objects.review_queue(tendency_a)) == [alignment]


# Invitations


def test_invite_to_core_starts_identified_with_its_point_person(core_a, lead_a):
    person = MemberFactory()
    follower = MemberFactory()
    core_a.members.add(follower)

    invitation = services.invite_to_core(
        core_a, person, by=lead_a, point_person=follower, next_step_on=TODAY + 7 * DAY
    )

    invitation.refresh_from_db()
    assert (invitation.stage, invitation.invited_by, invitation.point_person) == (
        InvitationStage.IDENTIFIED,
        lead_a,
        follower,
    )
    assert (invitation.identified_on, invitation.moved_on) == (TODAY, TODAY)
    assert invitation.next_step_on == TODAY + 7 * DAY
    assert invitation.history.get().history_user == lead_a


def test_invite_to_core_refuses_a_point_person_outside_the_core(core_a, lead_a):
    with pytest.raises(ValidationError) as exc:
        services.invite_to_core(core_a, MemberFactory(), by=lead_a, point_person=MemberFactory())

    assert exc.value.message_dict == {
        "point_person": ["The point person must be a member of this core."]
    }
    assert not core_a.invitations.exists()


def test_invite_to_core_refuses_a_person_the_core_already_invited(core_a, lead_a):
    person = MemberFactory()
    services.invite_to_core(core_a, person, by=lead_a)

    with pytest.raises(ValidationError) as exc:
        services.invite_to_core(core_a, person, by=lead_a)

    assert exc.value.message_dict == {"member": ["This core has already invited this person."]}


def test_both_cores_may_invite_the_same_person(core_a, core_b, lead_a, lead_b):
    person = MemberFactory()

    services.invite_to_core(core_a, person, by=lead_a)
    services.invite_to_core(core_b, person, by=lead_b)

    assert person.invitations.count() == 2


@pytest.mark.parametrize(
    ("stage", "moves"),
    [
        (
            InvitationStage.IDENTIFIED,
            [
                InvitationStage.INVITED,
                InvitationStage.IN_CONVERSATION,
                InvitationStage.JOINED,
                InvitationStage.DECLINED,
            ],
        ),
        (
            InvitationStage.IN_CONVERSATION,
            [
                InvitationStage.IDENTIFIED,
                InvitationStage.INVITED,
                InvitationStage.JOINED,
                InvitationStage.DECLINED,
            ],
        ),
        (InvitationStage.JOINED, []),
        (InvitationStage.DECLINED, []),
    ],
)
def test_allowed_moves_end_at_joined_and_declined(stage, moves):
    assert services.allowed_moves(stage) == moves


@pytest.mark.parametrize("end", [InvitationStage.JOINED, InvitationStage.DECLINED])
def test_move_invitation_out_of_an_end_stage_is_refused_on_the_stage(core_a, lead_a, end):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 5 * DAY)
    services.move_invitation(invitation, end, by=lead_a)

    with pytest.raises(ValidationError) as exc:
        services.move_invitation(invitation, InvitationStage.IN_CONVERSATION, by=lead_a)

    label = InvitationStage(end).label
    assert exc.value.message_dict == {
        "stage": [f"“{label}” is where this invitation ends; it cannot move to another stage."]
    }
    invitation.refresh_from_db()
    assert (invitation.stage, invitation.conversation_on) == (end, None)


def test_move_invitation_to_the_stage_it_is_in_is_refused(core_a, lead_a):
    invitation = InvitationFactory(core=core_a)

    with pytest.raises(ValidationError) as exc:
        services.move_invitation(invitation, InvitationStage.IDENTIFIED, by=lead_a)

    assert exc.value.message_dict == {"stage": ["The invitation is already “Identified”."]}


def test_move_invitation_from_a_stale_page_is_refused(core_a, lead_a, lead_b):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - DAY)
    services.move_invitation(invitation, InvitationStage.INVITED, by=lead_a)

    with pytest.raises(ValidationError) as exc:
        services.move_invitation(
            invitation,
            InvitationStage.DECLINED,
            by=lead_b,
            expected_stage=InvitationStage.IDENTIFIED,
        )

    assert exc.value.message_dict == {
        "stage": ["Someone moved this invitation meanwhile: it is now “Invited”."]
    }
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.INVITED


def test_move_invitation_keeps_each_stage_date_and_the_day_it_last_moved(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 20 * DAY)
    services.move_invitation(invitation, InvitationStage.INVITED, by=lead_a, on=TODAY - 15 * DAY)
    services.move_invitation(
        invitation, InvitationStage.IN_CONVERSATION, by=lead_a, on=TODAY - 10 * DAY
    )

    services.move_invitation(invitation, InvitationStage.JOINED, by=lead_a)

    invitation.refresh_from_db()
    assert (
        invitation.identified_on,
        invitation.invited_on,
        invitation.conversation_on,
        invitation.joined_on,
        invitation.moved_on,
    ) == (TODAY - 20 * DAY, TODAY - 15 * DAY, TODAY - 10 * DAY, TODAY, TODAY)


def test_moving_back_to_identified_keeps_the_day_they_were_identified(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 20 * DAY)
    services.move_invitation(invitation, InvitationStage.INVITED, by=lead_a, on=TODAY - 15 * DAY)

    services.move_invitation(invitation, InvitationStage.IDENTIFIED, by=lead_a)

    invitation.refresh_from_db()
    assert (invitation.stage, invitation.identified_on, invitation.invited_on) == (
        InvitationStage.IDENTIFIED,
        TODAY - 20 * DAY,
        TODAY - 15 * DAY,
    )
    assert invitation.moved_on == TODAY


def test_declining_keeps_the_reason_and_the_date(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 3 * DAY)

    services.move_invitation(
        invitation, InvitationStage.DECLINED, by=lead_a, reason="  Busy with the union drive. "
    )

    invitation.refresh_from_db()
    assert (invitation.stage, invitation.declined_on, invitation.declined_reason) == (
        InvitationStage.DECLINED,
        TODAY,
        "Busy with the union drive.",
    )


def test_update_follow_up_changes_who_and_when_not_the_stage(core_a, lead_a):
    invitation = InvitationFactory(core=core_a, identified_on=TODAY - 40 * DAY)
    follower = MemberFactory()
    core_a.members.add(follower)
    moved_on = invitation.moved_on

    services.update_follow_up(
        invitation, by=lead_a, point_person=follower, next_step_on=TODAY + DAY, note="Call."
    )

    invitation.refresh_from_db()
    assert (invitation.point_person, invitation.next_step_on, invitation.note) == (
        follower,
        TODAY + DAY,
        "Call.",
    )
    assert (invitation.stage, invitation.moved_on) == (InvitationStage.IDENTIFIED, moved_on)
    assert invitation.history.latest().history_user == lead_a


def test_update_follow_up_refuses_a_point_person_outside_the_core(core_a, lead_a):
    invitation = InvitationFactory(core=core_a)

    with pytest.raises(ValidationError) as exc:
        services.update_follow_up(invitation, by=lead_a, point_person=MemberFactory())

    assert list(exc.value.message_dict) == ["point_person"]
    invitation.refresh_from_db()
    assert invitation.point_person is None
