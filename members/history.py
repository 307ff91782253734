"""Guards that keep every change to a tracked model in its history."""

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from simple_history import utils as history_utils


class HistoryKeepingQuerySet(models.QuerySet):
    """A QuerySet whose bulk writes refuse to run.

    `update()` and `bulk_update()` write rows without calling `save()`, so
    django-simple-history never sees the change and the audit trail silently loses it.
    Save each object, or call `bulk_update_with_history()` below. Django's own cascades
    (SET_NULL on delete) go through the plain base manager and are unaffected.
    """

    def update(self, **kwargs):
        raise TypeError(
            f"{self.model.__name__}.objects.update() would skip the change history. "
            "Save each object, or use members.history.bulk_update_with_history()."
        )

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError(
            f"{self.model.__name__}.objects.bulk_update() would skip the change history. "
            "Use members.history.bulk_update_with_history()."
        )


def bulk_update_with_history(objs, model, fields, *, by, reason="", batch_size=500):
    """Update many rows at once and write one history row per object, attributed to `by`.

    Derived columns (a model's `DERIVED_FIELDS`, such as Member's search text) are
    recomputed and written too: a bulk write skips the save() that normally keeps them.
    """
    derived = getattr(model, "DERIVED_FIELDS", ())
    if derived:
        for obj in objs:
            obj.refresh_derived_fields()
        fields = list(dict.fromkeys([*fields, *derived]))
    return history_utils.bulk_update_with_history(
        objs,
        model,
        fields,
        batch_size=batch_size,
        default_user=by,
        default_change_reason=reason,
        # The base manager has no guard; history is written right here instead.
        manager=model._base_manager,
    )


# --- bulk writes that keep history, at the speed of the database ---------------------------
#
# An import writes tens of thousands of people and as many history rows. The ORM's
# bulk_create builds one INSERT of thousands of placeholders per batch (most of its time is
# Python compiling that SQL); PostgreSQL's COPY takes the rows as a stream instead, several
# times faster. SQLite has no COPY: there the ORM's bulk writes stay.


def copy_create(model, objs, *, using: str = DEFAULT_DB_ALIAS) -> list:
    """PostgreSQL: insert `objs` (unsaved instances of `model`) with one COPY; returns them.

    Writes what bulk_create writes: every concrete column, each field's pre_save() for an
    insert (auto_now_add, auto_now) and its database value (get_db_prep_save). Missing
    primary keys are taken from the table's own sequence first (one query), set on the
    objects, and the objects are marked saved. No signals, like bulk_create. Raises
    ValueError on another database; psycopg's errors (a NUL in a text, a broken
    constraint) propagate and the transaction fails whole.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ValueError("COPY is PostgreSQL's; use bulk_create on other databases.")
    if not objs:
        return objs
    meta = model._meta
    quote = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    missing = [obj for obj in objs if obj.pk is None]
    with connection.cursor() as cursor:
        if missing:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(missing)],
            )
            for obj, (pk,) in zip(missing, cursor.fetchall(), strict=True):
                setattr(obj, meta.pk.attname, pk)
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        # The raw psycopg cursor's errors, as Django's (IntegrityError...), like execute's.
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for obj in objs:
                copy.write_row(
                    [
                        field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
                        for field in fields
                    ]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def fast_bulk_create(model, objs, *, batch_size: int = 2000) -> list:
    """Insert `objs` and return them with their primary keys: COPY on PostgreSQL
    (copy_create), bulk_create elsewhere. Conflicts raise (no ignore_conflicts)."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return copy_create(model, objs)
    return model._base_manager.bulk_create(objs, batch_size=batch_size)


def bulk_create_with_history(objs, model, *, by, reason: str = "", batch_size: int = 2000):
    """Insert `objs` (unsaved instances of a history-tracked `model`) and one "+" history
    row each, attributed to `by` with change reason `reason`; returns the saved objects.

    The same rows as simple_history's bulk_create_with_history (which SQLite still uses):
    each object's tracked fields, history_date = now (taken per row), history_user = `by`
    unless the object carries its own _history_user, the object's _change_reason if it
    has one. On PostgreSQL both tables are written with COPY (copy_create), in one
    transaction. Many-to-many fields are not written (see snapshot_m2m_in_history).
    """
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return history_utils.bulk_create_with_history(
            objs,
            model,
            batch_size=batch_size,
            default_user=by,
            default_change_reason=reason,
        )
    history = history_utils.get_history_manager_for_model(model).model
    tracked = [field.attname for field in history.tracked_fields]
    with transaction.atomic(savepoint=False):
        copy_create(model, objs)
        rows = []
        for obj in objs:
            row = history(
                history_date=getattr(obj, "_history_date", None) or timezone.now(),
                history_user=getattr(obj, "_history_user", by),
                history_change_reason=history_utils.get_change_reason_from_object(obj) or reason,
                history_type="+",
                **{name: getattr(obj, name) for name in tracked},
            )
            if hasattr(history, "history_relation"):
                row.history_relation_id = obj.pk
            rows.append(row)
        copy_create(history, rows)
    return objs
