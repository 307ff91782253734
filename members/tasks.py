"""Background work: large imports run in the database-backed task worker (db_worker).

A row count above BACKGROUND_ROWS goes to the worker so the request returns at once and
the import page shows progress; smaller files are handled within the request.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.tasks import task

from members.importing import applying
from members.models import ImportRecord, ImportState

BACKGROUND_ROWS = 1000


@task
def preview_import_task(record_id: int, mapping: list[str], sector_choices: dict) -> None:
    record = ImportRecord.objects.get(pk=record_id)
    try:
        applying.preview_import(record, mapping=mapping, sector_choices=sector_choices)
    except Exception as error:
        _fail(record, error)
        raise


@task
def apply_import_task(record_id: int, user_id: int) -> None:
    record = ImportRecord.objects.get(pk=record_id)
    user = get_user_model().objects.get(pk=user_id)
    try:
        applying.apply_import(record, by=user)
    except Exception as error:
        _fail(record, error)
        raise


@task
def undo_import_task(record_id: int, user_id: int) -> None:
    record = ImportRecord.objects.get(pk=record_id)
    user = get_user_model().objects.get(pk=user_id)
    try:
        applying.undo_import(record, by=user)
    except Exception as error:
        # The undo rolled back whole: the import still stands, and says why.
        ImportRecord.objects.filter(pk=record_id).update(
            state=ImportState.APPLIED, error=f"Undo failed: {type(error).__name__}: {error}"
        )
        raise


def run_preview(record, *, mapping, sector_choices) -> ImportRecord:
    """Preview now, or hand a large file to the worker and mark it as planning."""
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.preview_import(record, mapping=mapping, sector_choices=sector_choices)
    record.state = ImportState.PLANNING
    record.mapping = mapping
    record.processed_rows = 0
    record.save(update_fields=["state", "mapping", "processed_rows"])
    transaction.on_commit(
        lambda: preview_import_task.enqueue(record.pk, list(mapping), dict(sector_choices))
    )
    return record


def run_apply(record, *, by) -> ImportRecord:
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.apply_import(record, by=by)
    ImportRecord.objects.filter(pk=record.pk, state=ImportState.PREVIEWED).update(
        state=ImportState.APPLYING
    )
    transaction.on_commit(lambda: apply_import_task.enqueue(record.pk, by.pk))
    record.refresh_from_db()
    return record


def run_undo(record, *, by) -> ImportRecord:
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.undo_import(record, by=by)
    ImportRecord.objects.filter(pk=record.pk, state=ImportState.APPLIED).update(
        state=ImportState.UNDOING
    )
    transaction.on_commit(lambda: undo_import_task.enqueue(record.pk, by.pk))
    record.refresh_from_db()
    return record


def _fail(record, error):
    # The import's own transaction has rolled back; say so on the record.
    ImportRecord.objects.filter(pk=record.pk).update(
        state=ImportState.FAILED, error=f"{type(error).__name__}: {error}"
    )
