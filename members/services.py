"""Writes about people: each one named, atomic and attributed to the acting user."""

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from members.models import CapacityCheckIn, Member
from sos_tracker import versioning


class StaleEditError(versioning.StaleEditError):
    """Someone else saved the person after this edit began (sos_tracker.versioning)."""

    def __init__(self, current: Member):
        super().__init__(
            current,
            _(
                "Someone else saved this person while you were editing. "
                "Your changes are below, beside theirs; check them and save again."
            ),
        )


@transaction.atomic
def create_member(
    *, by, sectors=(), confirmed_different_from=(), shares_phone_with=(), **fields
) -> Member:
    """Add a person; `fields` are Member fields. Raises ValidationError naming the field.

    `confirmed_different_from`: the possible duplicates (members.duplicates) the organizer
    saw and declared to be other people. `shares_phone_with`: people who only share the
    phone under another name (a household). Both are kept in the person's history.
    """
    member = Member(added_by=by, **fields)
    member.full_clean()
    member._history_user = by
    reasons = []
    if confirmed_different_from:
        others = ", ".join(f"{other} (#{other.pk})" for other in confirmed_different_from)
        reasons.append(f"Confirmed a different person from {others}")
    if shares_phone_with:
        others = ", ".join(f"{other} (#{other.pk})" for other in shares_phone_with)
        reasons.append(f"Shares a phone with {others}")
    if reasons:
        member._change_reason = "; ".join(reasons)
    member.save()
    if sectors:
        member.sectors.set(sectors)
    return member


@transaction.atomic
def update_member(member: Member, *, by, expected_version: int, sectors=None) -> Member:
    """Save `member`'s changed fields unless someone saved it since `expected_version`.

    The row is locked while its version is compared, so two concurrent saves can never
    both pass the check; the loser gets StaleEditError and keeps its input.
    """
    try:
        current = versioning.check_version(Member, member.pk, expected_version)
    except versioning.StaleEditError as error:
        raise StaleEditError(error.current) from None
    member.full_clean()
    member.version = current.version + 1
    member._history_user = by
    member.save()
    if sectors is not None:
        member.sectors.set(sectors)
    return member


@transaction.atomic
def record_check_in(member: Member, *, by, **scores) -> CapacityCheckIn:
    check_in = CapacityCheckIn(member=member, assessed_by=by, **scores)
    check_in.full_clean()
    check_in._history_user = by
    check_in.save()
    return check_in


def snapshot_sectors_in_history(member_ids, *, chunk_size=5000) -> None:
    """Copy each person's current sectors into their newest history row.

    Bulk writes (imports, the demo seeder) bypass the m2m signal django-simple-history
    listens to, so without this a person's history would show sectors appearing at the
    next ordinary save. Chunked: SQLite limits the parameters of one query.
    """
    history = Member.history.model
    history_sectors = history.sectors.model
    links = Member.sectors.through
    quote = connection.ops.quote_name
    # The rows bulk_create would write (one per link, on the person's newest history row;
    # no row for a person without history), written by the database in one INSERT ...
    # SELECT per chunk instead of read into Python and sent back.
    sql = (
        f"INSERT INTO {quote(history_sectors._meta.db_table)} "
        f"({quote('id')}, {quote('history_id')}, {quote('member_id')}, {quote('sector_id')}) "
        f"SELECT l.{quote('id')}, h.newest, l.{quote('member_id')}, l.{quote('sector_id')} "
        f"FROM (SELECT {quote('id')} AS member, MAX({quote('history_id')}) AS newest "
        f"FROM {quote(history._meta.db_table)} WHERE {quote('id')} IN (%s) "
        f"GROUP BY {quote('id')}) h "
        f"JOIN {quote(links._meta.db_table)} l ON l.{quote('member_id')} = h.member "
        f"ORDER BY l.{quote('id')}"
    )
    member_ids = list(member_ids)
    with connection.cursor() as cursor:
        for start in range(0, len(member_ids), chunk_size):
            chunk = member_ids[start : start + chunk_size]
            cursor.execute(sql % ", ".join(["%s"] * len(chunk)), chunk)
