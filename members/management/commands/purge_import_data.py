"""Delete the row data of imports finished more than IMPORT_ROW_DATA_DAYS ago.

    manage.py purge_import_data

Run it daily (cron, a systemd timer). Each import it purges keeps its counts, shows "row
data deleted on <date>" and can no longer be undone; imports still open are not touched
(members.importing.retention).
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from members.importing.retention import purge_row_data


class Command(BaseCommand):
    help = "Delete the row data of imports finished more than IMPORT_ROW_DATA_DAYS ago."

    def handle(self, *args, **options):
        purged = purge_row_data()
        self.stdout.write(
            f"Deleted the row data of {purged} import{'s' if purged != 1 else ''} finished "
            f"more than {settings.IMPORT_ROW_DATA_DAYS} days ago."
        )
