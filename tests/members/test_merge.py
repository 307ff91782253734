"""Merging two records of one person (members.merging, cores.merging) and its undo."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cores.models import (
    Alignment,
    AlignmentLevel,
    Invitation,
    InvitationStage,
    ReviewNote,
    ReviewState,
)
from members.merging import (
    BOTH,
    OTHER,
    SURVIVOR,
    MergeUndoRefused,
    default_choices,
    merge_people,
    merge_steps,
    undo_merge,
    undo_problems,
)
from members.models import CapacityCheckIn, ImportRecord, ImportRow, Member, MergeRecord
from members.services import update_member
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    CoreGroupFactory,
    InvitationFactory,
    MemberFactory,
    ReviewNoteFactory,
    SectorFactory,
    TendencyFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def fields_of(member):
    return {
        field.attname: getattr(member, field.attname)
        for field in Member._meta.concrete_fields
        if field.attname not in ("version", "updated_at")
    }


@pytest.fixture
def pair(organizer):
    """Two records of Maria: an old one with a phone, a new one with an email and more."""
    housing, labor, tenants = (
        SectorFactory(slug=s, name=s.title()) for s in ("housing", "labor", "tenants")
    )
    older = MemberFactory(
        name="Maria Lopez",
        preferred_name="",
        email="",
        phone="(512) 555-0123",
        city="Austin",
        region="TX",
        note="Met at the tenants' assembly.",
        joining_story="",
        sectors=[housing, labor],
    )
    newer = MemberFactory(
        name="María López",
        preferred_name="Mari",
        email="maria@example.org",
        phone="512 555 0199",
        city="Austin",
        region="TX",
        note="Wants to help with the newsletter.",
        joining_story="The eviction fight on our block.",
        sectors=[labor, tenants],
    )
    return older, newer


# --- choosing values ------------------------------------------------------------------------


def test_default_keeps_the_survivors_value_unless_empty_and_joins_notes(pair):
    older, newer = pair
    choices = default_choices(older, newer)
    assert choices["name"] == SURVIVOR
    assert choices["phone"] == SURVIVOR
    assert choices["email"] == OTHER  # the survivor has none
    assert choices["preferred_name"] == OTHER
    assert choices["joining_story"] == OTHER
    assert choices["note"] == BOTH
    assert "city" not in choices  # the same on both


def test_merge_keeps_chosen_values_union_of_sectors_and_joined_notes(pair, organizer):
    older, newer = pair
    record = merge_people(older, newer, by=organizer, choices={"name": OTHER})
    older.refresh_from_db()
    assert older.name == "María López"
    assert older.email == "maria@example.org"
    assert older.phone == "(512) 555-0123"
    assert older.preferred_name == "Mari"
    assert older.note == (
        "Met at the tenants' assembly.\n\nWants to help with the newsletter.\n\n"
        f"Also reached at (merge #{record.pk}): phone 512 555 0199"
    )
    assert {s.slug for s in older.sectors.all()} == {"housing", "labor", "tenants"}
    assert not Member.objects.filter(pk=newer.pk).exists()
    assert record.survivor_pk == older.pk
    assert record.merged_pk == newer.pk
    assert record.merged_by == organizer


def test_a_choice_that_is_not_offered_is_refused_on_its_field(pair, organizer):
    older, newer = pair
    with pytest.raises(ValidationError) as refused:
        merge_people(older, newer, by=organizer, choices={"email": BOTH})
    assert "email" in refused.value.message_dict
    assert Member.objects.filter(pk=newer.pk).exists()


def test_one_person_cannot_be_merged_with_themselves(pair, organizer):
    older, _ = pair
    with pytest.raises(ValidationError):
        merge_people(older, older, by=organizer)


def test_a_merge_based_on_an_old_version_is_refused(pair, organizer):
    older, newer = pair
    seen = (older.version, newer.version)
    newer.city = "Round Rock"
    update_member(newer, by=organizer, expected_version=newer.version)
    with pytest.raises(ValidationError, match="saved one of these people"):
        merge_people(older, newer, by=organizer, expected_versions=seen)
    assert Member.objects.filter(pk=newer.pk).exists()
    assert MergeRecord.objects.count() == 0


# --- every related row moves ----------------------------------------------------------------


def test_check_ins_move_with_history(pair, organizer):
    older, newer = pair
    theirs = CapacityCheckInFactory(member=newer)
    mine = CapacityCheckInFactory(member=older)
    merge_people(older, newer, by=organizer)
    assert set(older.check_ins.values_list("pk", flat=True)) == {theirs.pk, mine.pk}
    moved = theirs.history.latest()
    assert moved.history_user == organizer
    assert moved.history_change_reason.endswith(f"Merge #{MergeRecord.objects.get().pk}")


def test_alignment_of_one_side_only_moves(pair, organizer, tendency_a):
    older, newer = pair
    theirs = AlignmentFactory(member=newer, tendency=tendency_a, level=AlignmentLevel.LEANING)
    merge_people(older, newer, by=organizer)
    theirs.refresh_from_db()
    assert theirs.member == older


def test_reviewed_alignment_wins_and_the_others_notes_move_to_it(
    pair, organizer, lead_a, tendency_a
):
    older, newer = pair
    waiting = AlignmentFactory(member=older, tendency=tendency_a, level=AlignmentLevel.EXPLORING)
    reviewed = AlignmentFactory(
        member=newer,
        tendency=tendency_a,
        level=AlignmentLevel.ALIGNED,
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now() - 30 * DAY,
        reviewed_by=lead_a,
    )
    note_on_loser = ReviewNoteFactory(alignment=waiting, author=lead_a, body="Asked about study.")
    note_on_winner = ReviewNoteFactory(alignment=reviewed, author=lead_a)
    record = merge_people(older, newer, by=organizer)

    assert list(Alignment.objects.filter(member=older)) == [reviewed]
    assert not Alignment.objects.filter(pk=waiting.pk).exists()
    assert set(ReviewNote.objects.filter(alignment=reviewed)) == {note_on_loser, note_on_winner}
    deleted = Alignment.history.filter(id=waiting.pk).latest()
    assert deleted.history_type == "-"
    assert deleted.history_user == organizer
    assert (
        deleted.history_change_reason
        == f"Merged into alignment #{reviewed.pk} · Merge #{record.pk}"
    )


def test_more_recent_alignment_wins_when_both_are_reviewed(pair, organizer, lead_a, tendency_a):
    older, newer = pair
    recent = AlignmentFactory(
        member=older,
        tendency=tendency_a,
        level=AlignmentLevel.COMMITTED,
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now() - DAY,
    )
    stale = AlignmentFactory(
        member=newer,
        tendency=tendency_a,
        level=AlignmentLevel.LEANING,
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now() - 300 * DAY,
    )
    merge_people(older, newer, by=organizer)
    assert list(Alignment.objects.filter(member=older)) == [recent]
    assert not Alignment.objects.filter(pk=stale.pk).exists()


def test_more_recently_stated_alignment_wins_when_neither_is_reviewed(
    pair, organizer, tendency_a, tendency_b
):
    older, newer = pair
    AlignmentFactory(member=older, tendency=tendency_a, stated_on=timezone.localdate() - 90 * DAY)
    later = AlignmentFactory(member=newer, tendency=tendency_a, stated_on=timezone.localdate())
    other_tendency = AlignmentFactory(member=newer, tendency=tendency_b)
    merge_people(older, newer, by=organizer)
    assert set(Alignment.objects.filter(member=older)) == {later, other_tendency}


def test_invitation_further_along_wins_and_core_memberships_are_joined(
    pair, organizer, core_a, core_b
):
    older, newer = pair
    core_a.members.add(newer)
    core_b.members.add(older)
    identified = InvitationFactory(core=core_a, member=older, stage=InvitationStage.IDENTIFIED)
    in_conversation = InvitationFactory(
        core=core_a, member=newer, stage=InvitationStage.IN_CONVERSATION
    )
    only_theirs = InvitationFactory(core=core_b, member=newer)
    followed = InvitationFactory(core=core_a, point_person=newer)
    record = merge_people(older, newer, by=organizer)

    assert set(Invitation.objects.filter(member=older)) == {in_conversation, only_theirs}
    assert not Invitation.objects.filter(pk=identified.pk).exists()
    assert Invitation.history.filter(id=identified.pk).latest().history_type == "-"
    followed.refresh_from_db()
    assert followed.point_person == older
    assert set(older.cores.all()) == {core_a, core_b}
    assert set(record.snapshot["steps"]) == set(merge_steps)


def test_import_rows_follow_the_person(pair, organizer):
    older, newer = pair
    record = ImportRecord.objects.create(filename="people.csv", uploaded_by=organizer, sha256="x")
    row = ImportRow.objects.create(record=record, number=2, action="create", member=newer)
    merge = merge_people(older, newer, by=organizer)
    row.refresh_from_db()
    assert row.member == older
    undo_merge(merge, by=organizer)
    row.refresh_from_db()
    assert row.member_id == newer.pk


# --- history on both sides -------------------------------------------------------------------


def test_both_histories_say_who_merged_what_into_what(pair, organizer):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    kept = older.history.latest()
    assert kept.history_user == organizer
    assert (
        kept.history_change_reason == f"Merged with María López (#{newer.pk}) · Merge #{record.pk}"
    )
    # The sectors added by the merge are in the same history row as the fields.
    assert {row.sector.slug for row in kept.sectors.all()} == {"housing", "labor", "tenants"}
    gone = Member.history.filter(id=newer.pk).latest()
    assert gone.history_type == "-"
    assert gone.history_user == organizer
    assert (
        gone.history_change_reason == f"Merged into Maria Lopez (#{older.pk}) · Merge #{record.pk}"
    )
    # Everything the merged-away record held is still in its history.
    assert gone.email == "maria@example.org"


def test_a_long_name_still_fits_the_history_reason(organizer):
    a = MemberFactory(name="A" * 150)
    b = MemberFactory(name="B" * 150)
    merge_people(a, b, by=organizer)
    assert len(a.history.latest().history_change_reason) <= 100


# --- undo --------------------------------------------------------------------------------------


def test_undo_restores_everything_exactly(
    pair, organizer, lead_a, tendency_a, tendency_b, core_a, core_b
):
    older, newer = pair
    core_a.members.add(newer)
    waiting = AlignmentFactory(member=older, tendency=tendency_a)
    reviewed = AlignmentFactory(
        member=newer,
        tendency=tendency_a,
        review_state=ReviewState.REVIEWED,
        reviewed_at=timezone.now(),
        reviewed_by=lead_a,
    )
    only_theirs = AlignmentFactory(member=newer, tendency=tendency_b)
    note = ReviewNoteFactory(alignment=waiting, author=lead_a)
    mine = InvitationFactory(core=core_a, member=older, stage=InvitationStage.INVITED)
    theirs = InvitationFactory(core=core_a, member=newer, stage=InvitationStage.IDENTIFIED)
    followed = InvitationFactory(core=core_a, point_person=newer)
    check_in = CapacityCheckInFactory(member=newer)
    before_older, before_newer = fields_of(older), fields_of(newer)
    before_waiting = {
        f.attname: getattr(waiting, f.attname) for f in Alignment._meta.concrete_fields
    }
    before_theirs = {
        f.attname: getattr(theirs, f.attname) for f in Invitation._meta.concrete_fields
    }
    older_sectors = set(older.sectors.values_list("pk", flat=True))
    newer_sectors = set(newer.sectors.values_list("pk", flat=True))

    record = merge_people(older, newer, by=organizer, choices={"name": OTHER, "phone": OTHER})
    restored = undo_merge(record, by=organizer)

    older.refresh_from_db()
    assert restored.pk == newer.pk
    restored.refresh_from_db()
    assert fields_of(older) == before_older
    assert fields_of(restored) == before_newer
    assert set(older.sectors.values_list("pk", flat=True)) == older_sectors
    assert set(restored.sectors.values_list("pk", flat=True)) == newer_sectors
    assert set(Alignment.objects.filter(member=older)) == {waiting}
    assert set(Alignment.objects.filter(member=restored)) == {reviewed, only_theirs}
    restored_waiting = Alignment.objects.get(pk=waiting.pk)
    assert {
        f.attname: getattr(restored_waiting, f.attname) for f in Alignment._meta.concrete_fields
    } == before_waiting
    note.refresh_from_db()
    assert note.alignment_id == waiting.pk
    assert set(Invitation.objects.filter(member=older)) == {mine}
    restored_theirs = Invitation.objects.get(pk=theirs.pk)
    assert {
        f.attname: getattr(restored_theirs, f.attname) for f in Invitation._meta.concrete_fields
    } == before_theirs
    followed.refresh_from_db()
    assert followed.point_person_id == newer.pk
    check_in.refresh_from_db()
    assert check_in.member_id == newer.pk
    assert set(restored.cores.all()) == {core_a}
    assert set(older.cores.all()) == set()
    record.refresh_from_db()
    assert record.undone_by == organizer
    assert record.undone_at is not None
    # Both histories tell the whole story: merged, then restored.
    assert restored.history.latest().history_change_reason == f"Undo of merge #{record.pk}"
    assert [r.history_type for r in Member.history.filter(id=newer.pk).order_by("history_id")][
        -2:
    ] == ["-", "+"]
    assert older.history.latest().history_change_reason == f"Undo of merge #{record.pk}"


def test_undo_is_refused_when_the_survivor_was_edited_since(pair, organizer, lead_a):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    older.refresh_from_db()
    older.city = "Round Rock"
    older._history_user = lead_a
    update_member(older, by=lead_a, expected_version=older.version)

    problems = undo_problems(record)
    assert len(problems) == 1
    assert "changed by Alice Lead" in problems[0]
    assert "city" in problems[0]
    with pytest.raises(MergeUndoRefused, match="changed by Alice Lead"):
        undo_merge(record, by=organizer)
    assert not Member.objects.filter(pk=newer.pk).exists()
    older.refresh_from_db()
    assert older.city == "Round Rock"


def test_undo_twice_is_refused(pair, organizer):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    undo_merge(record, by=organizer)
    with pytest.raises(MergeUndoRefused, match="undone already"):
        undo_merge(record, by=organizer)


def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone(pair, organizer):
    older, newer = pair
    third = MemberFactory(name="M. Lopez", email="")
    first = merge_people(older, newer, by=organizer)
    second = merge_people(third, older, by=organizer)
    with pytest.raises(MergeUndoRefused, match=f"merge #{second.pk}"):
        undo_merge(first, by=organizer)
    undo_merge(second, by=organizer)
    undo_merge(first, by=organizer)
    assert Member.objects.filter(pk__in=[older.pk, newer.pk, third.pk]).count() == 3


def test_undo_is_refused_when_a_moved_check_in_was_deleted(pair, organizer):
    older, newer = pair
    check_in = CapacityCheckInFactory(member=newer)
    record = merge_people(older, newer, by=organizer)
    CapacityCheckIn.objects.filter(pk=check_in.pk).delete()
    with pytest.raises(MergeUndoRefused, match="check-in"):
        undo_merge(record, by=organizer)


def test_merged_person_keeps_created_date_after_undo(pair, organizer):
    older, newer = pair
    created = timezone.now() - 400 * DAY
    Member._base_manager.filter(pk=newer.pk).update(created_at=created)
    newer.refresh_from_db()
    record = merge_people(older, newer, by=organizer)
    restored = undo_merge(record, by=organizer)
    restored.refresh_from_db()
    assert restored.created_at == created
    assert Member.history.filter(id=newer.pk).latest().created_at == created


def test_the_same_tendency_alignments_are_not_confused_across_tendencies(pair, organizer):
    older, newer = pair
    t1, t2 = TendencyFactory(), TendencyFactory()
    a1 = AlignmentFactory(member=older, tendency=t1)
    a2 = AlignmentFactory(member=newer, tendency=t2)
    merge_people(older, newer, by=organizer)
    assert set(Alignment.objects.filter(member=older)) == {a1, a2}


def test_core_membership_already_held_is_not_duplicated(pair, organizer):
    older, newer = pair
    core = CoreGroupFactory()
    core.members.add(older, newer)
    record = merge_people(older, newer, by=organizer)
    assert list(older.cores.all()) == [core]
    undo_merge(record, by=organizer)
    assert set(core.members.all()) == {older, Member.objects.get(pk=newer.pk)}


def test_an_email_or_phone_not_kept_goes_into_the_notes_and_undo_takes_it_out(organizer):
    kept = MemberFactory(email="a@example.org", phone="(512) 555-0100", note="")
    other = MemberFactory(email="b@example.org", phone="", note="")
    record = merge_people(kept, other, by=organizer, choices={"email": OTHER})
    kept.refresh_from_db()
    assert kept.email == "b@example.org"
    assert kept.note == f"Also reached at (merge #{record.pk}): email a@example.org"
    undo_merge(record, by=organizer)
    kept.refresh_from_db()
    assert (kept.email, kept.note) == ("a@example.org", "")


def test_a_relation_no_step_moves_refuses_the_merge_and_writes_nothing(
    pair, organizer, core_a, monkeypatch
):
    older, newer = pair
    invitation = InvitationFactory(core=core_a, member=newer)
    monkeypatch.delitem(merge_steps, "cores.invitations")
    with pytest.raises(ValidationError, match="Invitations still point at"):
        merge_people(older, newer, by=organizer)
    invitation.refresh_from_db()
    assert invitation.member == newer
    assert MergeRecord.objects.count() == 0


def test_values_not_valid_together_refuse_on_their_field_and_roll_back(pair, organizer):
    older, newer = pair
    check_in = CapacityCheckInFactory(member=newer)
    # A phone stored before today's rules, too short to be one now.
    Member._base_manager.filter(pk=newer.pk).update(phone="12")
    newer.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        merge_people(older, newer, by=organizer, choices={"phone": OTHER})
    assert "phone" in refused.value.message_dict
    assert Member.objects.filter(pk=newer.pk).exists()
    check_in.refresh_from_db()
    assert check_in.member == newer
    assert MergeRecord.objects.count() == 0


def test_undo_is_refused_when_the_survivors_sectors_changed_since(pair, organizer):
    older, newer = pair
    record = merge_people(older, newer, by=organizer)
    older.sectors.add(SectorFactory(slug="youth", name="Youth"))
    with pytest.raises(MergeUndoRefused, match="sectors"):
        undo_merge(record, by=organizer)
