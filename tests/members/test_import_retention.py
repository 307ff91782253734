"""What an import keeps and for how long (members.importing.retention), what undo counts
as "used since" (every link to a person, a core's members included), and values too long
for their column rejected at the preview."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from members.importing import applying
from members.importing.retention import purge_row_data
from members.models import ImportRecord, ImportRow, ImportState, Member
from tests.factories import CapacityCheckInFactory, MemberFactory

FILE = (
    b"Name,Email,City,Shirt size\n"
    b"Ana Diaz,ana@example.org,Dayton,XL\n"
    b"Bo Chen,bo@example.org,Reno,M\n"
    b"No Email,not-an-email,Akron,S\n"
)


def imported(by, content=FILE, mapping=None):
    record = applying.start_import(filename="list.csv", content=content, by=by)
    record = applying.preview_import(record, mapping=mapping)
    return applying.apply_import(record, by=by)


def ignoring_shirts(by, content=FILE):
    record = applying.start_import(filename="list.csv", content=content, by=by)
    mapping = [*record.mapping[:3], ""]  # "Shirt size": ignored
    return applying.apply_import(applying.preview_import(record, mapping=mapping), by=by)


def test_an_applied_import_keeps_what_it_wrote_and_replaced_not_the_raw_rows(organizer):
    MemberFactory(name="Bo Chen", email="bo@example.org", city="")
    record = ignoring_shirts(organizer)
    rows = {row.number: row for row in record.rows.all()}
    created, updated, rejected = rows[2], rows[3], rows[4]
    assert (created.action, updated.action, rejected.action) == ("create", "update", "reject")
    assert created.cells == []
    assert created.values["email"] == "ana@example.org"  # what it wrote
    assert updated.cells == []
    assert updated.values == {"name": "Bo Chen"}
    assert updated.changes == {"city": ["", "Reno"]}  # replaced, wrote: what undo needs
    assert rejected.cells == ["No Email", "not-an-email", "Akron", ""]  # ignored column gone
    assert "email" in rejected.errors
    record.refresh_from_db()
    assert (record.sheet, bytes(record.content)) == ({}, b"")
    assert not any("XL" in str(row.cells) + str(row.values) for row in rows.values())


def test_row_data_is_deleted_after_the_retention_days_and_undo_is_then_refused(
    organizer, settings, as_user
):
    settings.IMPORT_ROW_DATA_DAYS = 30
    record = imported(organizer)
    ImportRecord.objects.filter(pk=record.pk).update(
        applied_at=timezone.now() - dt.timedelta(days=31)
    )
    out = io.StringIO()
    call_command("purge_import_data", stdout=out)
    assert "Deleted the row data of 1 import" in out.getvalue()
    record.refresh_from_db()
    assert record.row_data_deleted_at is not None
    assert not ImportRow.objects.filter(record=record).exists()
    assert record.counts["create"] == 2  # the counts stay
    with pytest.raises(ValidationError, match="can no longer be undone: its row data was"):
        applying.undo_import(record, by=organizer)
    assert Member.objects.filter(imported_from=record).count() == 2  # nobody removed

    client = as_user(organizer)
    page = client.get(record.get_absolute_url())
    assert "row data deleted on" in page.content.decode()
    assert page.context["counts"]["create"] == 2  # the counts kept at apply, not the rows'
    assert "Undo this import" not in page.content.decode()
    response = client.post(reverse("members:import_undo", args=[record.pk]), follow=True)
    assert "can no longer be undone" in response.content.decode()
    assert ImportRecord.objects.get(pk=record.pk).state == ImportState.APPLIED


def test_recent_and_open_imports_keep_their_rows(organizer, settings):
    settings.IMPORT_ROW_DATA_DAYS = 30
    recent = imported(organizer)
    ImportRecord.objects.filter(pk=recent.pk).update(
        applied_at=timezone.now() - dt.timedelta(days=29)
    )
    waiting = applying.start_import(filename="list.csv", content=FILE, by=organizer)
    waiting = applying.preview_import(waiting)  # previewed: decisions may still be pending
    ImportRecord.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(days=90)
    )
    assert purge_row_data() == 0
    assert ImportRow.objects.filter(record=recent).exists()
    assert ImportRow.objects.filter(record=waiting).exists()
    assert ImportRecord.objects.get(pk=waiting.pk).sheet  # still previewable


def test_an_undone_import_is_purged_counting_from_its_undo(organizer, settings):
    settings.IMPORT_ROW_DATA_DAYS = 30
    record = applying.undo_import(imported(organizer), by=organizer)
    ImportRecord.objects.filter(pk=record.pk).update(
        applied_at=timezone.now() - dt.timedelta(days=60),
        undone_at=timezone.now() - dt.timedelta(days=10),
    )
    assert purge_row_data() == 0
    ImportRecord.objects.filter(pk=record.pk).update(
        undone_at=timezone.now() - dt.timedelta(days=31)
    )
    assert purge_row_data() == 1


def test_undo_keeps_a_person_put_into_a_core_since_and_lists_them(organizer, core_a):
    record = imported(organizer)
    ana = Member.objects.get(email="ana@example.org")
    core_a.members.add(ana)  # a many-to-many link, no new version of the person
    record = applying.undo_import(record, by=organizer)
    assert Member.objects.filter(pk=ana.pk).exists()
    assert not Member.objects.filter(email="bo@example.org").exists()  # untouched: removed
    (line,) = record.undo_conflicts
    assert "Ana Diaz was linked to core group after the import; kept" in line


def test_undo_keeps_a_person_given_a_check_in_since(organizer):
    record = imported(organizer)
    ana = Member.objects.get(email="ana@example.org")
    CapacityCheckInFactory(member=ana)
    record = applying.undo_import(record, by=organizer)
    assert Member.objects.filter(pk=ana.pk).exists()
    assert "linked to" in record.undo_conflicts[0]


def test_a_value_longer_than_its_column_is_rejected_at_the_preview(organizer):
    long_name = "N" * 300
    content = f"Name,Email,City\n{long_name},long@example.org,{'C' * 121}\nAna,a@example.org,X\n"
    record = applying.start_import(filename="list.csv", content=content.encode(), by=organizer)
    record = applying.preview_import(record)
    row = record.rows.get(number=2)
    assert row.action == "reject"
    assert row.errors["name"] == "300 characters; at most 200 fit here."
    assert row.errors["city"] == "121 characters; at most 120 fit here."
    record = applying.apply_import(record, by=organizer)  # the rest imports, on PostgreSQL too
    assert record.state == ImportState.APPLIED
    assert Member.objects.filter(email="a@example.org").exists()


def test_control_characters_in_a_filename_and_cells_never_reach_the_database(organizer):
    content = b"Name,Email\nAna\x00 Diaz\x01,ana@example.org\n"
    record = applying.start_import(filename="li\x00st\x07.csv", content=content, by=organizer)
    record = applying.apply_import(applying.preview_import(record), by=organizer)
    assert record.filename == "list.csv"
    assert Member.objects.get(email="ana@example.org").name == "Ana Diaz"


def test_applying_another_import_purges_old_row_data_without_the_daily_command(organizer, settings):
    from members import tasks

    settings.IMPORT_ROW_DATA_DAYS = 30
    old = imported(organizer)
    ImportRecord.objects.filter(pk=old.pk).update(applied_at=timezone.now() - dt.timedelta(days=45))
    content = b"Name,Email\nCy Park,cy@example.org\n"
    record = applying.start_import(filename="new.csv", content=content, by=organizer)
    tasks.run_apply(applying.preview_import(record), by=organizer)
    assert ImportRecord.objects.get(pk=old.pk).row_data_deleted_at is not None
    assert ImportRow.objects.filter(record=record).exists()  # the new one keeps its rows
