import pytest
from django.core.exceptions import ValidationError

from members import services
from members.models import CapacityCheckIn, Member
from tests.factories import MemberFactory, SectorFactory

pytestmark = pytest.mark.django_db


def test_create_member_records_who_added_them_in_the_record_and_its_history(organizer):
    labor = SectorFactory(name="Labor organizing", slug="labor-organizing")

    member = services.create_member(
        by=organizer, name="Fannie Lou Hamer", email="fannie@example.org", sectors=[labor]
    )

    assert member.added_by == organizer
    assert list(member.sectors.all()) == [labor]
    # Creating the row, then setting its sectors: two history rows, both the organizer's.
    rows = member.history.order_by("history_id")
    assert [(row.history_type, row.history_user) for row in rows] == [
        ("+", organizer),
        ("~", organizer),
    ]
    assert [sector.sector for sector in rows.last().sectors.all()] == [labor]


def test_create_member_refuses_bad_input_on_its_field_and_saves_nothing(organizer):
    with pytest.raises(ValidationError) as exc:
        services.create_member(by=organizer, name="  ", email="x@example.org")

    assert list(exc.value.message_dict) == ["name"]
    assert not Member.objects.exists()
    assert not Member.history.exists()


def test_update_member_saves_with_the_editor_in_history_and_moves_the_version_on(lead_a):
    member = MemberFactory(city="Detroit")
    member.city = "Flint"

    services.update_member(member, by=lead_a, expected_version=1)

    member.refresh_from_db()
    assert (member.city, member.version) == ("Flint", 2)
    latest = member.history.latest()
    assert (latest.history_type, latest.city, latest.history_user) == ("~", "Flint", lead_a)


def test_update_member_refuses_an_edit_begun_before_someone_else_saved(organizer, lead_a):
    member = MemberFactory(city="Detroit")
    theirs = Member.objects.get(pk=member.pk)
    theirs.city = "Flint"
    services.update_member(theirs, by=organizer, expected_version=1)
    member.city = "Chicago"

    with pytest.raises(services.StaleEditError) as exc:
        services.update_member(member, by=lead_a, expected_version=1)

    assert exc.value.current.city == "Flint"
    member.refresh_from_db()
    assert (member.city, member.version) == ("Flint", 2)
    assert member.history.filter(history_user=lead_a).count() == 0


def test_record_check_in_keeps_the_assessor_and_the_history_user(lead_a):
    member = MemberFactory()

    check_in = services.record_check_in(
        member,
        by=lead_a,
        strategic_skills=2,
        political_organizing_skills=3,
        social_emotional_capacities=4,
        organization_building_skills=5,
    )

    assert check_in.assessed_by == lead_a
    assert check_in.history.get().history_user == lead_a


def test_record_check_in_refuses_a_score_of_6_on_its_field(lead_a):
    with pytest.raises(ValidationError) as exc:
        services.record_check_in(
            MemberFactory(),
            by=lead_a,
            strategic_skills=6,
            political_organizing_skills=3,
            social_emotional_capacities=3,
            organization_building_skills=3,
        )

    assert list(exc.value.message_dict) == ["strategic_skills"]
    assert not CapacityCheckIn.objects.exists()
