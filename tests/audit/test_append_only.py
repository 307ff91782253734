"""Nobody changes or deletes the access log: not the ORM, not the admin (superusers
included), not raw SQL (a trigger on PostgreSQL and SQLite)."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from audit.log import record
from audit.models import AccessLog, Action, AppendOnlyError
from tests.factories import MemberFactory


@pytest.fixture
def entry(organizer):
    return record(organizer, Action.VIEW_PERSON, person=MemberFactory().pk)


def test_saving_an_entry_again_is_refused(entry):
    entry.count = 99
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AccessLog.objects.get().count == 1


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AccessLog.objects.count() == 1


def test_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(count=99)
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.bulk_update([entry], ["count"])
    assert AccessLog.objects.get().count == 1


def test_raw_sql_update_is_refused_by_the_database(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_accesslog SET count = 99")
    assert AccessLog.objects.get().count == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite refuses UPDATE only: Django empties SQLite tables with DELETE between tests",
)
def test_raw_sql_delete_is_refused_by_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_accesslog")
    assert AccessLog.objects.count() == 1


def test_the_admin_offers_no_add_change_or_delete_even_to_a_superuser(admin_user):
    model_admin = admin.site._registry[AccessLog]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
    assert model_admin.get_actions(request) == {}


def test_the_admins_pages_refuse_a_superusers_change_and_delete(as_user, admin_user, entry):
    client = as_user(admin_user)
    change = reverse("admin:audit_accesslog_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"count": 99}).status_code == 403
    delete = reverse("admin:audit_accesslog_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_accesslog_add")).status_code == 403
    assert AccessLog.objects.get().count == 1
