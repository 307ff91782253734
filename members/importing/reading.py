"""Read an uploaded spreadsheet into a header and rows of text, tolerating real-world mess.

The upload is read once, by start_import: the Sheet it gives (every non-blank row with its
number, the header row, the encoding, the workbook's date system, notices for the person)
is kept on the ImportRecord as JSON (Sheet.as_json) and every later step reads that
(sheet_of), so choosing another header row or previewing again never re-parses the file.

Encodings: a byte-order mark decides (UTF-8, UTF-16 as Excel's "Unicode Text" writes it,
UTF-32); else strict UTF-8; else charset-normalizer guesses among the encodings
spreadsheets are saved in, and an uncertain guess becomes a notice naming the letters to
check. XLSX: openpyxl in read-only mode, up to the last row with data.

Limits (settings.IMPORT_MAX_*: Limits.from_settings) are checked as the file is read, row
by row, and the first one passed stops the reading with a message naming it: the file's
bytes, the columns with data in a row, the rows with data, the characters in one cell, the
cells in the sheet, and for an XLSX the unpacked size of its parts and the cells written in
one row. No row is padded to the widest one while reading, so a file's shape (a million
commas on one line, a cell in column XFD, two million rows) costs what its data costs.
"""

import codecs
import csv
import datetime as dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy

from members.importing.columns import header_score
from members.text import clean_text

logger = logging.getLogger(__name__)

# XLSX: this many empty rows in a row end the data. A sheet formatted far below its data
# (a style on row 1,048,576) otherwise costs a million empty rows; ws.max_row counts them.
MAX_BLANK_XLSX_ROWS = 1000
# Rows searched for the header: a title, a date line and a blank row or two come first.
HEADER_SEARCH_ROWS = 20
# Excel's widest row: an XLSX row writing more cells than this is not Excel's, and is
# refused before openpyxl builds it in memory (a zip of 300 KB can unpack to a row of
# millions of cells).
XLSX_MAX_CELLS_PER_ROW = 16_384

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
NOT_A_SPREADSHEET = gettext_lazy(
    "This does not look like a CSV or XLSX spreadsheet. Save it as CSV or XLSX and try again."
)


def _count(number: int) -> str:
    """A count as the reader's language groups its digits: "20,000" or "20.000"."""
    return number_format(number, force_grouping=True)


def _too_many_rows(limits) -> str:
    return gettext(
        "The file has more than %(limit)s rows; the limit is %(limit)s (IMPORT_MAX_ROWS). "
        "Split it into smaller files."
    ) % {"limit": _count(limits.rows)}


class UnreadableFile(ValueError):
    """The upload is not a spreadsheet we can read; the message says why, for a person."""


@dataclass(frozen=True)
class Limits:
    """How much of an upload is read (settings.IMPORT_MAX_*); the first limit passed
    refuses the file. `upload_bytes`: the file; `rows`: rows with data; `columns`: the
    last column with data in any row; `cell_chars`: characters in one cell; `cells`: cells
    with data in the sheet; `unpacked_bytes`: an XLSX's parts once unzipped."""

    upload_bytes: int
    rows: int
    columns: int
    cell_chars: int
    cells: int
    unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            cells=settings.IMPORT_MAX_CELLS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
        )


def size_refusal(size: int, limits: Limits | None = None) -> str:
    """The message refusing a file of `size` bytes, or "" when it is within the limit."""
    limit = (limits or Limits.from_settings()).upload_bytes
    if size <= limit:
        return ""
    return gettext(
        "The file is %(size)s; the limit is %(limit)s (IMPORT_MAX_UPLOAD_BYTES). "
        "Split it into smaller files."
    ) % {"size": _megabytes(size), "limit": _megabytes(limit)}


def _megabytes(size: int) -> str:
    if size >= 104_858:
        return gettext("%(size)s MB") % {"size": number_format(size / 1_048_576, 1)}
    return gettext("%(size)s bytes") % {"size": _count(size)}


