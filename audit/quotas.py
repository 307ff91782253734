"""Bulk-access quotas, counted from the access log.

Opening more than ACCESS_PEOPLE_PER_HOUR different people in the last hour, or exporting
more than EXPORT_PEOPLE_PER_DAY people in the last 24 hours, is refused with a 429 page
and raises an alert for the admins (audit.alerts). Each check is one query over the
log's (user, action, created) index.

Superusers are flagged, not refused: they can read every record through the admin's
lists anyway, so a refusal would not stop one of them and would only block an admin's
clean-up (merging, checking an import) in the middle of it; the alert still tells the
other admins. A value of 0 turns a quota off (a bench or a one-off migration of data).
"""

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.utils import timezone

from audit import log
from audit.alerts import raise_alert
from audit.models import AccessLog, Action, AlertKind

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _refused(request, *, kind: AlertKind, done: int, limit: int, asked: int = 1):
    return render(
        request,
        "audit/too_many.html",
        {"kind": kind, "done": done, "limit": limit, "asked": asked},
        status=429,
    )


def open_person(request, person_id: int):
    """Record that request.user opens person `person_id`, unless it is over the quota.

    Returns None when the page may be shown (the view is logged), or the 429 page to
    send instead (an alert is raised, nothing logged: the person was not shown).
    Opening again someone already opened in the last hour does not count twice.
    """
    user, limit = request.user, settings.ACCESS_PEOPLE_PER_HOUR
    if limit:
        seen = AccessLog.objects.people_viewed_since(user, timezone.now() - HOUR).aggregate(
            people=Count("person_id", distinct=True),
            this_one=Count("pk", filter=Q(person_id=person_id)),
        )
        if not seen["this_one"] and seen["people"] >= limit:
            kind = AlertKind.PEOPLE_VIEWED
            refuse = not user.is_superuser
            raise_alert(user, kind, amount=seen["people"] + 1, limit=limit, refused=refuse)
            if refuse:
                return _refused(request, kind=kind, done=seen["people"], limit=limit)
    log.record(user, Action.VIEW_PERSON, person=person_id, request=request)
    return None


def export_refusal(request, count: int):
    """The 429 page if exporting `count` more people takes request.user over the daily
    quota (an alert is raised), else None. The export itself is logged by the caller
    once the file is written."""
    user, limit = request.user, settings.EXPORT_PEOPLE_PER_DAY
    if not limit:
        return None
    done = (
        AccessLog.objects.exports_since(user, timezone.now() - DAY).aggregate(people=Sum("count"))[
            "people"
        ]
        or 0
    )
    if done + count <= limit:
        return None
    kind = AlertKind.PEOPLE_EXPORTED
    refuse = not user.is_superuser
    raise_alert(user, kind, amount=done + count, limit=limit, refused=refuse)
    return _refused(request, kind=kind, done=done, limit=limit, asked=count) if refuse else None
