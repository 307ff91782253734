"""Uploads are bounded while they are read (members.importing.reading): each hurtful shape
is refused at its limit or read, within 200 MB; malformed files of every kind get a
message on the form and from `import_people`, never a server error."""

import contextlib
import io
import random
import re
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from members.importing import bench_shapes as shapes
from members.importing.reading import UnreadableFile, read_sheet
from members.models import ImportRecord

PEAK_LIMIT = 200 * 1024 * 1024


def read_measured(filename: str, data: bytes):
    """(the sheet or the refusal, peak bytes Python allocated while reading)."""
    tracemalloc.start()
    try:
        result = read_sheet(filename, data)
    except UnreadableFile as refusal:
        result = refusal
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def test_a_line_of_a_million_commas_is_refused_naming_the_column_limit():
    result, peak = read_measured("list.csv", shapes.million_commas_csv())
    assert isinstance(result, UnreadableFile)
    assert str(result).startswith("Row 2 has 1,000,001 columns; at most 200 are read")
    assert peak < PEAK_LIMIT


def test_a_line_of_empty_commas_is_no_data_and_is_read():
    data = b"Name,Email\nAna,a@example.org\n" + b"," * 1_000_000 + b"\n"
    result, peak = read_measured("list.csv", data)
    assert result.rows == [(2, ["Ana", "a@example.org"])]
    assert peak < PEAK_LIMIT


def test_an_xlsx_with_a_cell_in_the_last_cell_of_the_sheet_is_read_without_padding():
    data = shapes.xlsx_cell_in_last_column(people=5000)
    result, peak = read_measured("list.xlsx", data)
    assert len(result.rows) == 5000
    assert result.headers == ["Name", "Email"]  # not 16,384 columns
    assert "formatted down to row 1,048,576" in result.notices[0]
    assert peak < PEAK_LIMIT


def test_an_xlsx_with_a_value_in_column_xfd_is_refused_naming_the_column_limit():
    result, peak = read_measured("list.xlsx", shapes.xlsx_cell_in_last_column(row=1))
    assert str(result).startswith("Row 1 has 16,384 columns; at most 200 are read")
    assert peak < PEAK_LIMIT


def test_an_xlsx_of_two_million_rows_is_refused_at_the_row_limit():
    result, peak = read_measured("list.xlsx", shapes.xlsx_of_rows(2_000_000))
    assert isinstance(result, UnreadableFile)
    assert "more than 100,000 rows; the limit is 100,000 (IMPORT_MAX_ROWS)" in str(result)
    assert peak < PEAK_LIMIT


def test_an_xlsx_row_of_a_million_cells_is_refused_before_it_is_built():
    result, peak = read_measured("list.xlsx", shapes.xlsx_one_row_of_cells(1_000_000))
    assert "more than 16,384 cells" in str(result)
    assert peak < PEAK_LIMIT


