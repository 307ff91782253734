"""Who may already be in the list: the duplicate rules for quick add, the import and the admin.

Two records are compared field by field, and each comparison that says something is an
Evidence item (kind, field, description). This is the Fellegi-Sunter idea (the one
splink and CiviCRM's dedupe rules use) in its qualitative form: agreement on a field that
few people share weighs a lot, agreement on a field many people share weighs a little,
and disagreement on a field one person rarely has two of weighs against.

STRONG evidence: one person, by itself
    "same email"                      the emails are equal ignoring case
    "same phone number and a compatible name"
                                      the same number by the phone rule (members.text)
                                      and names that are alike (`names_alike`)
WEAK evidence: worth a person's look, never decided alone
    "same name in the same city" / "similar name in the same city"
                                      the folded cities agree, the regions do not
                                      disagree, and the names are alike
    "same name, no city to compare"   equal folded names, a city missing on one side
    "same phone number, different names"
                                      a household shares a phone: two people, flagged
CONFLICTING evidence: two people, unless something stronger says otherwise
    "different emails"                both have one and they differ
    "different regions"               both have one and they differ, so Portland, OR is
                                      not Portland, ME, nor New York, NY New York, MI

The verdict (`Verdict`) adds them up with two thresholds, as Fellegi-Sunter do:

    strong evidence, nothing conflicting     STRONG   the import updates or skips
    strong evidence, and a conflict          WEAK     lowered: a person decides
    weak evidence only                       WEAK     a possible duplicate: a person decides
    weak evidence, and a conflict            NONE     vetoed: two people
    nothing                                  NONE

Names: close spelling is rapidfuzz's token_sort_ratio on the folded words, at least
NAME_THRESHOLD (or the plain ratio of the names as written, when a changed first letter
reorders the sorted words: "Catherine Jones"/"Katherine Jones"). token_sort_ratio
compares whole names with their words sorted, so word order never matters and a missing
word costs its full length. WRatio was rejected: its partial and token-set parts score
"Smith" against "John Smith", or "Jane Smith" against "Jane Smith Lee", near 90-100, so
everyone sharing a surname would look the same. A name with a word or two left out of a
longer one, the given name kept ("Abelardo Aguilar", "Abelardo R." for "Abelardo Rivera
Aguilar"), is alike too (words_dropped): people drop one of two surnames every day.
90 sits just above what one changed letter in a short name scores: "Mark Chen" and
"Mary Chen" score 88.9 and stay apart, while "Jon Smith"/"John Smith" (94.7), "Maria
Lopez"/"Maria Lopes" (90.9) and "Ana Li"/"Anna Li" (92.3) match. Two changed names stay
apart: "Maria Lopez"/"Mario Lopes" (81.8) are as often two people as one, and "Ann
Lee"/"Anne Leigh" (70.6) sound alike but are spelled apart; an email or phone in common
still finds them. tests/members/test_duplicates.py and test_evidence.py hold the tables.

Finding candidates never reads everyone (blocking): the database is asked only for people
with one of the emails (the case-insensitive unique index), one of the phone keys, or in
one of the name's blocks (members.blocking: the city and the sound of a name word, two
indexed keys per person, reading just pk and folded name), so a name is compared with
tens of people, not with a whole city. rapidfuzz's cdist then scores each block's names
against every new name looking in it, in C. Everything is two queries, for one row or a
batch of about a thousand.
"""

import bisect
import enum
import functools
import itertools
import operator
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy
from django.db import connections
from django.db.models import CharField, F, Lookup, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, gettext_noop, pgettext
from rapidfuzz import fuzz, process, utils

from members import blocking
from members.models import Member
from members.text import clean_text, fold, name_words, phone_key

NAME_THRESHOLD = 90

# The evidence in words. These English texts are also keys: an import row keeps them in
# its JSON and the rules compare them, so they stay as they are and are translated only
# when shown (describe(), Evidence.text).
SAME_EMAIL = gettext_noop("same email")
SAME_PHONE = gettext_noop("same phone number and a compatible name")
SHARED_PHONE = gettext_noop("same phone number, different names")
SAME_NAME_SAME_CITY = gettext_noop("same name in the same city")
SIMILAR_NAME_SAME_CITY = gettext_noop("similar name in the same city")
SAME_NAME_NO_CITY = gettext_noop("same name, no city to compare")
DIFFERENT_EMAILS = gettext_noop("different emails")
DIFFERENT_REGIONS = gettext_noop("different regions")


