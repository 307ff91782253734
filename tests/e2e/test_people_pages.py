"""The organizer's people pages in a real browser: search, quick add, edit, check-in."""

import datetime as dt
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from members.models import Member
from tests.factories import CapacityCheckInFactory, MemberFactory, SectorFactory

# Organizers use phones too; the screenshots at this width are for people to look at.
PHONE = {"width": 390, "height": 844}


def live_search_response(query):
    """Matches the fetch live-search.js sends for `query` (not a page load)."""

    def matches(response):
        url = urlsplit(response.url)
        return (
            url.path == "/people/"
            and parse_qs(url.query).get("q") == [query]
            and response.request.headers.get("hx-request") == "true"
        )

    return matches


@pytest.mark.e2e
def test_log_in_through_the_form(new_context, organizer):
    page = new_context().new_page()
    page.goto("/people/")
    expect(page).to_have_url("/login/?next=/people/")
    page.get_by_label("Username").fill("olive")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url("/people/")
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
    expect(page.locator(".site-header .who")).to_have_text("Olive Organizer")
    # The server marks both cookies Secure (DEBUG is off); Chromium keeps them on
    # http://localhost, so no setting needs overriding for the live server.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sessionid"]["secure"]
    assert cookies["csrftoken"]["secure"]


@pytest.mark.e2e
def test_wrong_password_is_refused_on_the_form(new_context, organizer):
    page = new_context().new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("olive")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("olive")


# Names that "jose" and "garcia" must not find (the factory's random names might).
OTHER_PEOPLE = [
    ("Ana Lima", "Detroit"),
    ("Kwame Mensah", "Oakland"),
    ("Nguyễn Thị Lan", "Houston"),
    ("François Dubois", "Chicago"),
    ("Aisha Bello", "Atlanta"),
    ("Tom O'Brien", "Boston"),
    ("Dolores Huerta-Ruiz", "San José"),
]


@pytest.mark.e2e
def test_live_search_finds_accented_names_without_accents(page, screenshot):
    housing, labor = SectorFactory(slug="housing"), SectorFactory(slug="labor")
    MemberFactory(name="José García", city="Oakland", sectors=[housing, labor])
    for name, city in OTHER_PEOPLE:
        MemberFactory(name=name, city=city, sectors=[labor])

    page.goto("/people/")
    results = page.locator("#results")
    expect(results).to_contain_text("Ana Lima")
    screenshot(page, "people-list")
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    screenshot(page, "people-list-phone")
    page.set_viewport_size(desktop)
    # Live search replaces the results in place: a full page load would drop this marker.
    page.evaluate("window.stillTheSamePage = true")

    expect(page.locator("#id_q")).to_be_focused()  # autofocus: type straight away
    with page.expect_response(live_search_response("jose")):
        page.keyboard.type("jose")
    rows = results.locator("tbody tr")
    # The name match ranks first; search covers cities too, so San José is found as well.
    expect(rows.locator("th a")).to_have_text(["José García", "Dolores Huerta-Ruiz"])
    expect(page).to_have_url(re.compile(r"/people/\?q=jose(&|$)"))  # a link to these results
    screenshot(page, "people-list-search")

    page.locator("#id_q").fill("")
    with page.expect_response(live_search_response("GARCIA")):
        page.keyboard.type("GARCIA")
    expect(results.get_by_role("link", name="José García")).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True


