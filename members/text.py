"""Text cleaning and folding, and the phone rule, shared by every path a person comes in by.

clean_text     removes the invisible characters spreadsheets and pasted text carry
               (zero-width spaces, byte-order marks, NUL and other control characters):
               the import, the app's forms and the admin all call it
fold           lower-case, accent-free form for search and duplicate comparison
phone_*        phones read by Google's libphonenumber rules (the phonenumbers package)
               with settings.PHONE_DEFAULT_REGION for numbers written without +code
"""

import functools
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext

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

# Control characters that end a line somewhere: Excel on a Mac writes a line break inside
# a cell as a vertical tab, old files use form feeds and the Unicode line separators.
_LINE_BREAKS = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Zero-width joiners shape Persian, Indic and emoji text, so they stay between two
# characters outside ASCII; beside a plain ASCII character they only hide in a value.
_JOINERS = re.compile("[\u200c\u200d]+")
_KEPT_CONTROLS = frozenset("\t\n\r")
# Control characters that are not whitespace (whitespace is squeezed by fold anyway).
_NOT_WHITESPACE_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")

# Fewer digits than this cannot tell one phone number from another.
MIN_PHONE_DIGITS = 7
# A number Excel displayed in scientific notation ("1.55501E+10"): the digits past the
# shown precision are gone, so the value cannot be any one number.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")


def clean_text(text: str, *, multiline: bool = False) -> str:
    """`text` without invisible characters, in NFC: what every text field stores.

    Removes control characters (NUL, vertical tab, ...) and Unicode format characters
    (zero-width space, byte-order mark, direction marks, soft hyphen), keeps tabs and
    line breaks, and composes accents so "e" + combining acute (a Mac's pastes) is stored
    as "é". With `multiline` (notes, a joining story), the controls that end a line in
    some exports (a vertical tab is FileMaker's and Excel for Mac's line break inside a
    cell) become "\\n" instead of being removed. Idempotent: clean_text(clean_text(x)) ==
    clean_text(x). Never raises for a str.
    """
    if not text:
        return ""
    if text.isprintable():
        # Nothing to remove (every character dropped below, and every line break, is
        # one str.isprintable() refuses): only the composition is left. Most texts.
        return unicodedata.normalize("NFC", text)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _KEPT_CONTROLS:
            continue
        if category == "Cf" and char not in "\u200c\u200d":
            continue
        if category == "Cs":  # a lone surrogate half: not a character, cannot be stored
            continue
        kept.append(char)
    text = _JOINERS.sub(_keep_joiners_between_scripts, "".join(kept))
    return unicodedata.normalize("NFC", text)


