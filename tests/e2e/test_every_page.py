"""Every page as every role, at a laptop's width and a phone's: axe-core finds nothing and
nothing is wider than the screen.

The walk is the URLconf's (tests/test_url_access.py walks the same routes for their
statuses), so a page added later is checked without editing this file. Each role gets one
browser context; each page is loaded once and checked at 1280 px, then resized to 390 px
and checked again. The admin's pages of our own models (changelist, add, change with its
inlines) are walked for the superuser. axe-core is vendored (tests/e2e/vendor/) and added
to the test's own browser context only: the app never serves it.

Screenshots of every page at both widths land in artifacts/e2e/every_page/ for a person
to look at. A failure lists every problem found in the role's walk, each with its page,
width, axe rule and the selector of the element at fault.
"""

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import resolve, reverse
from playwright.sync_api import expect

from accounts import enrolment
from accounts.invitations import create_invitation
from accounts.models import InvitedRole
from members.models import ImportRecord, Member
from sos_tracker.figures import recount_all
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
    ReviewNoteFactory,
)
from tests.test_admin_pages import _pages as admin_pages
from tests.test_auth import concrete_path, every_route, one_of_everything  # noqa: F401 (fixture)
from tests.test_url_access import POST_ONLY

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# axe's default rules, those that test WCAG 2.0 and 2.1 at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {1280: 800, 390: 844}
SHOTS = ARTIFACTS / "every_page"
# Addresses that are not a page: files to download, signing out.
NOT_PAGES = {"people_export", "import_rejected_csv", "logout", *POST_ONLY}
# The apps whose admin classes are ours (a library's own admin pages are not walked).
OUR_ADMIN_MODULES = ("members.", "cores.", "accounts.", "audit.")

RUN_AXE = """async (tags) => {
  // resultTypes: details for the violations only, which halves the time of a run.
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""
WIDTH_OF_PAGE = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# axe's heading-order rule is a best practice, outside the WCAG tags: checked here instead.
# The visible headings in order, and each one that skips a level on the way down.
HEADINGS_OUT_OF_ORDER = """() => {
  const seen = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
    .filter((h) => h.checkVisibility() || h.closest(".visually-hidden"));
  const skips = [];
  let before = 0;
  for (const h of seen) {
    const level = Number(h.tagName[1]);
    const text = h.textContent.trim().slice(0, 40);
    if (level > before + 1) skips.push(`h${before || "-"} then h${level} "${text}"`);
    before = level;
  }
  if (seen.length && seen[0].tagName !== "H1") skips.unshift(`starts with ${seen[0].tagName}`);
  return skips;
}"""


@pytest.fixture
def walk_data(one_of_everything, core_a, core_b, lead_a, lead_b):  # noqa: F811 (fixture)
    """Rows that fill every part of the pages: a person with check-ins, alignments with
    both tendencies (waiting for review, with a private note), invitations in both cores."""
    person = one_of_everything
    for when, score in ((dt.date(2024, 3, 1), 2), (dt.date(2025, 1, 15), 4)):
        CapacityCheckInFactory(member=person, checked_on=when, strategic_skills=score)
    AlignmentFactory(member=person, tendency=core_b.tendency)
    waiting = AlignmentFactory(member=MemberFactory(name="Ella Baker"), tendency=core_a.tendency)
    ReviewNoteFactory(alignment=waiting, author=lead_a)
    InvitationFactory(core=core_b, member=MemberFactory(name="Grace Lee Boggs"))
    # Someone to merge with: the person's own record, entered twice.
    MemberFactory(name="Assata O. Shakur", city=person.city, region=person.region)
    recount_all()
    return person


def spreadsheet(tmp_path):
    """A small membership list: three good rows, one for someone here, one rejected."""
    rows = [
        ["Name", "Email", "City", "Shirt size"],
        ["Fannie Lou Hamer", "fannie@import.example", "Ruleville", "M"],
        ["Fred Hampton", "fred@import.example", "Chicago", "L"],
        ["Dolores Huerta", "dolores@import.example", "Stockton", "S"],
        ["", "no-name@import.example", "Nowhere", "XL"],
    ]
    path = tmp_path / "members.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return path


def upload(page, path):
    """Start an import as the page's user; return the import's pk (mapping page reached)."""
    page.goto(reverse("members:import_start"))
    page.get_by_label("Spreadsheet").set_input_files(path)
    page.get_by_role("button", name="Upload and choose columns").click()
    page.wait_for_url(re.compile(r"/people/import/\d+/columns/"))
    return int(re.search(r"/import/(\d+)/", page.url).group(1))


def app_pages(role, user, import_pk):
    """(name, path) of every app page to check for `role`, in URLconf order."""
    members = list(Member.objects.order_by("pk").values_list("pk", flat=True)[:2])
    pages = []
    for route, pattern in every_route():
        if route.startswith("admin/") or route.startswith("static/"):
            continue
        path = concrete_path(route, pattern)
        name = resolve(path).url_name
        if name in NOT_PAGES:
            continue
        if name == "person_merge":
            path = reverse("members:person_merge", args=members)
        elif name in ("import_detail", "import_mapping"):
            path = reverse(f"members:{name}", args=[import_pk])
        pages.append((name, path))
    return pages


def our_admin_pages(user):
    """(name, path) of the admin index and each of our models' changelist, add and change."""
    pages = [("admin_index", reverse("admin:index"))]
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        if not type(model_admin).__module__.startswith(OUR_ADMIN_MODULES):
            continue
        subject = model._default_manager.order_by("pk").first()
        for kind, path in admin_pages(model, subject, user).items():
            pages.append((f"admin_{model._meta.model_name}_{kind}", path))
    return pages


