import pytest

from cores.models import Alignment, Invitation
from members.history import bulk_update_with_history
from members.models import CapacityCheckIn, Member
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


# Every model whose changes are kept in history, and a field of each to change.
TRACKED = [(Member, "city"), (CapacityCheckIn, "note"), (Alignment, "level"), (Invitation, "note")]


@pytest.mark.parametrize(("model", "field"), TRACKED)
def test_queryset_update_refuses_to_skip_history(model, field):
    with pytest.raises(TypeError, match="would skip the change history"):
        model.objects.update(**{field: "changed"})


@pytest.mark.parametrize(("model", "field"), TRACKED)
def test_queryset_bulk_update_refuses_to_skip_history(model, field):
    with pytest.raises(TypeError, match="would skip the change history"):
        model.objects.bulk_update([], [field])


def test_refused_update_changes_nothing():
    member = MemberFactory(city="Detroit")

    with pytest.raises(TypeError):
        Member.objects.filter(pk=member.pk).update(city="Flint")

    member.refresh_from_db()
    assert member.city == "Detroit"


def test_bulk_update_with_history_writes_one_attributed_row_per_person():
    editor = UserFactory()
    people = MemberFactory.create_batch(3, city="Detroit")
    for person in people:
        person.city = "Flint"

    bulk_update_with_history(people, Member, ["city"], by=editor, reason="Moved chapters")

    assert set(Member.objects.values_list("city", flat=True)) == {"Flint"}
    for person in people:
        latest = person.history.latest()
        assert (latest.history_type, latest.city, latest.history_user) == ("~", "Flint", editor)
        assert latest.history_change_reason == "Moved chapters"


def test_bulk_update_with_history_keeps_the_search_columns_current(organizer):
    from members.history import bulk_update_with_history
    from members.models import Member
    from tests.factories import MemberFactory

    person = MemberFactory(name="Noor Haddad", city="Detroit")
    person.city = "Flint"
    bulk_update_with_history([person], Member, ["city"], by=organizer, reason="moved")

    assert list(Member.objects.search("flint")) == [person]
    assert person.history.first().history_user == organizer
