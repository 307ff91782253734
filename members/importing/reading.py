"""Read an uploaded spreadsheet into a header and rows of text, tolerating real-world mess.

The upload is read once, by start_import: the Sheet it gives (every non-blank row with its
number, the header row, the encoding, the workbook's date system, notices for the person)
is kept on the ImportRecord as JSON (Sheet.as_json) and every later step reads that
(sheet_of), so choosing another header row or previewing again never re-parses the file.

Encodings: a byte-order mark decides (UTF-8, UTF-16 as Excel's "Unicode Text" writes it,
UTF-32); else strict UTF-8; else charset-normalizer guesses among the encodings
spreadsheets are saved in, and an uncertain guess becomes a notice naming the letters to
check. XLSX: openpyxl in read-only mode, up to the last row with data.
"""

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from members.importing.columns import header_score
from members.text import clean_text

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# XLSX: this many empty rows in a row end the data. A sheet formatted far below its data
# (a style on row 1,048,576) otherwise costs a million empty rows; ws.max_row counts them.
MAX_BLANK_XLSX_ROWS = 1000
# Rows searched for the header: a title, a date line and a blank row or two come first.
HEADER_SEARCH_ROWS = 20

# Excel counts days from 1899-12-30 (the 1900 system, with its 1900 leap-year bug folded
# in) or, in workbooks made by old Excel for Mac, from 1904-01-01. A CSV keeps no flag, so
# serials in a CSV are read in the 1900 system, which every current Excel writes.
EXCEL_1900 = dt.date(1899, 12, 30)
EXCEL_1904 = dt.date(1904, 1, 1)

# Encodings charset-normalizer may choose from: those spreadsheets are actually saved in.
# Limiting the field keeps it from answering with an exotic code page that happens to fit
# a short file (it proposes cp1257 or mac_greek for three lines of Mac Roman otherwise).
CANDIDATE_ENCODINGS = [
    "cp1252",
    "mac_roman",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "iso8859_2",
    "iso8859_15",
    "cp437",
    "cp850",
    "koi8_r",
    "shift_jis",
    "gb18030",
    "big5",
    "euc_kr",
]
# Between encodings the library finds equally clean, the ones our spreadsheets come from:
# Excel for Windows saves CSV as Windows-1252, Excel for Mac as Mac Roman.
PREFERRED_ENCODINGS = ["cp1252", "mac_roman"]
# A difference of chaos (charset-normalizer's 0..1 measure of odd characters) this small
# is a tie: the short files people upload give several encodings the same score.
CHAOS_TIE = 0.01
ENCODING_NAMES = {
    "utf_8": ("utf-8", "UTF-8"),
    "utf_16": ("utf-16", "UTF-16"),
    "utf_32": ("utf-32", "UTF-32"),
    "cp1252": ("windows-1252", "Windows-1252 (Western European, Excel for Windows)"),
    "mac_roman": ("mac-roman", "Mac Roman (Excel for Mac)"),
    "cp1250": ("windows-1250", "Windows-1250 (Central European)"),
    "cp1251": ("windows-1251", "Windows-1251 (Cyrillic)"),
    "cp1253": ("windows-1253", "Windows-1253 (Greek)"),
    "cp1254": ("windows-1254", "Windows-1254 (Turkish)"),
    "cp1255": ("windows-1255", "Windows-1255 (Hebrew)"),
    "cp1256": ("windows-1256", "Windows-1256 (Arabic)"),
    "cp1257": ("windows-1257", "Windows-1257 (Baltic)"),
    "iso8859_2": ("iso-8859-2", "ISO-8859-2 (Central European)"),
    "iso8859_15": ("iso-8859-15", "ISO-8859-15 (Western European)"),
    "cp437": ("cp437", "DOS (code page 437)"),
    "cp850": ("cp850", "DOS Western European (code page 850)"),
    "koi8_r": ("koi8-r", "KOI8-R (Cyrillic)"),
    "shift_jis": ("shift_jis", "Shift JIS (Japanese)"),
    "gb18030": ("gb18030", "GB18030 (Chinese)"),
    "big5": ("big5", "Big5 (Traditional Chinese)"),
    "euc_kr": ("euc-kr", "EUC-KR (Korean)"),
}
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
]
_NON_ASCII_WORD = re.compile(r"\w*[^\x00-\x7f]\w*")
NOT_A_SPREADSHEET = (
    "This does not look like a CSV or XLSX spreadsheet. Save it as CSV or XLSX and try again."
)


