"""Turn messy spreadsheet cells into clean values, or a message naming what is wrong."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from members.models import JoiningStoryKind, MemberStatus
from members.text import fold, phone_digits

# Day-first only when the first number cannot be a month; the network is US-based.
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%b %Y",
    "%B %Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y",
]
# Excel stores dates as days since 1899-12-30; a CSV saved from it sometimes keeps them.
EXCEL_EPOCH = dt.date(1899, 12, 30)

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
    MemberStatus.MEMBER: ["member", "active", "current", "yes", "y"],
    MemberStatus.PROSPECT: ["prospect", "lead", "contact", "invited", "potential"],
    MemberStatus.FORMER: ["former", "inactive", "lapsed", "left", "past", "alum", "no", "n"],
}
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
    """Undo the export's formula guard ("'=x" -> "=x") so an export imports back as it was."""
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text


class CellError(ValueError):
    """A value that cannot be used; str() is the message shown against the field."""


def parse_date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        day = EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
        return _not_future(day, text)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    cleaned = re.sub(r"\bSept\b", "Sep", cleaned, flags=re.IGNORECASE)
    for fmt in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
        return _not_future(day, text)
    raise CellError(f"“{text}” is not a date we can read; write it like 2021-03-31.")


def _not_future(day, text):
    if day > timezone.localdate():
        raise CellError(f"“{text}” is in the future.")
    return day


def parse_kind(text: str) -> tuple[str, bool]:
    """The joining-story kind and whether the text was understood."""
    folded = fold(text)
    if not folded:
        return JoiningStoryKind.OTHER, True
    for kind in JoiningStoryKind:
        if folded in (fold(kind.label), kind.value):
            return kind, True
    for kind, words in KIND_WORDS:
        if any(re.search(rf"(^|\W){re.escape(word)}($|\W)", folded) for word in words):
            return kind, True
    return JoiningStoryKind.OTHER, False


def parse_status(text: str) -> str:
    folded = fold(text)
    if not folded:
        return MemberStatus.MEMBER
    for status, words in STATUS_WORDS.items():
        if folded in words or folded == fold(status.label) or folded == status.value:
            return status
    raise CellError(f"“{text}” is not a status; use member, prospect or former.")


def parse_email(text: str) -> str:
    email = text.strip().strip("<>").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as error:
        raise CellError(f"“{text}” is not a valid email address.") from error
    return email


def parse_phone(text: str) -> str:
    phone = text.strip()
    if phone and len(phone_digits(phone)) < 7:
        raise CellError(f"“{text}” has too few digits for a phone number.")
    return phone


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
