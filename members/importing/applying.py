"""Record, preview, apply and undo an import. Each step is one named, attributed function.

start_import    reads the upload and guesses the column mapping (nothing about people yet)
preview_import  plans every row and stores the plan as ImportRow records
apply_import    writes the stored plan in one transaction; history says "Import #N"
undo_import     removes the people it created and restores the fields it changed,
                except where someone edited them since: those are listed, not overwritten
"""

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from members.history import bulk_update_with_history
from members.importing.columns import guess_mapping, mapping_errors
from members.importing.planning import (
    CREATE,
    IMPORTED_FIELDS,
    REJECT,
    SKIP,
    UPDATE,
    plan_import,
)
from members.importing.reading import read_sheet
from members.importing.values import as_text, sector_key
from members.models import ImportRecord, ImportRow, ImportState, Member, Sector
from members.services import snapshot_sectors_in_history

BATCH = 2000


def start_import(*, filename: str, content: bytes, by) -> ImportRecord:
    """Keep the upload and a first guess at its columns. Raises UnreadableFile."""
    sheet = read_sheet(filename, content)
    return ImportRecord.objects.create(
        filename=filename[:255],
        uploaded_by=by,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        headers=sheet.headers,
        mapping=guess_mapping(sheet.headers),
        total_rows=len(sheet.rows),
    )


def preview_import(record: ImportRecord, *, mapping=None, sector_choices=None) -> ImportRecord:
    """Plan every row with `mapping` and store the plan; writes no person."""
    mapping = list(mapping if mapping is not None else record.mapping)
    errors = mapping_errors(record.headers, mapping)
    if errors:
        raise ValidationError({"mapping": errors})
    if record.state not in (ImportState.UPLOADED, ImportState.PREVIEWED, ImportState.PLANNING):
        raise ValidationError(f"This import is {record.get_state_display().lower()}.")
    choices = record.sector_choices if sector_choices is None else sector_choices
    sheet = read_sheet(record.filename, bytes(record.content))

    def progress(done):
        _set_progress(record, done)

    plan = plan_import(sheet, mapping, sector_choices=choices, progress=progress)
    with transaction.atomic():
        record.rows.all().delete()
        ImportRow.objects.bulk_create(
            [
                ImportRow(
                    record=record,
                    number=row.number,
                    cells=row.cells,
                    action=row.action,
                    values={k: _json(v) for k, v in row.values.items()},
                    sector_keys=row.sector_keys,
                    note=row.note,
                    errors=row.errors,
                    reasons=row.reasons,
                    member=row.member,
                    duplicate_row=row.duplicate_row,
                    changes={k: list(v) for k, v in row.changes.items()},
                )
                for row in plan.rows
            ],
            batch_size=BATCH,
        )
        record.mapping = mapping
        record.sector_choices = {key: choices.get(key, "create") for key in plan.unknown_sectors}
        record.unknown_sectors = plan.unknown_sectors
        record.warnings = plan.warnings
        record.counts = {**plan.counts, "changed_fields": plan.changed_fields}
        record.processed_rows = len(plan.rows)
        record.state = ImportState.PREVIEWED
        record.save()
    return record


@transaction.atomic
def apply_import(record: ImportRecord, *, by) -> ImportRecord:
    """Write the previewed plan: all of it, or (on any error) none of it."""
    record = ImportRecord.objects.select_for_update().get(pk=record.pk)
    if record.state not in (ImportState.PREVIEWED, ImportState.APPLYING):
        raise ValidationError(
            f"Only a previewed import can be applied; this one is "
            f"{record.get_state_display().lower()}."
        )
    sectors = _sectors_for(record)
    created = _create_people(record, sectors, by=by)
    updated, conflicts = _update_people(record, sectors, by=by)
    record.state = ImportState.APPLIED
    record.applied_at = timezone.now()
    record.content = b""  # the file has done its job; do not keep a copy of the list
    record.counts = {
        **record.counts,
        CREATE: created,
        UPDATE: updated,
        SKIP: record.counts.get(SKIP, 0) + len(conflicts),
    }
    record.undo_conflicts = []
    record.warnings = [*record.warnings, *conflicts]
    record.save()
    return record