def describe(description: str) -> str:
    """A piece of evidence's description (as stored) in the reader's language."""
    prefix = DIFFERENT_REGIONS + " ("
    if description.startswith(prefix) and description.endswith(")"):
        return gettext("different regions (%(regions)s)") % {
            "regions": description[len(prefix) : -1]
        }
    return gettext(description)


def kind_label(kind: str) -> str:
    """A kind of evidence (strong, weak, conflicting) in the reader's language."""
    labels = {
        "strong": pgettext("evidence", "strong"),
        "weak": pgettext("evidence", "weak"),
        "conflicting": pgettext("evidence", "against"),
    }
    return labels.get(str(kind), str(kind))


# More unmatched words than this are not a name written with initials.
_MAX_INITIAL_WORDS = 5
_PREFILTER_CUTOFF = NAME_THRESHOLD - 5
# A one-letter word in a folded name: "j. garcia", "m l king".
_INITIAL = re.compile(r"\b\w\b")
_NOT_LETTERS = re.compile(r"[^a-z]+")

# US states, DC and territories, and Canada's provinces and territories: the network
# writes "OR", "Ore" and "Oregon" for one place. Anything else is compared folded.
_REGIONS = {
    "al": "alabama", "ak": "alaska", "az": "arizona", "ar": "arkansas", "ca": "california",
    "co": "colorado", "ct": "connecticut", "de": "delaware", "dc": "district of columbia",
    "fl": "florida", "ga": "georgia", "hi": "hawaii", "id": "idaho", "il": "illinois",
    "in": "indiana", "ia": "iowa", "ks": "kansas", "ky": "kentucky", "la": "louisiana",
    "me": "maine", "md": "maryland", "ma": "massachusetts", "mi": "michigan",
    "mn": "minnesota", "ms": "mississippi", "mo": "missouri", "mt": "montana",
    "ne": "nebraska", "nv": "nevada", "nh": "new hampshire", "nj": "new jersey",
    "nm": "new mexico", "ny": "new york", "nc": "north carolina", "nd": "north dakota",
    "oh": "ohio", "ok": "oklahoma", "or": "oregon", "pa": "pennsylvania",
    "ri": "rhode island", "sc": "south carolina", "sd": "south dakota", "tn": "tennessee",
    "tx": "texas", "ut": "utah", "vt": "vermont", "va": "virginia", "wa": "washington",
    "wv": "west virginia", "wi": "wisconsin", "wy": "wyoming", "pr": "puerto rico",
    "gu": "guam", "vi": "us virgin islands", "as": "american samoa",
    "mp": "northern mariana islands",
    "ab": "alberta", "bc": "british columbia", "mb": "manitoba", "nb": "new brunswick",
    "nl": "newfoundland and labrador", "ns": "nova scotia", "on": "ontario",
    "pe": "prince edward island", "qc": "quebec", "sk": "saskatchewan",
    "nt": "northwest territories", "nu": "nunavut", "yt": "yukon",
}  # fmt: skip
_REGION_KEYS = {
    **{_NOT_LETTERS.sub("", name): code for code, name in _REGIONS.items()},
    **{code: code for code in _REGIONS},
    # Common abbreviations besides the postal codes.
    "calif": "ca", "cal": "ca", "ore": "or", "oreg": "or", "wash": "wa", "mass": "ma",
    "mich": "mi", "penn": "pa", "penna": "pa", "tex": "tx", "fla": "fl", "ill": "il",
    "minn": "mn", "wis": "wi", "wisc": "wi", "ariz": "az", "colo": "co", "conn": "ct",
    "washingtondc": "dc", "ont": "on", "que": "qc", "newyorkstate": "ny",
}  # fmt: skip


class Kind(enum.StrEnum):
    """What one piece of evidence says about two records being one person."""

    STRONG = "strong"
    WEAK = "weak"
    CONFLICTING = "conflicting"


class Verdict(enum.StrEnum):
    """What all the evidence says together (see the module's table)."""

    STRONG = "strong"
    WEAK = "weak"
    NONE = "none"


@dataclass(frozen=True)
class Evidence:
    """One comparison that says something: its kind, the field compared, in words."""

    kind: Kind
    field: str
    description: str

    def as_dict(self) -> dict[str, str]:
        """For JSON (an import row keeps its evidence until someone decides)."""
        return {"kind": str(self.kind), "field": self.field, "description": self.description}

    @property
    def text(self) -> str:
        """The description in the reader's language, for a page."""
        return describe(self.description)

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


