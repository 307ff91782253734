import pytest
from django.test import Client
from django.urls import reverse

from members.models import CapacityCheckIn, Member
from tests.adminforms import changeform_data
from tests.auth import log_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

MEMBER_ADD = reverse("admin:members_member_add")
CHECK_IN_ADD = reverse("admin:members_capacitycheckin_add")


def member_change(member):
    return reverse("admin:members_member_change", args=[member.pk])


def test_person_added_in_the_admin_is_attributed_to_the_lead_who_added_them(as_user, staff_lead_a):
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(MEMBER_ADD), name="Ella Baker", email="ella@example.org")

    response = client.post(MEMBER_ADD, form)

    assert response.status_code == 302
    member = Member.objects.get(email="ella@example.org")
    assert member.added_by == staff_lead_a
    assert member.history.get().history_user == staff_lead_a


def test_person_changed_in_the_admin_is_kept_in_history_with_the_editor(as_user, staff_lead_a):
    member = MemberFactory(city="Detroit")
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(member_change(member)), city="Flint")

    response = client.post(member_change(member), form)

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.city, member.version) == ("Flint", 2)
    latest = member.history.latest()
    assert (latest.history_type, latest.city, latest.history_user) == ("~", "Flint", staff_lead_a)


def test_check_in_added_on_the_person_page_is_assessed_by_and_attributed_to_the_lead(
    as_user, staff_lead_a
):
    member = MemberFactory()
    client = as_user(staff_lead_a)
    form = changeform_data(client.get(member_change(member)))
    form.update(
        {
            "check_ins-TOTAL_FORMS": "1",
            "check_ins-0-member": str(member.pk),
            "check_ins-0-checked_on": "2024-03-01",
            "check_ins-0-strategic_skills": "2",
            "check_ins-0-political_organizing_skills": "3",
            "check_ins-0-social_emotional_capacities": "4",
            "check_ins-0-organization_building_skills": "5",
        }
    )

    response = client.post(member_change(member), form)

    assert response.status_code == 302
    check_in = member.check_ins.get()
    assert check_in.assessed_by == staff_lead_a
    assert check_in.history.get().history_user == staff_lead_a


def test_check_in_added_and_changed_on_its_own_page_is_attributed(as_user, admin_user):
    member = MemberFactory()
    client = as_user(admin_user)
    form = changeform_data(
        client.get(CHECK_IN_ADD),
        member=str(member.pk),
        checked_on="2024-03-01",
        strategic_skills="2",
        political_organizing_skills="2",
        social_emotional_capacities="2",
        organization_building_skills="2",
    )
    assert client.post(CHECK_IN_ADD, form).status_code == 302
    check_in = CapacityCheckIn.objects.get()
    change_url = reverse("admin:members_capacitycheckin_change", args=[check_in.pk])
    form = changeform_data(client.get(change_url), strategic_skills="3")

    assert client.post(change_url, form).status_code == 302

    rows = check_in.history.order_by("history_id")
    assert [(row.history_type, row.strategic_skills, row.history_user) for row in rows] == [
        ("+", 2, admin_user),
        ("~", 3, admin_user),
    ]