@pytest.mark.e2e
def test_a_two_letter_term_waits_for_enter_and_finds_names_starting_with_it(page, screenshot):
    MemberFactory(name="Jo Park", city="Detroit")
    MemberFactory(name="Ana Jovanovic", city="Detroit")  # "jo" inside: not a start
    MemberFactory(name="Lee Ann", city="Johannesburg")  # "jo" in the city only
    page.goto("/people/")
    results = page.locator("#results")
    expect(results.locator("tbody tr")).to_have_count(3)
    page.evaluate("window.stillTheSamePage = true")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "q=" in request.url else None)

    page.locator("#id_q").press_sequentially("jo")
    page.wait_for_timeout(600)  # past live search's 200 ms pause: nothing may be sent
    assert sent == []
    expect(results.locator("tbody tr")).to_have_count(3)
    # The list below is not of "jo": it is dimmed, and the box says how to search for it.
    expect(page.locator("#search-hint")).to_contain_text("Press Enter")
    expect(results).to_have_class(re.compile(r"\bstale\b"))

    with page.expect_response(live_search_response("jo")):
        page.keyboard.press("Enter")
    expect(results.locator("tbody tr th a")).to_have_text(["Jo Park"])
    expect(results).to_contain_text("name or preferred name begins with it")
    expect(page.locator("#search-hint")).to_be_hidden()
    expect(results).not_to_have_class(re.compile(r"\bstale\b"))
    screenshot(page, "people-list-short-term")

    with page.expect_response(live_search_response("jov")):
        page.keyboard.type("v")  # three letters: live again, and inside names
    expect(results.locator("tbody tr th a")).to_have_text(["Ana Jovanovic"])
    expect(results).not_to_contain_text("begins with it")

    # Back below three letters: the results of "jov" stay, dimmed, until Enter.
    page.keyboard.press("Backspace")
    expect(page.locator("#search-hint")).to_contain_text("\u201cjo\u201d")
    expect(results).to_have_class(re.compile(r"\bstale\b"))
    screenshot(page, "people-list-short-term-typing")
    assert page.evaluate("window.stillTheSamePage") is True


@pytest.mark.e2e
def test_quick_add_warns_of_a_duplicate_and_adds_once_confirmed(page, screenshot):
    # No email saved: a different one would say two people (members.duplicates).
    existing = MemberFactory(name="José García", city="Oakland", email="")

    page.goto("/people/add/")
    page.get_by_label("Name", exact=True).fill("Jose Garcia")
    page.get_by_label("Email", exact=True).fill("jgarcia@example.net")
    page.get_by_label("City", exact=True).fill("Oakland")
    page.get_by_role("button", name="Add person").click()

    warning = page.locator("section.duplicates")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Possibly someone already here")
    expect(warning).to_contain_text("same name in the same city")
    expect(warning.get_by_role("link", name="José García")).to_have_attribute(
        "href", existing.get_absolute_url()
    )
    # What was typed is still in the form, and nothing is saved yet.
    expect(page.get_by_label("Name", exact=True)).to_have_value("Jose Garcia")
    assert Member.objects.count() == 1
    screenshot(page, "quick-add-duplicate-warning")

    page.get_by_role("button", name="Add as a new person").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Jose Garcia")
    added = Member.objects.exclude(pk=existing.pk).get()
    expect(page).to_have_url(added.get_absolute_url())
    expect(page.get_by_role("status")).to_contain_text("Added Jose Garcia.")
    history = page.locator("ol.timeline")
    expect(history).to_contain_text(
        f"Confirmed a different person from José García (#{existing.pk})"
    )


class CountingKeyboard:
    """The page's keyboard, counting every key: each typed character and each named key."""

    def __init__(self, keyboard):
        self.keyboard = keyboard
        self.typed = 0
        self.navigation = 0

    def type(self, text):
        self.keyboard.type(text)
        self.typed += len(text)

    def press(self, key, times=1):
        for _ in range(times):
            self.keyboard.press(key)
        self.navigation += times

    @property
    def total(self):
        return self.typed + self.navigation


# Keys other than the typed characters for a keyboard-only quick add: Tabs between fields,
# Space for a sector, an arrow for the joining story, Enter to submit. Measured: 22, of
# which 12 are Tabs through the eleven sector checkboxes. One to spare, so any new tab stop
# in quick add fails here and makes someone decide whether it is worth a key press. The
# region was: the duplicate check needs it to tell Portland, OR from Portland, ME.
NAVIGATION_KEY_BUDGET = 23


