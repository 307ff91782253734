"""Read an uploaded spreadsheet into a header and rows of text, tolerating real-world mess."""

import csv
import io
import zipfile
from dataclasses import dataclass, field

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000


class UnreadableFile(ValueError):
    """The upload is not a spreadsheet we can read; the message says why, for a person."""


@dataclass
class Sheet:
    headers: list[str]
    # (row number as the person sees it in their spreadsheet, cells aligned with headers)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""


def read_sheet(filename: str, data: bytes) -> Sheet:
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableFile(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        grid = _xlsx_grid(data)
        sheet = _sheet_from_grid(grid)
    else:
        text, encoding = _decode(data)
        delimiter = _sniff_delimiter(text)
        grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        sheet = _sheet_from_grid(grid)
        sheet.encoding, sheet.delimiter = encoding, delimiter
    if not sheet.rows:
        raise UnreadableFile("The file has a header row but no people in it.")
    if len(sheet.rows) > MAX_ROWS:
        raise UnreadableFile(f"The file has {len(sheet.rows):,} rows; the limit is {MAX_ROWS:,}.")
    return sheet


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise UnreadableFile(
            "This does not look like a CSV or XLSX spreadsheet. "
            "Save it as CSV or XLSX and try again."
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Excel on Windows saves CSV as Windows-1252; every byte decodes, so it is the
        # fallback rather than a guess among many.
        return data.decode("cp1252", errors="replace"), "windows-1252"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


def _xlsx_grid(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(
            "This file could not be opened as an XLSX spreadsheet. Save it again as XLSX or CSV."
        ) from error
    sheet = workbook.worksheets[0]
    grid = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return grid


def _cell_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        # Excel dates arrive as datetimes at midnight; keep the date only.
        return value.date().isoformat() if not (value.hour or value.minute) else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filled_width(row: list[str]) -> int:
    width = len(row)
    while width and not row[width - 1]:
        width -= 1
    return width


def _sheet_from_grid(grid: list[list[str]]) -> Sheet:
    """First non-blank row is the header; blank rows and repeated header rows are dropped."""
    numbered = [(number, [cell.strip() for cell in row]) for number, row in enumerate(grid, 1)]
    numbered = [(number, row) for number, row in numbered if any(row)]
    if not numbered:
        raise UnreadableFile("The file has no rows.")
    _, headers = numbered[0]
    if not any(headers):
        raise UnreadableFile("The first row should name the columns, but it is empty.")
    # Cells past the last named column are kept too, under "Column N", not dropped.
    width = max(_filled_width(row) for _, row in numbered)
    headers = (headers + [""] * width)[:width]
    header_key = [h.casefold() for h in headers]
    rows = []
    for number, row in numbered[1:]:
        cells = (row + [""] * width)[:width]
        if [c.casefold() for c in cells] == header_key:
            continue  # a header repeated (pasted sheets, page breaks)
        if not any(cells):
            continue
        rows.append((number, cells))
    return Sheet(headers=[h or f"Column {i + 1}" for i, h in enumerate(headers)], rows=rows)
