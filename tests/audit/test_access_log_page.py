"""/audit/: the access log for superusers and admins given audit.view_accesslog; filters
by user, action, dates, person and searched text; pages without counting the log."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import AccessLog, Action
from audit.views import PAGE_SIZE
from tests.factories import MemberFactory, UserFactory

URL = reverse("audit:access_log")


@pytest.fixture
def auditor(db):
    """An admin who is not a superuser, given the permission to read the log only."""
    user = UserFactory(username="audrey", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="view_accesslog")
    )
    return user


def entries_of(response):
    return list(response.context["entries"])


@pytest.mark.parametrize("role", ["organizer", "lead_a", "lead_b", "stranger"])
def test_the_log_is_refused_to_everyone_else(db, request, as_user, role):
    client = as_user(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert "Access log" not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_superuser_reads_the_log_newest_first_with_names(as_user, admin_user, organizer):
    first, second = MemberFactory(name="Ana Li"), MemberFactory(name="Bo Ruiz")
    record(organizer, Action.VIEW_PERSON, person=first.pk)
    record(organizer, Action.VIEW_PERSON, person=second.pk)
    client = as_user(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert [entry.person_id for entry in entries_of(response)] == [second.pk, first.pk]
    body = response.content.decode()
    assert "Bo Ruiz" in body
    assert "Olive Organizer" in body
    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()


def test_an_auditor_without_access_to_people_sees_numbers_not_names(as_user, auditor, organizer):
    person = MemberFactory(name="Ana Li")
    record(organizer, Action.VIEW_PERSON, person=person.pk)
    response = as_user(auditor).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Person #{person.pk}" in body
    assert "Ana Li" not in body


def test_filters_by_user_action_person_and_dates(as_user, admin_user, organizer, lead_a):
    person, other = MemberFactory(), MemberFactory()
    mine = record(organizer, Action.VIEW_PERSON, person=person.pk)
    record(organizer, Action.VIEW_PERSON, person=other.pk)
    theirs = record(lead_a, Action.VIEW_PERSON, person=person.pk)
    search = record(organizer, Action.SEARCH, people=[person.pk], query="ana")
    old = AccessLog.objects.create(
        user=organizer,
        action=Action.EXPORT,
        count=3,
        created=timezone.now() - dt.timedelta(days=10),
    )
    client = as_user(admin_user)

    def found(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        return {entry.pk for entry in entries_of(response)}

    assert found(user=lead_a.pk) == {theirs.pk}
    assert found(person=person.pk) == {mine.pk, theirs.pk}
    assert found(user=organizer.pk, action=Action.SEARCH) == {search.pk}
    today = timezone.localdate()
    assert found(until=today - dt.timedelta(days=5)) == {old.pk}
    assert old.pk not in found(since=today - dt.timedelta(days=1))
    assert found(since=today - dt.timedelta(days=11), until=today - dt.timedelta(days=9)) == {
        old.pk
    }


def test_was_this_searched_is_answered_by_hashing_the_text(as_user, admin_user, organizer):
    asked = record(organizer, Action.SEARCH, query="José García")
    record(organizer, Action.SEARCH, query="Ana")
    client = as_user(admin_user)
    response = client.get(URL, {"searched": "  josé GARCÍA"})
    assert [entry.pk for entry in entries_of(response)] == [asked.pk]
    assert entries_of(client.get(URL, {"searched": "Jose"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
        ({"person": "99999999999999999999999"}, "person"),
        ({"person": "abc"}, "person"),
        ({"page": "99999999999999999999"}, "page"),
        ({"since": "not a date"}, "since"),
        ({"action": "delete_everything"}, "action"),
    ],
)
def test_bad_filters_are_named_not_a_server_error(as_user, admin_user, params, field):
    response = as_user(admin_user).get(URL, params)
    assert response.status_code == 200
    assert field in response.context["filters"].errors


def test_the_last_day_a_date_field_holds_is_no_error(as_user, admin_user):
    response = as_user(admin_user).get(URL, {"since": "0001-01-01", "until": "9999-12-31"})
    assert response.status_code == 200


def test_pages_without_counting_the_log(as_user, admin_user, organizer):
    AccessLog.objects.bulk_create(
        AccessLog(user=organizer, action=Action.SEARCH) for _ in range(PAGE_SIZE + 1)
    )
    client = as_user(admin_user)
    first = client.get(URL)
    assert first.context["has_next"]
    assert len(entries_of(first)) == PAGE_SIZE
    second = client.get(URL, {"page": 2})
    assert not second.context["has_next"]
    assert len(entries_of(second)) == 1


def count_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_entries(as_user, admin_user, organizer):
    client = as_user(admin_user)
    people = MemberFactory.create_batch(3)
    for person in people:
        record(organizer, Action.VIEW_PERSON, person=person.pk)
    count_queries(client)  # warm per-process caches
    few = count_queries(client)
    for person in MemberFactory.create_batch(40):
        record(UserFactory(), Action.VIEW_PERSON, person=person.pk)
    # session, user, OTP device, the users for the filter's select, the entries joined to
    # their users, the names of the people on the page
    assert few == count_queries(client) == 6
