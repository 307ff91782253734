from django.apps import AppConfig


class SosTrackerConfig(AppConfig):
    name = "sos_tracker"
    verbose_name = "SOS Tracker"

    def ready(self):
        # Bounds on what a request can put in a query: ids past 64 bits in `__in`, and the
        # admin's autocomplete, actions and list filters (see each module's docstring).
        # kept_forms notes who each log out signs out, for the forms their tabs still send.
        from sos_tracker import (
            kept_forms,  # noqa: F401 (connects its signal receivers)
            lookups,  # noqa: F401 (registers the lookup)
        )
        from sos_tracker.admin_input import harden_admin

        harden_admin()
