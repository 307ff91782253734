"""`manage.py backup_db FILE`: the whole database in one file (sos_tracker.backup)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sos_tracker.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back the database up to FILE: pg_dump's custom format on PostgreSQL, SQLite's "
        "online backup on SQLite. Safe while the app runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The backup file to write.")

    def handle(self, *args, file: Path, **options):
        if file.exists():
            raise CommandError(f"{file} exists already; choose a new file name.")
        try:
            backup(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backed the database up to {file} ({file.stat().st_size:,} bytes).")
