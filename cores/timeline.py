"""The cores' part of a person's timeline (members.timeline.person_timeline).

members never imports cores, so this part is registered from CoresConfig.ready():

alignments    each level stated or changed, each review, each return to the queue, with
              who and when: levels are shown to every role (DESIGN.md, "Roles"), read in
              the alignment page's own words (cores.views.review)
review notes  only those ReviewNote.objects.visible_to(user) returns, the one rule for
              them everywhere: one tendency's notes never reach another tendency's lead,
              nor an organizer, and no entry says that a note exists
invitations   each core's following of the person, stage by stage, with the fields every
              role sees on the person page; the core's own note and the reason for
              declining are left out (they are for the core's leads, on the invitation's
              page)

Rows moved here from a merged record are not repeated one by one: the merge's entry says so.
Three queries at most, whatever the number of rows.
"""

from itertools import groupby
from operator import attrgetter

from django.utils.translation import gettext

from cores.models import Alignment, AlignmentLevel, Invitation, ReviewNote
from cores.views.invitations import HISTORY_FIELDS
from cores.views.review import _level_event
from members.timeline import (
    HISTORY_ACTIONS,
    TimelineEntry,
    display_user,
    field_changes,
    history_pairs,
    register_timeline_source,
)


def person_entries(member, user) -> list[TimelineEntry]:
    """The alignment, review-note and invitation entries of `member` that `user` may see."""
    entries = []
    if user.has_perm("cores.view_historicalalignment"):
        entries += alignment_entries(member)
    entries += note_entries(member, user)
    if user.has_perm("cores.view_historicalinvitation"):
        entries += invitation_entries(member)
    return entries


def alignment_entries(member) -> list[TimelineEntry]:
    """Levels stated and changed, reviews and returns to the queue. One query."""
    records = (
        Alignment.history.filter(member_id=member.pk)
        .select_related("history_user", "tendency")
        .order_by("id", "history_date", "history_id")
    )
    labels = dict(AlignmentLevel.choices)
    entries = []
    for _pk, group in groupby(records, key=attrgetter("id")):
        for previous, record in history_pairs(group):
            tendency = _name(record, "tendency")
            entry = TimelineEntry(
                when=record.history_date,
                who=display_user(record.history_user),
                action=HISTORY_ACTIONS[record.history_type],
                reason=record.history_change_reason or "",
                kind="alignment",
            )
            if record.history_type == "-":
                entry.title = gettext("Removed the alignment toward %(tendency)s") % {
                    "tendency": tendency
                }
            elif previous is None and record.history_type != "+":
                continue  # moved here by a merge: the merge's entry says so
            else:
                event, detail = _level_event(previous, record, labels)
                if not event:
                    continue  # a save that changed nothing a reader would see
                entry.title = gettext("%(event)s: %(level)s, toward %(tendency)s") % {
                    "event": event,
                    "level": labels.get(record.level, record.level),
                    "tendency": tendency,
                }
                if detail:
                    entry.title += f" ({detail})"
            entries.append(entry)
    return entries


def note_entries(member, user) -> list[TimelineEntry]:
    """The private review notes on `member`'s alignments that `user` may read. One query,
    none for a user who may read no notes."""
    notes = (
        ReviewNote.objects.visible_to(user)
        .filter(alignment__member=member)
        .select_related("author", "alignment__tendency")
    )
    return [
        TimelineEntry(
            when=note.created_at,
            who=display_user(note.author),
            action="wrote",
            kind="note",
            title=gettext("Private review note on the alignment toward %(tendency)s")
            % {"tendency": note.alignment.tendency},
            details=[note.body],
            private_to=gettext("%(tendency)s leads only") % {"tendency": note.alignment.tendency},
        )
        for note in notes
    ]


def invitation_entries(member) -> list[TimelineEntry]:
    """Each core's invitation of `member`, stage by stage. One query."""
    records = list(
        Invitation.history.filter(member_id=member.pk)
        .select_related("history_user", "core", "point_person")
        .order_by("id", "history_date", "history_id")
    )
    point_people = {
        r.point_person_id: r.point_person.name for r in records if r.point_person is not None
    }
    entries = []
    for _pk, group in groupby(records, key=attrgetter("id")):
        for previous, record in history_pairs(group):
            core = {"core": _name(record, "core")}
            entry = TimelineEntry(
                when=record.history_date,
                who=display_user(record.history_user),
                action=HISTORY_ACTIONS[record.history_type],
                reason=record.history_change_reason or "",
                kind="invitation",
            )
            if record.history_type == "-":
                entry.title = gettext("Removed the invitation from %(core)s") % core
            elif previous is None and record.history_type == "+":
                entry.title = gettext("%(core)s started following this person: %(stage)s") % {
                    **core,
                    "stage": record.get_stage_display(),
                }
            elif previous is None:
                continue  # moved here by a merge: the merge's entry says so
            else:
                entry.changes = list(
                    field_changes(
                        Invitation,
                        previous,
                        record,
                        HISTORY_FIELDS,
                        point_people,
                        unknown="person #{}",
                    )
                )
                if not entry.changes:
                    continue  # only what this page leaves out changed
                entry.title = gettext("Changed the invitation from %(core)s") % core
            entries.append(entry)
    return entries


def _name(record, relation: str) -> str:
    """A history record's related row by name; "#<pk>" once that row is gone."""
    related = getattr(record, relation)
    return str(related) if related is not None else f"#{getattr(record, relation + '_id')}"


def register() -> None:
    register_timeline_source("cores", person_entries)