class UnreadableFile(ValueError):
    """The upload is not a spreadsheet we can read; the message says why, for a person."""


@dataclass
class Sheet:
    """A spreadsheet as text: the header, the rows under it, and how the file was read."""

    headers: list[str]
    # (row number as the person sees it in their spreadsheet, cells aligned with headers)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    # The header's row number in the file; the rows above it are not people.
    header_row: int = 1
    # Day 0 of the file's date serials (EXCEL_1900, or EXCEL_1904 for a 1904 workbook).
    epoch: dt.date = EXCEL_1900
    # Things the person should check before importing (an uncertain encoding), in words.
    notices: list[str] = field(default_factory=list)
    # Every non-blank row of the file with its number, the header's included: the rows
    # a person can choose as the header on the columns page.
    grid: list[tuple[int, list[str]]] = field(default_factory=list)

    def as_json(self) -> dict:
        """The sheet for ImportRecord.sheet (a JSONField); Sheet.from_json reverses it."""
        return {
            "grid": [[number, cells] for number, cells in self.grid],
            "header_row": self.header_row,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "epoch": self.epoch.isoformat(),
            "notices": list(self.notices),
        }

    @classmethod
    def from_json(cls, data: dict, *, header_row: int | None = None) -> "Sheet":
        """The sheet kept by as_json, read from `header_row` if given (else as kept).

        Raises UnreadableFile when the data is empty or the row holds no header.
        """
        grid = [(number, list(cells)) for number, cells in data.get("grid", [])]
        sheet = _sheet_from_grid(grid, header_row=header_row or data.get("header_row"))
        sheet.encoding = data.get("encoding", "")
        sheet.delimiter = data.get("delimiter", "")
        sheet.epoch = dt.date.fromisoformat(data.get("epoch") or EXCEL_1900.isoformat())
        sheet.notices = list(data.get("notices", []))
        return sheet

    @property
    def header_choices(self) -> list[tuple[int, str]]:
        """(row number, its first cells) for the rows that could be the header."""
        return [
            (number, ", ".join(cell for cell in cells if cell)[:80])
            for number, cells in self.grid[:HEADER_SEARCH_ROWS]
        ]