# weigh()'s evidence that says the same every time, made once (Evidence is frozen).
_SAME_EMAIL = Evidence(Kind.STRONG, "email", SAME_EMAIL)
_DIFFERENT_EMAILS = Evidence(Kind.CONFLICTING, "email", DIFFERENT_EMAILS)
_SAME_PHONE = Evidence(Kind.STRONG, "phone", SAME_PHONE)
_SHARED_PHONE = Evidence(Kind.WEAK, "phone", SHARED_PHONE)
_SAME_NAME_SAME_CITY = Evidence(Kind.WEAK, "name", SAME_NAME_SAME_CITY)
_SIMILAR_NAME_SAME_CITY = Evidence(Kind.WEAK, "name", SIMILAR_NAME_SAME_CITY)
_SAME_NAME_NO_CITY = Evidence(Kind.WEAK, "name", SAME_NAME_NO_CITY)


def verdict_of(evidence: Sequence[Evidence]) -> Verdict:
    """Strong unless contradicted; weak if lowered or only weak; none if vetoed or empty."""
    kinds = {item.kind for item in evidence}
    if Kind.STRONG in kinds:
        return Verdict.WEAK if Kind.CONFLICTING in kinds else Verdict.STRONG
    if Kind.WEAK in kinds and Kind.CONFLICTING not in kinds:
        return Verdict.WEAK
    return Verdict.NONE


@dataclass(frozen=True)
class Contact:
    """What the rules compare, folded once. Build with Contact.of(...) or of_member()."""

    words: tuple[str, ...]
    name: str
    email: str
    phone: str
    city: str
    region: str
    region_written: str = ""
    # The city as written when it held the region too ("portland, or"): stored people
    # are looked up under both.
    city_written: str = ""

    @classmethod
    def of(cls, *, name="", email="", phone="", city="", region="") -> "Contact":
        """From values as typed or imported; any of them may be empty.

        A city written with its state and no region given ("Portland, OR", as a
        "City, State" column has it) is compared as the city and the region.
        """
        return cls._folded(
            name=name, email=email, phone_key=phone_key(phone), city=city, region=region
        )

    @classmethod
    def _folded(cls, *, name, email, phone_key, city, region) -> "Contact":
        city, region, region_written, city_written = _place(city or "", region or "")
        return cls(
            words=tuple(name_words(name)),
            name=fold(name),
            email=clean_text(email or "").strip().lower(),
            phone=phone_key,
            city=city,
            region=region,
            region_written=region_written,
            city_written=city_written,
        )

    @property
    def block_cities(self) -> set[str]:
        """The folded cities stored people may have for this city: as written, and with
        the state after a comma ("portland, or", "portland, oregon") as some lists keep it."""
        cities = {self.city, self.city_written}
        if self.city and self.region in _REGIONS:
            cities |= {f"{self.city}, {self.region}", f"{self.city}, {_REGIONS[self.region]}"}
        return cities - {""}

    @classmethod
    def of_member(cls, member: Member) -> "Contact":
        """A saved person as the rules compare them; the phone key as stored (the same rule,
        kept by Member.refresh_derived_fields), not parsed again for every candidate."""
        return cls._folded(
            name=member.name,
            email=member.email,
            phone_key=member.phone_key,
            city=member.city,
            region=member.region,
        )


# A large file's candidates are tens of thousands of people in a few hundred places.
@functools.lru_cache(maxsize=4096)
def _place(city: str, region: str) -> tuple[str, str, str, str]:
    """Contact's city, region, region_written and city_written for a city and region as
    written."""
    written = city
    head, comma, tail = city.rpartition(",")
    if comma and head.strip() and not region.strip() and _is_region(tail):
        city, region = head, tail
    return (
        fold(city),
        region_key(region),
        " ".join(region.split()),
        fold(written) if written != city else "",
    )


def _is_region(text: str) -> bool:
    return _NOT_LETTERS.sub("", fold(text)) in _REGION_KEYS


def region_key(region: str) -> str:
    """A region as compared: "OR", "Ore." and "Oregon" are "or"; others folded; "" if none."""
    folded = fold(region)
    letters = _NOT_LETTERS.sub("", folded)
    return _REGION_KEYS.get(letters, folded)