@pytest.mark.e2e
def test_quick_add_with_the_keyboard_only(page):
    page.goto("/people/add/")
    keys = CountingKeyboard(page.keyboard)
    started = time.perf_counter()

    def focused(label):
        expect(page.get_by_label(label, exact=True)).to_be_focused()

    focused("Name")  # autofocus
    keys.type("Rosa Quintero")
    keys.press("Tab")
    focused("Email")
    keys.type("rosa.q@example.org")
    keys.press("Tab", times=2)  # past the phone
    focused("City")
    keys.type("Tucson")
    keys.press("Tab")
    focused("Region")
    keys.type("AZ")
    keys.press("Tab")  # status: the default, Member, is right
    focused("Status")
    keys.press("Tab")
    focused("Abolition")
    keys.press("Space")
    expect(page.get_by_label("Abolition", exact=True)).to_be_checked()
    # Each sector checkbox is a tab stop of its own.
    sector_count = page.locator("input[name=sectors]").count()
    keys.press("Tab", times=sector_count)
    # Tab enters the radio group on its checked choice (Other / not yet stated); the
    # arrow moves up to the one before it and selects it.
    focused("Other / not yet stated")
    keys.press("ArrowUp")
    expect(page.get_by_label("Middle generation")).to_be_checked()
    keys.press("Tab")
    focused("In their own words")
    keys.type("I sit between the veterans and the new kids in Tucson.")
    keys.press("Tab")
    expect(page.get_by_role("button", name="Add person")).to_be_focused()
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Rosa Quintero")
    elapsed = time.perf_counter() - started
    person = Member.objects.get(email="rosa.q@example.org")
    assert (person.city, person.region) == ("Tucson", "AZ")
    assert person.joining_story_kind == "middle_generation"
    assert [s.name for s in person.sectors.all()] == ["Abolition"]
    print(
        f"\nkeyboard-only quick add: {keys.total} key presses "
        f"({keys.typed} typed characters + {keys.navigation} navigation keys, "
        f"{sector_count} sector checkboxes), {elapsed:.2f} s"
    )
    assert keys.total <= keys.typed + NAVIGATION_KEY_BUDGET


@pytest.mark.e2e
def test_stale_edit_is_refused_with_both_versions_and_the_input_kept(
    new_context, organizer, lead_a, screenshot
):
    person = MemberFactory(name="Dana Okafor", city="Oakland", preferred_name="")
    first = new_context(organizer).new_page()
    second = new_context(lead_a).new_page()
    first.goto(f"/people/{person.pk}/edit/")
    second.goto(f"/people/{person.pk}/edit/")

    first.get_by_label("City", exact=True).fill("Berkeley")
    first.get_by_role("button", name="Save changes").click()
    expect(first).to_have_url(person.get_absolute_url())
    expect(first.get_by_role("status")).to_contain_text("Saved Dana Okafor.")

    second.get_by_label("Preferred name", exact=True).fill("Dee")
    second.get_by_role("button", name="Save changes").click()
    expect(second).to_have_url(f"/people/{person.pk}/edit/")
    expect(second.get_by_role("alert")).to_contain_text(
        "Someone else saved this person while you were editing."
    )
    comparison = second.locator("table.compare")
    expect(comparison).to_be_visible()
    # They changed the city, which this editor left alone: theirs is filled in, not a
    # conflict, so saving again cannot quietly put Oakland back.
    city_row = comparison.locator("tr", has=second.get_by_role("rowheader", name="City"))
    expect(city_row).not_to_have_class("differs")
    expect(city_row.locator("td")).to_have_text(["Berkeley", "Berkeley", "Theirs, filled in"])
    expect(second.get_by_label("City", exact=True)).to_have_value("Berkeley")
    expect(second.get_by_label("Preferred name", exact=True)).to_have_value("Dee")
    screenshot(second, "edit-stale-version")
    person.refresh_from_db()
    assert (person.city, person.preferred_name) == ("Berkeley", "")

    second.get_by_role("button", name="Save changes").click()
    expect(second).to_have_url(person.get_absolute_url())
    expect(second.get_by_role("status")).to_contain_text("Saved Dana Okafor (Dee).")
    person.refresh_from_db()
    assert (person.city, person.preferred_name) == ("Berkeley", "Dee")


