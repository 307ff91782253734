"""The one writer of the access log: every page, command and service calls `record`.

Searches are kept as a keyed hash of their text (`search_hash`): an admin can check
"was this searched" by hashing the same text, but nobody reading the table, a database
dump or a backup can read what people searched for. The key is derived from SECRET_KEY,
so rotating SECRET_KEY makes the older hashes unmatchable (their rows stay).
"""

from collections.abc import Iterable

from django.utils.crypto import salted_hmac

from audit.models import AccessLog, Action

# Distinguishes this use of SECRET_KEY from Django's own (sessions, signing).
SEARCH_HASH_SALT = "audit.log.search_hash"
# The longest path kept (the column's length); longer ones are cut.
PATH_LENGTH = AccessLog._meta.get_field("path").max_length


def normalise_query(text: str) -> str:
    """The search text as the search reads it: trimmed, spaces collapsed, case folded.

    "José  García " and "josé garcía" are one search, so checking either finds it.
    """
    return " ".join(text.split()).casefold()


def search_hash(text: str) -> str:
    """HMAC-SHA256 of the normalised search text, keyed from SECRET_KEY (64 hex digits)."""
    return salted_hmac(SEARCH_HASH_SALT, normalise_query(text), algorithm="sha256").hexdigest()


def record(
    user,
    action: Action | str,
    *,
    person: int | None = None,
    people: Iterable[int] = (),
    record_id: int | None = None,
    count: int | None = None,
    query: str | None = None,
    request=None,
    reason: str = "",
) -> AccessLog:
    """Append one entry to the access log and return it.

    `user`: who (a User, or None for the system); `action`: an audit.models.Action.
    `person`: the pk of the one person opened or erased; `people`: pks of several
    (a search page's results). `record_id`: the import's or export's pk. `count`: how
    many people or rows (default: 1 for `person`, else the number of `people`).
    `query`: a search's text, stored only as `search_hash(query)`. `request`: the page's
    request, whose path (never its query string) is kept. `reason`: why (an erasure).
    Raises ValueError for an unknown action.
    """
    action = Action(action)
    people = [int(pk) for pk in people]
    if count is None:
        count = 1 if person is not None else len(people)
    user = user if getattr(user, "is_authenticated", False) else None
    return AccessLog.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        person_id=person,
        people=people,
        record_id=record_id,
        count=count,
        query_hash=search_hash(query) if query else "",
        path=request.path[:PATH_LENGTH] if request is not None else "",
        reason=reason,
    )
