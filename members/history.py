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
# times faster. SQLite has no COPY: there one INSERT is sent for every row (executemany).


def copy_create(model, objs, *, using: str = DEFAULT_DB_ALIAS) -> list:
    """PostgreSQL: insert `objs` (unsaved instances of `model`) with one COPY; returns them.

    Writes what bulk_create writes: every concrete column, each field's pre_save() for an
    insert (auto_now_add, auto_now) and its database value (get_db_prep_save). Missing
    primary keys are taken from the table's own sequence first (one query), set on the
    objects, and the objects are marked saved. No signals, like bulk_create. Raises
    ValueError on another database; psycopg's errors (a NUL in a text, a broken
    constraint) propagate and the transaction fails whole.
    """
    _copy_objects(model, objs, using=using)
    return objs


def _copy_objects(model, objs, *, using: str) -> list[list]:
    """copy_create's work; returns each object's row of database values, column by column
    in model._meta.concrete_fields order (bulk_create_with_history reuses them)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ValueError("COPY is PostgreSQL's; use bulk_create on other databases.")
    if not objs:
        return []
    meta = model._meta
    fields = list(meta.concrete_fields)
    missing = [obj for obj in objs if obj.pk is None]
    with connection.cursor() as cursor:
        for obj, pk in zip(missing, _next_ids(cursor, meta, len(missing)), strict=True):
            setattr(obj, meta.pk.attname, pk)
        rows = [
            [
                field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
                for field in fields
            ]
            for obj in objs
        ]
        _copy_rows(connection, cursor, meta.db_table, [field.column for field in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return rows


def copy_rows(model, columns: list[str], rows, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert `rows` (tuples of database values, in `columns` order: column names) into
    `model`'s table: COPY on PostgreSQL, one INSERT sent for every row (executemany)
    elsewhere. Columns left out take their database default (the primary key numbered in
    order, as bulk_create numbers it). For plain rows (a many-to-many link) that need no
    model instance per row."""
    connection = connections[using]
    if rows:
        write = _copy_rows if connection.vendor == "postgresql" else _insert_rows
        with connection.cursor() as cursor:
            write(connection, cursor, model._meta.db_table, columns, rows)


def _next_ids(cursor, meta, count: int) -> list[int]:
    """`count` primary keys from the table's own sequence, in one query."""
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _copy_rows(connection, cursor, table: str, columns: list[str], rows) -> None:
    """COPY `rows` (database values, in `columns` order) into `table`."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    # The raw psycopg cursor's errors, as Django's (IntegrityError...), like execute's.
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def bulk_create_with_history(objs, model, *, by, reason: str = "", batch_size: int = 2000):
    """Insert `objs` (unsaved instances of a history-tracked `model`) and one "+" history
    row each, attributed to `by` with change reason `reason`; returns the saved objects.

    The same rows as simple_history's bulk_create_with_history: each object's tracked
    fields, history_date = now (taken per row), history_user = `by` unless the object
    carries its own _history_user, the object's _change_reason if it has one. On
    PostgreSQL both tables are written with COPY (copy_create); elsewhere with one INSERT
    sent for every row (executemany), the keys numbered by the database in order as
    bulk_create's are. In one transaction. Many-to-many fields are not written (see
    snapshot_m2m_in_history).
    """
    history = history_utils.get_history_manager_for_model(model).model
    connection = connections[DEFAULT_DB_ALIAS]
    # Each tracked column's value is the one just written to the model's own row (the
    # historical fields are copies of the model's, with the same database values), so it
    # is taken from that row rather than built into a history instance and prepared again:
    # most of an import's time went there.
    position = {field.attname: n for n, field in enumerate(model._meta.concrete_fields)}
    own = {field.attname: field for field in history._meta.concrete_fields}
    extra = ["history_id", "history_date", "history_change_reason", "history_type"]
    extra += ["history_user_id", *(["history_relation_id"] if "history_relation_id" in own else [])]
    tracked = [name for name in own if name not in extra]
    if unknown := [name for name in tracked if name not in position]:
        raise TypeError(f"{history.__name__} has columns the model has not: {unknown}")
    taken = [position[name] for name in tracked]
    date_field, user_field = own["history_date"], own["history_user_id"]
    reason_field, type_field = own["history_change_reason"], own["history_type"]
    postgresql = connection.vendor == "postgresql"
    if not postgresql:
        extra.remove("history_id")  # numbered by the database, as bulk_create leaves it
    columns = [own[name].column for name in [*tracked, *extra]]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if postgresql:
            member_rows = _copy_objects(model, objs, using=DEFAULT_DB_ALIAS)
            ids = _next_ids(cursor, history._meta, len(objs))
        else:
            member_rows = _insert_objects(model, objs, connection, cursor)
            ids = [None] * len(objs)
        rows = []
        for obj, row, history_id in zip(objs, member_rows, ids, strict=True):
            user = getattr(obj, "_history_user", by or history.get_default_history_user(obj))
            values = [row[n] for n in taken]
            values += [
                *([history_id] if postgresql else []),
                date_field.get_db_prep_save(
                    getattr(obj, "_history_date", None) or timezone.now(),
                    connection=connection,
                ),
                reason_field.get_db_prep_save(
                    history_utils.get_change_reason_from_object(obj) or reason,
                    connection=connection,
                ),
                type_field.get_db_prep_save("+", connection=connection),
                user_field.get_db_prep_save(
                    user.pk if user is not None else None, connection=connection
                ),
            ]
            if "history_relation_id" in own:
                values.append(obj.pk)
            rows.append(values)
        if postgresql:
            _copy_rows(connection, cursor, history._meta.db_table, columns, rows)
        else:
            _insert_rows(connection, cursor, history._meta.db_table, columns, rows)
    return objs


def _insert_objects(model, objs, connection, cursor) -> list[list]:
    """SQLite (and any database but PostgreSQL): copy_create's work with INSERTs.

    The rows go in one executemany, their keys numbered by the database one after the
    other (an INTEGER PRIMARY KEY takes the largest in use plus one, and the transaction
    holds the write lock from the first INSERT on): the last is MAX(pk), and each object
    is given its key in order, as bulk_create gives them. Returns each object's row of
    database values, as _copy_objects does.
    """
    if not objs:
        return []
    meta = model._meta
    fields = list(meta.concrete_fields)
    if any(obj.pk is not None for obj in objs):
        raise ValueError("These objects already have primary keys; the database numbers them.")
    at = fields.index(meta.pk)
    rows = [
        [
            field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
            for field in fields
        ]
        for obj in objs
    ]
    columns = [field.column for n, field in enumerate(fields) if n != at]
    _insert_rows(
        connection, cursor, meta.db_table, columns, [row[:at] + row[at + 1 :] for row in rows]
    )
    quote = connection.ops.quote_name
    cursor.execute(f"SELECT MAX({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
    (last,) = cursor.fetchone()
    for pk, obj, row in zip(range(last - len(objs) + 1, last + 1), objs, rows, strict=True):
        setattr(obj, meta.pk.attname, pk)
        row[at] = meta.pk.get_db_prep_save(pk, connection=connection)
        obj._state.adding = False
        obj._state.db = connection.alias
    return rows


def _insert_rows(connection, cursor, table: str, columns: list[str], rows) -> None:
    """INSERT `rows` (database values, in `columns` order) into `table`, one statement
    sent for every row (executemany): nothing to compile per row."""
    quote = connection.ops.quote_name
    cursor.executemany(
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        rows,
    )
