"""The person page's history: every change to a person, who made it, field by field, and
what happened around them: check-ins, merges, and (registered by other apps, which members
never imports) alignments, review notes and invitations. Newest first.

Each kind is read in one query whatever its length, and shown only to a user whose role
may read its history; what is private (review notes) is read through the queryset method
that decides it everywhere else, so an entry for something the user may not see is never
built.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members.models import (
    CAPACITY_FIELDS,
    PERSON_FIELDS,
    CapacityCheckIn,
    Member,
    MergeRecord,
)

# Fields shown in the timeline, in form order; derived and bookkeeping columns are left out.
TRACKED_FIELDS = [*PERSON_FIELDS, "added_by"]


@dataclass
class Change:
    label: str
    old: str
    new: str


# The label beside each kind of entry on the person page.
KIND_LABELS = {
    "person": pgettext_lazy("timeline entry about the person's own record", "Record"),
    "check_in": _("Check-in"),
    "merge": _("Merge"),
    "alignment": _("Alignment"),
    "note": _("Private note"),
    "invitation": _("Invitation"),
}


@dataclass
class TimelineEntry:
    when: object
    who: str
    action: str  # "created", "changed" or "deleted"
    reason: str = ""
    changes: list[Change] = field(default_factory=list)
    # On the person page, where kinds mix: which kind (KIND_LABELS), what happened in
    # words, further lines (scores, a note's text), and who alone may read it.
    kind: str = ""
    title: str = ""
    details: list[str] = field(default_factory=list)
    private_to: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")


# Another app's part of a person's timeline: (member, user) -> entries that user may see.
TimelineSource = Callable[[Member, object], Iterable[TimelineEntry]]
timeline_sources: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add (or replace, by name) a part of every person's timeline. Call from
    AppConfig.ready(); `source` decides itself what the user may see."""
    timeline_sources[name] = source


_RECORD_TITLES = {
    "created": _("Created this record"),
    "changed": _("Changed this record"),
    "deleted": _("Deleted this record"),
}


def person_timeline(member: Member, user) -> list[TimelineEntry]:
    """Everything that happened to `member` that `user` may see, newest first: the
    record's own changes, check-ins, merges, and the registered sources' entries.

    Flat in queries: the record's history (two, three with an "added by"), check-ins'
    history (one), merges (one), plus each source's own fixed number.
    """
    entries = []
    if user.has_perm("members.view_historicalmember"):
        for entry in member_timeline(member):
            entry.kind, entry.title = "person", str(_RECORD_TITLES[entry.action])
            entries.append(entry)
    if user.has_perm("members.view_historicalcapacitycheckin"):
        entries += check_in_entries(member)
    # Merges are shown where the merge panel is: to those who may merge.
    if user.has_perm("members.merge_people"):
        entries += merge_entries(member)
    for source in timeline_sources.values():
        entries += source(member, user)
    # Stable: entries of the same moment keep their source's order.
    entries.sort(key=attrgetter("when"), reverse=True)
    return entries


CHECK_IN_FIELDS = ["checked_on", *CAPACITY_FIELDS, "note"]