class Walk:
    """One role's walk: checks each page at both widths and keeps what went wrong."""

    def __init__(self, page, role, browser_log):
        self.page = page
        self.browser_log = browser_log
        self.role = role
        self.problems = []
        self.error_pages = set()
        self.checked = 0
        (SHOTS / role).mkdir(parents=True, exist_ok=True)

    def visit(self, name, path, *, known=False):
        """Check the page at `path` at both widths. `known`: a page that answers 200
        (the admin's), loaded without asking first."""
        status = 200 if known else self.ask(path)
        if status is None:
            return
        if status != 200:
            # A refusal is a page too (403, 404); each kind once per role is enough.
            if status in self.error_pages:
                return
            self.error_pages.add(status)
            name = f"error_{status}"
        self.page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})
        response = self.page.goto(path)
        if response.status != status:
            self.problems.append(f"{path}: answered {response.status}, not {status}")
            return
        if status != 200:
            # Chromium logs every refused page as a failed load; here it is what was asked.
            self.browser_log.settle()
            expected = f"the server responded with a status of {status}"
            self.browser_log.problems[:] = [
                problem for problem in self.browser_log.problems if expected not in problem
            ]
        for width, height in WIDTHS.items():
            self.check(name, path, width, height)
        self.checked += 1

    def ask(self, path):
        """The status of a page worth checking at `path`, or None.

        Asked without the browser: an empty answer (a POST-only action's 405, a bare 404),
        a redirect or a download is no page to check, and the browser would log an error
        for it. tests/test_url_access.py checks who gets which answer.
        """
        answer = self.page.request.get(path, max_redirects=0)
        status = answer.status
        html = answer.headers.get("content-type", "").startswith("text/html") and answer.body()
        if status >= 500:
            self.problems.append(f"{path}: answered {status}")
            return None
        if status not in (200, 403, 404) or not html:
            return None
        return status

    def check(self, name, path, width, height):
        page = self.page
        page.set_viewport_size({"width": width, "height": height})
        where = f"{path} ({name}) at {width}px as {self.role}"
        scroll_width, inner_width = page.evaluate(WIDTH_OF_PAGE)
        if scroll_width > inner_width:
            self.problems.append(f"{where}: {scroll_width}px wide, wider than {inner_width}px")
        if width == 1280 and not path.startswith("/admin/"):  # the admin's are Django's
            for skip in page.evaluate(HEADINGS_OUT_OF_ORDER):
                self.problems.append(f"{where}: headings out of order: {skip}")
        for violation in page.evaluate(RUN_AXE, WCAG_TAGS):
            targets = "; ".join(violation["targets"][:5])
            more = len(violation["targets"]) - 5
            self.problems.append(
                f"{where}: {violation['id']} ({violation['impact']}, "
                f"{len(violation['targets'])}x) {violation['help']} -> {targets}"
                + (f" (+{more} more)" if more > 0 else "")
            )
        page.screenshot(path=SHOTS / self.role / f"{name}-{width}.png", full_page=True)

    def assert_clean(self):
        assert not self.problems, (
            f"{len(self.problems)} problems on {self.checked} pages as {self.role}:\n"
            + "\n".join(self.problems)
        )


