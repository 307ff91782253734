"""Whether an imported value would improve a stored one: an import never makes a record worse.

An update replaces a stored value only with one that says more or says something else.
These are the same value, "already up to date":

- text written with other case, spacing or accents ("RENEE okafor", "Renee Okafor" for
  "Renée Okafor"): a form with accents or mixed case where the stored one has none does
  improve it, the other way round it does not;
- a name with initials for a stored name ("C. Walsh" for "Ciara Walsh"), with fewer of
  its words ("Ciara Walsh" for "Ciara Máire Walsh"), or its words in another order
  ("Walsh, Ciara");
- the same phone number by the phone rule (members.text), however it is written,
  "2079460958" for "020 7946 0958", or its last digits without the country code
  ("2079460958" for "+44 20 7946 0958");
- an email differing only in case;
- a region written as its abbreviation or its name ("OR", "Oregon");
- free text (the joining story) already contained in the stored text;
- pronouns in other case ("She/Her");
- a date that is only the stored date's month or year ("2021" or "Mar 2021" for
  2021-03-04: a cell like that reads as the first day).
"""

import datetime as dt
import unicodedata

from members.duplicates import NAME_THRESHOLD, name_score, region_key
from members.text import fold, is_scientific_notation, name_words, phone_key, same_phone

# Fields whose values are names or places: compared folded, and by the rules above.
_NAME_FIELDS = {"name", "preferred_name"}
_PLAIN_TEXT_FIELDS = {"city"}


def is_improvement(field: str, stored, incoming) -> bool:
    """Would writing `incoming` over `stored` in `field` (a Member field name) improve it?

    `stored` and `incoming` are the typed values (str, date, None). An empty `incoming`
    never improves (an empty cell never erases); an empty `stored` is improved by any
    value. Raises nothing.
    """
    if incoming in (None, ""):
        return False
    if stored in (None, ""):
        return True
    if isinstance(stored, dt.date) and isinstance(incoming, dt.date):
        return _date_improves(stored, incoming)
    if not isinstance(stored, str) or not isinstance(incoming, str):
        return stored != incoming
    if field == "email":
        stored, incoming = stored.strip().casefold(), incoming.strip().casefold()
        # Written as the stored one but for accents: only accents it lacks improve it,
        # so "ì@x.org" and "i@x.org" never replace each other back and forth.
        return stored != incoming and (
            fold(stored) != fold(incoming) or _better_written(stored, incoming)
        )
    if field == "phone":
        return _phone_improves(stored, incoming)
    if field == "region":
        # "OR", "Ore." and "Oregon" are one state, however written: equivalent.
        return region_key(stored) != region_key(incoming)
    if field in _NAME_FIELDS:
        return _name_improves(stored, incoming)
    if field == "pronouns":
        # "She/Her" for "she/her" is the same; pronouns carry no proper case.
        return fold(stored) != fold(incoming)
    if field in _PLAIN_TEXT_FIELDS:
        return fold(stored) != fold(incoming) or _better_written(stored, incoming)
    if field == "joining_story":
        return fold(incoming) not in fold(stored)
    return stored.strip() != incoming.strip()


def _date_improves(stored: dt.date, incoming: dt.date) -> bool:
    """Another date, unless it is only the stored one's month or year: a cell of "2021" or
    "Mar 2021" reads as its first day, which says less than "2021-03-04"."""
    if incoming == stored:
        return False
    same_month_start = incoming == stored.replace(day=1)
    same_year_start = incoming == stored.replace(month=1, day=1)
    return not (same_month_start or same_year_start)


def _phone_improves(stored: str, incoming: str) -> bool:
    """Another number by the phone rule of members.text, and one that is a number.

    A value with no key (scientific notation, too few digits) never replaces one that has
    a key; a real number does replace a stored value that has none.
    """
    if same_phone(stored, incoming):
        return False
    if is_scientific_notation(incoming) or (phone_key(stored) and not phone_key(incoming)):
        return False
    # The stored number's last digits without its country code or trunk zero, as Excel
    # leaves "+44 20 7946 0958" ("2079460958"): the same number, written with less.
    return not _digits(stored).endswith(_digits(incoming))


def _digits(text: str) -> str:
    return "".join(filter(str.isdigit, text))


def _name_improves(stored: str, incoming: str) -> bool:
    stored_words, incoming_words = name_words(stored), name_words(incoming)
    if sorted(stored_words) == sorted(incoming_words):
        # The same words: only accents or proper case the stored form lacks are news.
        return fold(stored) == fold(incoming) and _better_written(stored, incoming)
    # "C. Walsh" or "Ciara Walsh" for "Ciara M. Walsh" says less: every word it has, the
    # stored name has too (or a word it is the initial of).
    return not _covers(stored_words, incoming_words)


def is_respelling(stored: str, incoming: str) -> bool:
    """Is the name `incoming` the stored name with a word written otherwise (alike by the
    duplicate rules' name score), rather than the same name, a fuller one ("Ciara Máire
    Walsh" for "Ciara Walsh", "Ciara" for "C.") or a shorter one, or another name?

    "Brenda Barret" for "Brenda Barrett" is: one of them is misspelt, and only a person
    can tell which, so an import holds such a row for a decision instead of renaming
    someone (members.importing.planning). Raises nothing.
    """
    stored_words, incoming_words = name_words(stored), name_words(incoming)
    if not stored_words or not incoming_words:
        return False
    if _covers(incoming_words, stored_words) or _covers(stored_words, incoming_words):
        return False
    # Alike by the duplicate rules' own measure: another name altogether (a new married
    # name with the same email) is a change the file states, not a spelling.
    return name_score(stored_words, incoming_words) >= NAME_THRESHOLD


def _covers(full: list[str], partial: list[str]) -> bool:
    """Each word of `partial` is a distinct word of `full`, or the initial of one."""
    rest = list(full)
    initials = []
    for word in partial:
        if word in rest:
            rest.remove(word)
        elif len(word) == 1:
            initials.append(word)
        else:
            return False
    for initial in initials:
        found = next((word for word in rest if word.startswith(initial)), None)
        if found is None:
            return False
        rest.remove(found)
    return True


def _better_written(stored: str, incoming: str) -> bool:
    """Accents the stored text lacks, or mixed case where it is all one case."""
    if _marks(incoming) > _marks(stored):
        return True
    return _one_case(stored) and not _one_case(incoming) and _marks(incoming) >= _marks(stored)


def _marks(text: str) -> int:
    """How many accents (and letters like ø, đ that fold to plain ones) the text carries."""
    decomposed = unicodedata.normalize("NFKD", text)
    return sum(1 for c in decomposed if unicodedata.combining(c)) + sum(
        1 for c in text if c.isalpha() and not c.isascii() and not unicodedata.decomposition(c)
    )


def _one_case(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and (
        all(c.islower() for c in letters) or all(c.isupper() for c in letters)
    )
