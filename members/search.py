"""How search compares names, and the index behind it, one per database.

People write one name several ways: "O'Neill" (with a straight or a curly apostrophe) and
"ONeill"; "van der Berg" and "Vanderberg"; "de la Cruz" and "Delacruz"; "Smith-Jones",
"Smith Jones" and "Smithjones". search_key() reduces a name to folded words, apostrophes
joined and other punctuation a space ("oneill", "smith jones"), and searchable() adds each
run of two or three words written together, so a query typed either way is contained in
the stored text (see Member.objects.search).

The people list sorts by Member.name_key compared byte by byte (ByteOrder), so both
databases give one order and accents or case never push a name past "Z".

Search looks for words inside the folded `search_text` column. A plain LIKE '%word%'
reads every row (130-170 ms at 100,000 people), so each database answers from an index:

- PostgreSQL: a trigram GIN index (pg_trgm) on search_text, which serves the very same
  `search_text LIKE '%word%'` filter. Nothing changes in the query; the planner picks it.
- SQLite: an FTS5 table with the trigram tokenizer mirrors search_text (external content:
  it stores only the index, the text stays in members_member), kept in step by triggers.
  A quoted FTS phrase of three or more characters matches exactly the rows LIKE would.
  Trigrams cannot find one- or two-character words; those fall back to LIKE.

A page of results is filled tier by tier (Member.objects.search, MemberQuerySet.
_search_page): the people whose name or preferred name *is* the query, then those whose
name starts with it, then those with a later word starting with it, then everyone else
who contains every word. Each tier is one query in name order with a LIMIT, and the next
tier is read only when the page is not full, so a common word costs a page, not a sort of
every match. The first two tiers are served by the joined-name indexes below
(JOINED_NAME_INDEXES: the name key without its spaces, compared byte by byte, so a prefix
is a range of the index on both databases); they check each row they find against the
words with a plain LIKE (EveryWordContained with by_row), not through the search index,
whose answer would have to be read whole first.

A term of one or two characters typed in a search box (SHORT_TERM) only finds names that
start with it: contains would read the whole table for it, and it finds nearly everyone.
"""

import re
import unicodedata

from django.db import connections
from django.db.models import CharField, F, Func, Lookup

from members.text import fold

MEMBER_TABLE = "members_member"
FTS_TABLE = "members_member_search"
TRIGRAM_INDEX = "member_search_text_trgm"
# Trigram indexes know nothing about shorter strings.
MIN_INDEXED_WORD = 3

# --- What search compares -------------------------------------------------------------------

# Apostrophes join ("O'Neill" is "oneill"): straight, curly (U+2019), the modifier letter
# (U+02BC), and the backtick and left quote people type for one.
_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc]")
# Any other punctuation (hyphens, periods, commas, quotes, slashes) separates words.
_NOT_WORD = re.compile(r"[\W_]+")
# The longest run of words joined in searchable(): "de la cruz" -> "delacruz".
JOINED_WORDS = 3


def _folded(text: str) -> str:
    # Compatibility forms first: fold() lower-cases before it splits a letter such as
    # U+1F110 (a parenthesized capital A) into "(A)", which would stay upper-case.
    return _APOSTROPHES.sub("", fold(unicodedata.normalize("NFKC", text or "")))


def search_key(text: str) -> str:
    """`text` as search and sort compare it: folded words, apostrophes joined, punctuation a space.

    "Dónal O\u2019Neill" -> "donal oneill"; "Smith-Jones" -> "smith jones";
    "García, José" -> "garcia jose". Never raises; "" for "" or None.
    """
    return " ".join(_NOT_WORD.sub(" ", _folded(text)).split())


def searchable(text: str) -> str:
    """search_key(text) plus every run of two or three of its words written together.

    "Ana van der Berg" -> "ana van der berg anavan vander derberg anavander vanderberg",
    so the query "vanderberg" is found in it, and so is "van der berg" in "Vanderberg"
    (each query word is contained in "vanderberg").
    """
    words = search_key(text).split()
    joined = [
        "".join(words[start : start + size])
        for size in range(2, JOINED_WORDS + 1)
        for start in range(len(words) - size + 1)
    ]
    return " ".join([*words, *joined])


def email_searchable(email: str) -> str:
    """An email as search holds it: folded, apostrophes dropped like a query's."""
    return _folded(email)


def search_text_for(*, name: str, preferred_name: str, email: str, city: str) -> str:
    """Member.search_text: the four fields as search holds them, " | " between them.

    The bar keeps a query word from matching across two fields; queries never contain it.
    """
    return " | ".join(
        [searchable(name), searchable(preferred_name), email_searchable(email), searchable(city)]
    )


