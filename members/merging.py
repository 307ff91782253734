"""Merge two records of one person into one, and undo the merge.

merge_people      the survivor keeps its pk; per field, the value the person chose stays;
                  check-ins, sectors (union), notes (joined) and every row other apps keep
                  about the merged-away person move to the survivor; the merged-away
                  record is deleted with a last history row saying where it went
undo_merge        re-creates the merged-away person with its own pk, moves its rows back
                  and restores the survivor's fields; refused, with the list, when the
                  survivor was edited after the merge
undo_problems     that list, for a page to show before anyone presses Undo

members never imports cores, so the rows of other apps (alignments, review notes,
invitations, core memberships) are moved by *merge steps* those apps register here
(`register_merge_step`, called from their AppConfig.ready()). Each step returns a
JSON-able snapshot of what it did, kept in the MergeRecord, and its `undo` puts every row
back from that snapshot. Before the merged-away person is deleted, any row of any model
still pointing at them refuses the whole merge: a relation nobody moves would otherwise be
lost to the cascade without a word.
"""

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext

from members.duplicates import find_duplicates
from members.history import bulk_update_with_history
from members.models import (
    PERSON_FIELDS,
    CapacityCheckIn,
    ImportRow,
    Member,
    MergeRecord,
)
from members.services import snapshot_sectors_in_history

# What the person chooses per field: the survivor's value, the other record's, or both
# (long text only, joined with a blank line between).
SURVIVOR, OTHER, BOTH = "survivor", "other", "both"
# Fields whose two texts can be kept together; the others hold one value.
JOINABLE_FIELDS = ("joining_story", "note")
# Ways to reach the person: one not kept in its field is written into the notes.
CONTACT_FIELDS = ("email", "phone")
# simple_history's change reason is a CharField(max_length=100) (enforced by PostgreSQL).
_REASON_LENGTH = 100
_NAME_IN_REASON = 40


@dataclass(frozen=True)
class MergeStep:
    """What another app does with its rows about the two people when they are merged.

    merge(survivor, other, *, by, record) -> dict
        Move or settle every row the app keeps about `other` onto `survivor`, writing
        history attributed to `by` with `record.history_reason` as the reason. Returns a
        JSON-able snapshot (ids and field values of every row moved or deleted) from
        which `undo` can put each row back exactly.
    undo(survivor, restored, snapshot, *, by, record) -> None
        Put every row back: `restored` is the merged-away person, re-created with its pk.
    preview(a, b) -> list[str]
        Sentences for the merge page saying what will happen, the same whichever of
        `a` and `b` survives.
    changed_since(survivor, snapshot, *, record) -> list[str]
        What happened to the step's rows since the merge that an undo could not put
        back (a moved row deleted, say); any sentence refuses the undo.
    """

    name: str
    merge: Callable[..., dict]
    undo: Callable[..., None]
    preview: Callable[..., list[str]] | None = None
    changed_since: Callable[..., list[str]] | None = None


# By name, in registration order: steps run in this order and are undone in reverse.
merge_steps: dict[str, MergeStep] = {}


def register_merge_step(step: MergeStep) -> None:
    """Add (or replace, by name) a step every merge runs. Call from AppConfig.ready()."""
    merge_steps[step.name] = step