def read_sheet(filename: str, data: bytes, *, header_row: int | None = None) -> Sheet:
    """Read an upload's bytes into a Sheet; `header_row` forces the header's row number.

    Without `header_row`, the header is the first row, among the first HEADER_SEARCH_ROWS
    non-blank ones, that names columns we know (a title row above it is skipped).
    Raises UnreadableFile with the reason, for a person: empty, too large, not a
    spreadsheet, an encoding no reader fits, no header, no people, too many rows.
    """
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableFile(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    _refuse_other_formats(data)
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        grid, epoch, notices = _xlsx_grid(data)
        sheet = _sheet_from_grid(grid, header_row=header_row)
        sheet.epoch = epoch
        sheet.notices = notices
    else:
        text, encoding, notices = _decode(data)
        delimiter = _sniff_delimiter(text)
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        grid = [(number, row) for number, row in enumerate(rows, 1)]
        sheet = _sheet_from_grid(grid, header_row=header_row)
        sheet.encoding, sheet.delimiter, sheet.notices = encoding, delimiter, notices
    if not sheet.rows:
        raise UnreadableFile("The file has a header row but no people in it.")
    if len(sheet.rows) > MAX_ROWS:
        raise UnreadableFile(f"The file has {len(sheet.rows):,} rows; the limit is {MAX_ROWS:,}.")
    return sheet


def sheet_of(record, *, header_row: int | None = None) -> Sheet:
    """The sheet an ImportRecord kept at upload; read from its file only for records
    uploaded before sheets were kept. Raises UnreadableFile if neither is there any more."""
    if record.sheet:
        return Sheet.from_json(record.sheet, header_row=header_row)
    if not record.content:
        raise UnreadableFile("The uploaded file is no longer kept; upload it again.")
    return read_sheet(record.filename, bytes(record.content), header_row=header_row)


# --- telling formats apart ----------------------------------------------------------------


def _refuse_other_formats(data: bytes) -> None:
    """Files people pick by mistake, named so they know what to do."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableFile(
            "This is an old Excel (.xls) or other Office 97 file. Open it in Excel and "
            "save it as XLSX (Excel Workbook) or CSV, then upload that."
        )
    if data[:5] == b"%PDF-":
        raise UnreadableFile("This is a PDF, not a spreadsheet. Upload the CSV or XLSX file.")
    if data[:4] == b"PK\x03\x04" and b"mimetypeapplication/vnd.oasis.opendocument" in data[:100]:
        raise UnreadableFile(
            "This is an OpenDocument (.ods) spreadsheet. Save it as XLSX or CSV and try again."
        )


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    """The text of a CSV, the name of its encoding, and notices about the guess."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec if codec != "utf_8" else "utf_8_sig")
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"The file says it is {ENCODING_NAMES[codec][1]} but byte {error.start:,} "
                    "is not. Save it again as CSV UTF-8 and upload that."
                ) from error
            return text, ENCODING_NAMES[codec][0], []
    # No text file has NUL bytes, except UTF-16 (every ASCII letter is half zeros).
    if b"\x00" in data[:4096]:
        return _decode_utf16_without_bom(data)
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    return _guess_single_byte(data)


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str, list[str]]:
    """NUL bytes mean UTF-16 (or binary): text only if it decodes to lines of text."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536], cp_isolation=["utf_16_le", "utf_16_be"]).best()
    if best is not None:
        text = data.decode(best.encoding, errors="replace")
        if "\n" in text and not _has_controls(text):
            return text, "utf-16", []
    raise UnreadableFile(NOT_A_SPREADSHEET)


def _has_controls(text: str) -> bool:
    sample = text[:4096]
    return any(ord(c) < 32 and c not in "\t\r\n" for c in sample)


def _guess_single_byte(data: bytes) -> tuple[str, str, list[str]]:
    """Ask charset-normalizer; break its ties toward Excel's encodings; say when unsure."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=CANDIDATE_ENCODINGS))
    if not matches:
        raise UnreadableFile(
            "The file's encoding could not be recognised: it is not UTF-8, and no common "
            "spreadsheet encoding reads it as text. Save it as CSV UTF-8 and upload that."
        )
    lowest = min(match.chaos for match in matches)
    tied = {match.encoding: str(match) for match in matches if match.chaos <= lowest + CHAOS_TIE}
    chosen = next(iter(tied))
    texts = set(tied.values())
    # The library drops encodings that read the file exactly like one it already listed
    # (Windows-1252 and -1250 agree on "é"), so a preferred one is tied if its text is.
    for preferred in PREFERRED_ENCODINGS:
        text = data.decode(preferred, errors="replace")
        if preferred in tied or text in texts:
            chosen, tied[preferred] = preferred, text
            break
    text = tied[chosen]
    others = [name for name, other in tied.items() if other != text]
    notices = []
    if others or lowest > 0.1:
        notices.append(_uncertain_notice(chosen, others, text))
    return text, ENCODING_NAMES.get(chosen, (chosen, chosen))[0], notices


def _uncertain_notice(chosen: str, others: list[str], text: str) -> str:
    words = list(dict.fromkeys(_NON_ASCII_WORD.findall(text)))[:4]
    label = ENCODING_NAMES.get(chosen, (chosen, chosen))[1]
    could = " or ".join(ENCODING_NAMES.get(name, (name, name))[1] for name in others[:2])
    check = f" Check these as written: {', '.join(f'“{w}”' for w in words)}." if words else ""
    return (
        f"The file is not UTF-8, and its encoding is a guess: read as {label}"
        + (f"; it could also be {could}" if could else "")
        + "."
        + check
        + " If letters look wrong, save the file from Excel as “CSV UTF-8” and upload it again."
    )


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


