"""Opening a person in the Django admin is a read like the person page: logged, and
counted against the same hourly quota (audit.quotas.open_person)."""

from django.test import override_settings
from django.urls import reverse

from audit.models import AccessLog, Action
from tests.factories import MemberFactory


def test_opening_a_person_in_the_admin_is_logged(as_user, admin_user):
    person = MemberFactory()
    url = reverse("admin:members_member_change", args=[person.pk])
    assert as_user(admin_user).get(url).status_code == 200
    entry = AccessLog.objects.get(action=Action.VIEW_PERSON)
    assert (entry.user, entry.person_id) == (admin_user, person.pk)


@override_settings(ACCESS_PEOPLE_PER_HOUR=2)
def test_the_admin_change_page_counts_against_the_hourly_quota(as_user, admin_user):
    admin_user.is_superuser = False
    admin_user.save()
    from django.contrib.auth.models import Permission

    admin_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_member", "change_member"])
    )
    client = as_user(admin_user)
    people = MemberFactory.create_batch(3)
    for person in people[:2]:
        url = reverse("admin:members_member_change", args=[person.pk])
        assert client.get(url).status_code == 200
    third = reverse("admin:members_member_change", args=[people[2].pk])
    assert client.get(third).status_code == 429
