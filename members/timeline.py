"""The person page's history: every change to a person, who made it, field by field."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from members.models import PERSON_FIELDS, Member

# Fields shown in the timeline, in form order; derived and bookkeeping columns are left out.
TRACKED_FIELDS = [*PERSON_FIELDS, "added_by"]


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class TimelineEntry:
    when: object
    who: str
    action: str  # "created", "changed" or "deleted"
    reason: str = ""
    changes: list[Change] = field(default_factory=list)


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
    return [Change(label="Sectors", old=", ".join(sorted(before)), new=", ".join(sorted(after)))]


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
        return value.strftime("%b %-d, %Y")
    return str(value)


def _user_names(records):
    ids = {r.added_by_id for r in records if r.added_by_id}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: display_user(user) for user in users}


def display_user(user) -> str:
    """Who made a change: the user's full name, else username; "the system" for none."""
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()