def weigh(a: Contact, b: Contact) -> list[Evidence]:
    """The rules, in one place: every piece of evidence about `a` and `b` being one person.

    In a fixed order (email, phone, name and place, region); verdict_of() decides.
    """
    evidence = []
    if a.email and b.email:
        evidence.append(_SAME_EMAIL if a.email == b.email else _DIFFERENT_EMAILS)
    same_phone = bool(a.phone and a.phone == b.phone)
    same_city = bool(a.city and a.city == b.city)
    # Names are compared only where a phone or a city makes it say something.
    names_agree = (same_phone or same_city) and bool(
        a.words and b.words and names_alike(a.words, b.words)
    )
    if same_phone:
        evidence.append(_SAME_PHONE if names_agree else _SHARED_PHONE)
    regions_differ = bool(a.region and b.region and a.region != b.region)
    if same_city and names_agree:
        same = sorted(a.words) == sorted(b.words)
        evidence.append(_SAME_NAME_SAME_CITY if same else _SIMILAR_NAME_SAME_CITY)
    elif not (a.city and b.city) and a.name and a.name == b.name:
        evidence.append(_SAME_NAME_NO_CITY)
    if regions_differ:
        evidence.append(
            Evidence(
                Kind.CONFLICTING,
                "region",
                f"{DIFFERENT_REGIONS} ({a.region_written or a.region}, "
                f"{b.region_written or b.region})",
            )
        )
    return evidence


def names_alike(a: Sequence[str], b: Sequence[str]) -> bool:
    """Same words in any order, initials for words, a word or two dropped from a longer
    name (words_dropped), or token_sort_ratio >= NAME_THRESHOLD."""
    return initials_match(a, b) or words_dropped(a, b) or name_score(a, b) >= NAME_THRESHOLD


# How many words a shorter writing of a name may leave out (words_dropped).
_MAX_DROPPED_WORDS = 2


def words_dropped(a: Sequence[str], b: Sequence[str]) -> bool:
    """The shorter name is the longer with a word or two left out, as people write a name
    with one of two surnames or without a middle name: "Abelardo Aguilar" and "Abelardo R."
    for "Abelardo Rivera Aguilar", "Ana Lopez" for "Ana Maria Lopez".

    `a` and `b` are folded words. The shorter has at least two words and starts with the
    longer's first word (the given name, in full); each of its other words is, in order, a
    later word of the longer or that word's initial. A shared surname alone ("Smith" and
    "John Smith") or a shared given name alone never counts: token_sort_ratio charges a
    missing word its whole length, which is right for those and wrong for these.
    """
    short, long = sorted((list(a), list(b)), key=len)
    if len(short) < 2 or not 0 < len(long) - len(short) <= _MAX_DROPPED_WORDS:
        return False
    if short[0] != long[0] or len(short[0]) < 2:
        return False
    rest = iter(long[1:])
    return all(
        any(word == other or _initial_of(word, other) for other in rest) for word in short[1:]
    )


def name_score(a: Sequence[str], b: Sequence[str]) -> float:
    """token_sort_ratio, or the plain ratio of the words as written if that is higher.

    Sorting puts "catherine jones" before "jones" and "jones katherine" after it; one
    changed first letter would otherwise cost the whole comparison (53 instead of 93).
    """
    as_written_a, as_written_b = " ".join(a), " ".join(b)
    return max(
        fuzz.token_sort_ratio(as_written_a, as_written_b), fuzz.ratio(as_written_a, as_written_b)
    )


def initials_match(a: Sequence[str], b: Sequence[str]) -> bool:
    """Initials for words: "J. García" is "José García", "M L King" "Martin Luther King".

    `a` and `b` are folded words (members.text.name_words). In any order. Same number of
    words; at least one full word in common (an initial alone, "J. G.", says too little);
    every other word pairs with an initial of it.
    """
    if len(a) != len(b):
        return False
    rest_a, rest_b = list(a), list(b)
    shared_full_word = False
    for word in a:
        if word in rest_b:
            rest_a.remove(word)
            rest_b.remove(word)
            shared_full_word = shared_full_word or len(word) > 1
    if not shared_full_word or not rest_a or len(rest_a) > _MAX_INITIAL_WORDS:
        return False
    return any(
        all(_initial_of(x, y) for x, y in zip(rest_a, order, strict=True))
        for order in itertools.permutations(rest_b)
    )


