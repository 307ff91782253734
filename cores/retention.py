"""The cores' part of the retention list (members.retention).

members never imports cores, so these sources are registered from CoresConfig.ready():

invitations   any history row of an invitation of the person (made, moved between stages,
              note or next step edited) is activity; an invitation past "identified"
              (invited, in conversation, joined, declined) takes the person off the list
              for good: a core is, or was, talking with them
alignments    an alignment stated, changed or reviewed, or a review note written on it
"""

from django.db.models import Exists, OuterRef, Q

from cores.models import Alignment, Invitation, InvitationStage, ReviewNote
from members.retention import ActivitySource, latest_by_person, register_activity_source


def _invitation_since(moment) -> Q:
    history = Invitation.history.model.objects.filter(
        member=OuterRef("pk"), history_date__gte=moment
    )
    return Q(Exists(history))


def _past_identified() -> Q:
    moved = Invitation.objects.filter(member=OuterRef("pk")).exclude(
        stage=InvitationStage.IDENTIFIED
    )
    return Q(Exists(moved))


def _alignment_since(moment) -> Q:
    history = Alignment.history.model.objects.filter(
        member=OuterRef("pk"), history_date__gte=moment
    )
    notes = ReviewNote.objects.filter(alignment__member=OuterRef("pk"), created_at__gte=moment)
    return Q(Exists(history)) | Q(Exists(notes))


def _alignment_latest(pks) -> dict:
    latest = latest_by_person(Alignment.history.model.objects, "member", "history_date", pks)
    notes = latest_by_person(ReviewNote.objects, "alignment__member", "created_at", pks)
    for pk, day in notes.items():
        latest[pk] = max(day, latest.get(pk, day))
    return latest


def register() -> None:
    register_activity_source(
        ActivitySource(
            name="invitation",
            since=_invitation_since,
            latest=lambda pks: latest_by_person(
                Invitation.history.model.objects, "member", "history_date", pks
            ),
            moved_on=_past_identified,
        )
    )
    register_activity_source(
        ActivitySource(name="alignment", since=_alignment_since, latest=_alignment_latest)
    )