def _keep_joiners_between_scripts(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before and after and not before.isascii() and not after.isascii():
        return match.group()
    return ""


# Pure, and called on the same few texts (cities, regions, common names) thousands of times
# by an import and its duplicate check.
@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip accents and squeeze spaces: "  José  GARCÍA" -> "jose garcia".

    Control characters (NUL...) are dropped: a folded text is what search and the
    duplicate check send to the database, which refuses a NUL (PostgreSQL), whichever
    path the text came by (a form, a file, a command).
    """
    text = _NOT_WHITESPACE_CONTROLS.sub("", text or "")
    if text.isascii():
        # What the steps below leave of ASCII: no compatibility forms, accents or letters
        # to unsplit, and casefold() is lower(). Most names and cities; several times faster.
        return _SPACES.sub(" ", text.lower()).strip()
    # Compatibility letters first (a script capital I is "I"), so case folding sees plain
    # letters and folding twice gives the same as folding once.
    compatible = unicodedata.normalize("NFKD", text or "")
    decomposed = unicodedata.normalize("NFKD", compatible.casefold())
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", without_marks.translate(_UNSPLIT_LETTERS)).strip()


def name_words(name: str) -> list[str]:
    """The folded words of a name, punctuation dropped: "García, José" -> ["garcia", "jose"].

    Apostrophes join rather than split, so "O'Brien" and "OBrien" are the same word.
    """
    return _WORDS.findall(_APOSTROPHES.sub("", fold(name)))


# --- phones -------------------------------------------------------------------------------


def default_region() -> str:
    """The ISO 3166 region of numbers written without +code (settings.PHONE_DEFAULT_REGION)."""
    return getattr(settings, "PHONE_DEFAULT_REGION", "US") or "US"


def is_scientific_notation(phone: str) -> bool:
    """True for a phone Excel showed as "1.55501E+10": its digits are lost for good."""
    return bool(_SCIENTIFIC.fullmatch(clean_text(phone or "").strip()))


def parse_phone_number(phone: str) -> phonenumbers.PhoneNumber | None:
    """The number `phone` is by libphonenumber's rules, or None if it is none it can read.

    A number written without +code belongs to the default region. Returns None for
    scientific notation, for fewer than MIN_PHONE_DIGITS digits, and for text the library
    refuses. The number may still be invalid (an unassigned area code): see phone_key.
    """
    text = clean_text(phone or "").strip()
    if is_scientific_notation(text) or len(_NON_DIGITS.sub("", text)) < MIN_PHONE_DIGITS:
        return None
    try:
        return phonenumbers.parse(text, default_region())
    except phonenumbers.NumberParseException:
        return None


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers.is_valid_number, remembered per number: an import checks each number
    as typed ("512.555.0123", format_phone) and again as stored ("(512) 555-0123",
    phone_key), and finding a number's region tries the pattern of every region sharing
    its code (25 for +1), most of a preview's phone time."""
    return _is_valid_number(
        number.country_code,
        number.national_number,
        number.extension,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
    )


@functools.lru_cache(maxsize=65536)
def _is_valid_number(country_code, national_number, extension, leading_zero, zeros) -> bool:
    # Validity depends on these fields only; the number is rebuilt from them.
    return phonenumbers.is_valid_number(
        phonenumbers.PhoneNumber(
            country_code=country_code,
            national_number=national_number,
            extension=extension,
            italian_leading_zero=leading_zero,
            number_of_leading_zeros=zeros,
        )
    )


def _known(number: phonenumbers.PhoneNumber | None) -> bool:
    """A number worth putting in E.164: valid, or of a possible length without a leading
    zero the region never writes (the fictional 555-01xx range; an area code newer than
    the library's data). "020 7946 0958" under US is neither: its zero is not US."""
    if number is None:
        return False
    if _is_valid(number):
        return True
    return phonenumbers.is_possible_number(number) and not number.italian_leading_zero


def phone_key(phone: str) -> str:
    """What two phone numbers must share to be the same number; "" when it cannot tell.

    - E.164 ("+15125550123") when libphonenumber knows the number, so "(512) 555-0123",
      "512.555.0123" and "+1 512 555 0123" share one key;
    - a number written with a leading zero that is not a number of the default region
      ("020 7946 0958" under US) has the key of the same digits without the zero, when
      those are a number: Excel drops leading zeros ("2079460958"), and a number that lost
      its zero is the same number, not another one;
    - otherwise the digits as written ("0123 4567 89" -> "0123456789");
    - "" for fewer than MIN_PHONE_DIGITS digits and for scientific notation ("1.55501E+10"),
      which must never match anyone.
    Up to 40 characters (the digits of a 40-character phone).
    """
    return _phone_key(phone or "", default_region())


# Each phone of an import is keyed by its duplicate check and again by the save's derived
# fields; libphonenumber's parse and validation are most of that. The region is part of
# the key because the setting can change (tests).
@functools.lru_cache(maxsize=65536)
def _phone_key(phone: str, region: str) -> str:
    text = clean_text(phone).strip()
    digits = _NON_DIGITS.sub("", text)
    if len(digits) < MIN_PHONE_DIGITS or is_scientific_notation(text):
        return ""
    number = parse_phone_number(text)
    if _known(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    unpadded = digits.lstrip("0")
    if unpadded != digits and not text.startswith("+"):
        lost_zero = parse_phone_number(unpadded)
        if lost_zero is not None and _is_valid(lost_zero):
            return phonenumbers.format_number(lost_zero, phonenumbers.PhoneNumberFormat.E164)
    return digits[:40]


def phone_digits(phone: str) -> str:
    """The digits of the phone's key: "15125550123" for "(512) 555-0123" under US.

    "" when the phone has no key (too short, or scientific notation).
    """
    return _NON_DIGITS.sub("", phone_key(phone))


def same_phone(a: str, b: str) -> bool:
    """True when `a` and `b` are one number by the phone rule (phone_key), both known."""
    key = phone_key(a)
    return bool(key) and key == phone_key(b)


def format_phone(phone: str) -> str:
    """How a phone is stored: the library's own writing of a valid number, else as typed.

    "512.555.0123" -> "(512) 555-0123" (a number of the default region, written nationally),
    "+44 20 7946 0958" stays international, an extension is kept ("ext. 7"). A number the
    library does not know as valid keeps its characters ("020 7946 0958" under US: never
    turned into another number), with spaces squeezed. Never raises.
    """
    text = " ".join(clean_text(phone or "").split())
    number = parse_phone_number(text)
    if number is None or not _is_valid(number):
        return text
    ours = phonenumbers.country_code_for_region(default_region())
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == ours
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def phone_problem(phone: str) -> str:
    """Why `phone` cannot be stored as a phone number, for a person; "" when it can.

    Scientific notation says that Excel lost the digits (no number can be rebuilt from
    "1.55501E+10"); fewer than MIN_PHONE_DIGITS digits cannot tell one number from another.
    """
    text = " ".join(clean_text(phone or "").split())
    if not text:
        return ""
    if is_scientific_notation(text):
        return gettext(
            "Excel turned this number into %(number)s; the digits are lost. "
            "Type the phone number again from the original."
        ) % {"number": text}
    if len(_NON_DIGITS.sub("", text)) < MIN_PHONE_DIGITS:
        return gettext("A phone number needs at least %(count)d digits.") % {
            "count": MIN_PHONE_DIGITS
        }
    return ""
