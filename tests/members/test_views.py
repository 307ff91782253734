import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import CapacityCheckIn, Member, MemberStatus
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
    SectorFactory,
)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- permissions -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["people_list", "person_add"])
def test_user_without_a_role_is_refused_the_people_pages(as_user, stranger, name):
    response = as_user(stranger).get(reverse(f"members:{name}"))
    assert response.status_code == 403


def test_user_without_a_role_cannot_open_a_person(as_user, stranger):
    person = MemberFactory()
    for name in ["person_detail", "person_edit", "check_in_add"]:
        response = as_user(stranger).get(reverse(f"members:{name}", args=[person.pk]))
        assert response.status_code == 403, name


def test_missing_person_is_404(as_user, organizer):
    response = as_user(organizer).get(reverse("members:person_detail", args=[999999]))
    assert response.status_code == 404


# --- the people list ---------------------------------------------------------------------


def test_people_list_filters_combine_with_search(as_user, organizer):
    housing = SectorFactory(slug="housing")
    MemberFactory(name="José García", city="Oakland", sectors=[housing])
    MemberFactory(name="José Ortega", city="Oakland", status=MemberStatus.PROSPECT)
    MemberFactory(name="Ana García", city="Detroit")
    response = as_user(organizer).get(
        reverse("members:people_list"), {"q": "jose", "sector": "housing"}
    )
    names = [person.name for person in response.context["people"]]
    assert names == ["José García"]


