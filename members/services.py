"""Writes about people: each one named, atomic and attributed to the acting user."""

from django.core.exceptions import ValidationError
from django.db import transaction

from members.models import CapacityCheckIn, Member


class StaleEditError(ValidationError):
    """Someone else saved the person after this edit began."""

    def __init__(self, current: Member):
        self.current = current
        super().__init__(
            "Someone else saved this person while you were editing. "
            "Your changes are below, beside theirs; check them and save again.",
            code="stale",
        )


@transaction.atomic
def create_member(*, by, sectors=(), change_reason="", **fields) -> Member:
    member = Member(added_by=by, **fields)
    member.full_clean()
    member._history_user = by
    member._change_reason = change_reason
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
    current_version = (
        Member.objects.select_for_update().filter(pk=member.pk).values_list("version", flat=True)
    ).get()
    if current_version != expected_version:
        raise StaleEditError(Member.objects.get(pk=member.pk))
    member.full_clean()
    member.version = current_version + 1
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
