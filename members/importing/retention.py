"""What an import keeps, and for how long.

An applied import keeps what it needs to undo and to explain itself, per row: the outcome
and its reasons, the values it wrote (a created person's fields; an update's changes, each
with the value it replaced), and for a rejected row its cells in the columns that were
mapped (to download, fix and upload again). The file, the sheet as read, the cells of
every other row and the columns the person chose to ignore are dropped when it is applied
(keep_only_what_undo_needs).

IMPORT_ROW_DATA_DAYS after an import finished (applied, undone, discarded or failed), its
rows are deleted (purge_row_data): the import keeps its counts, says "row data deleted on
<date>", and can no longer be undone. Imports still open (uploaded, being previewed,
previewed with decisions on possible duplicates pending, being applied or undone) keep
everything until they are finished.

purge_row_data runs daily from `manage.py purge_import_data`, and before each apply and
undo (members.tasks.run_apply, run_undo: POSTs), so a site whose cron was never set up
still purges, while a page load (a GET) writes nothing.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.importing.bulk import update_rows
from members.importing.planning import CREATE, REJECT
from members.models import ImportRecord, ImportRow, ImportState

FINISHED = (ImportState.APPLIED, ImportState.UNDONE, ImportState.DISCARDED, ImportState.FAILED)
BATCH = 2000


def keep_only_what_undo_needs(record: ImportRecord) -> None:
    """Drop an applied import's raw rows, keeping per row what undo and the page need.

    Kept: action, reasons, errors, evidence, decision, the person, changes (old and new
    value of each field an update wrote); a created row's values and note (what it wrote);
    a rejected row's cells in mapped columns. Other rows keep only the name (to list
    them); the cells of ignored columns go everywhere. Call inside apply's transaction.
    """
    mapped = [bool(target) for target in record.mapping]
    record.rows.exclude(action=REJECT).update(cells=[])
    rows = record.rows.exclude(action=CREATE).only("pk", "action", "cells", "values", "note")
    trimmed = []
    for row in rows.iterator(chunk_size=BATCH):
        if row.action == REJECT:
            row.cells = [
                cell if index < len(mapped) and mapped[index] else ""
                for index, cell in enumerate(row.cells)
            ]
        row.values = {"name": row.values.get("name", "")}
        row.note = ""
        trimmed.append(row)
        if len(trimmed) >= BATCH:
            update_rows(ImportRow, trimmed, ["cells", "values", "note"])
            trimmed = []
    update_rows(ImportRow, trimmed, ["cells", "values", "note"])


def row_data_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Imports finished before this lose their row data (settings.IMPORT_ROW_DATA_DAYS)."""
    return (now or timezone.now()) - dt.timedelta(days=settings.IMPORT_ROW_DATA_DAYS)


def purge_row_data(*, now: dt.datetime | None = None) -> int:
    """Delete the rows of every import finished more than IMPORT_ROW_DATA_DAYS ago.

    "Finished" is the last of created, applied and undone, for an import in a FINISHED
    state; open imports are never touched. Each import is claimed by one conditional
    UPDATE (still finished, not yet purged), so an undo that claimed it first keeps its
    rows, and an undo that comes after finds row_data_deleted_at set and refuses. The
    file and sheet, if any, go too; the counts stay. Returns how many imports were purged.
    """
    now = now or timezone.now()
    due = (
        ImportRecord.objects.filter(state__in=FINISHED, row_data_deleted_at=None)
        .annotate(finished=Coalesce(F("undone_at"), F("applied_at"), F("created_at")))
        .filter(finished__lt=row_data_cutoff(now))
        .values_list("pk", flat=True)
    )
    purged = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = ImportRecord.objects.filter(
                pk=pk, state__in=FINISHED, row_data_deleted_at=None
            ).update(row_data_deleted_at=now, content=b"", sheet={}, warnings=[], undo_conflicts=[])
            if claimed:
                ImportRow.objects.filter(record_id=pk).delete()
                purged += 1
    return purged
