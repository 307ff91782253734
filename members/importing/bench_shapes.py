"""Uploads shaped to hurt a reader, made in memory: for the tests of the import's limits
(tests/members/test_import_limits.py) and the "uploads" section of `make bench`.

Each maker returns the file's bytes. The XLSX files are openpyxl workbooks, or one whose
sheet XML is written here row by row (no spreadsheet program writes two million rows,
but anyone can zip them).
"""

import io
import zipfile

from openpyxl import Workbook

_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_TAIL = b"</sheetData></worksheet>"
SHEET_PATH = "xl/worksheets/sheet1.xml"


def small_xlsx(rows=(("Name", "Email"), ("Ana Diaz", "ana@example.org"))) -> bytes:
    """A plain workbook of `rows`: the base the other XLSX shapes are made from."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def replace_part(xlsx: bytes, path: str, chunks) -> bytes:
    """`xlsx` with the part `path` replaced by the bytes of `chunks` (an iterable)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == path:
                with target.open(path, "w") as part:
                    for chunk in chunks:
                        part.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def xlsx_with_shared_strings(strings_xml: bytes, sheet_xml: bytes) -> bytes:
    """A workbook whose sheet is `sheet_xml` (rows only) and shared strings `strings_xml`."""
    base = replace_part(small_xlsx(), SHEET_PATH, [_HEAD + sheet_xml + _TAIL])
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            target.writestr(info, content)
        target.writestr("xl/sharedStrings.xml", strings_xml)
    return out.getvalue()


def million_commas_csv() -> bytes:
    """1 MB: a header, then one line of a million commas ending in a value."""
    return b"Name,Email\n" + b"," * 1_000_000 + b"x\n"


def xlsx_cell_in_last_column(*, people: int = 20_000, row: int = 1_048_576) -> bytes:
    """About 300 KB: `people` rows of two columns and one cell in column XFD (16,384) of
    `row` (the last row by default; row 1 puts it in the header)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Email"])
    for n in range(people):
        sheet.append([f"Person {n}", f"p{n}@example.org"])
    sheet.cell(row=row, column=16_384, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_of_rows(count: int = 2_000_000) -> bytes:
    """An XLSX of `count` rows of one number each (about 130 KB zipped for two million)."""

    def chunks():
        yield _HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>'
        done = 1
        while done < count:
            batch = min(10_000, count - done)
            yield b"<row><c><v>1</v></c></row>" * batch
            done += batch
        yield _TAIL

    return replace_part(small_xlsx(), SHEET_PATH, chunks())


def xlsx_one_row_of_cells(cells: int = 1_000_000) -> bytes:
    """An XLSX whose first row writes `cells` cells: more than Excel's 16,384 columns."""

    def chunks():
        yield _HEAD + b"<row>"
        for start in range(0, cells, 10_000):
            yield b"<c><v>1</v></c>" * min(10_000, cells - start)
        yield b"</row>" + _TAIL

    return replace_part(small_xlsx(), SHEET_PATH, chunks())


def one_huge_cell_csv() -> bytes:
    """A header and one quoted cell of a million characters (the csv module's limit is
    131,072; ours is IMPORT_MAX_CELL_CHARS)."""
    return b'Name,Note\nAna,"' + b"x" * 1_000_000 + b'"\n'


def honest_csv(rows: int = 100_000) -> bytes:
    """A large honest file: `rows` people in six columns (about 7 MB), to be read."""
    lines = [b"Name,Email,Phone,City,Region,Sectors"]
    lines += [
        b"Person %d,p%d@example.org,(512) 555-%04d,Austin,TX,Housing; Labor" % (n, n, n % 10_000)
        for n in range(rows)
    ]
    return b"\n".join(lines) + b"\n"


SHAPES = {
    "CSV: a line of 1,000,000 commas": million_commas_csv,
    "XLSX: a cell in XFD1048576": xlsx_cell_in_last_column,
    "XLSX: a cell in XFD1 (the header)": lambda: xlsx_cell_in_last_column(row=1),
    "XLSX: 2,000,000 rows": xlsx_of_rows,
    "XLSX: one row of 1,000,000 cells": xlsx_one_row_of_cells,
    "CSV: one cell of 1,000,000 characters": one_huge_cell_csv,
    "CSV: 100,000 people, 6 columns (honest)": honest_csv,
}