class _Grid:
    """The rows with data of a file being read, checked against the limits one by one.

    add() trims the empty cells at a row's end (a CSV line of commas, an XLSX row with a
    styled cell far to the right are no data), then refuses the row at the first limit it
    passes: the columns, the size of a cell, the rows, the cells of the whole sheet.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.rows: list[tuple[int, list[str]]] = []
        self.cells = 0

    def add(self, number: int, cells: list[str]) -> bool:
        """Keep row `number` if it holds data; True if it did. Raises UnreadableFile."""
        limits = self.limits
        width = _filled_width(cells)
        if not width:
            return False
        if width > limits.columns:
            raise UnreadableFile(
                gettext(
                    "Row %(row)s has %(width)s columns; at most %(limit)s are read "
                    "(IMPORT_MAX_COLUMNS). Delete the columns after the last one you need and "
                    "upload the file again."
                )
                % {"row": _count(number), "width": _count(width), "limit": _count(limits.columns)}
            )
        cells = cells[:width]
        for column, cell in enumerate(cells, 1):
            if len(cell) > limits.cell_chars:
                raise UnreadableFile(
                    gettext(
                        "Row %(row)s, column %(column)s holds %(length)s characters; at most "
                        "%(limit)s are read in one cell (IMPORT_MAX_CELL_CHARS)."
                    )
                    % {
                        "row": _count(number),
                        "column": _count(column),
                        "length": _count(len(cell)),
                        "limit": _count(limits.cell_chars),
                    }
                )
        # A header may sit below a title and a few blank lines: those rows are allowed too.
        if len(self.rows) >= limits.rows + HEADER_SEARCH_ROWS:
            raise UnreadableFile(_too_many_rows(limits))
        self.cells += width
        if self.cells > limits.cells:
            raise UnreadableFile(
                gettext(
                    "The file has more than %(limit)s cells with data (reading stopped at "
                    "row %(row)s); the limit is %(limit)s (IMPORT_MAX_CELLS). Split it "
                    "into smaller files."
                )
                % {"limit": _count(limits.cells), "row": _count(number)}
            )
        self.rows.append((number, cells))
        return True


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


def read_sheet(
    filename: str, data: bytes, *, header_row: int | None = None, limits: Limits | None = None
) -> Sheet:
    """Read an upload's bytes into a Sheet; `header_row` forces the header's row number.

    Without `header_row`, the header is the first row, among the first HEADER_SEARCH_ROWS
    non-blank ones, that names columns we know (a title row above it is skipped).
    `limits` (default: Limits.from_settings()) are checked while reading. Raises
    UnreadableFile with the reason, for a person: empty, a limit passed (named), not a
    spreadsheet, malformed, an encoding no reader fits, no header, no people.
    """
    limits = limits or Limits.from_settings()
    if not data.strip():
        raise UnreadableFile(gettext("The file is empty."))
    if refusal := size_refusal(len(data), limits):
        raise UnreadableFile(refusal)
    _refuse_other_formats(data)
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        grid, epoch, notices = _xlsx_grid(data, limits)
        sheet = _sheet_from_grid(grid, header_row=header_row)
        sheet.epoch = epoch
        sheet.notices = notices
    else:
        text, encoding, notices = _decode(data)
        delimiter = _sniff_delimiter(text)
        grid = _csv_grid(text, delimiter, limits)
        sheet = _sheet_from_grid(grid, header_row=header_row)
        sheet.encoding, sheet.delimiter, sheet.notices = encoding, delimiter, notices
    if not sheet.rows:
        raise UnreadableFile(gettext("The file has a header row but no people in it."))
    if len(sheet.rows) > limits.rows:
        raise UnreadableFile(
            gettext(
                "The file has %(rows)s rows; the limit is %(limit)s (IMPORT_MAX_ROWS). "
                "Split it into smaller files."
            )
            % {"rows": _count(len(sheet.rows)), "limit": _count(limits.rows)}
        )
    return sheet


def sheet_of(record, *, header_row: int | None = None) -> Sheet:
    """The sheet an ImportRecord kept at upload; read from its file only for records
    uploaded before sheets were kept. Raises UnreadableFile if neither is there any more."""
    if record.sheet:
        return Sheet.from_json(record.sheet, header_row=header_row)
    if not record.content:
        raise UnreadableFile(gettext("The uploaded file is no longer kept; upload it again."))
    return read_sheet(record.filename, bytes(record.content), header_row=header_row)


# --- telling formats apart ----------------------------------------------------------------


def _refuse_other_formats(data: bytes) -> None:
    """Files people pick by mistake, named so they know what to do."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableFile(
            gettext(
                "This is an old Excel (.xls) or other Office 97 file. Open it in Excel and "
                "save it as XLSX (Excel Workbook) or CSV, then upload that."
            )
        )
    if data[:5] == b"%PDF-":
        raise UnreadableFile(
            gettext("This is a PDF, not a spreadsheet. Upload the CSV or XLSX file.")
        )
    if data[:4] == b"PK\x03\x04" and b"mimetypeapplication/vnd.oasis.opendocument" in data[:100]:
        raise UnreadableFile(
            gettext(
                "This is an OpenDocument (.ods) spreadsheet. Save it as XLSX or CSV and try again."
            )
        )


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    """The text of a CSV, the name of its encoding, and notices about the guess."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec if codec != "utf_8" else "utf_8_sig")
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    gettext(
                        "The file says it is %(encoding)s but byte %(byte)s is not. Save it "
                        "again as CSV UTF-8 and upload that."
                    )
                    % {"encoding": ENCODING_NAMES[codec][1], "byte": _count(error.start)}
                ) from error
            return text, ENCODING_NAMES[codec][0], []
    # No text file has NUL bytes, except UTF-16 (every ASCII letter is half zeros). A few
    # NULs in UTF-8 text are stray bytes of a bad export: cleaning removes them (clean_text).
    if b"\x00" in data[:4096] and not _sparse_nuls_in_utf8(data):
        return _decode_utf16_without_bom(data)
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    return _guess_single_byte(data)


def _sparse_nuls_in_utf8(data: bytes) -> bool:
    """True for UTF-8 text with a few NUL bytes (under 1 in 20): not UTF-16, not binary."""
    if data[:65536].count(b"\x00") * 20 > min(len(data), 65536):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str, list[str]]:
    """NUL bytes mean UTF-16 (or binary): text only if it decodes to lines of text."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536], cp_isolation=["utf_16_le", "utf_16_be"]).best()
    if best is not None:
        text = data.decode(best.encoding, errors="replace")
        if "\n" in text and not _has_controls(text):
            return text, "utf-16", []
    raise UnreadableFile(str(NOT_A_SPREADSHEET))


