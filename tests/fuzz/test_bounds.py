"""Each cause of the server errors found by the attacker, pinned as a plain test.

The fuzz (test_crawl, test_forms, test_lists) looks for new ones; these name the old ones.
"""

import datetime as dt

import pytest
from django.urls import reverse

from members.duplicates import find_duplicates
from members.models import CapacityCheckIn, Member
from tests.factories import CapacityCheckInFactory, MemberFactory, SectorFactory
from tests.fuzz.values import HUGE


def test_nul_and_control_characters_never_reach_a_saved_person(as_user, organizer):
    response = as_user(organizer).post(
        reverse("members:person_add"),
        {
            "name": "Ada\x00 Love\x1blace",
            "email": "ada\x00@example.org",
            "city": "Aus\x7ftin",
            "status": "member",
            "joining_story_kind": "other",
            "joining_story": "line one\nline\x00 two",
        },
    )

    assert response.status_code == 302
    ada = Member.objects.get(email="ada@example.org")
    assert (ada.name, ada.city) == ("Ada Lovelace", "Austin")
    assert ada.joining_story == "line one\nline two"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"sectors__id__exact": "1\x00"},
        {"status__exact": "\x00"},
        {"q": "\x01\x02\x1f"},
    ],
)
def test_nul_in_the_admins_search_and_filters_is_not_a_server_error(as_user, admin_user, params):
    MemberFactory(name="Ada Lovelace")

    response = as_user(admin_user).get(reverse("admin:members_member_changelist"), params)

    assert response.status_code in (200, 302)


def test_nul_in_an_autocomplete_term_is_not_a_server_error(as_user, admin_user):
    SectorFactory(name="Housing", slug="housing")
    params = {"app_label": "members", "model_name": "member", "field_name": "sectors"}

    response = as_user(admin_user).get(reverse("admin:autocomplete"), {**params, "term": "Ho\x00"})

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["Housing"]


def test_an_overlong_query_parameter_is_refused_naming_it(as_user, organizer):
    response = as_user(organizer).get(reverse("members:people_list"), {"q": "x" * 1001})

    assert response.status_code == 400
    assert "“q”" in response.text
    assert "1000 characters" in response.text


@pytest.mark.parametrize(("page", "status"), [(HUGE, 404), ("1e400", 200), ("x", 200), ("-3", 200)])
def test_a_page_number_past_any_list_is_no_page_and_nonsense_is_the_first(
    as_user, organizer, page, status
):
    MemberFactory()

    response = as_user(organizer).get(reverse("members:people_list"), {"page": page})

    assert response.status_code == status
    if status == 200:
        assert response.context["page"] == 1


@pytest.mark.parametrize("member", ["x", HUGE, "-1", "1e400"])
def test_a_tampered_id_in_an_admin_autocomplete_field_is_a_form_error(as_user, admin_user, member):
    response = as_user(admin_user).post(
        reverse("admin:members_capacitycheckin_add"),
        {
            "member": member,
            "checked_on": "2025-01-01",
            "strategic_skills": 3,
            "political_organizing_skills": 3,
            "social_emotional_capacities": 3,
            "organization_building_skills": 3,
        },
    )

    assert response.status_code == 200
    assert "member" in response.context["adminform"].form.errors
    assert not CapacityCheckIn.objects.exists()


@pytest.mark.parametrize("selected", ["on", HUGE, "x\x00"])
def test_a_tampered_selection_for_an_admin_action_is_not_a_server_error(
    as_user, admin_user, selected
):
    sector = SectorFactory()

    response = as_user(admin_user).post(
        reverse("admin:members_sector_changelist"),
        {"action": "delete_selected", "_selected_action": [selected], "post": "yes"},
    )

    assert response.status_code == 302
    assert type(sector).objects.filter(pk=sector.pk).exists()


@pytest.mark.parametrize(
    "params",
    [
        {"checked_on__gte": "99999-01-01"},
        {"checked_on__year": "999999999"},
    ],
)
def test_an_absurd_year_in_an_admin_date_filter_gives_the_whole_list(as_user, admin_user, params):
    CapacityCheckInFactory()

    response = as_user(admin_user).get(reverse("admin:members_capacitycheckin_changelist"), params)

    # Django's answer to a filter it cannot apply: the whole list, flagged "?e=1".
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "params",
    [
        {"checked_on__year": "9999", "checked_on__month": "12"},
        {"checked_on__year": "9999"},
    ],
)
def test_the_last_year_a_date_holds_is_a_filter_like_any_other(as_user, admin_user, params):
    # A date hierarchy once computed the end of 9999 and failed; the list has none now
    # (it read every check-in's year), so the year is a plain filter that finds nobody.
    CapacityCheckInFactory(checked_on=dt.date(2026, 5, 1))

    response = as_user(admin_user).get(reverse("admin:members_capacitycheckin_changelist"), params)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_an_empty_to_field_on_an_admin_change_page_is_the_primary_key(as_user, admin_user):
    sector = SectorFactory()

    response = as_user(admin_user).get(
        reverse("admin:members_sector_change", args=[sector.pk]), {"_to_field": ""}
    )

    assert response.status_code == 200


def test_search_and_the_duplicate_check_drop_nul_whatever_path_the_text_came_by(db):
    """Not through a request (the middleware): an import or a command calls them directly."""
    ada = MemberFactory(name="Ada Lovelace", email="ada@example.org", city="Austin")

    found = list(Member.objects.search("Ada\x00 Love\x01lace"))
    matches = find_duplicates(
        name="Ada\x00 Lovelace", email="ada@exa\x00mple.org", city="Aus\x00tin"
    )

    assert found == [ada]
    assert [match.member for match in matches] == [ada]
