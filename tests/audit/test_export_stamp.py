"""Every exported file names who exported it and when, in the file itself: the first row
of the CSV and of the sheet, and the XLSX's document properties. The import still reads
such a file (it finds the header under the title row)."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from members.importing.reading import read_sheet
from members.models import ExportRecord
from tests.factories import MemberFactory


@pytest.fixture
def exporter(organizer):
    organizer.user_permissions.add(Permission.objects.get(codename="export_people"))
    return organizer


def export(client, file_format):
    response = client.get(reverse("members:people_export"), {"format": file_format})
    assert response.status_code == 200
    return response.content


def expected_stamp(record):
    moment = timezone.localtime(record.created_at)
    return (
        f"Exported from SOS Tracker by Olive Organizer (olive) on {moment:%Y-%m-%d %H:%M} "
        f"({moment.tzname()}). Private: membership data."
    )


def test_the_csv_starts_with_who_exported_it_and_when(as_user, exporter):
    MemberFactory(name="Ana Li")
    content = export(as_user(exporter), "csv")
    stamp, header, person = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    assert stamp == [expected_stamp(ExportRecord.objects.get())]
    assert header[0] == "Name"
    assert person[0] == "Ana Li"


def test_the_xlsx_names_who_exported_it_and_when_in_its_first_row_and_properties(as_user, exporter):
    MemberFactory(name="Ana Li")
    workbook = openpyxl.load_workbook(io.BytesIO(export(as_user(exporter), "xlsx")))
    record = ExportRecord.objects.get()
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == expected_stamp(record)
    assert rows[1][0] == "Name"
    assert rows[2][0] == "Ana Li"
    assert workbook.properties.creator == "olive"
    created = workbook.properties.created.replace(tzinfo=dt.UTC)
    assert abs(created - record.created_at) < dt.timedelta(seconds=1)
    assert workbook.active.freeze_panes == "A3"


@pytest.mark.parametrize(("file_format", "filename"), [("csv", "p.csv"), ("xlsx", "p.xlsx")])
def test_the_import_reads_an_exported_file_under_its_title_row(
    as_user, exporter, file_format, filename
):
    MemberFactory(name="Ana Li")
    sheet = read_sheet(filename, export(as_user(exporter), file_format))
    assert sheet.header_row == 2
    assert sheet.headers[0] == "Name"
    assert [cells[0] for _number, cells in sheet.rows] == ["Ana Li"]