def test_an_xlsx_unpacking_past_the_limit_is_refused(settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 50_000
    with pytest.raises(UnreadableFile, match=r"unpacks to .*IMPORT_MAX_UNPACKED_BYTES"):
        read_sheet("list.xlsx", shapes.xlsx_of_rows(10_000))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_cell_over_the_cell_limit_is_refused_naming_its_row(settings, suffix):
    settings.IMPORT_MAX_CELL_CHARS = 50
    rows = [("Name", "Note"), ("Ana", "short"), ("Bo", "x" * 51)]
    if suffix == ".csv":
        data = "".join(f'{a},"{b}"\n' for a, b in rows).encode()
    else:
        data = shapes.small_xlsx(rows)
    with pytest.raises(UnreadableFile, match=r"Row 3.* at most 50 are read in one cell"):
        read_sheet("list" + suffix, data)


def test_the_default_cell_limit_is_ours_not_the_csv_modules():
    data = b'Name,Note\nAna,"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(UnreadableFile, match="Row 2 has a cell over 10,000 characters"):
        read_sheet("list.csv", data)


def test_rows_and_cells_limits_stop_the_reading(settings):
    settings.IMPORT_MAX_ROWS = 3
    data = b"Name\n" + b"".join(b"P%d\n" % n for n in range(100))
    with pytest.raises(UnreadableFile, match="more than 3 rows; the limit is 3"):
        read_sheet("list.csv", data)
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_CELLS = 1000, 10
    with pytest.raises(UnreadableFile, match=r"more than 10 cells .*IMPORT_MAX_CELLS"):
        read_sheet("list.csv", data)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_NAME_ROW = (
    b'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
)


def test_shared_strings_are_read():
    data = shapes.xlsx_with_shared_strings(
        _SST + b"<si><t>Name</t></si><si><t>Ana</t></si></sst>", _NAME_ROW
    )
    assert read_sheet("list.xlsx", data).rows == [(2, ["Ana"])]


MALFORMED = {
    "empty.csv": (b"", "empty"),
    "blank.csv": (b" \r\n\t\n", "empty"),
    "truncated.xlsx": (shapes.small_xlsx()[:1500], "could not be opened as an XLSX"),
    "not-a-workbook.xlsx": (_zip({"hello.txt": b"hi"}), "could not be opened as an XLSX"),
    "broken-sheet.xlsx": (
        shapes.replace_part(
            shapes.small_xlsx(), shapes.SHEET_PATH, [b"<worksheet><sheetData><row"]
        ),
        "damaged",
    ),
    "sheet-not-xml.xlsx": (
        shapes.replace_part(shapes.small_xlsx(), shapes.SHEET_PATH, [b"\x00\xff junk"]),
        "damaged",
    ),
    "bad-shared-strings.xlsx": (
        shapes.xlsx_with_shared_strings(_SST + b"<si><t>Name", _NAME_ROW),
        "damaged",
    ),
    "shared-string-out-of-range.xlsx": (
        shapes.xlsx_with_shared_strings(_SST + b"<si><t>Name</t></si></sst>", _NAME_ROW),
        "damaged",
    ),
    "junk.csv": (random.Random(10).randbytes(20_000), ""),
    "nul-first.csv": (b"\x00\x01\x00\x02" * 100, "does not look like a CSV"),
    "utf8-bom-then-junk.csv": (b"\xef\xbb\xbfName\n\xff\xfe\xfd\n", "says it is UTF-8"),
    "over-the-cell-limit.csv": (b'Name\n"' + b"y" * 20_000 + b'"\n', "at most 10,000"),
    "unclosed-quote.csv": (b'Name,Email\n"Ana,a@example.org\n', ""),
}


@pytest.mark.parametrize("filename", list(MALFORMED))
def test_a_malformed_file_is_refused_with_a_message(filename):
    data, message = MALFORMED[filename]
    if not message:  # junk that decodes as text may be read as a sheet of junk, or refused
        with contextlib.suppress(UnreadableFile):
            read_sheet(filename, data)
        return
    with pytest.raises(UnreadableFile, match=re.escape(message)):
        read_sheet(filename, data)


def test_nul_and_control_characters_in_cells_are_removed():
    sheet = read_sheet("list.csv", b"Name,City\nAna\x00 Diaz\x07,Day\x1fton\n")
    assert sheet.rows == [(2, ["Ana Diaz", "Dayton"])]


@pytest.mark.parametrize("filename", [*MALFORMED, "commas.csv", "xfd1.xlsx"])
def test_the_upload_page_shows_the_refusal_on_the_form(as_user, organizer, filename):
    data, message = MALFORMED.get(filename, (b"", ""))
    if filename == "commas.csv":
        data, message = shapes.million_commas_csv(), "at most 200 are read"
    elif filename == "xfd1.xlsx":
        data, message = shapes.xlsx_cell_in_last_column(people=10, row=1), "at most 200"
    response = as_user(organizer).post(
        reverse("members:import_start"), {"file": SimpleUploadedFile(filename, data)}
    )
    if response.status_code == 302:  # read: junk that decodes as text is a sheet of junk
        assert not message
        return
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert message in errors[0]
    assert not ImportRecord.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(as_user, organizer, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    response = as_user(organizer).post(
        reverse("members:import_start"),
        {"file": SimpleUploadedFile("big.csv", b"Name\n" + b"Ana\n" * 1000)},
    )
    assert (
        "the limit is 1,000 bytes (IMPORT_MAX_UPLOAD_BYTES)"
        in (response.context["form"].errors["file"][0])
    )


@pytest.mark.parametrize(
    "filename",
    ["truncated.xlsx", "broken-sheet.xlsx", "bad-shared-strings.xlsx", "over-the-cell-limit.csv"],
)
def test_import_people_refuses_a_malformed_file_with_a_clean_message(tmp_path, organizer, filename):
    data, message = MALFORMED[filename]
    path = tmp_path / filename
    path.write_bytes(data)
    with pytest.raises(CommandError, match=message) as refused:
        call_command("import_people", str(path), "--by", organizer.username, stdout=io.StringIO())
    assert "Traceback" not in str(refused.value)
    assert not ImportRecord.objects.exists()
