"""Turn messy spreadsheet cells into clean values, or a message naming what is wrong.

Every parser takes the cell's text and returns the value to store, or raises CellError
with a message for the person (the import shows it against the field and row). None
raises anything else, whatever the text (tests/members/test_value_properties.py).
"""

import datetime as dt
import functools
import re
from dataclasses import dataclass

from dateutil import parser as dateutil_parser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext

from members.models import JoiningStoryKind, MemberStatus
from members.text import clean_text, fold, format_phone, is_scientific_notation, phone_problem

# Excel stores dates as days since 1899-12-30 (its "1900 date system"); a CSV saved from it
# sometimes keeps them. members.importing.reading gives the 1904 epoch of a Mac workbook.
EXCEL_EPOCH = dt.date(1899, 12, 30)
# How a column writes its numeric dates: 03/04/2021 is 4 March (month first, the US
# habit) or 3 April (day first). Decided per column by date_reader, never per row.
MONTH_FIRST, DAY_FIRST = "month_first", "day_first"
MAX_PHONE_LENGTH = 40  # Member.phone

# The rules below are written by hand where no library reads spreadsheets' dates the way
# a column needs: dateutil (used for dates with month names) decides day-or-month order
# value by value, so 25/08/2021 and 03/04/2021 in one column would be read with two
# different orders, and it turns "2008-25-1" into 25 January instead of refusing it.
_SERIAL = re.compile(r"(\d{5})(?:[.,](\d+))?")  # 43466 or 43466.75 (a time of day)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")  # 20080901
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")  # 2008-9-1, 2008/09/01
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})")  # 25.08.1992: day first everywhere
_NUMERIC = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})")  # 09/01/2008, 9-1-08
_YEAR = re.compile(r"\d{4}")
# A time after a date ("2019-01-01T18:00:00", "1/1/2019 6:00 PM"): the date is what we keep.
_TIME = re.compile(
    r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"  # 18:00, 18:00:00, 18:00:00.5
    r"(?:\s*[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?$"  # PM, a zone
)
_MONTH_NAMES = dateutil_parser.parserinfo()

KIND_WORDS = [
    (JoiningStoryKind.NCM_VETERAN, ["ncm", "new communist", "veteran", "vet", "70s", "1970s"]),
    (
        JoiningStoryKind.SOCIAL_MOVEMENT,
        ["social movement", "social-movement", "movement leftist", "sml", "movement"],
    ),
    (JoiningStoryKind.MIDDLE_GENERATION, ["middle", "founder", "founding generation"]),
    (JoiningStoryKind.OTHER, ["other", "not yet", "unknown", "n/a", "na", "none", "?"]),
]
STATUS_WORDS = {
    MemberStatus.MEMBER: ["member", "active", "current", "yes", "y", "activo", "activa", "si"],
    MemberStatus.PROSPECT: [
        *("prospect", "lead", "contact", "invited", "potential"),
        *("contacto", "invitado", "invitada", "potencial"),
    ],
    MemberStatus.FORMER: [
        *("former", "inactive", "lapsed", "left", "past", "alum", "no", "n"),
        *("inactivo", "inactiva", "ex", "antiguo", "antigua"),
    ],
}


@functools.cache
def labels_in_every_language(choices) -> dict[str, str]:
    """{folded label: value} of `choices` (a TextChoices) as every language the site
    speaks writes it: an export in Spanish says "Ex miembro" where one in English says
    "Former member", and both import back (members.exporting.COLUMN_NAMES)."""
    found = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for choice in choices:
                found.setdefault(fold(str(choice.label)), choice.value)
    return found


# Lists are written with ; , or new lines; "/", "|" and "&" also separate, except inside
# the name of a sector we know ("Housing / Tenants" stays whole).
LIST_SPLIT = re.compile(r"\s*[;,\n]\s*")
LOOSE_SPLIT = re.compile(r"\s*[/|]\s*|\s+&\s+")