# --- XLSX -----------------------------------------------------------------------------------


def _xlsx_grid(data: bytes) -> tuple[list[tuple[int, list]], dt.date, list[str]]:
    """The first sheet's rows up to the last one with data, its epoch, and notices."""
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(
            "This file could not be opened as an XLSX spreadsheet. Save it again as XLSX or CSV."
        ) from error
    try:
        worksheet = workbook.worksheets[0]
        epoch = EXCEL_1904 if workbook.epoch == CALENDAR_MAC_1904 else EXCEL_1900
        grid, blank, number = [], 0, 0
        for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            if any(value is not None and value != "" for value in values):
                grid.append((number, [_cell_text(value) for value in values]))
                blank = 0
            else:
                blank += 1
                if blank >= MAX_BLANK_XLSX_ROWS:
                    break
        # The sheet's own claim of its size: a style far below the data counts.
        declared = worksheet.max_row or 0
    finally:
        workbook.close()
    notices = []
    if blank >= MAX_BLANK_XLSX_ROWS and declared > number:
        last = grid[-1][0] if grid else 0
        notices.append(
            f"The sheet is formatted down to row {declared:,}; reading stopped after "
            f"{MAX_BLANK_XLSX_ROWS:,} empty rows below row {last:,}. If anyone is listed "
            "further down, delete the empty rows in between and upload the file again."
        )
    return grid, epoch, notices


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # Excel dates arrive as datetimes at midnight; keep the date only.
        return value.date().isoformat() if not (value.hour or value.minute) else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- header and rows ------------------------------------------------------------------------


def _filled_width(row: list[str]) -> int:
    width = len(row)
    while width and not row[width - 1]:
        width -= 1
    return width


def find_header_row(grid: list[tuple[int, list[str]]]) -> int:
    """The row number of the header: the first of the first rows that names two or more
    columns we know (one, for a one-column file), else the first non-blank row."""
    candidates = grid[:HEADER_SEARCH_ROWS]
    if not candidates:
        raise UnreadableFile("The file has no rows.")
    for number, cells in candidates:
        filled = sum(1 for cell in cells if cell)
        if header_score(cells) >= min(2, filled):
            return number
    return candidates[0][0]


def _sheet_from_grid(grid, *, header_row: int | None = None) -> Sheet:
    """Blank rows and repeated header rows are dropped; rows above the header are too.

    Every cell is cleaned of invisible characters and trimmed here, so no later step
    sees a zero-width space or a byte-order mark.
    """
    numbered = [
        (number, [clean_text(str(cell), multiline=True).strip() for cell in row])
        for number, row in grid
    ]
    numbered = [(number, row) for number, row in numbered if any(row)]
    if not numbered:
        raise UnreadableFile("The file has no rows.")
    header_row = header_row or find_header_row(numbered)
    position = next((i for i, (number, _) in enumerate(numbered) if number == header_row), None)
    if position is None:
        raise UnreadableFile(f"Row {header_row} is empty or not in the file; choose another row.")
    headers = numbered[position][1]
    below = numbered[position + 1 :]
    # Cells past the last named column are kept too, under "Column N", not dropped.
    width = max(_filled_width(row) for _, row in numbered[position:])
    headers = (headers + [""] * width)[:width]
    header_key = [h.casefold() for h in headers]
    rows = []
    for number, row in below:
        cells = (row + [""] * width)[:width]
        if [c.casefold() for c in cells] == header_key:
            continue  # a header repeated (pasted sheets, page breaks)
        if not any(cells):
            continue
        rows.append((number, cells))
    return Sheet(
        headers=[h or f"Column {i + 1}" for i, h in enumerate(headers)],
        rows=rows,
        header_row=header_row,
        grid=numbered,
    )
