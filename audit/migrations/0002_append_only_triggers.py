"""The database itself refuses to change or delete a row of the access log.

PostgreSQL: a trigger refuses UPDATE and DELETE. SQLite: a trigger refuses UPDATE; DELETE
is left to the model and QuerySet because Django empties SQLite tables between
transactional tests (and `flush`) with DELETE, where PostgreSQL uses TRUNCATE, which
row triggers do not see. SQLite is for development and demos; production runs PostgreSQL.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION audit_accesslog_append_only() RETURNS trigger AS $$
    BEGIN
        -- No percent sign here: the driver would read it as a placeholder.
        RAISE EXCEPTION USING MESSAGE = 'the access log is append-only: ' || TG_OP || ' refused';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_accesslog_append_only
    BEFORE UPDATE OR DELETE ON audit_accesslog
    FOR EACH ROW EXECUTE FUNCTION audit_accesslog_append_only()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_accesslog_append_only ON audit_accesslog",
    "DROP FUNCTION IF EXISTS audit_accesslog_append_only()",
]
SQLITE = [
    """
    CREATE TRIGGER audit_accesslog_no_update
    BEFORE UPDATE ON audit_accesslog
    BEGIN
        SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused');
    END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_accesslog_no_update"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_access_log_and_alerts"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