def _initial_of(x: str, y: str) -> bool:
    return (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


# --- finding candidates ----------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateMatch:
    """Someone already in the database who may be the person being added."""

    member: Member
    evidence: tuple[Evidence, ...]
    # How alike the two names are, 0-100 (name_score), whatever the evidence.
    score: int

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.evidence)

    @property
    def reasons(self) -> list[str]:
        """The evidence in words, for and against, in weigh()'s order."""
        return [item.description for item in self.evidence]

    @property
    def reason_texts(self) -> list[str]:
        """reasons in the reader's language, for a page."""
        return [item.text for item in self.evidence]

    @property
    def is_strong(self) -> bool:
        return self.verdict == Verdict.STRONG

    @property
    def supporting(self) -> list[Evidence]:
        return [item for item in self.evidence if item.kind != Kind.CONFLICTING]

    @property
    def conflicting(self) -> list[Evidence]:
        return [item for item in self.evidence if item.kind == Kind.CONFLICTING]

    @property
    def only_shares_a_phone(self) -> bool:
        """A household: the one thing in common is a phone, under different names.

        Two people; quick add names them but never stops for it.
        """
        return [item.description for item in self.supporting] == [SHARED_PHONE]


@dataclass(frozen=True)
class RowMatch:
    """An earlier row of the same file that may be the same person."""

    row: int  # index into the rows given to find_duplicates_bulk
    evidence: tuple[Evidence, ...]
    score: int

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.evidence)

    @property
    def reasons(self) -> list[str]:
        return [item.description for item in self.evidence]

    @property
    def reason_texts(self) -> list[str]:
        """reasons in the reader's language, for a page."""
        return [item.text for item in self.evidence]


@dataclass(frozen=True)
class RowDuplicates:
    in_database: list[DuplicateMatch] = field(default_factory=list)
    earlier_rows: list[RowMatch] = field(default_factory=list)


def _rank(verdict: Verdict, evidence, score) -> tuple:
    """Most likely first: strong before weak, then more supporting evidence, closer names."""
    supporting = sum(1 for item in evidence if item.kind != Kind.CONFLICTING)
    return (verdict != Verdict.STRONG, -supporting, -score)


def find_duplicates(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    city: str = "",
    region: str = "",
    exclude_pk=None,
    limit=5,
) -> list[DuplicateMatch]:
    """People already saved who may be this person (verdict strong or weak), at most `limit`.

    Most likely first: strong before weak, then the most supporting evidence, then the
    most alike names, then by folded name and pk. `exclude_pk` leaves out the person
    being edited. Two queries however many people.
    """
    person = Contact.of(name=name, email=email, phone=phone, city=city, region=region)
    return _DatabaseCandidates([person], exclude_pk=exclude_pk).matches(0, limit=limit)


def find_duplicates_bulk(rows: Sequence[Mapping[str, str]], *, limit=5) -> list[RowDuplicates]:
    """For each row (a mapping with name, email, phone, city, region), its possible duplicates.

    `in_database` as find_duplicates gives them; `earlier_rows` points at rows before it
    in the same file, so a person listed twice is reported once, on the second listing.
    Two queries for a few hundred rows, one more per further _CHUNK block keys, names
    or candidates, however many people are saved; a file of thousands reads the people
    of its cities instead of listing block keys. The names of a block are scored
    against all the rows looking in it at once (rapidfuzz's cdist).
    """
    people = [
        Contact.of(
            **{key: row.get(key) or "" for key in ("name", "email", "phone", "city", "region")}
        )
        for row in rows
    ]
    database = _DatabaseCandidates(people)
    earlier = _earlier_rows(people, limit=limit)
    return [
        RowDuplicates(in_database=database.matches(number, limit=limit), earlier_rows=found)
        for number, found in enumerate(earlier)
    ]


# Values per IN list: far below SQLite's 32,766 parameters with both key columns.
_CHUNK = 5000
# More block keys than this (a file of a few thousand people) and the candidates are read
# by city instead: at 160,000 keys (20,000 rows) the IN lists took most of a preview.
_KEYS_BEFORE_CITIES = 4 * _CHUNK


def _chunks(values) -> list[list]:
    """`values` sorted, in lists of at most _CHUNK; no list for no values."""
    values = sorted(values)
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


