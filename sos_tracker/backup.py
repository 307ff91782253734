"""Back the database up to one file and restore it: `manage.py backup_db` / `restore_db`.

PostgreSQL   pg_dump's custom format (`pg_dump --format=custom`: compressed, restored
             table by table with pg_restore, which also recreates indexes, triggers and
             the pg_trgm extension the search needs); pg_dump and pg_restore come with
             PostgreSQL's client package (Debian: postgresql-client) and must be at least
             the server's major version
SQLite       SQLite's online backup API (what the sqlite3 shell's `.backup` runs): a
             consistent copy even while the app writes, unlike copying the file

The password never goes on a command line (where `ps` shows it): it is passed to the
PostgreSQL tools in their PGPASSWORD environment variable.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


class BackupError(Exception):
    """A backup or restore could not run; the message says why and what to do."""


def database_settings(url: str | None = None) -> dict:
    """The settings of the database named by `url` (any DATABASE_URL), or of the app's
    own database when `url` is None."""
    if url is None:
        return connections["default"].settings_dict
    try:
        return environ.Env.db_url_config(url)
    except (ImproperlyConfigured, KeyError, ValueError) as error:
        raise BackupError(f"Not a database URL: {url!r} ({error}).") from error


def backup(path: Path) -> None:
    """Write the app's database to `path` (a new file). Raises BackupError."""
    config = database_settings()
    path = Path(path)
    if config["ENGINE"] == POSTGRESQL:
        _run_postgres_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={path}"], config)
    elif config["ENGINE"] == SQLITE:
        connection = connections["default"]
        connection.ensure_connection()
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
        target.close()
    else:
        raise BackupError(f"Cannot back up a {config['ENGINE']} database.")


def restore(path: Path, *, url: str | None = None) -> None:
    """Restore the backup at `path` into the database named by `url` (default: the app's
    own), replacing what is there. Stop the app and its worker first. Raises BackupError."""
    config = database_settings(url)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if config["ENGINE"] == POSTGRESQL:
        _run_postgres_tool(
            "pg_restore",
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                str(path),
            ],
            config,
        )
    elif config["ENGINE"] == SQLITE:
        with sqlite3.connect(path) as source, sqlite3.connect(config["NAME"]) as target:
            source.backup(target)
        source.close()
        target.close()
    else:
        raise BackupError(f"Cannot restore into a {config['ENGINE']} database.")


def _run_postgres_tool(tool: str, arguments: list[str], config: dict) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not installed; it comes with PostgreSQL's client tools "
            "(Debian and Ubuntu: apt-get install postgresql-client)."
        )
    environment = {
        **os.environ,
        "PGHOST": str(config.get("HOST") or ""),
        "PGPORT": str(config.get("PORT") or ""),
        "PGUSER": str(config.get("USER") or ""),
        "PGPASSWORD": str(config.get("PASSWORD") or ""),
        "PGDATABASE": config["NAME"],
    }
    environment = {key: value for key, value in environment.items() if value != ""}
    result = subprocess.run(
        [executable, *arguments, f"--dbname={config['NAME']}"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
