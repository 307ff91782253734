"""The cores' part of merging two records of one person (members.merging).

members never imports cores, so these steps are registered from CoresConfig.ready():

core memberships  the survivor joins every core the other record was in
alignments        one per tendency: a reviewed alignment beats one waiting for review;
                  between two of the same state the more recent wins (reviewed later, or
                  stated later); a full tie keeps the survivor's. The other is deleted with
                  its history kept, and its private review notes move to the winner, so no
                  note is lost
invitations       one per core: the one further along (identified < invited < in
                  conversation < declined < joined) wins, then the one that moved last; the
                  other is deleted with its history kept. Invitations the other record
                  followed up as point person are followed by the survivor

Each step's snapshot holds the ids of the rows it moved and every field of the rows it
deleted, so its undo puts each row back with its own pk.
"""

import datetime as dt
from collections import defaultdict

from django.utils.translation import gettext as _

from cores.models import (
    Alignment,
    CoreGroup,
    Invitation,
    InvitationStage,
    ReviewNote,
    ReviewState,
)
from members.merging import MergeStep, register_merge_step, restore_row, row_snapshot
from members.models import Member

_LONG_AGO = dt.datetime.min.replace(tzinfo=dt.UTC)
# How far an invitation got; the higher wins a merge.
STAGE_RANK = {
    InvitationStage.IDENTIFIED: 0,
    InvitationStage.INVITED: 1,
    InvitationStage.IN_CONVERSATION: 2,
    InvitationStage.DECLINED: 3,
    InvitationStage.JOINED: 4,
}


def _save_with_history(obj, fields, *, by, reason):
    obj._history_user = by
    obj._change_reason = reason
    obj.save(update_fields=fields)


def _delete_with_history(obj, *, by, reason):
    obj._history_user = by
    obj._change_reason = reason
    obj.delete()


def _reason(text: str, record) -> str:
    suffix = f" · {record.history_reason}"
    return text[: 100 - len(suffix)] + suffix


# --- core memberships ----------------------------------------------------------------------


def merge_memberships(survivor: Member, other: Member, *, by, record) -> dict:
    """The survivor joins the other's cores. Snapshot: the other's cores, the ones added."""
    links = CoreGroup.members.through
    theirs = set(links.objects.filter(member=other).values_list("coregroup_id", flat=True))
    mine = set(links.objects.filter(member=survivor).values_list("coregroup_id", flat=True))
    added = sorted(theirs - mine)
    links.objects.bulk_create([links(member_id=survivor.pk, coregroup_id=pk) for pk in added])
    return {"other_cores": sorted(theirs), "added": added}


def undo_memberships(survivor, restored, snapshot, *, by, record) -> None:
    """The survivor leaves the cores the merge added; the restored person rejoins theirs."""
    links = CoreGroup.members.through
    links.objects.filter(member=survivor, coregroup_id__in=snapshot["added"]).delete()
    existing = set(
        CoreGroup.objects.filter(pk__in=snapshot["other_cores"]).values_list("pk", flat=True)
    )
    links.objects.bulk_create(
        [
            links(member_id=restored.pk, coregroup_id=pk)
            for pk in snapshot["other_cores"]
            if pk in existing
        ]
    )


def preview_memberships(a: Member, b: Member) -> list[str]:
    """One sentence naming the cores either record is in (one query)."""
    names = sorted({core.name for core in CoreGroup.objects.filter(members__in=[a, b])})
    if not names:
        return []
    return [
        _("Core membership: both records' cores are kept (%(cores)s).")
        % {"cores": ", ".join(names)}
    ]


# --- alignments and their review notes -------------------------------------------------------


def alignment_wins(candidate: Alignment, incumbent: Alignment) -> bool:
    """Does `candidate` beat `incumbent` (the survivor's, kept on a full tie)?"""

    def strength(alignment):
        # Reviewed ones compare by when they were reviewed, waiting ones by when stated
        # (then when they entered the queue): never one kind against the other.
        if alignment.review_state == ReviewState.REVIEWED:
            return (1, alignment.reviewed_at or _LONG_AGO, alignment.stated_on)
        return (0, alignment.stated_on, alignment.queued_at)

    return strength(candidate) > strength(incumbent)