class _Names:
    """Folded names prepared once for rapidfuzz, by position.

    Only proposes: weigh() decides, so a few too many is fine, one too few is not. Its
    default_process turns punctuation into spaces where name_words() drops apostrophes,
    which moves a score by a few points, so the cutoff here is a little below
    NAME_THRESHOLD.
    """

    def __init__(self):
        self.folded: list[str] = []
        self.processed: list[str] = []  # default_process once, not once per comparison
        # The same with its words sorted: plain ratio on these is token_sort_ratio without
        # re-sorting every name on every comparison.
        self.sorted: list[str] = []
        self.has_initial: list[bool] = []
        self.full_words: list[tuple[str, ...]] = []
        # (first word, number of words) of each, for words_dropped's proposals.
        self.shape: list[tuple[str, int]] = []

    def add(self, folded_name: str, words: Sequence[str] = ()) -> int:
        processed = utils.default_process(folded_name)
        self.folded.append(folded_name)
        self.processed.append(processed)
        self.sorted.append(" ".join(sorted(processed.split())))
        self.has_initial.append(bool(_INITIAL.search(folded_name)))
        self.full_words.append(tuple(word for word in words if len(word) > 1))
        self.shape.append(_shape(processed))
        return len(self.folded) - 1

    @classmethod
    def of_saved(cls, folded_names: list[str]) -> "_Names":
        """add() for each of `folded_names`, without words (saved people's: only the
        names asked about need theirs), list by list: a large file's cities hold
        hundreds of thousands of names."""
        names = cls()
        process = utils.default_process
        names.folded = list(folded_names)
        names.processed = [process(name) for name in folded_names]
        names.sorted = [" ".join(sorted(processed.split())) for processed in names.processed]
        search = _INITIAL.search
        names.has_initial = [bool(search(name)) for name in folded_names]
        names.full_words = [()] * len(folded_names)
        names.shape = [_shape(processed) for processed in names.processed]
        return names


def _shape(processed: str) -> tuple[str, int]:
    words = processed.split()
    return (words[0] if words else "", len(words))


def _close_names(queries: _Names, query_blocks, choices: _Names, choice_blocks) -> dict:
    """{query position: choice positions} whose names may be alike, block by block.

    `query_blocks` and `choice_blocks` map a block key to positions in `queries` and
    `choices`. Each block is scored in two rapidfuzz cdist calls (name_score's two halves:
    token_sort_ratio as the ratio of sorted words, and ratio), all its queries against all
    its names.
    """
    close = defaultdict(set)
    for key, asking in query_blocks.items():
        held = choice_blocks.get(key)
        if not held:
            continue
        for text_of in (operator.attrgetter("sorted"), operator.attrgetter("processed")):
            asked, known = text_of(queries), text_of(choices)
            scores = process.cdist(
                [asked[q] for q in asking],
                [known[c] for c in held],
                scorer=fuzz.ratio,
                score_cutoff=_PREFILTER_CUTOFF,
                dtype=numpy.uint8,
            )
            for row, column in zip(*numpy.nonzero(scores), strict=True):
                close[asking[row]].add(held[column])
        # Initials ("J. García") score low; they need a full word in common and an
        # initial on one side.
        with_initials = [c for c in held if choices.has_initial[c]]
        for q in asking:
            words = queries.full_words[q]
            if not words:
                continue
            for c in held if queries.has_initial[q] else with_initials:
                if any(word in choices.folded[c] for word in words):
                    close[q].add(c)
        # A word or two dropped ("Abelardo Aguilar" for "Abelardo Rivera Aguilar") scores
        # low as well; such names share their first word in full and differ in length.
        by_first = defaultdict(list)
        for c in held:
            by_first[choices.shape[c][0]].append(c)
        for q in asking:
            first, count = queries.shape[q]
            if len(first) < 2:
                continue
            for c in by_first.get(first, ()):
                if 0 < abs(choices.shape[c][1] - count) <= _MAX_DROPPED_WORDS:
                    close[q].add(c)
    return close


