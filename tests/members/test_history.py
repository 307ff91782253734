import pytest
from simple_history import utils as history_utils

from cores.models import Alignment, Invitation
from members.history import bulk_create_with_history, bulk_update_with_history
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


def _new_people(names, *, by):
    people = [Member(name=name, city="Detroit", phone="313 555 0101") for name in names]
    for person in people:
        person.added_by = by
        person.refresh_derived_fields()
    people[1]._change_reason = "its own reason"
    return people


def _written(people):
    """Each person's row and history row as stored, keys and times left out."""
    varying = {"id", "history_id", "history_date", "created_at", "updated_at"}
    rows = []
    for person in people:
        saved = Member.objects.filter(pk=person.pk).values().get()
        (history,) = Member.history.filter(id=person.pk).values()
        assert (saved["name"], history["created_at"]) == (person.name, saved["created_at"])
        rows.append(
            (
                {key: value for key, value in saved.items() if key not in varying},
                {key: value for key, value in history.items() if key not in varying},
            )
        )
    return rows


def test_bulk_create_with_history_writes_what_simple_history_writes():
    editor = UserFactory()
    # A gap at the end of the keys: the database, not MAX + 1 of what is left, numbers them.
    MemberFactory.create_batch(2)[-1].delete()
    ours = bulk_create_with_history(
        _new_people(["Ana", "Bo", "Cy"], by=editor), Member, by=editor, reason="imported"
    )
    theirs = history_utils.bulk_create_with_history(
        _new_people(["Ana", "Bo", "Cy"], by=editor),
        Member,
        default_user=editor,
        default_change_reason="imported",
    )

    assert [person._state.adding for person in ours] == [False] * 3
    assert [person.pk for person in theirs] == [ours[-1].pk + n for n in (1, 2, 3)]
    written = _written(ours)
    assert written == _written(theirs)
    assert [history["history_change_reason"] for _, history in written] == [
        "imported",
        "its own reason",
        "imported",
    ]
