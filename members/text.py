"""Text folding shared by search and duplicate detection."""

import re
import unicodedata

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip accents and squeeze spaces: "  José  GARCÍA" -> "jose garcia"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", without_marks.casefold()).strip()


def phone_digits(phone: str) -> str:
    """The digits of a phone number, so "(555) 010-2233" matches "555.010.2233"."""
    return _NON_DIGITS.sub("", phone or "")