def search_words(query: str) -> list[str]:
    """The words of a typed query, each to be contained in the stored search text.

    Folded, apostrophes dropped, split at spaces and punctuation ("O'Neill-Smith" ->
    ["oneill", "smith"]); a word with an "@" is an email and keeps its dots and dashes
    ("j.garcia@union.example" stays whole). Never raises; [] when nothing is left.
    """
    words = []
    for token in _folded(query).split():
        if "@" in token:
            words.append(token)
        else:
            words += _NOT_WORD.sub(" ", token).split()
    return words


# --- PostgreSQL ---------------------------------------------------------------------------

POSTGRES_CREATE = [
    # Needs a superuser (or a trusted-extension grant); our `postgres` role is one. On a
    # managed database where it is already installed, IF NOT EXISTS makes this a no-op.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON {MEMBER_TABLE} "
    "USING gin (search_text gin_trgm_ops)",
]
# The extension stays: other tables or databases on the server may rely on it.
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}"]
# Search's WORD_STARTS tier asks for a later word of the name or preferred name starting
# with the query (`name_key LIKE '% q%'`). Through search_text's index it would read every
# row containing q anywhere, a city's whole population for "detroit" (40,000 rows at a
# million people) to find the few names; these find the names alone.
WORD_START_INDEXES = {
    "name_key": "member_name_key_trgm",
    "preferred_name_key": "member_preferred_name_key_trgm",
}


def create_word_start_indexes(schema_editor) -> None:
    """Trigram indexes on the name keys for the WORD_STARTS tier, on PostgreSQL only.

    SQLite's tier reads the FTS5 table over search_text instead; nothing is made there.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, name in WORD_START_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {MEMBER_TABLE} USING gin ({column} gin_trgm_ops)"
        )


def drop_word_start_indexes(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in WORD_START_INDEXES.values():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


# --- SQLite -------------------------------------------------------------------------------

SQLITE_CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"search_text, content='{MEMBER_TABLE}', content_rowid='id', tokenize='trigram')"
)
# External-content FTS5 removes a row by being told its old text ('delete' command).
SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_insert": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {MEMBER_TABLE} "
        f"BEGIN INSERT INTO {FTS_TABLE}(rowid, search_text) "
        "VALUES (new.id, new.search_text); END"
    ),
    f"{FTS_TABLE}_delete": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {MEMBER_TABLE} "
        f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    ),
    f"{FTS_TABLE}_update": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update "
        f"AFTER UPDATE OF search_text ON {MEMBER_TABLE} "
        f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
}
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def create_search_index(schema_editor) -> None:
    """Build the search index for the migration's database (and fill it on SQLite)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = POSTGRES_CREATE
    elif vendor == "sqlite":
        statements = [SQLITE_CREATE_TABLE, *SQLITE_TRIGGERS.values(), SQLITE_REBUILD]
    else:
        statements = []  # Other databases search with plain LIKE.
    for sql in statements:
        schema_editor.execute(sql)


