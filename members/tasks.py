"""Background work: large imports run in the database-backed task worker (db_worker).

A row count above BACKGROUND_ROWS goes to the worker so the request returns at once and
the import page shows progress; smaller files are handled within the request.

Every state change is one guarded transition (applying.change_state: a conditional UPDATE
that only one caller wins). The request claims the import (PREVIEWED -> APPLYING,
APPLIED -> UNDOING, ... -> PLANNING) and hands it to the worker only if it won, so a second
click finds the state moved, is told so, and queues nothing. The task works only on an
import still in the state its request left it in, and its own step claims it again: a
task run twice does its work once. A task that fails moves the import on only from that
state, so it can never mark an import that another run finished as failed, nor flip an
undone import back to applied.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext_lazy as _

from members.importing import applying, retention
from members.models import ImportRecord, ImportState

BACKGROUND_ROWS = 1000


@task
def preview_import_task(record_id: int, mapping: list[str], sector_choices: dict) -> None:
    """Plan a large import a request marked PLANNING; nothing if it is no longer planning."""
    record = ImportRecord.objects.get(pk=record_id)
    if record.state != ImportState.PLANNING:
        return  # discarded meanwhile, or already planned by another run
    try:
        applying.preview_import(record, mapping=mapping, sector_choices=sector_choices)
    except Exception as error:
        _moved_on_failure(record, ImportState.PLANNING, ImportState.FAILED, _describe(error))
        raise


@task
def apply_import_task(record_id: int, user_id: int, options: dict | None = None) -> None:
    """Apply an import a request queued (APPLYING) as the user; nothing if it is not queued.

    `options` are apply_import's keyword arguments. A refusal (ValidationError: the plan
    cannot be applied as it stands) writes nothing and puts the import back to previewed
    with the reason; any other error marks it failed. Either only if this run owned it.
    """
    record = ImportRecord.objects.get(pk=record_id)
    if record.state != ImportState.APPLYING:
        return  # applied by another run already, or never queued: not this task's to do
    user = get_user_model().objects.get(pk=user_id)
    try:
        applying.apply_import(record, by=user, **(options or {}))
    except ValidationError as refusal:
        _moved_on_failure(
            record, ImportState.APPLYING, ImportState.PREVIEWED, " ".join(refusal.messages)
        )
    except Exception as error:
        _moved_on_failure(record, ImportState.APPLYING, ImportState.FAILED, _describe(error))
        raise


@task
def undo_import_task(record_id: int, user_id: int) -> None:
    """Undo an import a request queued (UNDOING) as the user; nothing if it is not queued."""
    record = ImportRecord.objects.get(pk=record_id)
    if record.state != ImportState.UNDOING:
        return  # undone by another run already: a second undo must not touch it
    user = get_user_model().objects.get(pk=user_id)
    try:
        applying.undo_import(record, by=user)
    except Exception as error:
        # The undo rolled back whole: the import still stands, and says why.
        _moved_on_failure(
            record, ImportState.UNDOING, ImportState.APPLIED, f"Undo failed: {_describe(error)}"
        )
        if not isinstance(error, ValidationError):
            raise


def run_preview(record, *, mapping, sector_choices) -> ImportRecord:
    """Preview now, or claim the import for the worker (PLANNING) and queue it.

    A large import that something else took meanwhile (an apply, a discard) is returned
    as it now is, and nothing is queued.
    """
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.preview_import(record, mapping=mapping, sector_choices=sector_choices)
    claimed = applying.change_state(
        record,
        expected=(ImportState.UPLOADED, ImportState.PREVIEWED),
        to=ImportState.PLANNING,
        mapping=list(mapping),
        processed_rows=0,
    )
    if claimed:
        transaction.on_commit(
            lambda: preview_import_task.enqueue(record.pk, list(mapping), dict(sector_choices))
        )
    record.refresh_from_db()
    return record


def run_apply(record, *, by, **options) -> ImportRecord:
    """Apply now, or claim the import for the worker (APPLYING) and queue it.

    `options` go to applying.apply_import. Raises ValidationError, and queues nothing, when
    the import is not previewed: a second click on "Import" finds it applying or applied.
    """
    # Retention runs here too (a POST), not only from the daily command: a site whose cron
    # was never set up still deletes old row data; a page load (a GET) writes nothing.
    retention.purge_row_data()
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.apply_import(record, by=by, **options)
    if not applying.change_state(
        record, expected=(ImportState.PREVIEWED,), to=ImportState.APPLYING, error=""
    ):
        record.refresh_from_db()
        raise ValidationError(
            _("Only a previewed import can be applied; this one is %(state)s."),
            code="not_previewed",
            params={"state": record.get_state_display().lower()},
        )
    transaction.on_commit(lambda: apply_import_task.enqueue(record.pk, by.pk, dict(options)))
    record.refresh_from_db()
    return record


def run_undo(record, *, by) -> ImportRecord:
    """Undo now, or claim the import for the worker (UNDOING) and queue it.

    Raises ValidationError, and queues nothing, when the import is not applied: a second
    click on "Undo" finds it undoing or undone.
    """
    retention.purge_row_data()  # as run_apply does; an import past retention is refused
    applying.refuse_undo_without_row_data(record)
    if record.total_rows <= BACKGROUND_ROWS:
        return applying.undo_import(record, by=by)
    if not applying.change_state(
        record, expected=(ImportState.APPLIED,), to=ImportState.UNDOING, error=""
    ):
        record.refresh_from_db()
        raise ValidationError(
            _("Only an applied import can be undone; this one is %(state)s."),
            code="not_applied",
            params={"state": record.get_state_display().lower()},
        )
    transaction.on_commit(lambda: undo_import_task.enqueue(record.pk, by.pk))
    record.refresh_from_db()
    return record


def _moved_on_failure(record, claimed: str, to: str, error: str) -> bool:
    # The step's own transaction has rolled back; say so on the record, but only if the
    # import is still in the state this run claimed it in.
    return applying.change_state(record, expected=(claimed,), to=to, error=error)


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{type(error).__name__}: {error}"
