"""The people list's filters by tendency, alignment level, core and region, how many it
found (capped), and "Add <what was typed>" when a search finds nobody (issue 12, part 5).

The cores' filters are registered by cores.people_filters; members never imports cores.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cores.models import AlignmentLevel, ReviewState
from members import models as member_models
from members import views as member_views
from members.forms import PeopleFilterForm
from members.models import Member
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    MemberFactory,
    ReviewNoteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("members:people_list")


def names(response) -> list[str]:
    assert response.status_code == 200
    return [person.name for person in response.context["people"]]


@pytest.fixture
def network(tendency_a, tendency_b, core_a, core_b):
    """Five people: aligned toward either tendency at various levels, in a core or invited."""
    ana = MemberFactory(name="Ana Aligned", city="Portland", region="OR")
    ben = MemberFactory(name="Ben Both", city="Portland", region="ME")
    cam = MemberFactory(name="Cam Core", city="Detroit", region="MI")
    dee = MemberFactory(name="Dee Invited", city="Detroit", region="MI")
    MemberFactory(name="Eve Nobody", city="", region="")
    AlignmentFactory(member=ana, tendency=tendency_a, level=AlignmentLevel.ALIGNED)
    AlignmentFactory(member=ben, tendency=tendency_a, level=AlignmentLevel.EXPLORING)
    AlignmentFactory(member=ben, tendency=tendency_b, level=AlignmentLevel.ALIGNED)
    AlignmentFactory(
        member=cam,
        tendency=tendency_b,
        level=AlignmentLevel.LEANING,
        review_state=ReviewState.REVIEWED,
    )
    core_a.members.add(cam)
    InvitationFactory(core=core_a, member=dee)
    return {"ana": ana, "ben": ben, "cam": cam, "dee": dee}


# --- each filter ------------------------------------------------------------------------------


def test_the_tendency_filter_lists_people_with_an_alignment_toward_it(as_user, organizer, network):
    response = as_user(organizer).get(URL, {"tendency": "democratic-front"})
    assert names(response) == ["Ana Aligned", "Ben Both"]


def test_the_level_filter_alone_matches_a_level_toward_any_tendency(as_user, organizer, network):
    response = as_user(organizer).get(URL, {"level": "aligned"})
    assert names(response) == ["Ana Aligned", "Ben Both"]


def test_tendency_and_level_must_hold_on_the_same_alignment(as_user, organizer, network):
    # Ben is aligned toward dual power and only exploring the democratic front.
    client = as_user(organizer)
    assert names(client.get(URL, {"tendency": "democratic-front", "level": "aligned"})) == [
        "Ana Aligned"
    ]
    assert names(client.get(URL, {"tendency": "dual-power", "level": "aligned"})) == ["Ben Both"]


def test_the_core_filter_lists_its_members_not_its_invitees(as_user, organizer, network, core_a):
    response = as_user(organizer).get(URL, {"core": core_a.slug})
    assert names(response) == ["Cam Core"]


def test_the_region_filter_keeps_portland_oregon_apart_from_portland_maine(
    as_user, organizer, network
):
    client = as_user(organizer)
    assert names(client.get(URL, {"region": "OR"})) == ["Ana Aligned"]
    assert names(client.get(URL, {"region": "MI"})) == ["Cam Core", "Dee Invited"]


def test_region_choices_are_the_regions_in_use_read_from_the_index(as_user, organizer, network):
    form = as_user(organizer).get(URL).context["filters"]
    assert [value for value, _ in form.fields["region"].choices] == ["", "ME", "MI", "OR"]


@pytest.mark.parametrize("sort_limit", [1, 1000], ids=["probe", "sort"])
def test_filters_combine_with_each_other_search_and_paging(
    as_user, organizer, network, tendency_b, monkeypatch, sort_limit
):
    # Both ways MemberQuerySet.among reads a set (probing a large one, sorting a small one).
    monkeypatch.setattr(member_models, "SECTOR_SORT_LIMIT", sort_limit)
    monkeypatch.setattr(member_views, "PAGE_SIZE", 1)
    for number in range(3):
        person = MemberFactory(name=f"Zed Leaning {number}", city="Detroit", region="MI")
        AlignmentFactory(member=person, tendency=tendency_b, level=AlignmentLevel.LEANING)
    client = as_user(organizer)
    params = {"tendency": "dual-power", "level": "leaning", "region": "MI"}
    pages = [names(client.get(URL, {**params, "page": n})) for n in (1, 2, 3, 4)]
    assert pages == [["Cam Core"], ["Zed Leaning 0"], ["Zed Leaning 1"], ["Zed Leaning 2"]]
    assert names(client.get(URL, {**params, "q": "zed leaning 1"})) == ["Zed Leaning 1"]
    # The pager's links keep the filters.
    assert "tendency=dual-power" in client.get(URL, params).context["query_string"]


def test_the_filter_form_keeps_its_values(as_user, organizer, network, core_a):
    params = {"q": "ana", "tendency": "democratic-front", "level": "aligned", "core": core_a.slug}
    body = as_user(organizer).get(URL, {**params, "region": "OR"}).content.decode()
    assert '<option value="democratic-front" selected>' in body
    assert '<option value="aligned" selected>' in body
    assert f'<option value="{core_a.slug}" selected>' in body
    assert '<option value="OR" selected>' in body


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("tendency", "Tendency"),
        ("level", "Alignment level"),
        ("core", "Core"),
        ("region", "Region"),
        ("status", "Status"),
        ("sector", "Sector"),
    ],
)
def test_a_bad_filter_value_names_the_field_and_keeps_the_rest(
    as_user, organizer, network, field, label
):
    response = as_user(organizer).get(URL, {"q": "ana", field: "no-such-thing"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["people"] == []
    assert f"{label}: Choose one from the list; “no-such-thing” is not one of them." in body
    assert 'value="ana"' in body  # the search box keeps what was typed
    assert "Nobody matches" not in body


# --- what a user may filter by ---------------------------------------------------------------


def test_every_role_may_filter_by_levels_and_cores_as_every_role_sees_them(
    as_user, organizer, lead_a, lead_b, admin_user, network
):
    # Levels and core membership are shown to every role (DESIGN.md, "Roles"): a lead of
    # the other tendency finds the same people as the tendency's own lead.
    params = {"tendency": "democratic-front", "level": "exploring"}
    for user in (organizer, lead_a, lead_b, admin_user):
        assert names(as_user(user).get(URL, params)) == ["Ben Both"], user


def test_nothing_private_to_a_tendency_can_narrow_the_list(as_user, lead_b, network, tendency_a):
    # Review state and review notes are the reviewing tendency's; invitations are a core's.
    # No parameter narrows by them: each of these lists everyone, as without it.
    note_on = network["ana"].alignments.get(tendency=tendency_a)
    ReviewNoteFactory(alignment=note_on, body="Private to the democratic front.")
    client = as_user(lead_b)
    everyone = names(client.get(URL))
    assert len(everyone) == 5
    for params in (
        {"review_state": ReviewState.NEEDS_REVIEW},
        {"review_state": ReviewState.REVIEWED},
        {"note": "private"},
        {"reviewed_by": "1"},
        {"stage": "identified"},
        {"invitation": "democratic-front-core"},
    ):
        assert names(client.get(URL, params)) == everyone, params
    assert set(PeopleFilterForm(user=lead_b).fields) == {
        "q",
        "status",
        "sector",
        "kind",
        "region",
        "tendency",
        "level",
        "core",
    }


def test_the_cores_filters_are_offered_only_with_the_permission_to_see_them(as_user, network):
    # Someone who may see people but not alignments or cores (a custom grant) is not
    # offered those filters, and their parameters change nothing.
    viewer = UserFactory(username="vic")
    viewer.user_permissions.add(Permission.objects.get(codename="view_member"))
    response = as_user(viewer).get(URL, {"tendency": "democratic-front", "core": "x"})
    assert len(names(response)) == 5
    body = response.content.decode()
    assert 'name="tendency"' not in body
    assert 'name="core"' not in body
    assert "Democratic Front" not in body


# --- how many were found -------------------------------------------------------------------


def test_the_list_says_how_many_were_found(as_user, organizer, network):
    client = as_user(organizer)
    assert "5 people found" in client.get(URL).content.decode()
    assert "1 person found" in client.get(URL, {"region": "OR"}).content.decode()


def test_past_the_cap_it_says_500_plus_from_one_limited_count(as_user, organizer, monkeypatch):
    monkeypatch.setattr(member_views, "FOUND_CAP", 3)
    MemberFactory.create_batch(5)
    client = as_user(organizer)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(URL).content.decode()
    assert "3+ people found" in body
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # The count reads a slice of four rows (cap + 1), in no order: never the whole table.
    assert len(counts) == 1
    assert "LIMIT 4" in counts[0].upper()
    assert "ORDER BY" not in counts[0].upper()


def test_the_count_matches_the_search(as_user, organizer, network):
    response = as_user(organizer).get(URL, {"q": "portland"})
    assert response.context["found"] == 2
    assert "2 people found" in response.content.decode()


def test_count_up_to_counts_no_further_than_asked():
    MemberFactory.create_batch(4)
    assert Member.objects.count_up_to(10) == 4
    assert Member.objects.count_up_to(2) == 2
    assert Member.objects.search("zzzz").count_up_to(10) == 0


# --- "Add <what was typed>" ------------------------------------------------------------------


def test_a_search_that_finds_nobody_offers_to_add_the_name_typed(as_user, organizer):
    MemberFactory(name="Ana Lima")
    body = as_user(organizer).get(URL, {"q": "  Rosa   Luxemburg "}).content.decode()
    assert "Nobody matches" in body
    assert 'href="/people/add/?name=Rosa+Luxemburg"' in body
    assert "Add “Rosa   Luxemburg”" in body or "Add “Rosa Luxemburg”" in body

    form = as_user(organizer).get(reverse("members:person_add"), {"name": "Rosa Luxemburg"})
    assert form.context["form"]["name"].value() == "Rosa Luxemburg"


def test_an_email_typed_fills_the_email_instead(as_user, organizer):
    body = as_user(organizer).get(URL, {"q": "rosa@example.org"}).content.decode()
    assert 'href="/people/add/?email=rosa%40example.org"' in body
    form = as_user(organizer).get(reverse("members:person_add"), {"email": "rosa@example.org"})
    assert form.context["form"]["email"].value() == "rosa@example.org"
    assert not form.context["form"]["name"].value()


def test_the_add_link_is_only_for_users_who_may_add_people(as_user, network):
    viewer = UserFactory(username="vic")
    viewer.user_permissions.add(Permission.objects.get(codename="view_member"))
    body = as_user(viewer).get(URL, {"q": "rosa luxemburg"}).content.decode()
    assert "Nobody matches" in body
    assert "/people/add/" not in body


def test_no_add_link_when_someone_was_found(as_user, organizer, network):
    body = as_user(organizer).get(URL, {"q": "ana"}).content.decode()
    assert "?name=" not in body


# --- live search's status ----------------------------------------------------------------------


def test_live_results_carry_a_short_status_and_the_table_is_not_a_live_region(
    as_user, organizer, network
):
    client = as_user(organizer)
    page = client.get(URL).content.decode()
    assert 'id="results-status" role="status" aria-live="polite"' in page
    assert '<div id="results">' in page  # the table itself is not re-read
    partial = client.get(URL, {"q": "portland"}, headers={"HX-Request": "true"}).content
    assert b'<p class="found" data-results-status>2 people found</p>' in partial
