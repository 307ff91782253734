"""The organizer's rough edges in a real browser (issue 12, part 5): the people list's
filters and count, its live status, "Add <what was typed>", a phone's view of the list,
and quick add's hard stop on an email already on file."""

import pytest
from playwright.sync_api import expect

from cores.models import AlignmentLevel
from members.models import Member
from tests.e2e.test_core_pages import LAPTOP, PHONE, assert_fits
from tests.factories import AlignmentFactory, MemberFactory, SectorFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(tendency_a, core_a):
    housing = SectorFactory(slug="housing", name="Housing")
    labor = SectorFactory(slug="labor", name="Labor")
    rosa = MemberFactory(
        name="Rosa Parks",
        email="rosa.parks.the.longest.address@example.org",
        city="Detroit",
        region="MI",
        sectors=[housing, labor],
    )
    for number in range(13):
        person = MemberFactory(
            name=f"Detroit Organizer {number:02d}",
            # Not the factory's numbered email: a search for "0" would find it by chance.
            email=f"organizer{number:02d}@example.org",
            city="Detroit",
            region="MI",
            sectors=[labor],
        )
        if number % 2:
            AlignmentFactory(member=person, tendency=tendency_a, level=AlignmentLevel.ALIGNED)
    MemberFactory(name="Ana Lima", city="Portland", region="OR")
    core_a.members.add(rosa)
    return rosa


def test_filters_count_and_live_status(page, people, screenshot):
    page.goto("/people/")
    expect(page.locator(".found")).to_have_text("15 people found")

    page.get_by_label("Tendency").select_option("democratic-front")
    page.get_by_label("Alignment level").select_option("aligned")
    expect(page.locator(".found")).to_have_text("6 people found")
    # The status is announced from a polite live region outside the table.
    status = page.locator("#results-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("6 people found")
    expect(page.locator("#results")).not_to_have_attribute("aria-live", "polite")

    page.get_by_label("Search people").fill("organizer 0")
    # The aligned ones are the odd numbers: 01, 03, 05, 07 and 09 begin "Organizer 0".
    expect(status).to_have_text("5 people found")
    expect(page.locator("#results tbody tr")).to_have_count(5)
    screenshot(page, "people-filters-1280")

    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, "people-filters-390")


def test_on_a_phone_every_column_of_the_list_is_on_screen(page, people, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/people/?region=MI")
    assert_fits(page)
    row = page.locator("#results tbody tr").filter(has_text="Rosa Parks")
    for text in ("Detroit, MI", "Member", "Housing", "Labor"):
        cell = row.get_by_text(text, exact=False).first
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0, (text, box)
        assert box["x"] + box["width"] <= PHONE["width"], (text, box)
    screenshot(page, "people-list-390")
    page.set_viewport_size(LAPTOP)
    screenshot(page, "people-list-1280")


def test_a_search_finding_nobody_offers_to_add_the_name(page, people, screenshot):
    page.goto("/people/")
    page.get_by_label("Search people").fill("Claudia Jones")
    expect(page.locator("#results-status")).to_contain_text("Nobody matches")
    add = page.get_by_role("link", name="Add “Claudia Jones”")
    expect(add).to_be_visible()
    screenshot(page, "people-nobody-add-1280")
    add.click()

    expect(page).to_have_url("/people/add/?name=Claudia+Jones")
    expect(page.get_by_label("Name")).to_have_value("Claudia Jones")


def test_quick_add_stops_on_an_email_on_file_and_opens_the_person(page, people, screenshot):
    page.goto("/people/add/")
    page.get_by_label("Name").fill("R. Parks")
    page.get_by_label("Email").fill("ROSA.PARKS.THE.LONGEST.ADDRESS@example.org")
    page.get_by_label("City").fill("Detroit")
    page.get_by_role("button", name="Add person").click()

    email_field = page.locator(".field.has-error").filter(has=page.get_by_label("Email"))
    expect(email_field).to_contain_text("This email is already on file for Rosa Parks")
    expect(page.get_by_role("button", name="This is a different person — add them")).to_have_count(
        0
    )
    expect(page.get_by_role("button", name="Check again")).to_be_visible()
    screenshot(page, "quick-add-email-on-file-1280")
    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, "quick-add-email-on-file-390")

    email_field.get_by_role("link", name="Rosa Parks").click()
    expect(page).to_have_url(people.get_absolute_url())
    assert Member.objects.filter(name="R. Parks").count() == 0