def merge_alignments(survivor: Member, other: Member, *, by, record) -> dict:
    """One alignment per tendency on the survivor; the loser's review notes go to the winner.

    Snapshot: moved (ids now on the survivor), deleted (every field of each loser),
    notes ([note id, alignment it was on]).
    """
    mine = {a.tendency_id: a for a in Alignment.objects.filter(member=survivor)}
    moved, deleted, notes = [], [], []
    for theirs in Alignment.objects.filter(member=other).order_by("pk"):
        incumbent = mine.get(theirs.tendency_id)
        if incumbent is None:
            theirs.member = survivor
            _save_with_history(
                theirs, ["member"], by=by, reason=_reason("Moved from a merged record", record)
            )
            moved.append(theirs.pk)
            continue
        winner, loser = (
            (theirs, incumbent) if alignment_wins(theirs, incumbent) else (incumbent, theirs)
        )
        loser_notes = list(ReviewNote.objects.filter(alignment=loser).values_list("pk", flat=True))
        notes += [[pk, loser.pk] for pk in loser_notes]
        # ReviewNote keeps no history; the snapshot above is its record of the move.
        ReviewNote.objects.filter(pk__in=loser_notes).update(alignment=winner)
        deleted.append(row_snapshot(loser))
        _delete_with_history(
            loser, by=by, reason=_reason(f"Merged into alignment #{winner.pk}", record)
        )
        if winner is theirs:
            theirs.member = survivor
            _save_with_history(theirs, ["member"], by=by, reason=_reason("Kept in a merge", record))
            moved.append(theirs.pk)
    return {"moved": moved, "deleted": deleted, "notes": notes}


def undo_alignments(survivor, restored, snapshot, *, by, record) -> None:
    """Moved alignments go back, deleted ones come back with their pks, notes go home."""
    reason = record.undo_reason
    for alignment in Alignment.objects.filter(pk__in=snapshot["moved"]).order_by("pk"):
        alignment.member = restored
        _save_with_history(alignment, ["member"], by=by, reason=reason)
    for data in snapshot["deleted"]:
        restore_row(Alignment, data, by=by, reason=reason)
    back = defaultdict(list)
    for note_pk, alignment_pk in snapshot["notes"]:
        back[alignment_pk].append(note_pk)
    for alignment_pk, note_pks in back.items():
        ReviewNote.objects.filter(pk__in=note_pks).update(alignment_id=alignment_pk)


def _moved_rows_gone(model, survivor, snapshot, noun: str) -> list[str]:
    """The undo's refusal when rows the merge moved to `survivor` are no longer there."""
    moved = set(snapshot["moved"])
    here = set(model.objects.filter(pk__in=moved, member=survivor).values_list("pk", flat=True))
    if moved - here:
        return [f"{len(moved - here)} {noun}(s) moved in the merge were deleted since"]
    return []


def alignments_changed_since(survivor, snapshot, *, record) -> list[str]:
    """A moved alignment no longer on the survivor cannot be moved back."""
    return _moved_rows_gone(Alignment, survivor, snapshot, "alignment")


def preview_alignments(a: Member, b: Member) -> list[str]:
    """Per tendency, which alignment stays (one query; review notes are not read)."""
    by_tendency = defaultdict(dict)
    for alignment in Alignment.objects.filter(member__in=[a, b]).select_related("tendency"):
        by_tendency[alignment.tendency][alignment.member_id] = alignment
    lines = []
    for tendency, pair in sorted(by_tendency.items(), key=lambda item: item[0].name):
        if len(pair) == 1:
            ((member_pk, alignment),) = pair.items()
            lines.append(
                _("Alignment with %(tendency)s: %(level)s (#%(person)s) is kept.")
                % {
                    "tendency": tendency,
                    "level": alignment.get_level_display(),
                    "person": member_pk,
                }
            )
            continue
        first, second = pair[a.pk], pair[b.pk]
        winner = second if alignment_wins(second, first) else first
        lines.append(
            _(
                "Alignment with %(tendency)s: both records have one; %(level)s (%(state)s, "
                "#%(person)s) stays, the other is kept in its history and any review notes on "
                "it move to the one that stays."
            )
            % {
                "tendency": tendency,
                "level": winner.get_level_display(),
                "state": winner.get_review_state_display().lower(),
                "person": winner.member_id,
            }
        )
    return lines


# --- invitations ----------------------------------------------------------------------------