@pytest.mark.e2e
def test_record_a_check_in_and_see_it_in_the_chart_and_table(page, screenshot):
    person = MemberFactory(name="Marisol Vega", city="Oakland")
    today = timezone.localdate()
    for days_ago, score in [(240, 1), (120, 2)]:
        CapacityCheckInFactory(
            member=person,
            checked_on=today - dt.timedelta(days=days_ago),
            strategic_skills=score,
            political_organizing_skills=score,
            social_emotional_capacities=score,
            organization_building_skills=score,
        )

    page.goto(person.get_absolute_url())
    page.get_by_role("link", name="Record a check-in").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacity check-in: Marisol Vega")
    expect(page.get_by_label("Date")).to_have_value(today.isoformat())
    scores = {
        "Strategic skills": "4",
        "Political organizing skills": "2",
        "Social-emotional capacities": "5",
        "Organization-building skills": "3",
    }
    for capacity, score in scores.items():
        page.get_by_role("group", name=capacity).get_by_label(score, exact=True).check()
    page.get_by_label("Note").fill("Led the tenant meeting on her own.")
    page.get_by_role("button", name="Record check-in").click()

    expect(page).to_have_url(f"{person.get_absolute_url()}#capacities")
    expect(page.get_by_role("status")).to_contain_text("Recorded a check-in for Marisol Vega.")
    charts = page.locator("#capacities figure.chart")
    expect(charts).to_have_count(4)
    expect(charts.locator("figcaption .now")).to_have_text(
        ["now 4/5 (+3)", "now 2/5 (+1)", "now 5/5 (+4)", "now 3/5 (+2)"]
    )
    expect(charts.first.locator("svg circle")).to_have_count(3)
    expect(charts.first.locator("svg polyline")).to_have_count(1)
    newest = page.locator("#capacities table tbody tr").first
    expect(newest.locator("td.num")).to_have_text(["4", "2", "5", "3"])
    expect(newest).to_contain_text("Led the tenant meeting on her own.")
    screenshot(page, "person-page")
    page.set_viewport_size(PHONE)
    screenshot(page, "person-page-phone")


@pytest.mark.e2e
def test_quick_add_bad_input_names_the_fields_and_keeps_what_was_typed(page, screenshot):
    page.goto("/people/add/")
    page.get_by_label("Name", exact=True).fill("   ")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("City", exact=True).fill("Detroit")
    page.get_by_role("button", name="Add person").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    screenshot(page, "quick-add-errors")
    expect(summary.get_by_role("link", name="Email")).to_have_attribute("href", "#id_email")
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(summary.get_by_text("spaces alone are not a name")).to_be_visible()
    # What was typed is kept, spaces included, so the person sees what was refused.
    expect(page.get_by_label("Email", exact=True)).to_have_value("not-an-email")
    expect(page.get_by_label("Name", exact=True)).to_have_value("   ")
    expect(page.get_by_label("City", exact=True)).to_have_value("Detroit")
    assert not Member.objects.exists()
    # One problem, one message: the name field says why spaces are refused, once.
    expect(page.locator("#id_name_error li")).to_have_text(
        ["Enter a name; spaces alone are not a name."]
    )
    expect(summary.get_by_role("link", name="Name")).to_have_count(1)


@pytest.mark.e2e
def test_browser_log_catches_csp_violations(page, browser_log):
    """The watcher behind every test works: an inline style is refused and reported."""
    page.goto("/people/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    browser_log.settle()
    assert any("CSP violation" in problem for problem in browser_log.problems)
    browser_log.problems.clear()