def discard_import(record: ImportRecord, *, by) -> ImportRecord:
    if record.state in (ImportState.APPLIED, ImportState.UNDONE):
        raise ValidationError("An applied import cannot be discarded; undo it instead.")
    record.state = ImportState.DISCARDED
    record.content = b""
    record.save(update_fields=["state", "content"])
    record.rows.all().delete()
    return record


@transaction.atomic
def undo_import(record: ImportRecord, *, by) -> ImportRecord:
    record = ImportRecord.objects.select_for_update().get(pk=record.pk)
    if record.state not in (ImportState.APPLIED, ImportState.UNDOING):
        raise ValidationError("Only an applied import can be undone.")
    reason = f"Undo of {record.history_reason}"
    conflicts = _remove_created(record, by=by, reason=reason)
    conflicts += _restore_updated(record, by=by, reason=reason)
    record.state = ImportState.UNDONE
    record.undone_at = timezone.now()
    record.undone_by = by
    record.undo_conflicts = conflicts
    record.save()
    return record


# --- applying -------------------------------------------------------------------------------


def _sectors_for(record) -> dict[str, Sector]:
    """Sectors by folded key: the known ones, plus those the person chose to create or map."""
    sectors = {}
    for sector in Sector.objects.all():
        sectors.setdefault(sector_key(sector.slug), sector)
        sectors[sector_key(sector.name)] = sector
    by_pk = {str(s.pk): s for s in sectors.values()}
    used = {
        key
        for keys in record.rows.filter(action__in=[CREATE, UPDATE]).values_list(
            "sector_keys", flat=True
        )
        for key in keys
    }
    for key, choice in record.sector_choices.items():
        if choice == "create" and key not in sectors and key in used:
            name = record.unknown_sectors.get(key, key).strip()[:80]
            sectors[key] = Sector.objects.create(name=name, slug=_free_slug(name))
        elif choice in by_pk:
            sectors[key] = by_pk[choice]
    return sectors


