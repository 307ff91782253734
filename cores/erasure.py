"""The cores' part of erasing a person on request (members.erasure).

members never imports cores, so this step is registered from CoresConfig.ready(). Rows
stay, so every count (the funnel, the alignment bars, the review queue's size) stays the
same; their free text goes:

invitations    the note and the reason for declining blanked, on the invitation (saved
               with history) and on every history row of it
review notes   on the person's alignments: the text replaced by a line naming the erasure
               (a note must have text); review notes keep no history of their own
alignments     hold no free text: levels, dates and review states are kept as they are

Mentions of the person elsewhere (a milestone's note, another invitation's note) are taken
out by members.erasure's sweep.
"""

from django.utils.translation import ngettext

from cores.models import Invitation, ReviewNote
from members.erasure import ERASED_NOTE, ErasureStep, has_version, register_erasure_step
from members.history import bulk_update_with_history

INVITATION_TEXT_FIELDS = ("note", "declined_reason")


def erase(people: set[int], *, by, erasure) -> dict[str, int]:
    """Anonymise the invitations and review notes of the people with pks `people`."""
    invitations = list(Invitation.objects.filter(member_id__in=people))
    fields = list(INVITATION_TEXT_FIELDS)
    if has_version(Invitation):
        # A form opened before the erasure is stale now: it cannot write the notes back.
        fields.append("version")
    for invitation in invitations:
        for field in INVITATION_TEXT_FIELDS:
            setattr(invitation, field, "")
        if has_version(Invitation):
            invitation.version += 1
    if invitations:
        bulk_update_with_history(
            invitations, Invitation, fields, by=by, reason=erasure.history_reason
        )
    # Earlier versions, including those of invitations deleted in a merge since.
    Invitation.history.model._base_manager.filter(member_id__in=people).update(
        **dict.fromkeys(INVITATION_TEXT_FIELDS, "")
    )
    notes = ReviewNote.objects.filter(alignment__member_id__in=people)
    n_notes = notes.update(body=ERASED_NOTE.format(pk=erasure.pk))
    return {"invitations": len(invitations), "review notes": n_notes}


def preview(people: set[int]) -> list[str]:
    invitations = Invitation.objects.filter(member_id__in=people).count()
    notes = ReviewNote.objects.filter(alignment__member_id__in=people).count()
    return [
        ngettext(
            "%(count)d invitation kept at its stage; its note and reason for declining blanked.",
            "%(count)d invitations kept at their stages; notes and reasons for declining blanked.",
            invitations,
        )
        % {"count": invitations},
        ngettext(
            "%(count)d review note on their alignments kept as a line naming the erasure; "
            "alignment levels kept.",
            "%(count)d review notes on their alignments kept as a line naming the erasure; "
            "alignment levels kept.",
            notes,
        )
        % {"count": notes},
    ]


def register() -> None:
    register_erasure_step(ErasureStep(name="cores", erase=erase, preview=preview))
