"""The people list's sector filter: the same people whichever way the database is asked."""

import pytest
from django.urls import reverse

from members import models as member_models
from members.forms import PeopleFilterForm
from members.models import Member
from tests.factories import MemberFactory, SectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sectors():
    housing, labor, empty = (
        SectorFactory(name=n) for n in ("Test housing", "Test labor", "Test unused")
    )
    for number in range(12):
        person = MemberFactory(name=f"Person {number:02d}")
        person.sectors.set([housing] if number % 3 else [housing, labor])
    MemberFactory(name="Nobody In A Sector")
    return housing, labor, empty


@pytest.mark.parametrize("sort_limit", [1, 5, 1000], ids=["walk", "mixed", "sort"])
def test_in_sector_finds_exactly_the_sector_in_name_order(sectors, monkeypatch, sort_limit):
    # Both ways (sorting a small sector, probing a large one) are exercised by moving the
    # limit below and above each sector's size.
    monkeypatch.setattr(member_models, "SECTOR_SORT_LIMIT", sort_limit)
    for sector in sectors:
        expected = list(Member.objects.filter(sectors=sector).in_name_order())
        assert list(Member.objects.in_name_order().in_sector(sector)) == expected
        assert list(Member.objects.in_name_order().in_sector(sector.pk)) == expected
    assert Member.objects.in_sector(sectors[1]).count() == 4
    assert not Member.objects.in_sector(sectors[2]).exists()


@pytest.mark.parametrize("sort_limit", [1, 1000], ids=["walk", "sort"])
def test_sector_filter_combines_with_status_and_search(sectors, monkeypatch, sort_limit):
    monkeypatch.setattr(member_models, "SECTOR_SORT_LIMIT", sort_limit)
    housing, labor, _ = sectors
    former = Member.objects.get(name="Person 03")
    former.status = "former"
    former.save()
    form = PeopleFilterForm({"sector": labor.slug, "status": "former"})
    assert form.is_valid(), form.errors
    assert [p.name for p in form.apply(Member.objects.all())] == ["Person 03"]
    form = PeopleFilterForm({"sector": housing.slug, "q": "person"})
    assert form.is_valid(), form.errors
    expected = [p.name for p in Member.objects.search("person").filter(sectors=housing)]
    assert len(expected) == 12
    assert [p.name for p in form.apply(Member.objects.all())] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["%", "_", "\\", "?!", "😀"])
def test_a_search_of_only_symbols_lists_everyone_and_says_why(as_user, organizer, query):
    MemberFactory(name="Ana Lima")

    response = as_user(organizer).get(reverse("members:people_list"), {"q": query})

    body = response.content.decode()
    assert "has no letters or digits to search for, so everyone is listed" in body
    assert "Ana Lima" in body


@pytest.mark.django_db
def test_a_page_past_the_end_says_so_and_leads_back(as_user, organizer):
    MemberFactory(name="Ana Lima")

    response = as_user(organizer).get(reverse("members:people_list"), {"q": "ana", "page": 99})

    body = response.content.decode()
    assert "The list ends before page 99" in body
    assert 'href="?q=ana">Back to the first page' in body
    assert "Nobody matches" not in body