class MergeUndoRefused(ValidationError):
    """The undo would overwrite work done since the merge; `problems` lists it."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            gettext(
                "This merge cannot be undone without overwriting what was changed since: "
                "%(problems)s"
            )
            % {"problems": "; ".join(problems)},
            code="changed_since",
        )


# --- reads -----------------------------------------------------------------------------------


def possible_duplicates(member: Member, *, limit=5):
    """Other people who may be `member`, most likely first (members.duplicates' rules).

    A list of duplicates.DuplicateMatch (`.member`, `.verdict`, `.supporting` and
    `.conflicting` evidence, `.reasons` in words); two queries.
    """
    return find_duplicates(
        name=member.name,
        email=member.email,
        phone=member.phone,
        city=member.city,
        region=member.region,
        exclude_pk=member.pk,
        limit=limit,
    )


def merged_into(pk: int, *, hops: int = 10) -> Member | None:
    """The person that person `pk` was merged into, following later merges of that one;
    None when `pk` was never merged away (or the trail ends at someone deleted)."""
    for _ in range(hops):
        record = (
            MergeRecord.objects.filter(merged_pk=pk, undone_at=None).order_by("-merged_at").first()
        )
        if record is None:
            return None
        survivor = Member.objects.filter(pk=record.survivor_pk).first()
        if survivor is not None:
            return survivor
        pk = record.survivor_pk
    return None


def merge_fields() -> list[models.Field]:
    """The person's own fields a merge chooses between, in form order."""
    return [Member._meta.get_field(name) for name in PERSON_FIELDS]


def is_empty(value) -> bool:
    """None, or text of nothing but spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def default_choices(survivor: Member, other: Member) -> dict[str, str]:
    """Per differing field: the survivor's value unless it is empty, then the other's.

    Notes are joined (both kept) when both records have some.
    """
    choices = {}
    for name in differing_fields(survivor, other):
        mine, theirs = getattr(survivor, name), getattr(other, name)
        if name == "note" and not is_empty(mine) and not is_empty(theirs):
            choices[name] = BOTH
        else:
            choices[name] = OTHER if is_empty(mine) else SURVIVOR
    return choices


def differing_fields(a: Member, b: Member) -> list[str]:
    """The person fields whose values differ between `a` and `b` (text compared trimmed)."""
    return [
        field.name
        for field in merge_fields()
        if _comparable(getattr(a, field.name)) != _comparable(getattr(b, field.name))
    ]


def merge_preview(a: Member, b: Member) -> list[str]:
    """What a merge of `a` and `b` does beyond the fields, one sentence per kind of row.

    The same whichever survives. One query for check-ins and sectors, plus each step's.
    """
    counts = dict(
        CapacityCheckIn.objects.filter(member__in=[a, b])
        .values_list("member")
        .annotate(n=models.Count("pk"))
        .values_list("member", "n")
    )
    lines = []
    for person in (a, b):
        n = counts.get(person.pk, 0)
        if n:
            lines.append(
                ngettext(
                    "%(count)d capacity check-in of #%(person)s is kept on the merged person.",
                    "%(count)d capacity check-ins of #%(person)s are kept on the merged person.",
                    n,
                )
                % {"count": n, "person": person.pk}
            )
    sectors_a = {s.name for s in a.sectors.all()}
    sectors_b = {s.name for s in b.sectors.all()}
    if sectors_a | sectors_b:
        lines.append(
            gettext("Sectors: both records' are kept (%(sectors)s).")
            % {"sectors": ", ".join(sorted(sectors_a | sectors_b))}
        )
    for step in merge_steps.values():
        if step.preview is not None:
            lines += step.preview(a, b)
    return lines


def undo_problems(record: MergeRecord) -> list[str]:
    """What was done since `record`'s merge that an undo would overwrite or cannot restore.

    Empty when the merge can be undone. Reads the survivor's history after the merge,
    the check-ins it moved and each step's own check.
    """
    if record.undone_at is not None:
        return ["it was undone already"]
    survivor = Member.objects.filter(pk=record.survivor_pk).first()
    if survivor is None:
        later = (
            MergeRecord.objects.filter(merged_pk=record.survivor_pk, undone_at=None)
            .order_by("-merged_at")
            .first()
        )
        if later is not None:
            return [
                f"{record.survivor_name} was merged into {later.survivor_name} since "
                f"(merge #{later.pk}); undo that merge first"
            ]
        return [f"{record.survivor_name} (#{record.survivor_pk}) has been deleted since"]
    if Member.objects.filter(pk=record.merged_pk).exists():
        return [f"a person with #{record.merged_pk} exists again"]
    problems = _survivor_changes_since(survivor, record)
    snapshot = record.snapshot
    moved = set(snapshot.get("check_ins", []))
    still_here = set(
        CapacityCheckIn.objects.filter(pk__in=moved, member=survivor).values_list("pk", flat=True)
    )
    if moved - still_here:
        n = len(moved - still_here)
        problems.append(
            f"{n} check-in{'' if n == 1 else 's'} moved in the merge were deleted or moved since"
        )
    for name, step in merge_steps.items():
        if step.changed_since is not None and name in snapshot.get("steps", {}):
            problems += step.changed_since(survivor, snapshot["steps"][name], record=record)
    return problems


# --- the merge ------------------------------------------------------------------------------


@transaction.atomic
def merge_people(
    survivor: Member,
    other: Member,
    *,
    by,
    choices: dict[str, str] | None = None,
    expected_versions: tuple[int, int] | None = None,
) -> MergeRecord:
    """Make `survivor` and `other` one person: `survivor` stays, `other` is deleted.

    `choices`: field name -> SURVIVOR, OTHER or BOTH (joinable text only) for the fields
    that differ; missing fields take default_choices(). `expected_versions`: the
    (survivor, other) versions the person looked at; a save since refuses the merge.
    Both rows are locked first (in pk order, so two merges cannot deadlock). An email or
    phone of either record that is not kept is added to the notes (contact_left_out), so
    the person can still be reached by it.

    Returns the MergeRecord (what the undo needs). Raises ValidationError: on `__all__`
    for the same person twice, a person gone or saved since the page was opened, or a
    relation no merge step moves; on a field when the chosen values are not valid
    together. Nothing is written when it raises.
    """
    if survivor.pk == other.pk:
        raise ValidationError(gettext("Choose two different people to merge."), code="same")
    locked = {
        m.pk: m
        for m in Member.objects.select_for_update()
        .filter(pk__in=[survivor.pk, other.pk])
        .order_by("pk")
    }
    if any(m.erased_at is not None for m in locked.values()):
        # Merging would bring a stub back to life or drop it from the counts.
        raise ValidationError(
            gettext(
                "One of the two people was erased on request; an erased record cannot be merged."
            ),
            code="erased",
        )
    if len(locked) < 2:
        raise ValidationError(
            gettext("One of the two people is no longer here (merged or deleted meanwhile)."),
            code="gone",
        )
    survivor, other = locked[survivor.pk], locked[other.pk]
    if expected_versions is not None and (survivor.version, other.version) != tuple(
        expected_versions
    ):
        raise ValidationError(
            gettext(
                "Someone saved one of these people since this page was opened; "
                "look at the values again and merge."
            ),
            code="stale",
        )
    chosen = {**default_choices(survivor, other), **(choices or {})}
    _check_choices(chosen)

    record = MergeRecord.objects.create(
        survivor_pk=survivor.pk,
        merged_pk=other.pk,
        survivor_name=survivor.name[:200],
        merged_name=other.name[:200],
        merged_by=by,
    )
    survivor_sectors = set(survivor.sectors.values_list("pk", flat=True))
    other_sectors = set(other.sectors.values_list("pk", flat=True))
    snapshot = {
        "merged": row_snapshot(other),
        "merged_sectors": sorted(other_sectors),
        "survivor_before": {},
        "survivor_after": {},
        "sectors_added": sorted(other_sectors - survivor_sectors),
        "check_ins": [],
        "import_rows": [],
        "steps": {},
    }

    # Rows first, while both people exist; then the other goes; then the survivor's fields
    # (the other's email can only move once the other no longer holds it).
    check_ins = list(CapacityCheckIn.objects.filter(member=other))
    for check_in in check_ins:
        check_in.member = survivor
    if check_ins:
        bulk_update_with_history(
            check_ins, CapacityCheckIn, ["member"], by=by, reason=record.history_reason
        )
    snapshot["check_ins"] = [c.pk for c in check_ins]
    import_rows = list(ImportRow.objects.filter(member=other).values_list("pk", flat=True))
    ImportRow.objects.filter(pk__in=import_rows).update(member=survivor)
    snapshot["import_rows"] = import_rows
    for name, step in merge_steps.items():
        snapshot["steps"][name] = step.merge(survivor, other, by=by, record=record)
    _refuse_unmoved_rows(other)

    new_values = _chosen_values(survivor, other, chosen)
    left_out = contact_left_out(survivor, other, new_values)
    if left_out:
        new_values["note"] = join_texts(
            new_values.get("note", survivor.note),
            f"Also reached at (merge #{record.pk}): {'; '.join(left_out)}",
        )
    other_pk = other.pk  # delete() empties it
    other._history_user = by
    other._change_reason = _reason(f"Merged into {_short(survivor.name)} (#{survivor.pk})", record)
    other.delete()

    for name, value in new_values.items():
        if _comparable(value) != _comparable(getattr(survivor, name)):
            snapshot["survivor_before"][name] = _json(getattr(survivor, name))
            snapshot["survivor_after"][name] = _json(value)
            setattr(survivor, name, value)
    links = Member.sectors.through
    # Links written directly: the m2m signal would add a second history row; the save
    # below records the new set of sectors in the same row as the fields.
    links.objects.bulk_create(
        [links(member_id=survivor.pk, sector_id=pk) for pk in snapshot["sectors_added"]]
    )
    survivor.full_clean()
    survivor.version += 1
    survivor._history_user = by
    survivor._change_reason = _reason(f"Merged with {_short(other.name)} (#{other_pk})", record)
    survivor.save()

    record.snapshot = snapshot
    record.survivor_history_id = survivor.history.latest("history_id").history_id
    record.save(update_fields=["snapshot", "survivor_history_id"])
    return record


def _check_choices(chosen: dict[str, str]) -> None:
    names = set(PERSON_FIELDS)
    for name, choice in chosen.items():
        if name not in names:
            raise ValidationError(
                {"__all__": gettext("“%(name)s” is not a field of a person.") % {"name": name}}
            )
        allowed = (SURVIVOR, OTHER, BOTH) if name in JOINABLE_FIELDS else (SURVIVOR, OTHER)
        if choice not in allowed:
            raise ValidationError(
                {
                    name: gettext("Choose which value stays (%(choices)s).")
                    % {"choices": ", ".join(allowed)}
                }
            )


def contact_left_out(survivor: Member, other: Member, values: dict) -> list[str]:
    """The emails and phones of either record that `values` (field -> value kept) drop,
    as "email x@example.org" / "phone 555 0100": they go into the notes."""
    left_out = []
    for name in CONTACT_FIELDS:
        if name not in values:
            continue
        label = str(Member._meta.get_field(name).verbose_name)
        for value in (getattr(survivor, name), getattr(other, name)):
            if not is_empty(value) and _comparable(value) != _comparable(values[name]):
                left_out.append(f"{label} {value.strip()}")
    return left_out


def _chosen_values(survivor, other, chosen) -> dict:
    values = {}
    for name, choice in chosen.items():
        mine, theirs = getattr(survivor, name), getattr(other, name)
        if choice == OTHER:
            values[name] = theirs
        elif choice == BOTH:
            values[name] = join_texts(mine, theirs)
        else:
            values[name] = mine
    return values


def join_texts(*texts: str) -> str:
    """The non-empty texts, each once, in order, a blank line between them."""
    kept = []
    for text in texts:
        text = (text or "").strip()
        if text and text not in kept:
            kept.append(text)
    return "\n\n".join(kept)


def _refuse_unmoved_rows(other: Member) -> None:
    """Any row still pointing at `other` would be deleted or emptied with it: refuse."""
    # Hidden relations too (related_name="+", as ImportRow.member); not the link tables of
    # many-to-many fields (their rows are the other's own sectors and cores, kept in the
    # snapshot), nor history tables (history outlives the person by design).
    for relation in Member._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete:
            continue
        model = relation.related_model
        if (
            not (relation.one_to_many or relation.one_to_one)
            or model._meta.auto_created
            or model.__name__.startswith("Historical")
        ):
            continue
        if model._base_manager.filter(**{relation.field.name: other}).exists():
            raise ValidationError(
                gettext(
                    "%(records)s still point at %(person)s; no merge step moves them, so the "
                    "merge was not made."
                )
                % {"records": capfirst(model._meta.verbose_name_plural), "person": other},
                code="unmoved",
            )


# --- the undo --------------------------------------------------------------------------------


@transaction.atomic
def undo_merge(record: MergeRecord, *, by) -> Member:
    """Undo `record`'s merge: the merged-away person comes back with its pk and its rows.

    The survivor's fields and sectors return to their values before the merge, and every
    row a merge step moved or deleted is put back by that step. Refused (MergeUndoRefused,
    listing why) when the survivor was edited since, a moved row is gone, or it was undone
    already. Returns the restored person.
    """
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    survivor = Member.objects.select_for_update().filter(pk=record.survivor_pk).first()
    problems = undo_problems(record)
    if problems:
        raise MergeUndoRefused(problems)
    snapshot = record.snapshot
    reason = record.undo_reason

    for name, value in snapshot["survivor_before"].items():
        setattr(survivor, name, Member._meta.get_field(name).to_python(value))
    links = Member.sectors.through
    links.objects.filter(member=survivor, sector_id__in=snapshot["sectors_added"]).delete()
    survivor.version += 1
    survivor._history_user = by
    survivor._change_reason = reason
    survivor.save()

    restored = restore_row(Member, snapshot["merged"], by=by, reason=reason)
    links.objects.bulk_create(
        [links(member_id=restored.pk, sector_id=pk) for pk in snapshot["merged_sectors"]]
    )
    snapshot_sectors_in_history([restored.pk])

    check_ins = list(CapacityCheckIn.objects.filter(pk__in=snapshot["check_ins"]))
    for check_in in check_ins:
        check_in.member = restored
    if check_ins:
        bulk_update_with_history(check_ins, CapacityCheckIn, ["member"], by=by, reason=reason)
    ImportRow.objects.filter(pk__in=snapshot["import_rows"], member=survivor).update(
        member=restored
    )
    for name, step in reversed(merge_steps.items()):
        if name in snapshot["steps"]:
            step.undo(survivor, restored, snapshot["steps"][name], by=by, record=record)

    record.undone_at = timezone.now()
    record.undone_by = by
    record.save(update_fields=["undone_at", "undone_by"])
    return restored


def _survivor_changes_since(survivor: Member, record: MergeRecord) -> list[str]:
    """The survivor's saves since the merge, when its fields or sectors now differ from
    what the merge left: when, who, which fields. A change made and taken back (an edit
    reverted, a later merge undone) is no reason to refuse."""
    left = survivor.history.filter(history_id=record.survivor_history_id).first()
    if left is None:
        return [f"the history of {survivor} no longer holds the merge"]
    differs = [
        field
        for field in merge_fields()
        if getattr(left, field.attname) != getattr(survivor, field.attname)
    ]
    sectors_then = set(left.sectors.values_list("sector_id", flat=True))
    sectors_now = set(survivor.sectors.values_list("pk", flat=True))
    if not differs and sectors_then == sectors_now:
        return []
    rows = list(
        survivor.history.filter(history_id__gte=record.survivor_history_id)
        .select_related("history_user")
        .order_by("history_id")
    )
    problems = []
    for previous, row in itertools.pairwise(rows):
        changed = [
            str(field.verbose_name)
            for field in differs
            if getattr(previous, field.attname) != getattr(row, field.attname)
        ]
        if not changed and sectors_then == sectors_now:
            continue
        what = ", ".join(changed) if changed else "sectors"
        problems.append(
            f"{survivor} was changed by {_user_name(row.history_user)} on "
            f"{timezone.localtime(row.history_date):%b %-d, %Y at %H:%M} ({what})"
        )
    return problems or [f"{survivor} was changed since the merge"]


def _user_name(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


# --- snapshots of rows, shared with the steps of other apps ----------------------------------


def row_snapshot(obj: models.Model) -> dict:
    """Every concrete field of `obj` by attname, as JSON-able values (dates as ISO text)."""
    return {
        field.attname: _json(getattr(obj, field.attname)) for field in obj._meta.concrete_fields
    }


def restore_row(model, data: dict, *, by, reason: str):
    """Re-create a row of `model` exactly as row_snapshot() saw it, with its own pk.

    Saved with history (attributed to `by`, with `reason`) where the model keeps it.
    Foreign keys to rows gone since (a deleted user, import) become empty; auto_now and
    auto_now_add dates are put back after the insert (the save sets them to now).
    """
    values = {}
    for field in model._meta.concrete_fields:
        if field.attname not in data:
            continue
        value = field.to_python(data[field.attname])
        if field.is_relation and value is not None and not _exists(field.related_model, value):
            value = None
        values[field.attname] = value
    obj = model(**values)
    obj._history_user = by
    obj._change_reason = reason
    obj.save(force_insert=True)
    dates = {
        field.attname: values[field.attname]
        for field in model._meta.concrete_fields
        if (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        and field.attname in values
    }
    if dates:
        # The base manager: a history-keeping manager refuses update(); the history row
        # just written is corrected the same way, so it shows the dates restored.
        model._base_manager.filter(pk=obj.pk).update(**dates)
        history = getattr(model, "history", None)
        if history is not None:
            newest = history.filter(**{model._meta.pk.attname: obj.pk}).latest("history_id")
            history.model._base_manager.filter(history_id=newest.history_id).update(**dates)
        for name, value in dates.items():
            setattr(obj, name, value)
    return obj


def _exists(model, pk) -> bool:
    return model._base_manager.filter(pk=pk).exists()


def _json(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _comparable(value):
    if isinstance(value, str):
        return value.strip()
    return value


def _short(name: str) -> str:
    return name if len(name) <= _NAME_IN_REASON else name[: _NAME_IN_REASON - 1] + "…"


def _reason(text: str, record: MergeRecord) -> str:
    """`text` and the merge's number, within the history's 100 characters."""
    suffix = f" · {record.history_reason}"
    return text[: _REASON_LENGTH - len(suffix)] + suffix
