import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from members.models import CAPACITY_FIELDS, CapacityCheckIn, Member
from tests.factories import CapacityCheckInFactory, MemberFactory

pytestmark = pytest.mark.django_db

TOMORROW = dt.timedelta(days=1)


def test_email_taken_in_other_case_is_refused_on_the_email_field():
    MemberFactory(email="Rosa.Parks@Example.org")
    newcomer = MemberFactory.build(email="rosa.parks@example.ORG")

    with pytest.raises(ValidationError) as exc:
        newcomer.full_clean()

    assert exc.value.message_dict == {"email": ["Another person already has this email address."]}


def test_email_taken_in_other_case_is_refused_by_the_database_too():
    MemberFactory(email="Rosa.Parks@Example.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(email="ROSA.PARKS@example.org")


def test_a_person_keeps_their_own_email_when_saved_again():
    member = MemberFactory(email="ella@example.org")
    member.email = "Ella@Example.org"

    member.full_clean()


def test_blank_email_is_allowed_for_many_people():
    for _ in range(3):
        member = MemberFactory.build(email="")
        member.full_clean()
        member.save()

    assert Member.objects.filter(email="").count() == 3


def test_surrounding_spaces_do_not_make_an_email_new():
    MemberFactory(email="fannie@example.org")
    member = MemberFactory.build(email="  Fannie@example.org ")

    with pytest.raises(ValidationError) as exc:
        member.full_clean()

    assert "email" in exc.value.message_dict


def test_name_of_only_spaces_is_refused_on_the_name_field():
    member = MemberFactory.build(name="   \t ")

    with pytest.raises(ValidationError) as exc:
        member.full_clean()

    assert exc.value.message_dict == {"name": ["Enter a name; spaces alone are not a name."]}


def test_name_is_squeezed_of_extra_spaces():
    member = MemberFactory.build(name="  Grace   Lee  Boggs ")

    member.full_clean()

    assert member.name == "Grace Lee Boggs"


def test_database_refuses_an_empty_name():
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(name="")


def test_short_phone_number_is_refused_on_the_phone_field():
    member = MemberFactory.build(phone="555-12")

    with pytest.raises(ValidationError) as exc:
        member.full_clean()

    assert exc.value.message_dict == {"phone": ["A phone number needs at least 7 digits."]}


def test_joining_date_in_the_future_is_refused_on_its_field():
    member = MemberFactory.build(joined_on=timezone.localdate() + TOMORROW)

    with pytest.raises(ValidationError) as exc:
        member.full_clean()

    assert exc.value.message_dict == {"joined_on": ["The joining date cannot be in the future."]}


@pytest.mark.parametrize("field", CAPACITY_FIELDS)
@pytest.mark.parametrize("score", [0, 6])
def test_check_in_score_outside_1_to_5_is_refused_on_its_field(field, score):
    check_in = CapacityCheckInFactory.build(member=MemberFactory(), **{field: score})

    with pytest.raises(ValidationError) as exc:
        check_in.full_clean()

    assert list(exc.value.message_dict) == [field]


@pytest.mark.parametrize("field", CAPACITY_FIELDS)
@pytest.mark.parametrize("score", [0, 6])
def test_database_refuses_check_in_score_outside_1_to_5(field, score):
    member = MemberFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CapacityCheckIn.objects.create(
            member=member, **{**dict.fromkeys(CAPACITY_FIELDS, 3), field: score}
        )


@pytest.mark.parametrize("score", [1, 5])
def test_check_in_scores_of_1_and_5_are_accepted(score):
    check_in = CapacityCheckInFactory.build(
        member=MemberFactory(), **dict.fromkeys(CAPACITY_FIELDS, score)
    )

    check_in.full_clean()


def test_check_in_dated_in_the_future_is_refused_on_the_date_field():
    check_in = CapacityCheckInFactory.build(
        member=MemberFactory(), checked_on=timezone.localdate() + TOMORROW
    )

    with pytest.raises(ValidationError) as exc:
        check_in.full_clean()

    assert exc.value.message_dict == {"checked_on": ["A check-in cannot be dated in the future."]}
