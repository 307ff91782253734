"""Which people a new name is compared with: the duplicate check's blocks.

The duplicate rules (members.duplicates) compare names only within a city. A city of a
large network holds thousands of people, so the check narrows further, to a block: the
people of the city one of whose name words sounds like one of the new name's words.

    block key      "<folded city>|<sound of a name word>"   "oakland|K0R"
    word sound     the first three letters of the word's Metaphone (jellyfish), which
                   hears "Catherine" and "Katherine", "Lopez" and "Lopes", "Smith" and
                   "Smyth" alike; a word Metaphone has no letters for (digits, Cyrillic,
                   Chinese) is its own first three characters

A saved person keeps two block keys (Member.duplicate_key_1 and _2, indexed): the sounds
of the first and the last word of their name as written, or, for a one-word name, its
first and its last three letters. A new name is looked up under the sounds of all its
words and of its words written together (sought_sounds), in every spelling of its city
(Contact.block_cities). So a pair is compared whenever one change separates the names:
a changed first letter or any one typo, a missing, added or swapped word, accents, an
initial for a word, words joined or split ("Van Damme"/"Vandamme"): the saved first or
last word survives it, or, in a one-word name, its first or last three letters do.
What a block can miss is a pair the rules still call alike after two such changes that
hit both the first and the last word ("Joe Garca" for "Jose Garcia"), which comparing
with everyone in the city found. tests/members/test_blocking.py proves the one-change
cases by property and compares the two ways on a table of hard cases.
"""

import functools
from collections.abc import Iterable, Sequence

import jellyfish

# Letters of a word's sound kept in its key: three hear a typo past them as the same word,
# and still split a city of thousands into blocks of tens.
SOUND_LETTERS = 3
# A one-word name is filed under its first and its last three letters instead, marked so
# they never meet a sound: one typo cannot change both, in a word long enough to be alike.
_STARTS, _ENDS = "<", ">"
# City and key in one column, so one index lookup finds a block on either database.
KEY_MAX_LENGTH = 255
_CITY_LETTERS = 240


def word_sound(word: str) -> str:
    """The sound of one folded name word: "katherine" -> "K0R"; "" for an empty word."""
    return jellyfish.metaphone(word)[:SOUND_LETTERS] or word[:SOUND_LETTERS]


def block_key(city: str, sound: str) -> str:
    """The block of `sound` in the folded `city`; "" when either is empty."""
    if not (city and sound):
        return ""
    return f"{city[:_CITY_LETTERS]}|{sound}"


def saved_sounds(words: Sequence[str]) -> tuple[str, str]:
    """The two sounds a saved name is filed under (words as members.text.name_words gives).

    The first and the last word's; a one-word name's first and last three letters;
    ("", "") for a name without words.
    """
    if not words:
        return "", ""
    if len(words) == 1:
        return _ends(words[0])
    return word_sound(words[0]), word_sound(words[-1])


def sought_sounds(words: Sequence[str]) -> set[str]:
    """Every sound a saved name alike to `words` may be filed under.

    The sound of each word, and of each run of words written together ("van damme" may
    be saved as "Vandamme"), in the order given and sorted; the first and last letters of
    the words written together (a one-word name saved); for a one-word name also the
    sounds of its beginnings and endings ("vandamme" may be saved as "Van Damme").
    """
    sounds = set()
    # As written and sorted: the rules compare names both ways (duplicates.name_score).
    for order in (words, sorted(words)):
        sounds |= {
            word_sound("".join(order[start:stop]))
            for start in range(len(order))
            for stop in range(start + 1, len(order) + 1)
        }
        if order:
            sounds.update(_ends("".join(order)))
    if len(words) == 1:
        (word,) = words
        sounds |= {word_sound(word[:stop]) for stop in range(2, len(word))}
        sounds |= {word_sound(word[start:]) for start in range(1, len(word) - 1)}
    return sounds - {""}


def _ends(word: str) -> tuple[str, str]:
    return _STARTS + word[:SOUND_LETTERS], _ENDS + word[-SOUND_LETTERS:]


def saved_keys(words: Sequence[str], city: str) -> tuple[str, str]:
    """Member.duplicate_key_1 and _2 for a name's words and the folded city as stored."""
    first, second = saved_sounds(words)
    return block_key(city, first), block_key(city, second)


def sought_keys(words: Sequence[str], cities: Iterable[str]) -> set[str]:
    """The block keys to look a new name up under, in each of its city's spellings."""
    sounds = _sought_sounds(tuple(words))
    return {block_key(city, sound) for city in cities for sound in sounds} - {""}


# An import looks each of its names up twice (among saved people, among its own rows).
@functools.lru_cache(maxsize=65536)
def _sought_sounds(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(sought_sounds(words))
