"""Text folding shared by search and duplicate detection."""

import re
import unicodedata

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc]")

# Letters that NFKD does not split into a base letter and an accent, so stripping marks
# alone would leave "đặng" unreachable by typing "dang". Applied after casefold().
_UNSPLIT_LETTERS = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ø": "o",
        "ł": "l",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "\u0131": "i",  # Turkish dotless i, escaped because it looks like i
        "ħ": "h",
    }
)

# Fewer digits than this cannot tell one phone number from another.
MIN_PHONE_DIGITS = 7
# The last ten digits identify a number with or without its country code or trunk zero:
# "+1 (555) 010-2233" and "555.010.2233"; "+44 20 7946 0958" and "020 7946 0958".
PHONE_KEY_DIGITS = 10


def fold(text: str) -> str:
    """Lower-case, strip accents and squeeze spaces: "  José  GARCÍA" -> "jose garcia"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", without_marks.translate(_UNSPLIT_LETTERS)).strip()


def name_words(name: str) -> list[str]:
    """The folded words of a name, punctuation dropped: "García, José" -> ["garcia", "jose"].

    Apostrophes join rather than split, so "O'Brien" and "OBrien" are the same word.
    """
    return _WORDS.findall(_APOSTROPHES.sub("", fold(name)))


def phone_digits(phone: str) -> str:
    """The digits of a phone number, so "(555) 010-2233" matches "555.010.2233"."""
    return _NON_DIGITS.sub("", phone or "")


def phone_key(phone: str) -> str:
    """What two phone numbers must share to be the same number; "" when too short to tell."""
    digits = phone_digits(phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return ""
    return digits[-PHONE_KEY_DIGITS:]