def test_email_taken_in_other_case_comes_back_on_the_email_field_with_the_input_kept(
    as_user, admin_user
):
    MemberFactory(email="Rosa.Parks@Example.org")
    client = as_user(admin_user)
    form = changeform_data(
        client.get(MEMBER_ADD), name="Rosa Louise Parks", email="rosa.parks@example.ORG"
    )

    response = client.post(MEMBER_ADD, form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert admin_form.errors == {"email": ["Another person already has this email address."]}
    assert admin_form["name"].value() == "Rosa Louise Parks"
    assert 'value="rosa.parks@example.ORG"' in response.text
    assert Member.objects.count() == 1


def test_name_of_only_spaces_comes_back_on_the_name_field(as_user, admin_user):
    client = as_user(admin_user)
    form = changeform_data(
        client.get(MEMBER_ADD), name="   ", city="Oakland", email="someone@example.org"
    )

    response = client.post(MEMBER_ADD, form)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["name"]
    assert 'value="Oakland"' in response.text


def test_check_in_score_of_6_comes_back_on_its_field_with_the_input_kept(as_user, admin_user):
    member = MemberFactory()
    client = as_user(admin_user)
    form = changeform_data(
        client.get(CHECK_IN_ADD),
        member=str(member.pk),
        checked_on="2024-03-01",
        strategic_skills="6",
        political_organizing_skills="2",
        social_emotional_capacities="2",
        organization_building_skills="2",
        note="Led the retreat's strategy session.",
    )

    response = client.post(CHECK_IN_ADD, form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert list(admin_form.errors) == ["strategic_skills"]
    assert admin_form["strategic_skills"].value() == "6"
    assert "Led the retreat&#x27;s strategy session." in response.text
    assert not CapacityCheckIn.objects.exists()


def test_check_in_score_of_6_on_the_person_page_comes_back_on_its_field(as_user, admin_user):
    member = MemberFactory()
    client = as_user(admin_user)
    form = changeform_data(client.get(member_change(member)))
    form.update(
        {
            "check_ins-TOTAL_FORMS": "1",
            "check_ins-0-member": str(member.pk),
            "check_ins-0-checked_on": "2024-03-01",
            "check_ins-0-strategic_skills": "3",
            "check_ins-0-political_organizing_skills": "6",
            "check_ins-0-social_emotional_capacities": "3",
            "check_ins-0-organization_building_skills": "3",
        }
    )

    response = client.post(member_change(member), form)

    assert response.status_code == 200
    (check_ins,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "check_ins"
    ]
    assert check_ins.errors == [
        {"political_organizing_skills": ["Ensure this value is less than or equal to 5."]}
    ]
    assert not CapacityCheckIn.objects.exists()


def test_second_of_two_concurrent_edits_is_refused_with_its_input_kept(
    client, staff_lead_a, admin_user
):
    member = MemberFactory(city="Detroit", phone="(313) 555-0100")
    alice, ada = client, Client()
    log_in(alice, staff_lead_a)
    log_in(ada, admin_user)
    alice_page = alice.get(member_change(member))
    ada_page = ada.get(member_change(member))

    first = alice.post(member_change(member), changeform_data(alice_page, city="Flint"))
    assert first.status_code == 302

    second = ada.post(
        member_change(member),
        changeform_data(ada_page, city="Chicago", phone="(312) 555-0199"),
    )

    assert second.status_code == 200
    form = second.context["adminform"].form
    assert form.non_field_errors() == [
        "Someone else saved this person while you were editing. You both changed: City; "
        "your input is kept there. Check the form and save again."
    ]
    assert (form["city"].value(), form["phone"].value()) == ("Chicago", "(312) 555-0199")
    member.refresh_from_db()
    assert (member.city, member.version) == ("Flint", 2)

    resubmitted = ada.post(member_change(member), changeform_data(second))

    assert resubmitted.status_code == 302
    member.refresh_from_db()
    assert (member.city, member.phone, member.version) == ("Chicago", "(312) 555-0199", 3)
    assert [row.history_user for row in member.history.order_by("history_id")] == [
        None,  # made by the factory, outside any request
        staff_lead_a,
        admin_user,
    ]


def test_admin_people_search_ignores_accents_and_case(as_user, admin_user):
    jose = MemberFactory(name="José García", city="Oakland")
    MemberFactory(name="Ana Li", city="Detroit")
    response = as_user(admin_user).get(reverse("admin:members_member_changelist"), {"q": "GARCIA"})
    assert list(response.context["cl"].result_list) == [jose]


# --- the app's rules for a person: duplicates, email or phone ---------------------------------


def test_adding_a_possible_duplicate_in_the_admin_needs_a_ticked_confirmation(as_user, admin_user):
    existing = MemberFactory(name="Ella Baker", city="Oakland", region="CA", email="", phone="")
    client = as_user(admin_user)
    form = changeform_data(
        client.get(MEMBER_ADD), name="Ella J. Baker", city="Oakland", email="ella@example.org"
    )

    response = client.post(MEMBER_ADD, form)

    assert response.status_code == 200
    admin_form = response.context["adminform"].form
    assert list(admin_form.errors) == ["confirm_different"]
    assert "This may be someone already here" in response.text
    assert "weak: similar name in the same city" in response.text
    assert reverse("admin:members_member_change", args=[existing.pk]) in response.text
    assert 'type="checkbox" name="confirm_different"' in response.text
    assert admin_form["name"].value() == "Ella J. Baker"  # the input is kept
    assert Member.objects.count() == 1

    response = client.post(MEMBER_ADD, {**form, "confirm_different": "on"})

    assert response.status_code == 302
    added = Member.objects.get(email="ella@example.org")
    assert f"Confirmed a different person from Ella Baker (#{existing.pk})" == (
        added.history.get().history_change_reason
    )


def test_editing_a_person_into_a_duplicate_is_checked_and_other_edits_are_not(as_user, admin_user):
    MemberFactory(name="Ana Ruiz", email="ana@example.org", phone="(512) 555-0100")
    twin = MemberFactory(name="Ana Ruiz", email="", phone="(512) 555-0100", city="Austin")
    client = as_user(admin_user)

    # The note alone: the pair is already there, no question asked.
    form = changeform_data(client.get(member_change(twin)), note="Met at the rally")
    assert client.post(member_change(twin), form).status_code == 302

    form = changeform_data(client.get(member_change(twin)), phone="512.555.0100", city="Dallas")
    response = client.post(member_change(twin), form)
    assert response.status_code == 200
    assert "strong: same phone number and a compatible name" in response.text
    twin.refresh_from_db()
    assert twin.city == "Austin"


def test_a_household_sharing_a_phone_is_saved_in_the_admin_without_a_question(as_user, admin_user):
    marta = MemberFactory(name="Marta Solis", phone="(512) 555-0123", city="Austin", email="")
    client = as_user(admin_user)
    form = changeform_data(
        client.get(MEMBER_ADD), name="Diego Solis", phone="512-555-0123", city="Austin"
    )

    response = client.post(MEMBER_ADD, form, follow=True)

    diego = Member.objects.get(name="Diego Solis")
    assert f"Shares a phone with Marta Solis (#{marta.pk})" in (
        diego.history.get().history_change_reason
    )
    assert "kept as two people" in response.text


def test_the_admin_asks_for_an_email_or_a_phone_as_quick_add_does(as_user, admin_user):
    client = as_user(admin_user)
    form = changeform_data(client.get(MEMBER_ADD), name="No Contact", email="", phone="")

    response = client.post(MEMBER_ADD, form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "email": ["Give an email or a phone number, so the person can be reached."]
    }
    person = MemberFactory(email="x@example.org", phone="")
    form = changeform_data(client.get(member_change(person)), email="")
    response = client.post(member_change(person), form)
    assert list(response.context["adminform"].form.errors) == ["email"]
