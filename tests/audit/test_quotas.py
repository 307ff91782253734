"""Bulk-access quotas: too many different people opened in an hour, or exported in a day,
is refused with a 429 page and raises an alert the admins see until one acknowledges it.
Limits are lowered here so a test opens a handful of pages, not 200."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import AccessLog, Action, Alert, AlertKind
from tests.auth import log_in
from tests.factories import MemberFactory


@pytest.fixture(autouse=True)
def small_quotas(settings):
    settings.ACCESS_PEOPLE_PER_HOUR = 3
    settings.EXPORT_PEOPLE_PER_DAY = 5


def person_url(person):
    return reverse("members:person_detail", args=[person.pk])


def open_people(client, people):
    return [client.get(person_url(person)).status_code for person in people]


def test_opening_more_different_people_in_an_hour_is_refused_with_a_clear_page(as_user, organizer):
    client = as_user(organizer)
    people = MemberFactory.create_batch(4)
    assert open_people(client, people[:3]) == [200, 200, 200]
    response = client.get(person_url(people[3]))
    assert response.status_code == 429
    body = response.content.decode()
    assert "You have opened 3 different people in the last hour" in body
    assert "ask an admin" in body
    assert people[3].name not in body
    # The refused person was not shown, so not logged as opened.
    assert AccessLog.objects.filter(action=Action.VIEW_PERSON).count() == 3
    alert = Alert.objects.get()
    assert (alert.user, alert.kind, alert.amount, alert.limit, alert.refused) == (
        organizer,
        AlertKind.PEOPLE_VIEWED,
        4,
        3,
        True,
    )


def test_people_opened_within_the_hour_open_again(as_user, organizer):
    client = as_user(organizer)
    people = MemberFactory.create_batch(4)
    open_people(client, people[:3])
    assert open_people(client, people[:3]) == [200, 200, 200]
    assert client.get(person_url(people[3])).status_code == 429


def test_openings_older_than_an_hour_do_not_count(as_user, organizer):
    earlier = timezone.now() - dt.timedelta(hours=1, minutes=1)
    for person in MemberFactory.create_batch(3):
        AccessLog.objects.create(
            user=organizer, action=Action.VIEW_PERSON, person_id=person.pk, created=earlier
        )
    assert open_people(as_user(organizer), MemberFactory.create_batch(3)) == [200, 200, 200]


def test_the_quota_is_per_user(as_user, organizer, lead_a):
    people = MemberFactory.create_batch(4)
    for person in people[:3]:
        record(lead_a, Action.VIEW_PERSON, person=person.pk)
    assert open_people(as_user(organizer), people) == [200, 200, 200, 429]


def test_repeated_refusals_add_to_one_open_alert(as_user, organizer):
    client = as_user(organizer)
    people = MemberFactory.create_batch(5)
    assert open_people(client, people) == [200, 200, 200, 429, 429]
    alert = Alert.objects.get()
    assert alert.times == 2


def test_a_superuser_is_flagged_not_refused(as_user, admin_user):
    client = as_user(admin_user)
    assert open_people(client, MemberFactory.create_batch(5)) == [200] * 5
    alert = Alert.objects.get()
    assert (alert.user, alert.refused, alert.times, alert.amount) == (admin_user, False, 2, 5)
    assert "allowed (superuser), flagged" in alert.message


def test_zero_turns_the_quota_off(settings, as_user, organizer):
    settings.ACCESS_PEOPLE_PER_HOUR = 0
    assert open_people(as_user(organizer), MemberFactory.create_batch(5)) == [200] * 5
    assert not Alert.objects.exists()


@pytest.fixture
def exporter(organizer):
    organizer.user_permissions.add(Permission.objects.get(codename="export_people"))
    return organizer


def export(client, **params):
    return client.get(reverse("members:people_export"), {"format": "csv", **params})


def test_exporting_more_people_in_a_day_is_refused_and_raises_an_alert(as_user, exporter):
    client = as_user(exporter)
    MemberFactory.create_batch(2, city="Oakland")
    MemberFactory.create_batch(2, city="Fresno")
    assert export(client, q="oakland").status_code == 200
    assert export(client, q="fresno").status_code == 200
    response = export(client)  # all four: 8 in a day, over 5
    assert response.status_code == 429
    body = response.content.decode()
    assert "You have exported 4 people in the last 24 hours" in body
    assert "exporting 4 more would go over the daily limit of 5" in body
    assert AccessLog.objects.filter(action=Action.EXPORT).count() == 2
    alert = Alert.objects.get()
    assert (alert.kind, alert.amount, alert.limit, alert.refused) == (
        AlertKind.PEOPLE_EXPORTED,
        8,
        5,
        True,
    )


def test_exports_older_than_a_day_do_not_count(as_user, exporter):
    AccessLog.objects.create(
        user=exporter,
        action=Action.EXPORT,
        count=5,
        created=timezone.now() - dt.timedelta(days=1, minutes=1),
    )
    MemberFactory.create_batch(5)
    assert export(as_user(exporter)).status_code == 200


# --- the admins' alerts ---------------------------------------------------------------------


@pytest.fixture
def alert(organizer):
    return Alert.objects.create(
        user=organizer, kind=AlertKind.PEOPLE_VIEWED, amount=4, limit=3, refused=True
    )


def test_an_open_alert_shows_on_the_admins_home_page_only(as_user, admin_user, organizer, alert):
    body = as_user(admin_user).get(reverse("home")).content.decode()
    assert "Bulk-access alerts" in body
    assert "Olive Organizer opened 4 people in the last hour (limit 3); refused." in body
    assert reverse("audit:alert_acknowledge", args=[alert.pk]) in body
    assert "Bulk-access alerts" not in as_user(organizer).get(reverse("home")).content.decode()


def test_an_admin_acknowledges_an_alert_and_it_leaves_the_home_page(as_user, admin_user, alert):
    client = as_user(admin_user)
    url = reverse("audit:alert_acknowledge", args=[alert.pk])
    assert client.get(url).status_code == 405  # no GET writes
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("home")
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user
    assert alert.acknowledged_at is not None
    assert "Bulk-access alerts" not in client.get(reverse("home")).content.decode()
    # A second acknowledgment changes nothing.
    client.post(url)
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user


def test_after_an_acknowledgment_a_new_refusal_opens_a_new_alert(as_user, admin_user, organizer):
    people = MemberFactory.create_batch(4)
    client = as_user(organizer)
    open_people(client, people)
    admin_client = log_in(Client(), admin_user)
    admin_client.post(reverse("audit:alert_acknowledge", args=[Alert.objects.get().pk]))
    assert client.get(person_url(people[3])).status_code == 429
    assert Alert.objects.count() == 2
    assert Alert.objects.open().count() == 1


@pytest.mark.parametrize("role", ["organizer", "lead_a", "stranger"])
def test_only_admins_acknowledge_alerts(request, as_user, alert, role):
    client = as_user(request.getfixturevalue(role))
    assert client.post(reverse("audit:alert_acknowledge", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
