"""The access part of the person page's "Who can see this person" panel, for superusers.

`{% load audit_person %}{% who_can_see member %}`: the users who can open the record and
who opened it in the last 30 days. Two queries whatever the number of users or entries
(tests/audit/test_who_can_see.py pins them). The review notes' readers come from the
cores app's `{% note_readers member %}`: members and audit never import cores.
"""

import datetime as dt

from django import template
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AccessLog

register = template.Library()

# The backend whose permissions (groups and user permissions) the roles are made of.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OPENED_WITHIN = dt.timedelta(days=30)


def record_viewers(permission: str = "members.view_member"):
    """Active users who may open a person's record: those holding `permission` through a
    group or their own permissions, and superusers; by username."""
    return (
        get_user_model()
        .objects.with_perm(permission, backend=MODEL_BACKEND)
        .only("username", "first_name", "last_name", "is_superuser")
        .order_by("username")
    )


@register.inclusion_tag("audit/_who_can_see.html", takes_context=True)
def who_can_see(context, member):
    """Who may open `member` (a members.Member) and who did in the last 30 days.

    Nothing for a viewer who is not a superuser: the list of who holds access is itself
    for admins only.
    """
    user = context["request"].user
    if not user.is_superuser:
        return {"shown": False}
    since = timezone.now() - OPENED_WITHIN
    return {
        "shown": True,
        "viewers": list(record_viewers()),
        "openers": list(AccessLog.objects.openers_of(member.pk, since=since)),
    }
