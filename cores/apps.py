from django.apps import AppConfig


class CoresConfig(AppConfig):
    name = "cores"
    verbose_name = "Tendencies and cores"

    def ready(self):
        # Merging two people moves their alignments, notes and invitations too; members
        # cannot know these models, so the cores register their part of the merge.
        from cores import erasure, merging, retention

        merging.register()
        # Erasing a person anonymises their invitations and review notes too.
        erasure.register()
        # Invitations and alignments are activity, and an invitation past "identified"
        # takes a prospect off the retention list.
        retention.register()
