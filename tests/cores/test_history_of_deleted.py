"""The admin's history page of a deleted person's alignment or invitation still names it
(the history row's member is gone: it shows the number instead of a server error)."""

from cores.models import Alignment, Invitation
from tests.factories import AlignmentFactory, MemberFactory


def test_history_rows_of_a_deleted_person_name_themselves(core_a, tendency_a):
    person = MemberFactory(name="Gone Person")
    alignment = AlignmentFactory(member=person, tendency=tendency_a)
    pk = person.pk
    person.delete()
    row = Alignment.history.filter(id=alignment.pk).first()
    assert f"#{pk}" in str(row.instance)
    assert not Invitation.objects.filter(member_id=pk).exists()
