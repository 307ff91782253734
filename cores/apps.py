from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoresConfig(AppConfig):
    name = "cores"
    verbose_name = _("Tendencies and cores")

    def ready(self):
        # Merging two people moves their alignments, notes and invitations too; members
        # cannot know these models, so the cores register their part of the merge.
        from cores import erasure, merging, people_filters, retention

        merging.register()
        # Erasing a person anonymises their invitations and review notes too.
        erasure.register()
        # Invitations and alignments are activity, and an invitation past "identified"
        # takes a prospect off the retention list.
        retention.register()
        # The people list filters by tendency, alignment level and core.
        people_filters.register()
        # A person's timeline shows their alignments, review notes and invitations too.
        from cores import timeline

        timeline.register()