def _has_controls(text: str) -> bool:
    sample = text[:4096]
    return any(ord(c) < 32 and c not in "\t\r\n" for c in sample)


def _guess_single_byte(data: bytes) -> tuple[str, str, list[str]]:
    """Ask charset-normalizer; break its ties toward Excel's encodings; say when unsure."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=CANDIDATE_ENCODINGS))
    if not matches:
        raise UnreadableFile(
            gettext(
                "The file's encoding could not be recognised: it is not UTF-8, and no common "
                "spreadsheet encoding reads it as text. Save it as CSV UTF-8 and upload that."
            )
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
    could = gettext(" or ").join(ENCODING_NAMES.get(name, (name, name))[1] for name in others[:2])
    if could:
        notice = gettext(
            "The file is not UTF-8, and its encoding is a guess: read as %(encoding)s; it "
            "could also be %(others)s."
        ) % {"encoding": label, "others": could}
    else:
        notice = gettext(
            "The file is not UTF-8, and its encoding is a guess: read as %(encoding)s."
        ) % {"encoding": label}
    if words:
        notice += " " + gettext("Check these as written: %(words)s.") % {
            "words": ", ".join(f"“{w}”" for w in words)
        }
    return (
        notice
        + " "
        + gettext(
            "If letters look wrong, save the file from Excel as “CSV UTF-8” and upload it again."
        )
    )


# A CSV's lines, one at a time, ends kept (csv needs them to read a quoted line break):
# reading the text through this instead of a StringIO spares a second copy of the file.
_LINES = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _csv_grid(text: str, delimiter: str, limits: Limits) -> list[tuple[int, list[str]]]:
    """The CSV's rows with data, numbered as records (a quoted line break does not count).

    The csv module's field limit is set to the cell limit while reading, so a cell over it
    stops the reading at once with our message, not the module's "field larger than field
    limit". The limit is process-wide; it is put back after (a worker reads one file at a
    time). Raises UnreadableFile.
    """
    grid = _Grid(limits)
    number = 0
    previous = csv.field_size_limit(limits.cell_chars)
    try:
        lines = (match.group() for match in _LINES.finditer(text))
        for number, row in enumerate(csv.reader(lines, delimiter=delimiter), 1):
            grid.add(number, row)
    except csv.Error as error:
        if "field limit" in str(error):
            raise UnreadableFile(
                gettext(
                    "Row %(row)s has a cell over %(limit)s characters; at most %(limit)s are "
                    "read in one cell (IMPORT_MAX_CELL_CHARS)."
                )
                % {"row": _count(number + 1), "limit": _count(limits.cell_chars)}
            ) from error
        raise UnreadableFile(
            gettext(
                "Row %(row)s could not be read as CSV (%(error)s). Save the file again as "
                "CSV UTF-8 and upload that."
            )
            % {"row": _count(number + 1), "error": error}
        ) from error
    finally:
        csv.field_size_limit(previous)
    return grid.rows


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


# --- XLSX -----------------------------------------------------------------------------------


_NOT_XLSX = gettext_lazy(
    "This file could not be opened as an XLSX spreadsheet. Save it again as XLSX or CSV."
)


def _xlsx_grid(data: bytes, limits: Limits) -> tuple[list[tuple[int, list]], dt.date, list[str]]:
    """The first sheet's rows up to the last one with data, its epoch, and notices.

    openpyxl reads in read-only mode, row by row, with the sheet's declared dimensions
    dropped (reset_dimensions): otherwise every row is padded to the declared width, and a
    style in column XFD makes each row 16,384 cells. Anything the library raises on a
    malformed file (a broken zip, a missing or broken part) is an UnreadableFile.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise UnreadableFile(str(_NOT_XLSX)) from error
    if unpacked > limits.unpacked_bytes:
        raise UnreadableFile(
            gettext(
                "The XLSX file unpacks to %(size)s; at most %(limit)s are read "
                "(IMPORT_MAX_UNPACKED_BYTES). Save it as CSV, or split it into smaller files."
            )
            % {"size": _megabytes(unpacked), "limit": _megabytes(limits.unpacked_bytes)}
        )
    try:
        for info in archive.infolist():
            if info.filename.endswith(".xml") and "/worksheets/" in info.filename:
                _refuse_overlong_rows(archive, info.filename, limits)
            elif info.filename.endswith("/sharedStrings.xml"):
                _refuse_too_many_strings(archive, info.filename, limits)
    except UnreadableFile:
        raise
    # expat's error on broken XML, zlib's on a truncated part, a bad CRC: a damaged file.
    except Exception as error:
        logger.info("XLSX upload not read: %r", error)
        raise UnreadableFile(
            gettext(
                "The XLSX file is damaged (%(part)s cannot be read). Open it in Excel and "
                "save it again, or save it as CSV."
            )
            % {"part": info.filename}
        ) from error
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # Any failure of the library on a malformed file (its errors have no common base).
    except Exception as error:
        logger.info("XLSX upload not opened: %r", error)
        raise UnreadableFile(str(_NOT_XLSX)) from error
    grid = _Grid(limits)
    blank, number, declared = 0, 0, 0
    try:
        if not workbook.worksheets:
            raise UnreadableFile(gettext("The XLSX file has no sheet."))
        worksheet = workbook.worksheets[0]
        epoch = EXCEL_1904 if workbook.epoch == CALENDAR_MAC_1904 else EXCEL_1900
        # The sheet's own claim of its size: a style far below the data counts.
        declared = worksheet.max_row or 0
        worksheet.reset_dimensions()
        for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            if grid.add(number, [_cell_text(value) for value in values]):
                blank = 0
            else:
                blank += 1
                if blank >= MAX_BLANK_XLSX_ROWS:
                    break
    except UnreadableFile:
        raise
    # A broken sheet part or shared string shows only while the rows are read.
    except Exception as error:
        logger.info("XLSX upload not read: %r", error)
        raise UnreadableFile(
            gettext(
                "The XLSX file is damaged (reading stopped near row %(row)s). Open it in "
                "Excel and save it again, or save it as CSV."
            )
            % {"row": _count(number + 1)}
        ) from error
    finally:
        workbook.close()
    notices = []
    if blank >= MAX_BLANK_XLSX_ROWS and declared > number:
        last = grid.rows[-1][0] if grid.rows else 0
        notices.append(
            gettext(
                "The sheet is formatted down to row %(declared)s; reading stopped after "
                "%(blank)s empty rows below row %(last)s. If anyone is listed further down, "
                "delete the empty rows in between and upload the file again."
            )
            % {
                "declared": _count(declared),
                "blank": _count(MAX_BLANK_XLSX_ROWS),
                "last": _count(last),
            }
        )
    return grid.rows, epoch, notices