def open_walk(new_context, browser_log, user, role):
    context = new_context(user)
    # An init script is added by the browser itself, so the CSP (no inline script) lets it in.
    context.add_init_script(script=AXE)
    return Walk(context.new_page(), role, browser_log)


@pytest.mark.parametrize("role", ["organizer", "lead_a", "lead_b", "admin_user"])
def test_every_page_is_accessible_and_fits_a_phone(
    request, new_context, browser_log, walk_data, tmp_path, role
):
    user = request.getfixturevalue(role)
    walk = open_walk(new_context, browser_log, user, role)
    import_pk = upload(walk.page, spreadsheet(tmp_path))

    for name, path in app_pages(role, user, import_pk):
        walk.visit(name, path)
        if name == "import_mapping":
            # The preview (import detail) of this role's own import, before it is applied.
            walk.page.get_by_role("button", name="Preview the import").click()
            walk.page.wait_for_url(re.compile(rf"/people/import/{import_pk}/$"))
            walk.visit("import_preview", walk.page.url)
    if user.is_superuser:
        for name, path in our_admin_pages(user):
            walk.visit(name, path, known=True)

    assert walk.checked >= 20
    assert ImportRecord.objects.filter(pk=import_pk, uploaded_by=user).exists()
    walk.assert_clean()


def test_the_pages_before_signing_in_are_accessible_and_fit_a_phone(
    new_context, browser_log, admin_user, lead_a, core_a
):
    _, token = create_invitation(
        email="new.lead@example.org",
        name="New Lead",
        role=InvitedRole.CORE_LEAD,
        core=core_a,
        by=admin_user,
    )
    walk = open_walk(new_context, browser_log, None, "anonymous")
    walk.visit("login", reverse("login"))
    walk.visit("admin_login", reverse("admin:login"))
    walk.visit("user_invitation_accept", reverse("user_invitation_accept", args=[token]))
    walk.visit("enrol", enrolment.link_path(lead_a))
    assert walk.checked == 4
    walk.assert_clean()


def test_on_a_phone_the_menu_is_a_button_that_works_by_keyboard_without_javascript(
    browser, live_server, organizer
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    try:
        log_in(context, organizer, live_server.url)
        page = context.new_page()
        page.goto(reverse("home"))
        people = page.get_by_role("navigation", name="Main").get_by_role("link", name="People")
        expect(people).to_be_hidden()

        # The skip link comes first and moves the reader to the page's content.
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(page.locator("summary")).to_be_focused()
        page.keyboard.press("Enter")
        expect(people).to_be_visible()
        page.keyboard.press("Tab")
        home = page.get_by_role("link", name="Home", exact=True)
        expect(home).to_be_focused()
        expect(home).to_have_attribute("aria-current", "page")
        page.screenshot(path=SHOTS / "menu-open-390.png")

        # A wider screen shows the links themselves, and no button.
        page.set_viewport_size({"width": 1280, "height": 800})
        page.reload()
        expect(page.locator("summary")).to_be_hidden()
        expect(people).to_be_visible()
    finally:
        context.close()


def test_escape_or_tabbing_out_closes_the_phone_menu(browser, live_server, organizer):
    """With JavaScript (static/js/site-menu.js) the open menu closes on Escape, focus back
    on its button, and when focus leaves it, instead of staying open over the page."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        log_in(context, organizer, live_server.url)
        page = context.new_page()
        page.goto(reverse("home"))
        menu, button = page.locator("details.site-menu"), page.locator("summary")
        button.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("open", "")
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        expect(button).to_be_focused()

        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("open", "")
        page.mouse.click(200, 800)  # below the open menu, on the page
        expect(menu).not_to_have_attribute("open", "")
    finally:
        context.close()


def test_the_skip_link_moves_the_reader_to_the_content(page):
    page.goto(reverse("home"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
