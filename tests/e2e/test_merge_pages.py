"""Merging two records of one person in a real browser, from the person page, and undoing it."""

import pytest
from playwright.sync_api import expect

from members.models import Member, MergeRecord
from tests.e2e.test_core_pages import LAPTOP, PHONE, assert_fits
from tests.factories import CapacityCheckInFactory, MemberFactory, SectorFactory


@pytest.mark.e2e
def test_merge_from_the_person_page_then_undo(page, screenshot):
    housing = SectorFactory(name="Housing", slug="housing")
    older = MemberFactory(
        name="Maria Lopez",
        email="",
        phone="(512) 555-0123",
        city="Austin",
        region="TX",
        note="Met at the tenants' assembly.",
        joining_story="",
        sectors=[housing],
    )
    newer = MemberFactory(
        name="María López",
        email="maria@example.org",
        phone="(512) 555-0123",
        city="Austin",
        region="TX",
        note="Wants to help with the newsletter; a very long note that must wrap on a phone.",
        joining_story="The eviction fight on our block, and the neighbours who stood with us.",
    )
    CapacityCheckInFactory(member=newer)

    page.goto(f"/people/{older.pk}/")
    panel = page.locator("#duplicates")
    expect(panel).to_contain_text("María López")
    expect(panel).to_contain_text("same phone number")
    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, "person-possible-duplicates-phone")
    page.set_viewport_size(LAPTOP)
    panel.get_by_role("link", name="Compare and merge… María López").click()

    expect(page.get_by_role("heading", name="Merge two records of one person")).to_be_visible()
    # Defaults: the survivor's name, the other's email (the survivor has none), notes joined.
    expect(page.get_by_role("group", name="Email").get_by_role("radio").nth(1)).to_be_checked()
    expect(page.get_by_role("group", name="Notes").get_by_role("radio").nth(2)).to_be_checked()
    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, "merge-page-phone")
    page.set_viewport_size(LAPTOP)
    screenshot(page, "merge-page")
    # Keep the accented spelling of the name.
    page.get_by_role("group", name="Name").get_by_role("radio").nth(1).check()
    page.get_by_role("button", name="Merge these records").click()

    expect(page).to_have_url(f"/people/{older.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("María López")
    expect(page.locator(".messages")).to_contain_text("Merged María López")
    expect(page.locator("#capacities table tbody tr")).to_have_count(1)
    expect(page.locator(".timeline")).to_contain_text("Merged with María López")
    assert not Member.objects.filter(pk=newer.pk).exists()
    screenshot(page, "merged-person")

    page.get_by_role("button", name="Undo this merge of María López").click()
    expect(page).to_have_url(f"/people/{newer.pk}/")
    expect(page.locator(".messages")).to_contain_text("Undid merge")
    assert MergeRecord.objects.get().undone_at is not None
    older.refresh_from_db()
    assert older.name == "Maria Lopez"
    assert older.email == ""


@pytest.mark.e2e
def test_merge_with_someone_found_by_search(page, screenshot):
    person = MemberFactory(name="Kim Ngo", city="Austin", email="kim@example.org")
    other = MemberFactory(name="Kimberly Ngo-Tran", city="Houston", email="kngo@example.net")

    page.goto(f"/people/{person.pk}/")
    page.get_by_role("link", name="Merge with another person…").click()
    page.get_by_label("Name, email or city").fill("ngo-tran")
    page.get_by_role("button", name="Search").click()
    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, "merge-pick-phone")
    page.set_viewport_size(LAPTOP)
    page.get_by_role("link", name="Compare and merge… Kimberly Ngo-Tran").click()
    # Keep the other record: its number stays, the values chosen stay as shown.
    page.get_by_role("group", name="Which record stays").get_by_role(
        "radio", name="Kimberly Ngo-Tran"
    ).check()
    page.get_by_role("button", name="Merge these records").click()

    expect(page).to_have_url(f"/people/{other.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kim Ngo")
    assert not Member.objects.filter(pk=person.pk).exists()
    other.refresh_from_db()
    assert other.email == "kim@example.org"
    assert "kngo@example.net" in other.note
