"""`manage.py restore_db FILE [--database-url URL] --yes`: put a backup back
(sos_tracker.backup). Replaces what the database holds: stop the app and worker first."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sos_tracker.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore FILE (made by backup_db) into the app's database, or into the one "
        "--database-url names (e.g. a fresh database, to check a backup). Replaces its "
        "contents; --yes confirms. Stop the app and its worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A backup written by backup_db.")
        parser.add_argument(
            "--database-url",
            default=None,
            help="Restore into this database instead of the app's own (DATABASE_URL form).",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the database's contents are replaced."
        )

    def handle(self, *args, file: Path, database_url: str | None, yes: bool, **options):
        if not yes:
            raise CommandError(
                "Restoring replaces everything in the database. Run again with --yes to confirm."
            )
        try:
            restore(file, url=database_url)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {file}.")
