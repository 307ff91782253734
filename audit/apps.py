from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only access log (who read, searched, exported or imported what) and the
    bulk-access alerts raised from it."""

    name = "audit"
    verbose_name = "Access log"