class _DatabaseCandidates:
    """People already saved who may match any of `people`, loaded in two queries.

    1. pk and folded name of the people in the blocks of the new names (members.blocking:
       their city and the sound of a name word, by the two indexed block keys), and of
       everyone with the same name where a city is missing on either side (index on
       city_folded, name_folded).
    2. The full rows of the name candidates and of everyone sharing an email (the
       LOWER(email) unique index) or a phone key (its index).
    A batch with more than _CHUNK block keys, names or candidates asks in more queries,
    each within SQLite's limit of parameters.
    """

    def __init__(self, people: Sequence[Contact], *, exclude_pk=None):
        self.people = people
        self.exclude_pk = exclude_pk
        self.db = self._everyone().db
        self.by_name_for = self._name_candidates()
        self.rows = self._load(
            pks=set().union(*self.by_name_for),
            emails={p.email for p in people if p.email},
            phones={p.phone for p in people if p.phone},
        )
        self.members = {}
        self.details = {pk: _contact_of_row(row) for pk, row in self.rows.items()}
        self.by_email = defaultdict(set)
        self.by_phone = defaultdict(set)
        for pk, details in self.details.items():
            self.by_email[details.email].add(pk)
            self.by_phone[details.phone].add(pk)

    def matches(self, number: int, *, limit) -> list[DuplicateMatch]:
        """Possible duplicates of people[number], most likely first."""
        person = self.people[number]
        pks = set(self.by_name_for[number])
        if person.email:
            pks |= self.by_email.get(person.email, set())
        if person.phone:
            pks |= self.by_phone.get(person.phone, set())
        found = []
        for pk in pks:
            other = self.details[pk]
            evidence = tuple(weigh(person, other))
            verdict = verdict_of(evidence)
            if verdict != Verdict.NONE:
                score = round(name_score(person.words, other.words))
                rank = (*_rank(verdict, evidence, score), self.rows[pk][_NAME_FOLDED], pk)
                found.append((rank, pk, evidence, score))
        found.sort(key=operator.itemgetter(0))
        return [
            DuplicateMatch(member=self._member(pk), evidence=evidence, score=score)
            for _rank_of, pk, evidence, score in found[:limit]
        ]

    def _member(self, pk) -> Member:
        """The saved person `pk` as a Member, built from its row once it is a match: a
        large file loads tens of thousands of candidates and matches a few of them."""
        member = self.members.get(pk)
        if member is None:
            member = self.members[pk] = Member.from_db(self.db, _COLUMNS, self.rows[pk])
        return member

    def _one_of(self, column: str, values: list) -> Q:
        """`column` IN `values`; on PostgreSQL `column` = ANY(one array parameter), which
        asks the same of the same indexes without thousands of placeholders to build and
        parse (most of a large file's reading time went there)."""
        if connections[self.db].vendor == "postgresql":
            return Q(_AnyOf(F(column), values))
        return Q(**{f"{column}__in": values})

    def _everyone(self):
        # The erased are anonymous stubs, never anyone's duplicate (members.erasure).
        people = Member.objects.findable()
        if self.exclude_pk is not None:
            people = people.exclude(pk=self.exclude_pk)
        return people

    def _name_candidates(self) -> list[set]:
        """For each person, the pks whose names may be alike, by block or by equal name."""
        asked = _Names()
        asking = defaultdict(list)
        for number, person in enumerate(self.people):
            asked.add(person.name, person.words)
            if person.words:
                for key in blocking.sought_keys(person.words, person.block_cities):
                    asking[key].append(number)
        names_without_city = {p.name for p in self.people if p.name and not p.city}
        names_with_city = {p.name for p in self.people if p.name and p.city}
        without_city, with_city = _chunks(names_without_city), _chunks(names_with_city)
        if len(asking) > _KEYS_BEFORE_CITIES:
            # A large file: its people's cities, read whole (by the city-and-name index),
            # cost less than tens of long IN lists of block keys; rows outside the blocks
            # are dropped below, so the candidates are the same.
            cities = {city for p in self.people if p.words for city in p.block_cities}
            wanted_blocks = [self._one_of("city_folded", chunk) for chunk in _chunks(cities)]
        else:
            wanted_blocks = [
                self._one_of("duplicate_key_1", chunk) | self._one_of("duplicate_key_2", chunk)
                for chunk in _chunks(asking)
            ]
        held = defaultdict(list)
        # The pks of each distinct name in `known`: people sharing a name are scored once.
        pks = []
        position_of = {}
        same_name = defaultdict(set)
        every_name = bool(names_without_city)
        # Only the names asked about are looked up in same_name below.
        sought_names = names_without_city | names_with_city
        for number in range(max(len(without_city), len(with_city), len(wanted_blocks))):
            wanted = []
            if number < len(without_city):
                wanted.append(self._one_of("name_folded", without_city[number]))
            if number < len(with_city):
                wanted.append(Q(city_folded="") & self._one_of("name_folded", with_city[number]))
            if number < len(wanted_blocks):
                wanted.append(wanted_blocks[number])
            rows = (
                self._everyone()
                .filter(reduce(operator.or_, wanted))
                # Unordered: Meta.ordering would read `name` from every row and sort them
                # all; without it the indexes answer alone.
                .order_by()
                .values_list(
                    "pk", "name_folded", "city_folded", "duplicate_key_1", "duplicate_key_2"
                )
            )
            for pk, name, city, key_1, key_2 in rows:
                if (every_name or not city) and name in sought_names:
                    same_name[name].add(pk)
                in_1 = key_1 in asking
                in_2 = key_2 != key_1 and key_2 in asking
                if in_1 or in_2:
                    position = position_of.get(name)
                    if position is None:
                        position = position_of[name] = len(pks)
                        pks.append([])
                    pks[position].append(pk)
                    if in_1:
                        held[key_1].append(position)
                    if in_2:
                        held[key_2].append(position)
        # position_of holds the names in order of position (dicts keep their order).
        close = _close_names(asked, asking, _Names.of_saved(list(position_of)), held)
        found = []
        for number, person in enumerate(self.people):
            candidates = {pk for position in close.get(number, ()) for pk in pks[position]}
            if person.name:
                candidates |= same_name.get(person.name, set())
            found.append(candidates)
        return found

    def _load(self, *, pks, emails, phones) -> dict:
        """{pk: the person's row, as _COLUMNS}: Members are built only for matches."""
        pks, emails, phones = _chunks(pks), _chunks(emails), _chunks(phones)
        people = self._everyone().alias(email_lower=Lower("email")).order_by()
        loaded = {}
        for number in range(max(len(pks), len(emails), len(phones))):
            wanted = [
                self._one_of("pk", pks[number]) if number < len(pks) else None,
                # Written as the unique index is, LOWER(email) where email <> '', to use it.
                (self._one_of("email_lower", emails[number]) & ~Q(email=""))
                if number < len(emails)
                else None,
                self._one_of("phone_key", phones[number]) if number < len(phones) else None,
            ]
            for row in people.filter(reduce(operator.or_, filter(None, wanted))).values_list(
                *_COLUMNS
            ):
                loaded[row[_PK]] = row
        return loaded


