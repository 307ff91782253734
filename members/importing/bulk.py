"""Write many import rows at once."""

from django.db import connection

from members.history import copy_rows


def update_rows(model, objs, fields, *, batch_size: int = 2000) -> int:
    """Write `fields` (names) of `objs`, saved instances of `model`: what bulk_update writes.

    Each value goes through its field's get_db_prep_save, as bulk_update's do. One
    UPDATE ... FROM (VALUES ...) per `batch_size` objects (PostgreSQL; SQLite 3.33 or
    newer), where bulk_update builds a CASE of one WHEN per object and field: compiling
    those expressions was most of an apply's bookkeeping. Returns how many rows changed.
    """
    meta = model._meta
    fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        # Typed: a VALUES list of bare parameters is text.
        row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in [meta.pk, *fields]) + ")"
        names = ["pk", *(f"v{n}" for n in range(len(fields)))]
        alias = f"v({', '.join(names)})"
        key = "v.pk"
    else:
        row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        names = [f"column{n + 1}" for n in range(len(fields) + 1)]
        alias = "v"
        key = "v.column1"
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}" for field, name in zip(fields, names[1:], strict=True)
    )
    objs = list(objs)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            chunk = objs[start : start + batch_size]
            params = []
            for obj in chunk:
                params.append(obj.pk)
                params += [
                    field.get_db_prep_save(getattr(obj, field.attname), connection=connection)
                    for field in fields
                ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "
                + ", ".join([row] * len(chunk))
                + f") AS {alias} WHERE {table}.{quote(meta.pk.column)} = {key}",
                params,
            )
            updated += cursor.rowcount
    return updated


def insert_rows(model, objs) -> None:
    """Insert `objs` (unsaved instances of `model`) whose primary keys are not needed after.

    The columns and values bulk_create would write (each field's pre_save for an insert,
    then get_db_prep_save), the keys numbered by the database in order, sent as plain rows
    (members.history.copy_rows: COPY on PostgreSQL, one INSERT per row elsewhere) without
    compiling thousands of placeholders in Python, which was most of a preview's storing.
    The objects are not updated.
    """
    if any(obj.pk is not None for obj in objs):
        raise ValueError("insert_rows numbers new rows; these already have primary keys.")
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    copy_rows(
        model,
        [field.column for field in fields],
        [
            [
                field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
                for field in fields
            ]
            for obj in objs
        ],
    )