def _free_slug(name):
    base = slugify(name)[:70] or "sector"
    slug, n = base, 2
    while Sector.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _create_people(record, sectors, *, by) -> int:
    rows = list(record.rows.filter(action=CREATE).order_by("number"))
    people = []
    for row in rows:
        member = Member(
            **_person_values(row.values),
            note=row.note,
            added_by=by,
            imported_from=record,
        )
        member.refresh_derived_fields()
        people.append(member)
    people = bulk_create_with_history(
        people,
        Member,
        batch_size=BATCH,
        default_user=by,
        default_change_reason=record.history_reason,
    )
    links = Member.sectors.through
    links.objects.bulk_create(
        [
            links(member_id=member.pk, sector_id=sectors[key].pk)
            for row, member in zip(rows, people, strict=True)
            for key in dict.fromkeys(row.sector_keys)
            if key in sectors
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    snapshot_sectors_in_history([member.pk for member in people])
    for row, member in zip(rows, people, strict=True):
        row.member = member
    ImportRow.objects.bulk_update(rows, ["member"], batch_size=BATCH)
    return len(people)


def _update_people(record, sectors, *, by) -> tuple[int, list[str]]:
    """Apply each row's planned changes, unless the value moved since the preview."""
    rows = list(record.rows.filter(action=UPDATE).select_related("member").order_by("number"))
    rows = [row for row in rows if row.member is not None]
    current_sectors = _sector_ids_by_member([row.member_id for row in rows])
    touched, fields, new_links, conflicts = [], set(), [], []
    for row in rows:
        member = row.member
        applied = {}
        for name, (old, new) in row.changes.items():
            if name == "sectors":
                added = []
                for key in row.sector_keys:
                    sector = sectors.get(key)
                    if sector and sector.pk not in current_sectors[member.pk]:
                        added.append(sector.pk)
                        current_sectors[member.pk].add(sector.pk)
                new_links += [(member.pk, pk) for pk in added]
                # The ids it added, for an undo; the names before and after are for people.
                applied[name] = (old, new, added)
                continue
            if as_text(getattr(member, name)) != old:
                conflicts.append(
                    f"Row {row.number}: {member}'s {_label(name)} changed after the preview; "
                    "kept their value."
                )
                continue
            setattr(member, name, _typed(name, new))
            fields.add(name)
            applied[name] = (old, new)
        row.changes = {k: list(v) for k, v in applied.items()}
        if applied:
            member.version += 1
            member.updated_at = timezone.now()  # auto_now needs save(); this is a bulk write
            touched.append(member)
        else:
            row.action = SKIP
            row.reasons = [*row.reasons, "changed after the preview; nothing applied"]
    if fields:
        bulk_update_with_history(
            touched,
            Member,
            [*fields, "version", "updated_at"],
            by=by,
            reason=record.history_reason,
        )
    elif touched:  # only sectors changed: history still records the new set
        bulk_update_with_history(touched, Member, ["version"], by=by, reason=record.history_reason)
    links = Member.sectors.through
    links.objects.bulk_create(
        [links(member_id=m, sector_id=s) for m, s in new_links], batch_size=BATCH
    )
    snapshot_sectors_in_history([member.pk for member in touched])
    ImportRow.objects.bulk_update(rows, ["changes", "action", "reasons"], batch_size=BATCH)
    return len(touched), conflicts


def _person_values(values) -> dict:
    return {name: _typed(name, values.get(name, "")) for name in IMPORTED_FIELDS}


def _typed(name, value):
    if name == "joined_on":
        return dt.date.fromisoformat(value) if value else None
    if name == "note":
        return value
    return value or ""


def _json(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _label(name):
    return str(Member._meta.get_field(name).verbose_name)


def _sector_ids_by_member(member_ids) -> dict[int, set[int]]:
    found = {pk: set() for pk in member_ids}
    links = Member.sectors.through.objects.filter(member_id__in=member_ids)
    for member_id, sector_id in links.values_list("member_id", "sector_id"):
        found[member_id].add(sector_id)
    return found


def _set_progress(record, done):
    record.processed_rows = done
    ImportRecord.objects.filter(pk=record.pk).update(processed_rows=done)


# --- undoing -------------------------------------------------------------------------------


def _remove_created(record, *, by, reason) -> list[str]:
    """Delete the people the import created, unless anyone has touched them since."""
    people = list(Member.objects.filter(imported_from=record))
    versions = dict(
        Member.history.filter(id__in=[m.pk for m in people])
        .values("id")
        .annotate(n=Count("history_id"))
        .values_list("id", "n")
    )
    kept, removable = [], []
    for member in people:
        if versions.get(member.pk, 0) > 1 or _has_related_records(member):
            kept.append(f"{member} was edited or given records after the import; kept.")
        else:
            removable.append(member)
    for member in removable:
        member._history_user = by
        member._change_reason = reason
        member.delete()
    return kept


def _has_related_records(member) -> bool:
    """Check-ins, alignments, invitations...: anything that points at the person.

    Read from the model's relations, so members does not need to know cores' models.
    """
    for relation in Member._meta.related_objects:
        model = relation.related_model
        if (
            not relation.one_to_many
            or model is ImportRow
            or model.__name__.startswith("Historical")
        ):
            continue
        if model._base_manager.filter(**{relation.field.name: member}).exists():
            return True
    return False


def _restore_updated(record, *, by, reason) -> list[str]:
    rows = record.rows.filter(action=UPDATE).exclude(member=None).select_related("member")
    conflicts = []
    for row in rows:
        member = row.member
        restored = []
        for name, (old, new, *added) in row.changes.items():
            if name == "sectors":
                member.sectors.remove(*added[0])
                restored.append(name)
                continue
            if as_text(getattr(member, name)) != new:
                conflicts.append(
                    f"Row {row.number}: {member}'s {_label(name)} was changed after the "
                    "import; kept the newer value."
                )
                continue
            setattr(member, name, _typed(name, old))
            restored.append(name)
        if restored:
            member.version += 1
            member._history_user = by
            member._change_reason = reason
            member.save()
    return conflicts


def rejected_rows(record):
    return record.rows.filter(action=REJECT).order_by("number")


def counts_by_action(record) -> dict[str, int]:
    counted = dict(
        record.rows.values_list("action").annotate(n=Count("pk")).values_list("action", "n")
    )
    return {action: counted.get(action, 0) for action in (CREATE, UPDATE, SKIP, REJECT)}
