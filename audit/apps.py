from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The append-only access log (who read, searched, exported or imported what) and the
    bulk-access alerts raised from it."""

    name = "audit"
    verbose_name = _("Access log")