def _each_start_tag(archive: zipfile.ZipFile, path: str, on_start) -> None:
    """Call on_start(local tag name) for each start tag of the XML part `path`.

    expat reads the part in chunks and builds nothing, so memory stays flat whatever the
    part holds; no DTD or external entity is loaded. Raises ExpatError on broken XML.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = lambda name, _attributes: on_start(name.rpartition("}")[2])
    with archive.open(path) as source:
        parser.ParseFile(source)


def _refuse_too_many_strings(archive: zipfile.ZipFile, path: str, limits: Limits) -> None:
    """openpyxl loads every shared string at once: no more of them than cells we read."""
    count = 0

    def on_start(tag):
        nonlocal count
        if tag == "si":
            count += 1
            if count > limits.cells:
                raise UnreadableFile(
                    gettext(
                        "The XLSX file holds more than %(limit)s texts; the limit is "
                        "%(limit)s cells (IMPORT_MAX_CELLS). Split it into smaller files."
                    )
                    % {"limit": _count(limits.cells)}
                )

    _each_start_tag(archive, path, on_start)


def _refuse_overlong_rows(archive: zipfile.ZipFile, path: str, limits: Limits) -> None:
    """Refuse a sheet with a row of more cells than Excel allows, or more rows with values
    than the limit, before openpyxl reads it.

    openpyxl builds each row's XML element whole before handing it over, so one row of
    millions of cells (a few hundred KB zipped) would be built in memory. This pass reads
    the sheet's XML as a stream of tags, counting the cells of each row and keeping none;
    it stops at the first row past the row limit, so two million rows are refused at once.
    """
    row_number, cells, with_values, counted = 0, 0, 0, False
    most = limits.rows + HEADER_SEARCH_ROWS

    def on_start(tag):
        nonlocal row_number, cells, with_values, counted
        if tag == "row":
            row_number, cells, counted = row_number + 1, 0, False
        elif tag in ("v", "is") and not counted:
            with_values, counted = with_values + 1, True
            if with_values > most:
                raise UnreadableFile(_too_many_rows(limits))
        elif tag == "c":
            cells += 1
            if cells > XLSX_MAX_CELLS_PER_ROW:
                raise UnreadableFile(
                    gettext(
                        "Row %(row)s of the sheet writes more than %(limit)s cells, more than "
                        "Excel allows; the file is damaged or not made by a spreadsheet program."
                    )
                    % {"row": _count(row_number), "limit": _count(XLSX_MAX_CELLS_PER_ROW)}
                )

    _each_start_tag(archive, path, on_start)


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
        raise UnreadableFile(gettext("The file has no rows."))
    for number, cells in candidates:
        filled = sum(1 for cell in cells if cell)
        if header_score(cells) >= min(2, filled):
            return number
    return candidates[0][0]


def _clean_cell(cell) -> str:
    """clean_text(cell, multiline=True), trimmed. Printable ASCII has nothing to clean, and
    it is most cells: skipping clean_text's character-by-character pass for it makes a
    100,000-row file read several times faster, with the same result."""
    text = str(cell)
    if text.isascii() and text.isprintable():
        return text.strip()
    return clean_text(text, multiline=True).strip()


def _sheet_from_grid(grid, *, header_row: int | None = None) -> Sheet:
    """Blank rows and repeated header rows are dropped; rows above the header are too.

    Every cell is cleaned of invisible characters and trimmed here, so no later step
    sees a zero-width space or a byte-order mark.
    """
    # Cleaned in place, and rows already as wide as the sheet are used as they are below:
    # a 100,000-row file is then held once, not three times, while it is read.
    for _number, row in grid:
        for index, cell in enumerate(row):
            cleaned = _clean_cell(cell)
            if cleaned is not cell:
                row[index] = cleaned
    numbered = [(number, row) for number, row in grid if any(row)]
    if not numbered:
        raise UnreadableFile(gettext("The file has no rows."))
    header_row = header_row or find_header_row(numbered)
    position = next((i for i, (number, _) in enumerate(numbered) if number == header_row), None)
    if position is None:
        raise UnreadableFile(
            gettext("Row %(row)s is empty or not in the file; choose another row.")
            % {"row": header_row}
        )
    headers = numbered[position][1]
    below = numbered[position + 1 :]
    # Cells past the last named column are kept too, under "Column N", not dropped.
    width = max(_filled_width(row) for _, row in numbered[position:])
    headers = (headers + [""] * width)[:width]
    header_key = [h.casefold() for h in headers]
    rows = []
    for number, row in below:
        cells = row if len(row) == width else (row + [""] * width)[:width]
        if cells[0].casefold() == header_key[0] and [c.casefold() for c in cells] == header_key:
            continue  # a header repeated (pasted sheets, page breaks)
        if not any(cells):
            continue
        rows.append((number, cells))
    return Sheet(
        headers=[
            h or gettext("Column %(number)s") % {"number": i + 1} for i, h in enumerate(headers)
        ],
        rows=rows,
        header_row=header_row,
        grid=numbered,
    )