def test_people_list_pages_without_counting_the_table(as_user, organizer):
    MemberFactory.create_batch(55)
    client = as_user(organizer)
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(reverse("members:people_list"))
    # Only LIMITed counts: how many were found is counted up to 501 ("500+ people").
    counts = [q["sql"].upper() for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts
    assert all(" LIMIT 501" in sql for sql in counts), counts
    assert len(first.context["people"]) == 50
    assert first.context["has_next"]
    second = client.get(reverse("members:people_list"), {"page": 2})
    assert len(second.context["people"]) == 5
    assert not second.context["has_next"]


def test_live_search_answers_with_only_the_results(as_user, organizer):
    MemberFactory(name="José García")
    response = as_user(organizer).get(
        reverse("members:people_list"), {"q": "garc"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "José García" in body
    assert "<form" not in body  # the partial, not the page
    assert "HX-Request" in response["Vary"]


def test_people_list_query_count_does_not_grow_with_people(as_user, organizer):
    client = as_user(organizer)
    sectors = SectorFactory.create_batch(3)
    MemberFactory.create_batch(10, sectors=sectors)
    few = count_queries(client, reverse("members:people_list"))
    MemberFactory.create_batch(490, sectors=sectors)
    many = count_queries(client, reverse("members:people_list"))
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions, the page of people, their sectors, how many were found (up to 501),
    # the access log's entry, the choices of the sector, region (one index probe per
    # region), tendency and core filters
    assert few == many == 13


# --- the person page ---------------------------------------------------------------------


def test_person_page_query_count_does_not_grow_with_check_ins(as_user, organizer, tendency_a):
    client = as_user(organizer)
    person = MemberFactory()
    AlignmentFactory(member=person, tendency=tendency_a)
    InvitationFactory(member=person)
    today = timezone.localdate()
    for i in range(3):
        CapacityCheckInFactory(member=person, checked_on=today - dt.timedelta(days=30 * i))
    url = reverse("members:person_detail", args=[person.pk])
    few = count_queries(client, url)
    for i in range(3, 50):
        CapacityCheckInFactory(member=person, checked_on=today - dt.timedelta(days=30 * i))
    for _ in range(10):
        person.city = f"City {_}"
        person.save()
    many = count_queries(client, url)
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions, person + added_by, sectors, check-ins + assessors, history records +
    # users, history sectors (the added_by names come with the person); the cores' tag
    # (tests/cores/test_person_page_cores.py): alignments + tendencies, invitations +
    # cores, the cores the person is a member of, the tendencies of the stated-level
    # form; the merge panel: possible duplicates (two queries), merges into this person +
    # mergers; the access log: the hour's quota (one aggregate) and the entry; the
    # timeline's other kinds (members.timeline): check-ins' history, merges, alignments'
    # history, invitations' history
    assert few == many == 23


def test_person_page_shows_growth_with_numbers_beside_the_picture(as_user, organizer):
    person = MemberFactory()
    today = timezone.localdate()
    CapacityCheckInFactory(
        member=person, checked_on=today - dt.timedelta(days=365), strategic_skills=2
    )
    CapacityCheckInFactory(member=person, checked_on=today, strategic_skills=4)
    response = as_user(organizer).get(reverse("members:person_detail", args=[person.pk]))
    body = response.content.decode()
    assert body.count("<svg") == 4
    assert "Strategic skills: 2 to 4 of 5 (up) over 2 check-ins." in body
    assert '<td class="num" data-label="Strategic skills">4</td>' in body


def test_person_page_history_names_who_changed_which_field(as_user, organizer):
    client = as_user(organizer)
    person = MemberFactory(city="Oakland")
    url = reverse("members:person_edit", args=[person.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(city="Detroit", edit_version=person.version, sectors=[])
    response = client.post(url, data)
    assert response.status_code == 302
    timeline = client.get(reverse("members:person_detail", args=[person.pk])).context["timeline"]
    latest = timeline[0]
    assert latest.who == "Olive Organizer"
    assert latest.action == "changed"
    assert [(c.label, c.old, c.new) for c in latest.changes] == [("City", "Oakland", "Detroit")]


# --- quick add -----------------------------------------------------------------------------


def quick_add_data(**overrides):
    data = {
        "name": "Rosa Parks Jr",
        "email": "rosa@example.org",
        "phone": "",
        "city": "Detroit",
        "status": "member",
        "joining_story_kind": "social_movement",
        "joining_story": "I could not see how our wins added up.",
    }
    data.update(overrides)
    return data


def test_quick_add_creates_a_person_added_by_the_organizer(as_user, organizer):
    housing = SectorFactory(slug="housing")
    response = as_user(organizer).post(
        reverse("members:person_add"), quick_add_data(sectors=[housing.pk])
    )
    person = Member.objects.get(email="rosa@example.org")
    assert response.url == person.get_absolute_url()
    assert person.added_by == organizer
    assert list(person.sectors.all()) == [housing]
    assert person.history.earliest().history_user == organizer


def test_quick_add_warns_of_a_likely_duplicate_before_saving(as_user, organizer):
    # A similar name in the same city is weak evidence: shown, with the evidence, before
    # saving. (Two different emails would veto it: test_duplicates covers that.)
    existing = MemberFactory(name="José García", city="Oakland", email="")
    client = as_user(organizer)
    data = quick_add_data(name="Jose Garcia", city="Oakland", email="other@example.org")
    response = client.post(reverse("members:person_add"), data)
    assert response.status_code == 200
    assert [d.member for d in response.context["duplicates"]] == [existing]
    assert [d.member for d in response.context["weak"]] == [existing]
    assert "same name in the same city" in response.content.decode()
    assert not Member.objects.filter(email="other@example.org").exists()
    assert response.context["form"]["name"].value() == "Jose Garcia"  # input kept

    response = client.post(reverse("members:person_add"), {**data, "confirm_different": "yes"})
    created = Member.objects.get(email="other@example.org")
    assert response.url == created.get_absolute_url()
    reason = created.history.earliest().history_change_reason
    assert "Confirmed a different person" in reason
    assert f"#{existing.pk}" in reason


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"name": "    "}, "name", "Enter a name; spaces alone are not a name."),
        ({"phone": "12"}, "phone", "at least 7 digits"),
        ({"email": "", "phone": ""}, "email", "Give an email or a phone number"),
    ],
)
def test_quick_add_bad_input_names_the_field_and_keeps_the_input(
    as_user, organizer, overrides, field, message
):
    data = quick_add_data(**overrides)
    response = as_user(organizer).post(reverse("members:person_add"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert f'href="#id_{field}"' in response.content.decode()  # the summary links the field
    assert form["city"].value() == "Detroit"
    assert form["joining_story"].value() == data["joining_story"]
    assert not Member.objects.exists()


def test_quick_add_same_email_in_other_case_is_refused_on_the_email_field(as_user, organizer):
    MemberFactory(email="Rosa@Example.org")
    response = as_user(organizer).post(reverse("members:person_add"), quick_add_data())
    assert response.status_code == 200
    person = Member.objects.get()
    # The error beside the field names and links the person who has the email.
    assert response.context["form"].errors["email"] == [
        f'This email is already on file for <a href="{person.get_absolute_url()}">{person}</a>.'
        " Two people cannot share an email: open their record to update it, or correct the"
        " email."
    ]
    # The cursor waits in the field to fix, not back in the name.
    html = response.content.decode()
    assert re.search(r'<input type="email" name="email"[^>]*autofocus', html)
    assert not re.search(r'<input type="text" name="name"[^>]*autofocus', html)


# --- edit with optimistic locking ---------------------------------------------------------------


def edit_data(client, person, **changes):
    form = client.get(reverse("members:person_edit", args=[person.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["sectors"] = [s.pk for s in data.get("sectors", [])]
    data["edit_version"] = form["edit_version"].value()
    data.update(changes)
    return data


def test_stale_edit_is_refused_showing_both_versions_and_keeping_input(
    as_user, organizer, lead_a, client
):
    person = MemberFactory(city="Oakland", phone="(555) 010-2233")
    url = reverse("members:person_edit", args=[person.pk])
    log_in(client, organizer)
    mine = edit_data(client, person, phone="(555) 999-0000")

    # Someone else saves first, from their own form.
    from django.test import Client

    other = Client()
    log_in(other, lead_a)
    assert other.post(url, edit_data(other, person, city="Detroit")).status_code == 302

    response = client.post(url, mine)
    assert response.status_code == 200
    form = response.context["form"]
    assert "Someone else saved this person" in form.non_field_errors()[0]
    assert form["phone"].value() == "(555) 999-0000"
    rows = {row["label"]: row for row in form.comparison}
    # They changed the city, which I left alone: theirs is filled into my form.
    assert rows["City"] == {
        "label": "City",
        "saved": "Detroit",
        "yours": "Detroit",
        "conflict": False,
    }
    assert form["city"].value() == "Detroit"
    person.refresh_from_db()
    assert person.phone == "(555) 010-2233"  # nothing overwritten

    # Saving again keeps their city and my phone: nothing of either is lost.
    again = {**mine, **{k: form.data[k] for k in ("city", "edit_version")}}
    assert client.post(url, again).status_code == 302
    person.refresh_from_db()
    assert (person.phone, person.city) == ("(555) 999-0000", "Detroit")


def test_stale_edit_of_the_same_field_is_a_conflict_keeping_my_input(
    as_user, organizer, lead_a, client
):
    from django.test import Client

    person = MemberFactory(city="Oakland")
    url = reverse("members:person_edit", args=[person.pk])
    log_in(client, organizer)
    mine = edit_data(client, person, city="Berkeley")
    other = Client()
    log_in(other, lead_a)
    assert other.post(url, edit_data(other, person, city="Detroit")).status_code == 302

    form = client.post(url, mine).context["form"]
    assert form.comparison == [
        {"label": "City", "saved": "Detroit", "yours": "Berkeley", "conflict": True}
    ]
    assert "You both changed: City" in form.non_field_errors()[0]
    assert form["city"].value() == "Berkeley"


# --- check-ins -----------------------------------------------------------------------------


def check_in_data(**overrides):
    data = {
        "checked_on": timezone.localdate().isoformat(),
        "strategic_skills": "3",
        "political_organizing_skills": "4",
        "social_emotional_capacities": "2",
        "organization_building_skills": "5",
        "note": "After the retreat.",
    }
    data.update(overrides)
    return data


def test_check_in_is_recorded_by_the_current_user(as_user, organizer):
    person = MemberFactory()
    response = as_user(organizer).post(
        reverse("members:check_in_add", args=[person.pk]), check_in_data()
    )
    assert response.status_code == 302
    check_in = CapacityCheckIn.objects.get(member=person)
    assert check_in.assessed_by == organizer
    assert check_in.organization_building_skills == 5
    assert check_in.history.get().history_user == organizer


def test_check_in_form_defaults_to_today(as_user, organizer):
    person = MemberFactory()
    response = as_user(organizer).get(reverse("members:check_in_add", args=[person.pk]))
    assert response.context["form"]["checked_on"].value() == timezone.localdate()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"strategic_skills": "6"}, "strategic_skills"),
        ({"political_organizing_skills": "0"}, "political_organizing_skills"),
        ({"social_emotional_capacities": ""}, "social_emotional_capacities"),
        (
            {"checked_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
            "checked_on",
        ),
    ],
)
def test_check_in_bad_input_names_the_field(as_user, organizer, overrides, field):
    person = MemberFactory()
    response = as_user(organizer).post(
        reverse("members:check_in_add", args=[person.pk]), check_in_data(**overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["form"]["note"].value() == "After the retreat."
    assert not CapacityCheckIn.objects.exists()


def test_quick_add_with_an_email_already_here_does_not_offer_a_different_person(as_user, organizer):
    # The email is unique (case aside): "a different person" with it could never be saved.
    existing = MemberFactory(name="Rosa Parks", email="Rosa@Example.org", city="Detroit")
    response = as_user(organizer).post(reverse("members:person_add"), quick_add_data())
    body = response.content.decode()
    assert response.context["form"].email_holder == existing
    assert f'already on file for <a href="{existing.get_absolute_url()}">{existing}</a>' in body
    assert 'name="confirm_different"' not in body
    assert Member.objects.count() == 1