def drop_search_index(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def repair_sqlite_search_index(*, using: str = "default") -> bool:
    """Put back the FTS triggers if something dropped them, and refill the index.

    SQLite cannot alter most columns in place, so Django's migrations rebuild the
    members table (create a copy, drop the original, rename) and the triggers vanish
    with the original. Run after every `migrate` (see MembersConfig.ready); returns True
    when it had to repair.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE name = %s OR tbl_name = %s",
            [FTS_TABLE, MEMBER_TABLE],
        )
        present = {name for _, name in cursor.fetchall()}
        if FTS_TABLE not in present or present >= set(SQLITE_TRIGGERS):
            return False  # Not migrated that far yet, or nothing to repair.
        for sql in SQLITE_TRIGGERS.values():
            cursor.execute(sql)
        # Rows written while the triggers were missing are not in the index.
        cursor.execute(SQLITE_REBUILD)
    return True


def repair_after_migrate(sender, *, using, **kwargs) -> None:
    """post_migrate receiver for repair_sqlite_search_index."""
    repair_sqlite_search_index(using=using)


# --- Querying -----------------------------------------------------------------------------

# A term typed in a search box shorter than this (its words written together) only finds
# names and preferred names that start with it (Member.objects.search(..., typed=True)).
SHORT_TERM = 3
# On SQLite, when the index finds at least this many people for the "contains" tier, a
# page reads the people list in name order and checks each row with LIKE instead: with
# that many matches (1 in 50 at 100,000 people) a page is found within a few thousand
# rows, while reading the index's answer whole costs as much as the matches.
COMMON_TERM_MATCHES = 2000
# The Query attribute that tells EveryWordContained to check rows with LIKE (see it).
BY_ROW = "search_by_row"
# A query attribute: the words (a tuple) every row it can return is known to contain, so
# EveryWordContained for them is written as true (Member.objects.search's STARTS tier).
WORDS_IMPLIED = "search_words_implied"
JOINED_NAME_INDEXES = {
    "name_key": "member_name_joined_idx",
    "preferred_name_key": "member_preferred_joined_idx",
}


class Joined(Func):
    """A key with its spaces taken out ("van der berg" -> "vanderberg").

    The spaces are written into the SQL, not passed as parameters: SQLite uses an index
    on an expression only for the very same expression text.
    """

    arity = 1
    template = "REPLACE(%(expressions)s, ' ', '')"
    output_field = CharField()


def is_short_term(words: list[str]) -> bool:
    """True when the query's words, written together, are shorter than SHORT_TERM characters."""
    return len("".join(words)) < SHORT_TERM


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """(low, high): text starts with `prefix` exactly when low <= text < high, byte by byte.

    `high` is `prefix` with its last character one code point up (UTF-8 byte order is code
    point order); None when there is no such string (a prefix of U+10FFFF only): no bound.
    "ann" -> ("ann", "ano"). Raises ValueError for "" (everything starts with it).
    """
    if not prefix:
        raise ValueError("An empty prefix has no range.")
    head = prefix.rstrip(chr(0x10FFFF))
    if not head:
        return prefix, None
    following = ord(head[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are never in text: skip past them
        following = 0xE000
    return prefix, head[:-1] + chr(following)


class EveryWordContained(Lookup):
    """`search_text` contains each of the folded words: EveryWordContained(F("search_text"), words).

    On SQLite the words of three or more characters are answered by the FTS5 table (one
    `id IN (...)` term, which SQLite reads whole), the shorter ones by LIKE. When the
    query carries BY_ROW (a tier that reaches its rows through another index, or a common
    term read in name order), every word is a LIKE on the row at hand instead: the same
    rows, as the FTS5 phrase matches exactly what LIKE does. PostgreSQL always writes LIKE;
    its trigram index serves it when the planner finds that cheaper.
    """

    lookup_name = "contains_every_word"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        words = list(self.rhs)
        if getattr(compiler.query, WORDS_IMPLIED, None) == tuple(words):
            return "1 = 1", []
        column, params = compiler.compile(self.lhs)
        params = list(params)
        terms = []
        by_row = getattr(compiler.query, BY_ROW, False)
        if connection.vendor == "sqlite" and not by_row:
            indexed = [word for word in words if len(word) >= MIN_INDEXED_WORD]
            if indexed:
                table = compiler.quote_name(self.lhs.alias)
                pk = f"{table}.{connection.ops.quote_name('id')}"
                terms.append(f"{pk} IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)")
                params.append(" ".join(fts_phrase(word) for word in indexed))  # space: AND
            words = [word for word in words if len(word) < MIN_INDEXED_WORD]
        like = connection.operators["contains"] % "%s"
        for word in words:
            terms.append(f"{column} {like}")
            params.append(f"%{connection.ops.prep_for_like_query(word)}%")
        return "(" + " AND ".join(terms) + ")", params


def index_finds_many(words: list[str], *, using: str) -> bool:
    """True when the SQLite FTS5 table holds at least COMMON_TERM_MATCHES rows for `words`.

    Reads at most that many of its row ids. False on other databases and for words all
    shorter than the index's trigrams (nothing to ask it).
    """
    indexed = [word for word in words if len(word) >= MIN_INDEXED_WORD]
    if connections[using].vendor != "sqlite" or not indexed:
        return False
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
            [" ".join(fts_phrase(word) for word in indexed), COMMON_TERM_MATCHES],
        )
        (found,) = cursor.fetchone()
    return found >= COMMON_TERM_MATCHES


def fts_phrase(word: str) -> str:
    """`word` as an FTS5 string: quoted, so AND, *, - and NEAR are plain characters."""
    return '"' + word.replace('"', '""') + '"'


def contains_every_word(words: list[str]) -> EveryWordContained:
    """Rows whose search_text contains each of the folded `words`, through the index."""
    return EveryWordContained(F("search_text"), tuple(words))


class ByteOrder(Func):
    """A text column compared byte by byte, as SQLite always does, so both databases sort alike.

    PostgreSQL would otherwise sort by the database's locale, which skips spaces and
    punctuation ("jo ann" after "joan" on en_US, before it on SQLite). Usable in
    order_by(), Meta.ordering and an Index, where it makes the index serve that order.
    """

    arity = 1
    template = "%(expressions)s"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template='%(expressions)s COLLATE "C"', **extra_context
        )
