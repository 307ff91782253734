"""Reading uploads (members.importing.reading): encodings, file kinds refused with their
reason, the header row, XLSX sheets, and the sheet kept as JSON."""

import codecs
import io

import pytest
from openpyxl import Workbook

from members.importing.reading import (
    EXCEL_1900,
    Sheet,
    UnreadableFile,
    find_header_row,
    read_sheet,
)

PEOPLE = (
    "Name,Email,City\r\n"
    "Renée Okafor,renee@example.org,Dayton\r\n"
    "José Núñez,jose@example.org,Köln\r\n"
)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PEOPLE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + PEOPLE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + PEOPLE.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + PEOPLE.encode("utf-16-be"), "utf-16"),
        (PEOPLE.encode("utf-16-le"), "utf-16"),
        (PEOPLE.encode("cp1252"), "windows-1252"),
        (PEOPLE.encode("mac_roman"), "mac-roman"),
    ],
)
def test_the_same_people_whatever_the_encoding(data, encoding):
    sheet = read_sheet("people.csv", data)
    assert sheet.encoding == encoding
    assert [cells[0] for _, cells in sheet.rows] == ["Renée Okafor", "José Núñez"]


def test_tab_delimited_unicode_text_is_read_by_its_tabs():
    data = codecs.BOM_UTF16_LE + PEOPLE.replace(",", "\t").encode("utf-16-le")
    sheet = read_sheet("people.txt", data)
    assert (sheet.delimiter, sheet.headers) == ("\t", ["Name", "Email", "City"])


def test_a_sure_guess_has_no_notice_and_an_unsure_one_names_letters_to_check():
    assert read_sheet("p.csv", PEOPLE.encode("utf-8")).notices == []
    polish = "Name,City\nŁukasz Wójcik,Kraków\nZofia Żółć,Łódź\n".encode("cp1250")
    (notice,) = read_sheet("p.csv", polish).notices
    assert "is a guess" in notice
    assert "CSV UTF-8" in notice


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis.opendocument", ".ods"),
        (b"PK\x03\x04broken", "could not be opened as an XLSX"),
        (b"\x00\x01\x02\x03" * 50, "does not look like a CSV"),
        (codecs.BOM_UTF8 + b"Name\n\xff\xfe\xfa\n", "says it is UTF-8"),
        (b"Name,Email\n", "no people"),
        (b"   ", "empty"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data, message):
    with pytest.raises(UnreadableFile, match=message):
        read_sheet("upload.csv", data)


def test_too_many_rows_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(UnreadableFile, match="the limit is 2"):
        read_sheet("p.csv", b"Name\na\nb\nc\n")


@pytest.mark.parametrize(
    ("grid", "header"),
    [
        ([(1, ["Name", "Email"]), (2, ["Ana", "a@example.org"])], 1),
        ([(1, ["Members, spring 2024", ""]), (3, ["Name", "Email"]), (4, ["Ana", "a"])], 3),
        ([(1, ["Printed 2024-03-01"]), (2, ["First name", "Surname", "E-mail"])], 2),
        ([(1, ["Name"]), (2, ["Ana"])], 1),  # one column: one known name is enough
        ([(1, ["Who", "Reach at"]), (2, ["Ana", "a"])], 1),  # nothing known: the first row
    ],
)
def test_the_header_is_the_first_row_that_names_known_columns(grid, header):
    assert find_header_row(grid) == header


def test_a_chosen_header_row_reads_the_rows_below_it():
    data = b"Club list\n\nName,Email\nAna,a@example.org\n"
    sheet = read_sheet("p.csv", data, header_row=1)
    assert sheet.headers == ["Club list", "Column 2"]
    assert read_sheet("p.csv", data).header_row == 3
    with pytest.raises(UnreadableFile, match="Row 2 is empty"):
        read_sheet("p.csv", data, header_row=2)


def test_the_sheet_kept_as_json_reads_back_the_same():
    sheet = read_sheet("p.csv", "Title\nName,Email\nAna\u200b,a@example.org\n".encode())
    kept = Sheet.from_json(sheet.as_json())
    assert (kept.headers, kept.rows, kept.header_row) == (sheet.headers, sheet.rows, 2)
    assert kept.rows == [(3, ["Ana", "a@example.org"])]  # cleaned once, at reading
    assert kept.epoch == EXCEL_1900
    assert Sheet.from_json(sheet.as_json(), header_row=1).headers == ["Title", "Column 2"]


def test_an_xlsx_formatted_to_its_last_row_stops_with_a_notice(monkeypatch):
    from openpyxl.styles import Font

    from members.importing import reading

    monkeypatch.setattr(reading, "MAX_BLANK_XLSX_ROWS", 10)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Email"])
    sheet.append(["Ana", "a@example.org"])
    sheet.cell(row=500, column=1).font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = read_sheet("p.xlsx", buffer.getvalue())
    assert read.rows == [(2, ["Ana", "a@example.org"])]
    (notice,) = read.notices
    assert "formatted down to row 500" in notice
