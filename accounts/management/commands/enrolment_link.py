"""Print an enrolment link from the server's command line: the first superuser's way in.

With two factors required, a new superuser must set one up with an enrolment link, and
the first one has no other admin to ask; whoever runs commands on the server is trusted.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import enrolment


class Command(BaseCommand):
    help = "Print a one-time enrolment link (two-factor set-up) for a user."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--base-url",
            default="",
            help="The site's address, e.g. https://sos.example.org (else only the path).",
        )

    def handle(self, *args, username, base_url, **options):
        user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(base_url.rstrip("/") + enrolment.link_path(user))
