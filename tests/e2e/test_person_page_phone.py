"""The person page, its check-in form and the error pages on a phone (390 px) and a laptop:
nothing wider than the screen, the check-in table's scroll area reachable by keyboard and
labelled, the timeline with every kind of entry. Screenshots in artifacts/e2e/."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cores import services as core_services
from cores.models import AlignmentLevel
from members import services as member_services
from tests.e2e.conftest import ARTIFACTS
from tests.factories import MemberFactory

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

# Elements whose right edge passes the viewport, outside a scroll area of their own.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  return [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .filter((el) => {
      for (let up = el.parentElement; up; up = up.parentElement) if (scrolls(up)) return false;
      return true;
    })
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.getBoundingClientRect().right}`);
}"""


def _assert_fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(OVERFLOWING) == []


@pytest.fixture
def busy_person(organizer, lead_a, core_a):
    """A person with a long name and a long email, check-ins, an alignment reviewed with a
    private note, and an invitation: every part of the page filled."""
    person = member_services.create_member(
        by=organizer,
        name="Maria Guadalupe Hernández-Villanueva de la Cruz",
        email="maria.guadalupe.hernandez-villanueva@community-organizing.example.org",
        phone="+1 510 555 0134",
        city="San Francisco",
        region="CA",
        joining_story="I organized tenants for ten years and could not see where it led.",
    )
    today = timezone.localdate()
    for days_ago, score in [(300, 1), (200, 2), (100, 3), (10, 4)]:
        member_services.record_check_in(
            person,
            by=organizer,
            checked_on=today - dt.timedelta(days=days_ago),
            strategic_skills=score,
            political_organizing_skills=score,
            social_emotional_capacities=5 - score + 1,
            organization_building_skills=score,
            note="Led the tenant union's negotiation with the landlord's lawyers this spring.",
        )
    alignment = core_services.state_alignment(
        person, core_a.tendency, AlignmentLevel.EXPLORING, by=organizer
    )
    core_services.review_alignment(
        alignment, by=lead_a, level=AlignmentLevel.LEANING, note="Ready for the strategy drafts."
    )
    core_services.invite_to_core(core_a, MemberFactory(), by=lead_a)
    invitation = core_services.invite_to_core(core_a, person, by=lead_a)
    core_services.move_invitation(invitation, "invited", by=lead_a)
    return person


@pytest.mark.e2e
def test_the_person_page_fits_a_phone_and_its_table_scrolls_by_keyboard(
    new_context, lead_a, busy_person, screenshot
):
    page = new_context(lead_a).new_page()
    page.goto(busy_person.get_absolute_url())
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    expect(history.locator(".timeline .tag")).to_contain_text(
        ["Invitation", "Invitation", "Private note", "Alignment", "Alignment"]
    )
    screenshot(page, "person-page-timeline")

    page.set_viewport_size(PHONE)
    _assert_fits(page, PHONE["width"])
    table_area = page.get_by_role("region", name=re.compile("^Check-ins, newest first"))
    expect(table_area).to_have_attribute("tabindex", "0")
    table_area.focus()
    expect(table_area).to_be_focused()
    screenshot(page, "person-page-timeline-phone")
    # The full page is too tall to read at a glance: its busiest parts on their own.
    page.locator("#capacities").screenshot(path=ARTIFACTS / "person-page-capacities-phone.png")
    history.screenshot(path=ARTIFACTS / "person-page-history-phone.png")


@pytest.mark.e2e
def test_the_check_in_form_shows_the_last_scores_on_a_phone(page, busy_person, screenshot):
    page.goto(f"{busy_person.get_absolute_url()}check-in/")
    strategic = page.get_by_role("group", name="Strategic skills")
    expect(strategic).to_contain_text("Last check-in: 4 on")
    screenshot(page, "check-in-last-scores")
    page.set_viewport_size(PHONE)
    _assert_fits(page, PHONE["width"])
    screenshot(page, "check-in-last-scores-phone")


@pytest.mark.e2e
def test_the_404_page_is_in_the_layout_with_navigation(
    new_context, lead_a, core_b, browser_log, screenshot
):
    page = new_context(lead_a).new_page()
    response = page.goto(f"/cores/{core_b.slug}/review/")
    assert response.status == 404
    _expect_error_status(browser_log, 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing here")
    expect(page.get_by_role("link", name="Find a person")).to_be_visible()
    screenshot(page, "error-404")
    page.set_viewport_size(PHONE)
    _assert_fits(page, PHONE["width"])
    screenshot(page, "error-404-phone")


def _expect_error_status(browser_log, status):
    """Chromium logs every error document as a console error: drop the one expected."""
    browser_log.settle()
    browser_log.problems = [p for p in browser_log.problems if f"status of {status}" not in p]


@pytest.mark.e2e
def test_the_500_page_is_styled_and_says_nothing(page, settings, browser_log, screenshot):
    settings.ROOT_URLCONF = "tests.test_error_pages"  # the site's routes and a failing one
    response = page.goto("/boom/")
    assert response.status == 500
    _expect_error_status(browser_log, 500)
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong on our side")
    expect(page.locator("body")).not_to_contain_text("RuntimeError")
    screenshot(page, "error-500")
    page.set_viewport_size(PHONE)
    _assert_fits(page, PHONE["width"])
    screenshot(page, "error-500-phone")


@pytest.mark.e2e
def test_a_form_whose_security_token_is_gone_gets_the_styled_page(page, browser_log, screenshot):
    page.goto("/")
    page.context.clear_cookies(name="csrftoken")
    page.get_by_role("button", name="Español").click()
    _expect_error_status(browser_log, 403)
    expect(page.get_by_role("heading", level=1)).to_have_text("This form could not be sent")
    screenshot(page, "error-403-csrf")
    page.set_viewport_size(PHONE)
    _assert_fits(page, PHONE["width"])
    screenshot(page, "error-403-csrf-phone")