class _AnyOf(Lookup):
    """PostgreSQL: `lhs` = ANY(the values, as one array parameter); see _one_of."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        array = "text" if isinstance(field, CharField) else field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{array}[])", (*params, list(self.rhs))


# A saved person's row as _DatabaseCandidates reads it: every column, in the order
# Member.from_db takes them, and the places of those Contact.of_member reads.
_COLUMNS = [field.attname for field in Member._meta.concrete_fields]
_PK = _COLUMNS.index(Member._meta.pk.attname)
_NAME_FOLDED = _COLUMNS.index("name_folded")
_CONTACT_COLUMNS = operator.itemgetter(
    *(_COLUMNS.index(name) for name in ("name", "email", "phone_key", "city", "region"))
)


def _contact_of_row(row) -> Contact:
    """Contact.of_member for a row read as _COLUMNS."""
    name, email, phone, city, region = _CONTACT_COLUMNS(row)
    return Contact._folded(name=name, email=email, phone_key=phone, city=city, region=region)


def _earlier_rows(people: Sequence[Contact], *, limit) -> list[list[RowMatch]]:
    """For each of `people` (the rows of one file), the earlier rows that may be them.

    Names are compared within blocks as in the database (members.blocking), each row
    filed under the sound of every word of its name: the whole file's blocks are scored
    at once, then each pair weighed.
    """
    names = _Names()
    blocks = defaultdict(list)
    by_email, by_phone, by_name = defaultdict(list), defaultdict(list), defaultdict(list)
    for number, person in enumerate(people):
        names.add(person.name, person.words)
        by_email[person.email].append(number)
        by_phone[person.phone].append(number)
        by_name[person.name].append(number)
        if person.city and person.words:
            for key in blocking.sought_keys(person.words, [person.city]):
                blocks[key].append(number)
    close = _close_names(names, blocks, names, blocks)
    results = []
    for number, person in enumerate(people):
        candidates = {other for other in close.get(number, ()) if other < number}
        for known, value in (
            (by_name, person.name),
            (by_email, person.email),
            (by_phone, person.phone),
        ):
            if value:
                same = known[value]
                candidates.update(same[: bisect.bisect_left(same, number)])
        found = []
        for other in candidates:
            evidence = tuple(weigh(person, people[other]))
            verdict = verdict_of(evidence)
            if verdict != Verdict.NONE:
                score = round(name_score(person.words, people[other].words))
                found.append(RowMatch(row=other, evidence=evidence, score=score))
        found.sort(key=lambda m: (*_rank(m.verdict, m.evidence, m.score), m.row))
        results.append(found[:limit])
    return results
