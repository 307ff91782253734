import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cores.models import (
    DEFAULT_MILESTONES,
    STAGE_DATE_FIELDS,
    Alignment,
    InvitationStage,
    Phase,
    ReviewNote,
)
from tests.factories import (
    AlignmentFactory,
    CoreGroupFactory,
    InvitationFactory,
    MemberFactory,
    PhaseDecisionFactory,
    ReviewNoteFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LATER_STAGE_DATES = [field for field in STAGE_DATE_FIELDS.values() if field != "identified_on"]


def test_second_alignment_with_the_same_tendency_is_refused_on_the_tendency_field(tendency_a):
    existing = AlignmentFactory(tendency=tendency_a)
    duplicate = Alignment(member=existing.member, tendency=tendency_a)

    with pytest.raises(ValidationError) as exc:
        duplicate.full_clean()

    assert exc.value.message_dict == {
        "tendency": ["This person already has an alignment with this tendency."]
    }


def test_database_refuses_a_second_alignment_with_the_same_tendency(tendency_a):
    existing = AlignmentFactory(tendency=tendency_a)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlignmentFactory(member=existing.member, tendency=tendency_a)


def test_a_person_may_align_with_both_tendencies_and_resave_their_own(tendency_a, tendency_b):
    first = AlignmentFactory(tendency=tendency_a)
    second = Alignment(member=first.member, tendency=tendency_b)

    second.full_clean()
    first.full_clean()


def test_alignment_stated_in_the_future_is_refused_on_its_date(tendency_a):
    alignment = Alignment(member=MemberFactory(), tendency=tendency_a, stated_on=TODAY + DAY)

    with pytest.raises(ValidationError) as exc:
        alignment.full_clean()

    assert exc.value.message_dict == {"stated_on": ["The date stated cannot be in the future."]}


def test_phase_decision_without_a_reason_is_refused_on_the_reason_field(core_a, lead_a):
    decision = PhaseDecisionFactory.build(core=core_a, decided_by=lead_a, reason="")

    with pytest.raises(ValidationError) as exc:
        decision.full_clean()

    assert list(exc.value.message_dict) == ["reason"]


def test_database_refuses_a_phase_decision_without_a_reason(core_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseDecisionFactory(core=core_a, reason="")


def test_database_refuses_a_phase_decision_that_does_not_move(core_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseDecisionFactory(core=core_a, from_phase=Phase.ENGAGING, to_phase=Phase.ENGAGING)


def test_phases_follow_in_order_and_end_at_launched():
    assert [Phase.after(phase) for phase in Phase] == [
        Phase.ENGAGING,
        Phase.LAUNCHING,
        Phase.LAUNCHED,
        None,
    ]


@pytest.mark.parametrize("field", list(STAGE_DATE_FIELDS.values()))
def test_invitation_date_in_the_future_is_refused_on_its_field(core_a, field):
    dates = {"identified_on": TODAY, field: TODAY + DAY}
    invitation = InvitationFactory.build(core=core_a, member=MemberFactory(), **dates)

    with pytest.raises(ValidationError) as exc:
        invitation.full_clean()

    assert exc.value.message_dict == {field: ["This date cannot be in the future."]}


@pytest.mark.parametrize("field", LATER_STAGE_DATES)
def test_invitation_stage_date_before_identified_is_refused_on_its_field(core_a, field):
    invitation = InvitationFactory.build(
        core=core_a, member=MemberFactory(), identified_on=TODAY, **{field: TODAY - DAY}
    )

    with pytest.raises(ValidationError) as exc:
        invitation.full_clean()

    assert exc.value.message_dict == {
        field: ["This date cannot be before the person was identified."]
    }


def test_invitation_dated_in_order_up_to_today_is_accepted(core_a):
    invitation = InvitationFactory.build(
        core=core_a,
        member=MemberFactory(),
        stage=InvitationStage.JOINED,
        identified_on=TODAY - 3 * DAY,
        invited_on=TODAY - 2 * DAY,
        conversation_on=TODAY - DAY,
        joined_on=TODAY,
    )

    invitation.full_clean()


def test_database_refuses_a_second_invitation_of_one_person_to_one_core(core_a):
    invitation = InvitationFactory(core=core_a)

    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(core=core_a, member=invitation.member)


def test_database_refuses_an_empty_review_note(tendency_a, lead_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewNoteFactory(alignment=AlignmentFactory(tendency=tendency_a), author=lead_a, body="")


@pytest.fixture
def notes(core_a, core_b, lead_a, lead_b):
    """One review note on an alignment of each tendency, written by its lead."""
    member = MemberFactory()
    return {
        "a": ReviewNoteFactory(
            alignment=AlignmentFactory(member=member, tendency=core_a.tendency), author=lead_a
        ),
        "b": ReviewNoteFactory(
            alignment=AlignmentFactory(member=member, tendency=core_b.tendency), author=lead_b
        ),
    }


def test_lead_sees_only_the_review_notes_of_their_own_tendency(notes, lead_a, lead_b):
    assert list(ReviewNote.objects.visible_to(lead_a)) == [notes["a"]]
    assert list(ReviewNote.objects.visible_to(lead_b)) == [notes["b"]]


def test_lead_of_both_tendencies_sees_the_notes_of_both_once(notes, lead_a, core_b):
    core_b.leads.add(lead_a)

    assert sorted(ReviewNote.objects.visible_to(lead_a), key=lambda n: n.pk) == [
        notes["a"],
        notes["b"],
    ]


def test_superuser_sees_every_review_note(notes, admin_user):
    assert set(ReviewNote.objects.visible_to(admin_user)) == {notes["a"], notes["b"]}


@pytest.mark.parametrize("who", ["organizer", "stranger"])
def test_organizer_and_stranger_see_no_review_notes(notes, request, who):
    assert not ReviewNote.objects.visible_to(request.getfixturevalue(who)).exists()


def test_anonymous_visitor_sees_no_review_notes(notes):
    assert not ReviewNote.objects.visible_to(AnonymousUser()).exists()


def test_deactivated_lead_sees_no_review_notes(notes, lead_a):
    lead_a.is_active = False
    lead_a.save(update_fields=["is_active"])

    assert not ReviewNote.objects.visible_to(lead_a).exists()


def test_core_is_made_with_its_default_milestones():
    core = CoreGroupFactory()

    assert core.phase == Phase.COHERING
    assert {
        phase: list(core.milestones.filter(phase=phase).values_list("title", flat=True))
        for phase in Phase
    } == DEFAULT_MILESTONES


def test_second_invitation_of_a_person_by_the_same_core_is_refused_on_the_person_field():
    from cores.models import Invitation
    from tests.factories import InvitationFactory

    first = InvitationFactory()
    again = Invitation(core=first.core, member=first.member)
    with pytest.raises(ValidationError) as refused:
        again.full_clean()
    assert refused.value.message_dict == {"member": ["This core has already invited this person."]}


def test_a_phase_decision_reason_of_spaces_is_refused_on_the_reason_field():
    from tests.factories import PhaseDecisionFactory

    decision = PhaseDecisionFactory(reason="Agreed at the retreat.")
    decision.reason = "   "
    with pytest.raises(ValidationError) as refused:
        decision.full_clean()
    assert refused.value.message_dict["reason"] == ["Say why the core is moving on."]


def test_leading_a_core_without_the_notes_permission_shows_no_notes(core_a, stranger):
    from tests.factories import AlignmentFactory, ReviewNoteFactory

    ReviewNoteFactory(alignment=AlignmentFactory(tendency=core_a.tendency))
    core_a.leads.add(stranger)  # listed as a lead, but not in the Core leads group
    assert not ReviewNote.objects.visible_to(stranger).exists()