def invitation_wins(candidate: Invitation, incumbent: Invitation) -> bool:
    """Does `candidate` beat `incumbent` (the survivor's, kept on a full tie)?"""

    def strength(invitation):
        return (STAGE_RANK[invitation.stage], invitation.moved_on)

    return strength(candidate) > strength(incumbent)


def merge_invitations(survivor: Member, other: Member, *, by, record) -> dict:
    """One invitation per core on the survivor; the survivor follows up where the other did.

    Snapshot: moved (ids), deleted (every field of each loser), point_person (ids of the
    invitations whose point person was the other record).
    """
    mine = {i.core_id: i for i in Invitation.objects.filter(member=survivor)}
    moved, deleted = [], []
    for theirs in Invitation.objects.filter(member=other).order_by("pk"):
        incumbent = mine.get(theirs.core_id)
        if incumbent is not None:
            winner, loser = (
                (theirs, incumbent) if invitation_wins(theirs, incumbent) else (incumbent, theirs)
            )
            deleted.append(row_snapshot(loser))
            _delete_with_history(
                loser, by=by, reason=_reason(f"Merged into invitation #{winner.pk}", record)
            )
            if winner is incumbent:
                continue
        theirs.member = survivor
        _save_with_history(
            theirs, ["member"], by=by, reason=_reason("Moved from a merged record", record)
        )
        moved.append(theirs.pk)
    followed = list(Invitation.objects.filter(point_person=other).order_by("pk"))
    for invitation in followed:
        invitation.point_person = survivor
        _save_with_history(
            invitation, ["point_person"], by=by, reason=_reason("Point person merged", record)
        )
    return {"moved": moved, "deleted": deleted, "point_person": [i.pk for i in followed]}


def undo_invitations(survivor, restored, snapshot, *, by, record) -> None:
    """Moved invitations go back, deleted ones come back with their pks, and the restored
    person follows up again where they were the point person."""
    reason = record.undo_reason
    for invitation in Invitation.objects.filter(pk__in=snapshot["moved"]).order_by("pk"):
        invitation.member = restored
        _save_with_history(invitation, ["member"], by=by, reason=reason)
    for data in snapshot["deleted"]:
        restore_row(Invitation, data, by=by, reason=reason)
    followed = Invitation.objects.filter(pk__in=snapshot["point_person"], point_person=survivor)
    for invitation in followed.order_by("pk"):
        invitation.point_person = restored
        _save_with_history(invitation, ["point_person"], by=by, reason=reason)


def invitations_changed_since(survivor, snapshot, *, record) -> list[str]:
    """A moved invitation no longer on the survivor cannot be moved back."""
    return _moved_rows_gone(Invitation, survivor, snapshot, "invitation")


def preview_invitations(a: Member, b: Member) -> list[str]:
    """Per core, which invitation stays (one query)."""
    by_core = defaultdict(dict)
    for invitation in Invitation.objects.filter(member__in=[a, b]).select_related("core"):
        by_core[invitation.core][invitation.member_id] = invitation
    lines = []
    for core, pair in sorted(by_core.items(), key=lambda item: item[0].name):
        if len(pair) == 1:
            ((member_pk, invitation),) = pair.items()
            lines.append(
                _("Invitation to %(core)s: %(stage)s (#%(person)s) is kept.")
                % {
                    "core": core,
                    "stage": invitation.get_stage_display().lower(),
                    "person": member_pk,
                }
            )
            continue
        first, second = pair[a.pk], pair[b.pk]
        winner = second if invitation_wins(second, first) else first
        lines.append(
            _(
                "Invitation to %(core)s: both records have one; the one further along "
                "(%(stage)s, #%(person)s) stays, the other is kept in its history."
            )
            % {
                "core": core,
                "stage": winner.get_stage_display().lower(),
                "person": winner.member_id,
            }
        )
    return lines


def register() -> None:
    """Add the cores' steps to every merge, memberships first (point people need them)."""
    register_merge_step(
        MergeStep(
            name="cores.memberships",
            merge=merge_memberships,
            undo=undo_memberships,
            preview=preview_memberships,
        )
    )
    register_merge_step(
        MergeStep(
            name="cores.alignments",
            merge=merge_alignments,
            undo=undo_alignments,
            preview=preview_alignments,
            changed_since=alignments_changed_since,
        )
    )
    register_merge_step(
        MergeStep(
            name="cores.invitations",
            merge=merge_invitations,
            undo=undo_invitations,
            preview=preview_invitations,
            changed_since=invitations_changed_since,
        )
    )
