"""Quick add offers "add anyway" only when the save can succeed (issue 12, part 5).

The same email already on file is a hard stop: said beside the email field, with a link
to the person who has it for a user who may see people, and nothing more for one who may
not. Every other refusal of the save is a form error too (PersonForm.can_be_saved), so the
"This is a different person — add them" and "Add as a new person" buttons never appear
when they could not work.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from members import services
from members.forms import PersonForm
from members.models import Member
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("members:person_add")
CONFIRM = 'name="confirm_different"'


def typed(**overrides):
    data = {
        "name": "Rosa Parks",
        "email": "",
        "phone": "",
        "city": "Detroit",
        "region": "MI",
        "status": "member",
        "joining_story_kind": "social_movement",
        "joining_story": "",
    }
    data.update(overrides)
    return data


def email_field_errors(body: str) -> str:
    """The error list rendered beside the email input."""
    match = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', body, re.S)
    assert match, "no error beside the email field"
    return match.group(1)


@pytest.fixture
def rosa(db):
    return MemberFactory(
        name="Rosa Parks", email="Rosa@Example.org", phone="(313) 555-0100", city="Detroit"
    )


def test_the_same_email_is_a_hard_stop_beside_the_field_linking_the_person(
    as_user, organizer, rosa
):
    response = as_user(organizer).post(URL, typed(email="rosa@example.ORG"))
    body = response.content.decode()

    assert response.status_code == 200
    assert Member.objects.count() == 1
    beside = email_field_errors(body)
    assert f'<a href="{rosa.get_absolute_url()}">Rosa Parks</a>' in beside
    assert "Two people cannot share an email" in beside
    assert CONFIRM not in body
    assert "Check again" in body


def test_add_anyway_with_a_taken_email_is_refused_even_if_forced(as_user, organizer, rosa):
    response = as_user(organizer).post(
        URL, typed(email="ROSA@example.org", confirm_different="yes")
    )
    assert response.status_code == 200
    assert Member.objects.count() == 1
    assert CONFIRM not in response.content.decode()


def test_someone_who_may_not_see_people_learns_only_that_the_email_is_in_use(rosa, as_user):
    adder = UserFactory(username="ada")
    adder.user_permissions.add(Permission.objects.get(codename="add_member"))
    response = as_user(adder).post(URL, typed(name="Somebody Else", email="rosa@example.org"))
    body = response.content.decode()

    assert "Another person already has this email address." in email_field_errors(body)
    assert rosa.get_absolute_url() not in body
    assert "Rosa" not in body.replace('value="Rosa', "")  # only what they typed themselves
    assert "313" not in body
    assert CONFIRM not in body


def test_a_strong_match_by_phone_still_offers_a_different_person_and_it_saves(
    as_user, organizer, rosa
):
    client = as_user(organizer)
    # The same phone and name, no email to set them apart: strong evidence, yet they may
    # be two people (a parent and child of one name), and the save would work.
    data = typed(phone="313 555 0100")
    body = client.post(URL, data).content.decode()
    assert "This is a different person — add them" in body
    assert Member.objects.count() == 1

    response = client.post(URL, {**data, "confirm_different": "yes"})
    assert response.status_code == 302
    assert Member.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "555"}, "phone"),  # too short to be a phone
        ({"phone": "3.13555E+9"}, "phone"),  # a spreadsheet's scientific notation
        ({"email": "not an email"}, "email"),
        ({"name": "   "}, "name"),
        ({"status": "chief"}, "status"),
    ],
)
def test_no_add_anyway_while_any_other_field_would_refuse_the_save(
    as_user, organizer, overrides, field
):
    # A possible duplicate (same name, same city), and a value the save would refuse.
    MemberFactory(name="Rosa Parks", email="", phone="", city="Detroit", region="MI")
    data = typed(**{"email": "rosa2@example.org", **overrides})
    response = as_user(organizer).post(URL, {**data, "confirm_different": "yes"})
    body = response.content.decode()

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Member.objects.count() == 1
    if response.context["duplicates"]:
        assert CONFIRM not in body
        assert "Check again" in body


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"email": "ROSA@example.org"},
        {"email": "rosa@example.org "},
        {"email": "new@example.org", "phone": "12"},
        {"email": "new@example.org", "name": ""},
        {"email": "", "phone": ""},
        {"email": "new@example.org", "status": "chief"},
        {"email": "new@example.org", "phone": "(313) 555-0100"},
    ],
)
def test_the_form_offers_a_save_exactly_when_the_service_would_make_it(rosa, organizer, overrides):
    # One rule: what PersonForm.can_be_saved says is what services.create_member does.
    form = PersonForm(typed(**{"email": "new@example.org", **overrides}), quick=True)
    offered = form.can_be_saved()
    fields = form.cleaned_data if offered else {**typed(), **overrides}
    fields = {k: v for k, v in fields.items() if k in typed() and k != "sectors"}
    try:
        services.create_member(by=organizer, **fields)
    except ValidationError:
        saved = False
    else:
        saved = True
    # Offered only when it saves. (The form also asks for an email or a phone, which the
    # service leaves to its callers: the import may add a person with neither.)
    assert offered == (saved and bool(fields.get("email") or fields.get("phone"))), (
        overrides,
        form.errors,
    )


def test_with_email_is_the_one_rule_of_a_taken_email(rosa):
    assert list(Member.objects.with_email(" rosa@EXAMPLE.org ")) == [rosa]
    assert not Member.objects.with_email("").exists()
    assert not Member.objects.with_email("other@example.org").exists()
    with pytest.raises(ValidationError) as refused:
        Member(name="Another Rosa", email="ROSA@example.org").full_clean()
    assert refused.value.error_dict["email"][0].code == "unique"


def test_an_edit_keeps_the_models_message(as_user, organizer, rosa):
    # Editing someone else into Rosa's email is refused as before (no viewer passed).
    other = MemberFactory(email="other@example.org")
    form = PersonForm({**typed(), "email": "rosa@example.org"}, instance=other)
    assert not form.is_valid()
    assert form.errors["email"] == ["Another person already has this email address."]
