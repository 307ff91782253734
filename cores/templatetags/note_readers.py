"""Who can read a person's review notes, for the person page's "Who can see this person"
panel (superusers only): `{% load note_readers %}{% note_readers member %}`.

The rule is ReviewNote.objects.visible_to's, turned round: a note is read by superusers
and by active users who hold cores.view_reviewnote (through a group or their own) and
lead a core of the note's tendency. tests/audit/test_who_can_see.py checks every listed
user against visible_to. Three queries whatever the number of users or notes.
"""

from django import template
from django.contrib.auth import get_user_model

from cores.models import Tendency

register = template.Library()

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def note_readers_of(member) -> list[dict]:
    """[{"tendency": Tendency, "readers": [User, ...]}] for each tendency with review
    notes on `member` (a members.Member), by tendency name; readers by username,
    superusers included."""
    users = get_user_model().objects
    tendencies = list(
        Tendency.objects.filter(alignments__member=member, alignments__review_notes__isnull=False)
        .distinct()
        .order_by("name")
    )
    if not tendencies:
        return []
    leads = (
        users.with_perm("cores.view_reviewnote", backend=MODEL_BACKEND, include_superusers=False)
        .filter(is_superuser=False, led_cores__tendency__in=tendencies)
        .values_list("pk", "username", "first_name", "last_name", "led_cores__tendency")
        .distinct()
        .order_by("username")
    )
    superusers = list(users.filter(is_active=True, is_superuser=True).order_by("username"))
    readers = {tendency.pk: [] for tendency in tendencies}
    for pk, username, first_name, last_name, tendency_id in leads:
        name = f"{first_name} {last_name}".strip() or username
        readers[tendency_id].append({"pk": pk, "name": name, "is_superuser": False})
    admins = [
        {"pk": user.pk, "name": user.get_full_name() or user.username, "is_superuser": True}
        for user in superusers
    ]
    return [
        {"tendency": tendency, "readers": readers[tendency.pk] + admins} for tendency in tendencies
    ]


@register.inclusion_tag("cores/_note_readers.html", takes_context=True)
def note_readers(context, member):
    """The tendencies with review notes on `member` and who can read each; nothing for a
    viewer who is not a superuser."""
    if not context["request"].user.is_superuser:
        return {"shown": False}
    return {"shown": True, "by_tendency": note_readers_of(member)}
