"""Bulk-access alerts: raised by the quotas (audit.quotas), shown to the admins on the home
page until one of them acknowledges it."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Alert, AlertKind

# Reading the log and handling its alerts is one capability: superusers hold it, and an
# admin who is not a superuser is given this permission.
AUDIT_PERMISSION = "audit.view_accesslog"


def may_audit(user) -> bool:
    """Read the access log and see and acknowledge its alerts."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(AUDIT_PERMISSION))


@transaction.atomic
def raise_alert(user, kind: AlertKind, *, amount: int, limit: int, refused: bool) -> Alert:
    """Open an alert for `user` going over `limit` (to `amount` people), or add to the open
    one of the same kind: one alert per user and kind until an admin acknowledges it."""
    now = timezone.now()
    alert, created = Alert.objects.select_for_update().get_or_create(
        user=user,
        kind=kind,
        acknowledged_at=None,
        defaults={"amount": amount, "limit": limit, "refused": refused, "last_at": now},
    )
    if not created:
        Alert.objects.filter(pk=alert.pk).update(
            times=F("times") + 1, last_at=now, amount=amount, limit=limit, refused=refused
        )
        alert.refresh_from_db()
    return alert


def open_alerts(user, *, limit: int = 20) -> list[Alert]:
    """The open alerts `user` may see (none for anyone who may not audit), newest first."""
    if not may_audit(user):
        return []
    return list(Alert.objects.open()[:limit])


def acknowledge_alert(alert: Alert, *, by) -> bool:
    """Mark `alert` as seen by `by`. False when another admin acknowledged it first."""
    return bool(
        Alert.objects.filter(pk=alert.pk, acknowledged_at=None).update(
            acknowledged_at=timezone.now(), acknowledged_by=by
        )
    )