def as_text(value) -> str:
    """A field's value as the plan stores and compares it: dates in ISO, None as ""."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def unneutralise(text: str) -> str:
    """Undo the export's formula guard ("'=x" -> "=x", "''=x" -> "'=x": the quote
    members.exporting.neutralise_formula added) so an export imports back as it was."""
    if text.startswith("'") and text.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r")):
        return text[1:]
    return text


class CellError(ValueError):
    """A value that cannot be used; str() is the message shown against the field."""


class LostValue(CellError):
    """A value the spreadsheet destroyed (a phone in scientific notation): it is left
    out and the reason shown, but the rest of the row can still be imported."""


# --- dates ------------------------------------------------------------------------------------


def parse_date(
    text: str, *, order: str = MONTH_FIRST, epoch: dt.date = EXCEL_EPOCH, conflict: str = ""
) -> dt.date | None:
    """The date `text` names, or None for an empty cell. Raises CellError.

    Read, in this order: an Excel serial (43466, or 43466.75 with a time of day) counted
    from `epoch`; compact YYYYMMDD; year first (2008-9-1, 2008/09/01; never year-day-month);
    day.month.year (25.08.1992, day first wherever it is written); numeric dates with / or -
    in `order` when both numbers could be the month, else the only way they can be read;
    dates with a month name (dateutil: "Sept 30, 2023", "2nd March 2021", "Sep 2023").
    A time after the date is dropped. `conflict` is the column's reason that its numeric
    dates cannot be read either way (date_reader); an ambiguous date raises it.
    """
    original = clean_text(text or "").strip()
    if not original:
        return None
    text = _TIME.sub("", original).strip() or original
    if match := _SERIAL.fullmatch(text):
        day = epoch + dt.timedelta(days=int(match.group(1)))
        return _checked(day, original)
    if match := _COMPACT.fullmatch(text):
        return _checked(_make(original, *map(int, match.groups())), original)
    if match := _YEAR_FIRST.fullmatch(text):
        return _checked(_make(original, *map(int, match.groups())), original)
    if match := _DOTTED.fullmatch(text):
        day, month, year = match.groups()
        return _checked(_make(original, _full_year(year), int(month), int(day)), original)
    if match := _NUMERIC.fullmatch(text):
        first, _, second, year = match.groups()
        first, second = int(first), int(second)
        if first <= 12 and second <= 12 and first != second:
            if conflict:
                raise CellError(conflict)
            month, day = (first, second) if order == MONTH_FIRST else (second, first)
        elif first > 12:
            day, month = first, second
        else:
            month, day = first, second
        return _checked(_make(original, _full_year(year), month, day), original)
    if any(c.isalpha() for c in text):
        return _checked(_with_month_name(text, original), original)
    raise _unreadable(original)


def _unreadable(text: str) -> CellError:
    return CellError(
        gettext("“%(text)s” is not a date we can read; write it like 2021-03-31.") % {"text": text}
    )


def _make(text: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _unreadable(text) from None


def _full_year(written: str) -> int:
    """A two-digit year is in this century unless that is in the future: 08 is 2008 and
    45 is 1945 (strptime's %y would say 2045, a joining date that cannot be yet)."""
    year = int(written)
    if len(written) == 4:
        return year
    this_year = timezone.localdate().year
    return 2000 + year if 2000 + year <= this_year else 1900 + year


def _with_month_name(text: str, original: str) -> dt.date:
    """Dates written with a month name, read by dateutil; a year is required (a missing
    day is the 1st: "Sep 2023"), and the text must name a month, not only a weekday."""
    words = re.findall(r"[^\W\d_]+", text)
    if not _YEAR.search(text) or not any(_MONTH_NAMES.month(word) for word in words):
        raise _unreadable(original)
    try:
        parsed = dateutil_parser.parse(text, default=dt.datetime(2000, 1, 1))  # noqa: DTZ001 (a date, no zone)
    except (ValueError, OverflowError):
        raise _unreadable(original) from None
    return parsed.date()


def _checked(day: dt.date, text: str) -> dt.date:
    if day > timezone.localdate():
        raise CellError(gettext("“%(text)s” is in the future.") % {"text": text})
    if day.year < 1900:
        raise CellError(
            gettext("“%(text)s” is before 1900; write the year in full, like 2021-03-31.")
            % {"text": text}
        )
    return day


@dataclass
class DateColumn:
    """How one column writes its numeric dates, read from all its values at once."""

    order: str = MONTH_FIRST
    # Why the column's ambiguous dates cannot be read, when it mixes both orders.
    conflict: str = ""

    def parse(self, text: str, *, epoch: dt.date = EXCEL_EPOCH) -> dt.date | None:
        """parse_date with this column's order. Raises CellError."""
        return parse_date(text, order=self.order, epoch=epoch, conflict=self.conflict)


def date_column(values: list[tuple[int, str]], *, column: str) -> DateColumn:
    """The order of a column's numeric dates, from its (row number, text) pairs.

    A date whose first number is over 12 can only be day first (25/08/2021), one whose
    second is can only be month first (08/25/2021). If the column has only the first kind,
    its ambiguous dates (03/04/2021) are read day first too; otherwise month first, the
    US habit. If it has both, the column was filled by people writing dates both ways, and
    its ambiguous dates are refused with a reason naming the column and examples, rather
    than guessed one row at a time.
    """
    day_first, month_first = None, None
    for number, text in values:
        match = _NUMERIC.fullmatch(_TIME.sub("", clean_text(text or "").strip()))
        if not match:
            continue
        first, second = int(match.group(1)), int(match.group(3))
        if first > 12 >= second and day_first is None:
            day_first = (number, match.group())
        elif second > 12 >= first and month_first is None:
            month_first = (number, match.group())
    if day_first and month_first:
        return DateColumn(
            conflict=gettext(
                "The column “%(column)s” has dates written day first (“%(day_first)s”, row "
                "%(day_first_row)s) and month first (“%(month_first)s”, row "
                "%(month_first_row)s), so this one could be either; write it like 2021-03-31."
            )
            % {
                "column": column,
                "day_first": day_first[1],
                "day_first_row": day_first[0],
                "month_first": month_first[1],
                "month_first_row": month_first[0],
            }
        )
    return DateColumn(order=DAY_FIRST if day_first else MONTH_FIRST)


def date_reader(sheet, mapping: list[str]):
    """parse_date for the sheet's "joined_on" column: its order and the file's epoch.

    `sheet` is a members.importing.reading.Sheet, `mapping` one target per column.
    Returns a function of the cell text; it raises CellError like parse_date.
    """
    epoch = getattr(sheet, "epoch", EXCEL_EPOCH)
    if "joined_on" not in mapping:
        return lambda text: parse_date(text, epoch=epoch)
    index = mapping.index("joined_on")
    values = [(number, cells[index]) for number, cells in sheet.rows if index < len(cells)]
    column = date_column(values, column=sheet.headers[index])
    # The column's order is decided above, once; each distinct text is then read once.
    return remembered(lambda text: column.parse(unneutralise(text), epoch=epoch))


def remembered(parse):
    """`parse` (one text -> a value, or CellError) reading each distinct text once.

    For a column's parser during one import: a status, a kind, a date or a list of sectors
    is written the same way on thousands of rows. The error is raised anew each time (a
    new exception of the same class and message), never the one kept. Returns a function
    of the text, like `parse`.
    """
    seen: dict[str, tuple[bool, object]] = {}

    def parse_remembered(text):
        try:
            ok, found = seen[text]
        except KeyError:
            try:
                ok, found = True, parse(text)
            except CellError as error:
                ok, found = False, (type(error), str(error))
            seen[text] = (ok, found)
        if ok:
            return found
        kind, message = found
        raise kind(message)

    return parse_remembered


# --- the other values -------------------------------------------------------------------------


def parse_kind(text: str) -> tuple[str, bool]:
    """The joining-story kind and whether the text was understood."""
    folded = fold(clean_text(text))
    if not folded:
        return JoiningStoryKind.OTHER, True
    if folded in (labels := labels_in_every_language(JoiningStoryKind)):
        return JoiningStoryKind(labels[folded]), True
    for kind in JoiningStoryKind:
        if folded == kind.value:
            return kind, True
    for kind, words in KIND_WORDS:
        if any(re.search(rf"(^|\W){re.escape(word)}($|\W)", folded) for word in words):
            return kind, True
    return JoiningStoryKind.OTHER, False


def parse_status(text: str) -> str:
    """A MemberStatus from the words people use ("active", "lapsed"). Raises CellError."""
    folded = fold(clean_text(text))
    if not folded:
        return MemberStatus.MEMBER
    labels = labels_in_every_language(MemberStatus)
    for status, words in STATUS_WORDS.items():
        if folded in words or labels.get(folded) == status or folded == status.value:
            return status
    raise CellError(
        gettext("“%(text)s” is not a status; use member, prospect or former.") % {"text": text}
    )


def parse_email(text: str) -> str:
    """The address, cleaned of invisible characters and <>; "" for none. Raises CellError.

    Compared and stored after cleaning, so "ana@example.org" with a zero-width space
    pasted into it is the same address as without.
    """
    # No address holds a line break: one inside the cell is an export's, not the address's.
    email = "".join(clean_text(text or "").splitlines()).strip().strip("<>").strip()
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:") :].strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as error:
        raise CellError(
            gettext("“%(email)s” is not a valid email address.") % {"email": email}
        ) from error
    return email


def parse_phone(text: str) -> str:
    """The phone as stored (members.text.format_phone); "" for none.

    Raises LostValue for scientific notation ("1.55501E+10": Excel lost the digits; the
    row is imported without a phone) and CellError for too few digits or too long.
    """
    phone = " ".join(clean_text(text or "").split())
    if not phone:
        return ""
    if problem := phone_problem(phone):
        if is_scientific_notation(phone):
            raise LostValue(
                gettext("%(problem)s The person is imported without a phone.")
                % {"problem": problem}
            )
        raise CellError(
            gettext("“%(phone)s” has too few digits for a phone number.") % {"phone": phone}
        )
    stored = format_phone(phone)
    if len(stored) > MAX_PHONE_LENGTH:
        raise CellError(
            gettext("“%(phone)s” is longer than %(limit)s characters; is it one phone number?")
            % {"phone": phone, "limit": MAX_PHONE_LENGTH}
        )
    return stored


def split_sectors(text: str, known_keys=frozenset()) -> list[str]:
    names = []
    for part in LIST_SPLIT.split(text or ""):
        part = part.strip()
        if not part:
            continue
        if sector_key(part) in known_keys:
            names.append(part)
        else:
            names += [p.strip() for p in LOOSE_SPLIT.split(part) if p.strip()]
    return names


def sector_key(name: str) -> str:
    """Folded, punctuation as spaces: "Black Liberation!" and "black-liberation" agree."""
    return re.sub(r"[^a-z0-9]+", " ", fold(name)).strip()
