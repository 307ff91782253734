from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from members.search import repair_after_migrate


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("People")

    def ready(self):
        # SQLite migrations that rebuild the members table drop its search triggers.
        post_migrate.connect(repair_after_migrate, sender=self)