def check_in_entries(member: Member) -> list[TimelineEntry]:
    """The person's check-ins recorded, changed or deleted, with who and when. One query."""
    records = (
        CapacityCheckIn.history.filter(member_id=member.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    entries = []
    for _pk, group in groupby(records, key=attrgetter("id")):
        for previous, record in history_pairs(group):
            entry = TimelineEntry(
                when=record.history_date,
                who=display_user(record.history_user),
                action=HISTORY_ACTIONS[record.history_type],
                reason=record.history_change_reason or "",
                kind="check_in",
            )
            dated = {"date": _date(record.checked_on)}
            if record.history_type == "-":
                entry.title = gettext("Deleted the check-in of %(date)s") % dated
            elif previous is None and record.history_type == "+":
                entry.title = gettext("Recorded a check-in of %(date)s") % dated
                entry.details = [_scores(record), *([record.note] if record.note else [])]
            elif previous is None:
                # It came from another record of theirs merged into this one: the merge's
                # own entry says so, once rather than once a check-in.
                continue
            else:
                entry.changes = list(
                    field_changes(CapacityCheckIn, previous, record, CHECK_IN_FIELDS, {})
                )
                if not entry.changes:
                    continue
                entry.title = gettext("Changed the check-in of %(date)s") % dated
            entries.append(entry)
    return entries


def merge_entries(member: Member) -> list[TimelineEntry]:
    """Merges into `member` and of `member` into another, and their undos. One query."""
    records = MergeRecord.objects.filter(
        Q(survivor_pk=member.pk) | Q(merged_pk=member.pk)
    ).select_related("merged_by", "undone_by")
    entries = []
    for record in records:
        kept = record.survivor_pk == member.pk
        names = {"name": record.merged_name if kept else record.survivor_name}
        entries.append(
            TimelineEntry(
                when=record.merged_at,
                who=display_user(record.merged_by),
                action="merged",
                reason=record.history_reason,
                kind="merge",
                title=(
                    gettext("Merged the record of %(name)s into this one")
                    if kept
                    else gettext("Merged this record into the record of %(name)s")
                )
                % names,
            )
        )
        if record.undone_at is not None:
            entries.append(
                TimelineEntry(
                    when=record.undone_at,
                    who=display_user(record.undone_by),
                    action="undid",
                    reason=record.undo_reason,
                    kind="merge",
                    title=gettext("Undid the merge with %(name)s: two records again") % names,
                )
            )
    return entries


HISTORY_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def history_pairs(records: Iterable) -> Iterable[tuple[object | None, object]]:
    """(previous, record) for each history record of one row, oldest first; previous is
    None for the first. A timeline source walks each row's history with it."""
    previous = None
    for record in records:
        yield previous, record
        previous = record


def _scores(check_in) -> str:
    return " · ".join(
        f"{str(CapacityCheckIn._meta.get_field(name).verbose_name).capitalize()} "
        f"{getattr(check_in, name)}"
        for name in CAPACITY_FIELDS
    )


def _date(value) -> str:
    return date_format(value) if value else ""  # DATE_FORMAT, per language


def member_timeline(member: Member) -> list[TimelineEntry]:
    """Newest first. Three queries whatever the length of the history."""
    records = list(
        member.history.select_related("history_user").order_by("history_date", "history_id")
    )
    sectors_at = _sectors_by_record(records)
    user_names = _user_names(records)
    entries = []
    previous = created = None
    for record in records:
        entry = TimelineEntry(
            when=record.history_date,
            who=display_user(record.history_user),
            action={"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
            reason=record.history_change_reason or "",
        )
        if previous is not None:
            entry.changes = list(
                field_changes(Member, previous, record, TRACKED_FIELDS, user_names)
            )
            sector_changes = _sector_changes(sectors_at[previous.pk], sectors_at[record.pk])
            if sector_changes and not entry.changes and _completes(created, record):
                # Sectors are set just after the person is created (a second history
                # row); that is part of the creation, not a later change.
                previous = record
                continue
            entry.changes += sector_changes
            if not entry.changes and record.history_type == "~":
                previous = record
                continue  # a save that changed nothing visible
        if record.history_type == "+":
            created = record
        previous = record
        entries.append(entry)
    entries.reverse()
    return entries


def field_changes(model, old, new, fields, names, *, unknown="user #{}"):
    """The changes between two history records of `model`, one Change per field that moved.

    `fields` are field names in display order; `names` maps the pks of a relation's rows to
    display names, and `unknown` formats a pk missing from it. Used by every history
    timeline (a person's here, an invitation's in cores), so they read alike.
    """
    for name in fields:
        model_field = model._meta.get_field(name)
        attname = model_field.attname
        before, after = getattr(old, attname), getattr(new, attname)
        if before == after:
            continue
        yield Change(
            label=str(model_field.verbose_name).capitalize(),
            old=display_value(model_field, before, names, unknown=unknown),
            new=display_value(model_field, after, names, unknown=unknown),
        )


def _completes(created, record) -> bool:
    return (
        created is not None
        and record.history_user_id == created.history_user_id
        and (record.history_date - created.history_date).total_seconds() < 5
    )


def _sectors_by_record(records):
    """The sector names each history record saw, read in one query."""
    through = Member.history.model.sectors.model
    names = {record.pk: set() for record in records}
    rows = through.objects.filter(history__in=[r.pk for r in records]).values_list(
        "history_id", "sector__name"
    )
    for history_id, sector_name in rows:
        names[history_id].add(sector_name)
    return names


def _sector_changes(before, after):
    if before == after:
        return []
    return [
        Change(
            label=gettext("Sectors"), old=", ".join(sorted(before)), new=", ".join(sorted(after))
        )
    ]


def display_value(model_field, value, names, *, unknown="user #{}") -> str:
    """`value` of `model_field` as a person reads it: a choice's label, a related row's name
    from `names` (pk -> name, else `unknown` formatted with the pk), a date as "Jan 5, 2026"."""
    if value in (None, ""):
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return names.get(value, unknown.format(value))
    if hasattr(value, "strftime"):
        return date_format(value, "DATE_FORMAT")
    return str(value)


def _user_names(records):
    ids = {r.added_by_id for r in records if r.added_by_id}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: display_user(user) for user in users}


def display_user(user) -> str:
    """Who made a change: the user's full name, else username; "the system" for none."""
    if user is None:
        return gettext("the system")
    return user.get_full_name() or user.get_username()
