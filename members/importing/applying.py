"""Record, preview, apply and undo an import. Each step is one named, attributed function.

start_import    reads the upload and guesses the column mapping (nothing about people yet)
preview_import  plans every row and stores the plan as ImportRow records
decide_rows     stores what a person decided for each possible duplicate (held row)
apply_import    writes the stored plan in one transaction; history says "Import #N"
undo_import     removes the people it created and restores the fields it changed,
                except where someone edited them since: those are listed, not overwritten
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext

from members.history import (
    bulk_create_with_history,
    bulk_update_with_history,
    copy_rows,
)
from members.importing.bulk import insert_rows, update_rows
from members.importing.columns import guess_mapping, mapping_errors
from members.importing.planning import (
    ACTIONS,
    ADD,
    CREATE,
    DECISIONS,
    HOLD,
    IMPORTED_FIELDS,
    REJECT,
    SKIP,
    UPDATE,
    decision_choices,
    plan_import,
)
from members.importing.reading import UnreadableFile, read_sheet, sheet_of
from members.importing.retention import keep_only_what_undo_needs
from members.importing.values import as_text, sector_key
from members.merging import join_texts
from members.models import ImportRecord, ImportRow, ImportState, Member, Sector
from members.services import snapshot_sectors_in_history
from members.text import clean_text

BATCH = 2000


def start_import(*, filename: str, content: bytes, by) -> ImportRecord:
    """Keep the upload, read once, and a first guess at its columns. Raises UnreadableFile.

    The sheet as read (ImportRecord.sheet) is what every later step uses; the file is
    not parsed again.
    """
    sheet = read_sheet(filename, content)
    return ImportRecord.objects.create(
        filename=clean_text(filename).strip()[:255] or "upload",
        uploaded_by=by,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        sheet=sheet.as_json(),
        headers=sheet.headers,
        mapping=guess_mapping(sheet.headers),
        total_rows=len(sheet.rows),
    )


def choose_header_row(record: ImportRecord, *, header_row: int, by) -> ImportRecord:
    """Read the kept sheet with `header_row` (a row number of the file) as its header.

    The columns are guessed afresh and any preview is dropped: its columns were others.
    Raises UnreadableFile when that row is empty, not in the file or has no rows below
    it, and ValidationError once the import is past choosing columns.
    """
    if record.state not in (ImportState.UPLOADED, ImportState.PREVIEWED):
        raise _import_is(record.get_state_display())
    sheet = sheet_of(record, header_row=header_row)
    if not sheet.rows:
        raise UnreadableFile(
            gettext("Row %(row)s has no people below it; choose another row.") % {"row": header_row}
        )
    with transaction.atomic():
        record.rows.all().delete()
        record.sheet = sheet.as_json()
        record.headers = sheet.headers
        record.mapping = guess_mapping(sheet.headers)
        record.total_rows = len(sheet.rows)
        record.processed_rows = 0
        record.counts = {}
        record.warnings = []
        record.state = ImportState.UPLOADED
        record.save(
            update_fields=[
                "sheet",
                "headers",
                "mapping",
                "total_rows",
                "processed_rows",
                "counts",
                "warnings",
                "state",
            ]
        )
    return record


def preview_import(record: ImportRecord, *, mapping=None, sector_choices=None) -> ImportRecord:
    """Plan every row with `mapping` and store the plan; writes no person."""
    mapping = list(mapping if mapping is not None else record.mapping)
    errors = mapping_errors(record.headers, mapping)
    if errors:
        raise ValidationError({"mapping": errors})
    if record.state not in (ImportState.UPLOADED, ImportState.PREVIEWED, ImportState.PLANNING):
        raise _import_is(record.get_state_display())
    choices = record.sector_choices if sector_choices is None else sector_choices
    sheet = sheet_of(record)

    def progress(done):
        _set_progress(record, done)

    plan = plan_import(sheet, mapping, sector_choices=choices, progress=progress)
    with transaction.atomic():
        decided = _decisions_so_far(record)
        # Written only if nothing (an apply, a discard) took the import since it was read;
        # the claim holds the row until this preview commits.
        if not change_state(record, expected=PREVIEWABLE, to=ImportState.PLANNING):
            raise ValidationError(
                gettext("This import is %(state)s; the preview was not kept.")
                % {"state": _state_now(record).label.lower()},
                code="state",
            )
        record.rows.all().delete()
        insert_rows(
            ImportRow,
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
                    evidence=row.evidence,
                    decision=decided.get(
                        (row.number, row.member.pk if row.member else None, row.duplicate_row),
                        "",
                    )
                    if row.action == HOLD
                    else "",
                )
                for row in plan.rows
            ],
        )
        record.mapping = mapping
        record.sector_choices = {key: choices.get(key, "create") for key in plan.unknown_sectors}
        record.unknown_sectors = plan.unknown_sectors
        record.warnings = [*sheet.notices, *plan.warnings]
        record.counts = {**plan.counts, "changed_fields": plan.changed_fields}
        record.processed_rows = len(plan.rows)
        record.state = ImportState.PREVIEWED
        record.save()
    return record


def _decisions_so_far(record) -> dict[tuple, str]:
    """Decisions on held rows, kept across a new preview while the row still points at
    the same person or earlier row: changing a sector choice must not lose them."""
    return {
        (number, member_id, duplicate_row): decision
        for number, member_id, duplicate_row, decision in record.rows.filter(action=HOLD)
        .exclude(decision="")
        .values_list("number", "member_id", "duplicate_row", "decision")
    }


class UndecidedRows(ValidationError):
    """Possible duplicates are still waiting for a decision; nothing was written."""


@transaction.atomic
def decide_rows(record: ImportRecord, decisions: dict[int, str], *, by) -> int:
    """Store a decision ("add", "update", "skip" or "" for undecided) per held row.

    `decisions` maps ImportRow pks of this record's held rows to a decision; rows of
    other records, rows not held and decisions a row does not offer (planning.
    decision_choices: "add" is not offered for an email someone already has) raise
    ValidationError naming the row, and nothing is stored. Returns how many rows changed.
    Only a previewed import takes decisions.
    """
    # Locked, so an apply that has begun cannot carry out half of these decisions.
    state = (
        ImportRecord.objects.select_for_update()
        .filter(pk=record.pk)
        .values_list("state", flat=True)
        .get()
    )
    if state != ImportState.PREVIEWED:
        raise ValidationError(
            gettext("Decisions are taken before importing; this import is %(state)s.")
            % {"state": ImportState(state).label.lower()},
            code="state",
        )
    rows = {
        row.pk: row
        for row in record.rows.filter(action=HOLD, pk__in=list(decisions)).select_related("member")
    }
    changed = []
    for pk, decision in decisions.items():
        row = rows.get(pk)
        if row is None:
            raise ValidationError(
                gettext("Row #%(row)s is not a possible duplicate of this import.") % {"row": pk},
                code="not_held",
            )
        allowed = [value for value, _ in decision_choices(row)]
        if decision and decision not in allowed:
            raise ValidationError(
                gettext("Row %(row)s: “%(decision)s” is not possible here; choose %(allowed)s.")
                % {"row": row.number, "decision": decision, "allowed": ", ".join(allowed)},
                code="not_allowed",
            )
        if row.decision != decision:
            row.decision = decision
            changed.append(row)
    ImportRow.objects.bulk_update(changed, ["decision"], batch_size=BATCH)
    return len(changed)


def decide_undecided(record: ImportRecord, decision: str, *, by) -> int:
    """Give every undecided held row `decision` ("add" or "skip"), where the row offers it.

    Rows that do not offer it ("add" for an email someone already has) stay undecided.
    Returns how many rows were decided.
    """
    undecided = record.rows.filter(action=HOLD, decision="").select_related("member")
    decisions = {
        row.pk: decision
        for row in undecided
        if decision in [value for value, _ in decision_choices(row)]
    }
    return decide_rows(record, decisions, by=by)


def _carry_out_decisions(record, *, undecided) -> int:
    """Turn decided held rows into the create, update or skip they were decided to be.

    `undecided` says what to do with held rows nobody decided: "refuse" raises
    UndecidedRows; "hold" leaves them held, not imported, and listed. Returns how many
    rows stay held.
    """
    held = record.rows.filter(action=HOLD)
    waiting = held.filter(decision="").count()
    if waiting and undecided == "refuse":
        raise UndecidedRows(
            f"{waiting} possible duplicate{'s' if waiting != 1 else ''} still "
            f"need{'s' if waiting == 1 else ''} a decision: add as a new person, update "
            "the person already here, or skip."
        )
    # What an update would have changed no longer applies to a row added or skipped.
    held.filter(decision=ADD).update(action=CREATE, changes={})
    held.filter(decision=SKIP).update(action=SKIP, changes={})
    # An update that changes nothing is a skip: the person is already up to date.
    updates = list(held.filter(decision=UPDATE).only("pk", "changes"))
    for action in (UPDATE, SKIP):
        pks = [row.pk for row in updates if bool(row.changes) == (action == UPDATE)]
        if pks:
            ImportRow.objects.filter(pk__in=pks).update(action=action)
    return waiting


@transaction.atomic
def apply_import(record: ImportRecord, *, by, undecided: str = "refuse") -> ImportRecord:
    """Write the previewed plan: all of it, or (on any error) none of it.

    Held rows (possible duplicates) become what a person decided for them. `undecided`:
    "refuse" (the page) raises UndecidedRows while any held row has no decision; "hold"
    (the command line's default) imports the rest and leaves those rows held and listed.
    """
    # The claim (change_state): of two applies, the second finds the state moved.
    if not change_state(record, expected=APPLICABLE, to=ImportState.APPLYING, error=""):
        raise ValidationError(
            gettext("Only a previewed import can be applied; this one is %(state)s.")
            % {"state": _state_now(record).label.lower()},
            code="state",
        )
    record = ImportRecord.objects.get(pk=record.pk)
    _carry_out_decisions(record, undecided=undecided)
    sectors = _sectors_for(record)
    _create_people(record, sectors, by=by)
    _updated, conflicts = _update_people(record, sectors, by=by)
    keep_only_what_undo_needs(record)
    record.state = ImportState.APPLIED
    record.applied_at = timezone.now()
    record.content = b""  # the file has done its job; do not keep a copy of the list
    record.sheet = {}
    record.counts = {**record.counts, **counts_by_action(record)}
    record.undo_conflicts = []
    record.warnings = [*record.warnings, *conflicts]
    record.save()
    return record


def discard_import(record: ImportRecord, *, by) -> ImportRecord:
    """Drop an import that was not applied: its file, its sheet and its planned rows.

    Guarded like every state change (change_state): an import being applied or undone,
    or applied since the page was loaded, raises ValidationError and is left as it is.
    """
    if not change_state(record, expected=DISCARDABLE, to=ImportState.DISCARDED):
        state = _state_now(record)
        if state in (ImportState.APPLIED, ImportState.UNDONE):
            raise ValidationError(
                gettext("An applied import cannot be discarded; undo it instead."), code="state"
            )
        raise ValidationError(
            gettext("This import is %(state)s; it cannot be discarded.")
            % {"state": state.label.lower()},
            code="state",
        )
    record.state = ImportState.DISCARDED
    record.content = b""
    record.sheet = {}
    record.save(update_fields=["state", "content", "sheet"])
    record.rows.all().delete()
    return record


@transaction.atomic
def undo_import(record: ImportRecord, *, by) -> ImportRecord:
    """Remove the people the import created and restore the fields it changed, as `by`.

    The import is claimed first (APPLIED, or UNDOING once a request handed it to the
    worker, to UNDOING in one guarded UPDATE: change_state), so of two undos only one runs:
    the other raises ValidationError and changes nothing. Each person is locked before it
    is compared and saved with only the fields restored, so a colleague's edit made in
    between is kept, never overwritten; what could not be restored is listed in
    undo_conflicts. All of it happens in one transaction, or none.
    """
    refuse_undo_without_row_data(record)
    if not change_state(record, expected=UNDOABLE, to=ImportState.UNDOING):
        raise ValidationError(
            gettext("Only an applied import can be undone; this one is %(state)s.")
            % {"state": _state_now(record).label.lower()},
            code="state",
        )
    record = ImportRecord.objects.defer("content").get(pk=record.pk)
    # Checked again once claimed: a purge that committed in between has deleted the rows.
    refuse_undo_without_row_data(record)
    reason = f"Undo of {record.history_reason}"
    conflicts = _remove_created(record, by=by, reason=reason)
    conflicts += _restore_updated(record, by=by, reason=reason)
    record.state = ImportState.UNDONE
    record.undone_at = timezone.now()
    record.undone_by = by
    record.undo_conflicts = conflicts
    record.save(update_fields=["state", "undone_at", "undone_by", "undo_conflicts"])
    return record


def refuse_undo_without_row_data(record: ImportRecord) -> None:
    """Raise ValidationError when the import's row data was deleted (retention): what the
    updates replaced is gone, so an undo could only half happen."""
    deleted = (
        ImportRecord.objects.filter(pk=record.pk)
        .values_list("row_data_deleted_at", flat=True)
        .first()
    )
    if deleted:
        raise ValidationError(
            gettext(
                "This import can no longer be undone: its row data was deleted on %(date)s, "
                "%(days)s days after it finished, as every import's is."
            )
            % {
                "date": date_format(timezone.localtime(deleted), "DATE_FORMAT"),
                "days": settings.IMPORT_ROW_DATA_DAYS,
            },
            code="row_data_deleted",
        )


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
    rows = list(
        record.rows.filter(action=CREATE)
        .order_by("number")
        .only("pk", "values", "note", "sector_keys")
    )
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
    people = bulk_create_with_history(people, Member, by=by, reason=record.history_reason)
    links = Member.sectors.through
    # Two keys of a row can name one sector (its name and its slug): one link each.
    pairs = dict.fromkeys(
        (member.pk, sectors[key].pk)
        for row, member in zip(rows, people, strict=True)
        for key in row.sector_keys
        if key in sectors
    )
    # The same rows, as plain tuples: a model instance per link cost more than the writing.
    copy_rows(links, ["member_id", "sector_id"], list(pairs))
    snapshot_sectors_in_history([member.pk for member in people])
    for row, member in zip(rows, people, strict=True):
        row.member = member
    update_rows(ImportRow, rows, ["member"], batch_size=BATCH)
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
                    gettext(
                        "Row %(row)s: %(person)s's %(field)s changed after the preview; "
                        "kept their value."
                    )
                    % {"row": row.number, "person": member, "field": _label(name)}
                )
                continue
            setattr(member, name, _typed(name, new))
            fields.add(name)
            applied[name] = (old, new)
        _keep_replaced_contacts(member, applied, record)
        if "note" in applied:
            fields.add("note")
        row.changes = {k: list(v) for k, v in applied.items()}
        if applied:
            member.version += 1
            member.updated_at = timezone.now()  # auto_now needs save(); this is a bulk write
            touched.append(member)
        else:
            row.action = SKIP
            row.reasons = [*row.reasons, gettext("changed after the preview; nothing applied")]
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
    update_rows(ImportRow, rows, ["changes", "action", "reasons"], batch_size=BATCH)
    return len(touched), conflicts


def _keep_replaced_contacts(member, applied, record) -> None:
    """An email or phone the update replaced goes into the person's notes, as a merge does.

    Choosing "update <person>" for a row with another address must not lose the one on
    file: the person may be reached at both. `applied` (field -> (old, new)) gains the note's
    change, so undo restores the note too.
    """
    replaced = [
        f"{_label(name)} {applied[name][0]}"
        for name in ("email", "phone")
        if name in applied and applied[name][0]
    ]
    if not replaced:
        return
    before = applied["note"][0] if "note" in applied else as_text(member.note)
    member.note = join_texts(
        member.note, f"Also reached at (before import #{record.pk}): {'; '.join(replaced)}"
    )
    applied["note"] = (before, member.note)


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


def _import_is(state) -> ValidationError:
    return ValidationError(
        gettext("This import is %(state)s.") % {"state": str(state).lower()}, code="state"
    )


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
    # Locked before the checks: an edit or a new check-in waits, or has landed and is seen.
    people = list(Member.objects.select_for_update().filter(imported_from=record).order_by("pk"))
    versions = dict(
        Member.history.filter(id__in=[m.pk for m in people])
        .values("id")
        .annotate(n=Count("history_id"))
        .values_list("id", "n")
    )
    kept, removable = [], []
    for member in people:
        links = _links_to(member)
        if links:
            kept.append(
                f"{member} was linked to {', '.join(links)} after the import; kept, not deleted."
            )
        elif versions.get(member.pk, 0) > 1:
            kept.append(f"{member} was edited after the import; kept, not deleted.")
        else:
            removable.append(member)
    for member in removable:
        member._history_user = by
        member._change_reason = reason
        member.delete()
    return kept


def _links_to(member) -> list[str]:
    """What points at the person, by kind ("core group", "check-in", ...): anything that
    deleting them would delete or unlink, many-to-many links (a core's members) included.

    Read from the model's relations (Member._meta.related_objects: every foreign key,
    one-to-one and many-to-many that names Member), so members does not need to know cores'
    models, and a relation added later counts without a change here. The import's own rows
    and the history tables are not links.
    """
    found = []
    for relation in Member._meta.related_objects:
        model = relation.related_model
        if model is ImportRow or model.__name__.startswith("Historical"):
            continue
        if model._base_manager.filter(**{relation.field.name: member}).exists():
            name = str(model._meta.verbose_name)
            if name not in found:
                found.append(name)
    return found


def _restore_updated(record, *, by, reason) -> list[str]:
    """Put back each field the import changed, unless it was changed again since.

    The people are locked (in pk order, as every undo takes them) before their values are
    compared, and saved with only the restored fields: an edit of another field made
    before the lock is kept, and one made after it waits for this transaction.
    """
    rows = list(record.rows.filter(action=UPDATE).exclude(member=None).order_by("number"))
    people = {
        member.pk: member
        for member in Member.objects.select_for_update()
        .filter(pk__in={row.member_id for row in rows})
        .order_by("pk")
    }
    conflicts = []
    for row in rows:
        member = people[row.member_id]
        restored = []
        for name, (old, new, *added) in row.changes.items():
            if name == "sectors":
                member.sectors.remove(*added[0])
                restored.append(name)
                continue
            if as_text(getattr(member, name)) != new:
                conflicts.append(
                    gettext(
                        "Row %(row)s: %(person)s's %(field)s was changed after the import; "
                        "kept the newer value."
                    )
                    % {"row": row.number, "person": member, "field": _label(name)}
                )
                continue
            setattr(member, name, _typed(name, old))
            restored.append(name)
        if restored:
            member.version += 1
            member._history_user = by
            member._change_reason = reason
            # Sectors were restored above, link by link; "version" writes the history row.
            member.save(update_fields=[*(n for n in restored if n != "sectors"), "version"])
    return conflicts


def held_counts(record) -> dict[str, int]:
    """Held rows (possible duplicates) by decision: total, undecided, add, update, skip.

    After the import is applied, decided rows have become what was decided; those still
    held were left undecided (the command line's --possible-duplicates=hold). One query.
    """
    counted = dict(
        record.rows.filter(Q(action=HOLD) | ~Q(decision=""))
        .values_list("decision")
        .annotate(n=Count("pk"))
        .values_list("decision", "n")
    )
    found = {"undecided": counted.get("", 0), **{d: counted.get(d, 0) for d in DECISIONS}}
    found["total"] = sum(counted.values())
    return found


# --- state ---------------------------------------------------------------------------------

# The states each step may start from. An import the worker was handed is already in the
# step's own state (APPLYING, UNDOING, PLANNING): the worker's claim finds it there.
PREVIEWABLE = (ImportState.UPLOADED, ImportState.PREVIEWED, ImportState.PLANNING)
APPLICABLE = (ImportState.PREVIEWED, ImportState.APPLYING)
UNDOABLE = (ImportState.APPLIED, ImportState.UNDOING)
DISCARDABLE = (
    ImportState.UPLOADED,
    ImportState.PLANNING,
    ImportState.PREVIEWED,
    ImportState.FAILED,
)


def change_state(record: ImportRecord, *, expected, to: str, **fields) -> bool:
    """Move `record` to state `to` if it is in one of the `expected` states; True if it moved.

    One conditional UPDATE (... WHERE pk = %s AND state IN expected), which also sets
    `fields` (column name -> value). Of two callers racing, exactly one gets True: on
    PostgreSQL the second waits for the first's row lock and then finds the state moved;
    on SQLite writes are serialized. Inside a transaction the row stays locked until it
    ends, so the step that claimed it finishes before anyone else can claim it. Does not
    change the `record` object in memory.
    """
    moved = ImportRecord.objects.filter(pk=record.pk, state__in=list(expected)).update(
        state=to, **fields
    )
    return moved == 1


def _state_now(record) -> ImportState:
    return ImportState(ImportRecord.objects.values_list("state", flat=True).get(pk=record.pk))


def rejected_rows(record):
    return record.rows.filter(action=REJECT).order_by("number")


def counts_by_action(record) -> dict[str, int]:
    counted = dict(
        record.rows.values_list("action").annotate(n=Count("pk")).values_list("action", "n")
    )
    return {action: counted.get(action, 0) for action in ACTIONS}
