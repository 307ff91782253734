"""A backup restores: `manage.py backup_db` of the test database, `restore_db` into a fresh
database, and the marked person is there with their history (sos_tracker.backup).

On PostgreSQL this runs pg_dump and pg_restore (CI installs postgresql-client); on SQLite,
SQLite's online backup API. Both databases run it.
"""

import secrets
import sqlite3
from contextlib import closing

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from members.models import Member
from tests.factories import MemberFactory

MARK = "Rosalind Restorewell"
EMAIL = "rosalind.restore@example.net"

# pg_dump reads the database from another connection: the marked person must be committed.
# serialized_rollback: the flush after a transactional test would drop the seeded groups.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def marked_person(organizer):
    person = MemberFactory(name=MARK, email=EMAIL)
    person.city = "Tucson"
    person._history_user = organizer
    person.save()
    return person


def _postgres_url(name: str) -> str:
    config = connection.settings_dict
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _admin_connection():
    config = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    )


def _read_back(cursor, placeholder: str) -> tuple:
    cursor.execute(
        f"SELECT id, name, city FROM members_member WHERE email = {placeholder}", [EMAIL]
    )
    person = cursor.fetchone()
    cursor.execute(
        f"SELECT COUNT(*) FROM members_historicalmember WHERE email = {placeholder}", [EMAIL]
    )
    history = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'members'")
    migrations = cursor.fetchone()[0]
    return person, history, migrations


def test_a_backup_restores_into_a_fresh_database_with_the_person_in_it(marked_person, tmp_path):
    dump = tmp_path / "sos.backup"
    call_command("backup_db", str(dump))
    assert dump.stat().st_size > 0
    applied = connection.cursor().execute(
        "SELECT COUNT(*) FROM django_migrations WHERE app = 'members'"
    )
    expected_migrations = applied.fetchone()[0]

    if connection.vendor == "postgresql":
        fresh = f"test_restore_{secrets.token_hex(4)}"
        with _admin_connection() as admin:
            admin.execute(f'CREATE DATABASE "{fresh}"')
        try:
            call_command("restore_db", str(dump), database_url=_postgres_url(fresh), yes=True)
            config = connection.settings_dict
            with closing(
                psycopg.connect(
                    dbname=fresh,
                    user=config["USER"] or None,
                    password=config["PASSWORD"] or None,
                    host=config["HOST"] or None,
                    port=config["PORT"] or None,
                )
            ) as restored:
                person, history, migrations = _read_back(restored.cursor(), "%s")
        finally:
            with _admin_connection() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    else:
        fresh = tmp_path / "restored.sqlite3"
        call_command("restore_db", str(dump), database_url=f"sqlite:///{fresh}", yes=True)
        with closing(sqlite3.connect(fresh)) as restored:
            person, history, migrations = _read_back(restored.cursor(), "?")

    assert person == (marked_person.pk, MARK, "Tucson")
    assert history == Member.history.filter(email=EMAIL).count() == 2
    assert migrations == expected_migrations


def test_restore_asks_for_confirmation_and_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_db", str(tmp_path / "none.backup"))
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore_db", str(tmp_path / "none.backup"), yes=True)


def test_backup_refuses_to_overwrite_a_file(tmp_path):
    existing = tmp_path / "kept.backup"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup_db", str(existing))
    assert existing.read_bytes() == b"an older backup"
