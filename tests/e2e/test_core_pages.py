"""A core lead's and an organizer's pages in a real browser, with the demo's own logins.

Each test seeds the demo data with the real command (`seed_demo`, as `make demo` does),
signs in through the login form with a username and password that command printed, and
works as a person would: clicks and typing only, from the first page on. Every result is
checked twice, on the page and in the database. TWO_FACTOR_REQUIRED is off, as the demo's
.env turns it off, so the demo leads sign in with their password alone.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from cores.models import (
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Phase,
    PhaseDecision,
    ReviewNote,
    ReviewState,
    Tendency,
)
from members.models import Member

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

# The demo's cores (sos_tracker/management/commands/seed_demo.py): the Democratic Front
# core is engaging the Left with milestones still open, the Dual Power core still cohering.
ENGAGING_CORE = "democratic-front-core"
COHERING_CORE = "dual-power-core"
ENGAGING_LEAD = "lead-democratic-front"
ORGANIZER = "organizer"
# "  username   password   role" under "Log in at … with one of these".
LOGIN_LINE = re.compile(r"^  (\S+) +(\S+) +\S.*$", re.MULTILINE)


@pytest.fixture
def demo(settings):
    """Seed the demo as `make demo` does; return {username: password} as it printed them."""
    settings.TWO_FACTOR_REQUIRED = False
    printed = io.StringIO()
    call_command("seed_demo", "--people", "80", "--seed", "8", "--force", stdout=printed)
    logins = dict(LOGIN_LINE.findall(printed.getvalue()))
    assert {ENGAGING_LEAD, ORGANIZER} <= logins.keys(), printed.getvalue()
    return logins


@pytest.fixture
def sign_in(new_context, demo):
    """Open a browser as `username`, signed in through the login form; returns the page."""

    def open_as(username, viewport=LAPTOP):
        page = new_context().new_page()
        page.set_viewport_size(viewport)
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(demo[username])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="The network at a glance", level=1)).to_be_visible()
        return page

    return open_as


def item_pk(page) -> int:
    """The alignment id of the review item the page shows (…/review/<pk>/)."""
    return int(re.search(r"/review/(\d+)/$", page.url).group(1))


def assert_fits(page, width=PHONE["width"], *, scrolls=None):
    """Nothing on the page is wider than the screen: no sideways scrolling on a phone,
    neither of the page nor of a box inside it (see assert_no_sideways_box; `scrolls` is
    a CSS selector of the part of the page allowed to scroll).

    On failure, names the elements sticking out, to say where to look.
    """
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        culprits = page.evaluate(
            """(width) => [...document.querySelectorAll('body *')]
                .map(el => [el, el.getBoundingClientRect().right])
                .filter(([el, right]) => right > width + 0.5)
                .slice(-8)
                .map(([el, right]) =>
                    `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${right}`)""",
            width,
        )
        pytest.fail(f"{page.url} is {scroll_width}px wide at {width}px: {culprits}")
    assert_no_sideways_box(page, scrolls=scrolls)


# The person page's table of every check-in (date, four scores, assessor, note) scrolls on
# a phone by design (members' pages); the cores' part of that page must not.
CHECK_IN_TABLE = "#capacities"


def assert_no_sideways_box(page, *, scrolls=None):
    """No box on the page scrolls sideways either: a table a few pixels wider than its card
    hides its last column behind a scroll the reader does not expect on these pages.
    Boxes inside `scrolls` (a CSS selector, or None) are let be."""
    boxes = page.evaluate(
        """(scrolls) => [...document.querySelectorAll('body *')]
            .filter(el => el.scrollWidth > el.clientWidth + 1
                && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
                && !(scrolls && el.closest(scrolls)))
            .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}: `
                + `${el.scrollWidth}px in ${el.clientWidth}px`)""",
        scrolls,
    )
    assert not boxes, f"{page.url} scrolls sideways inside {boxes}"


def shoot_both(page, screenshot, name):
    """Full-page screenshots at laptop and phone width; the phone one also must fit."""
    page.set_viewport_size(LAPTOP)
    screenshot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-390")
    assert_fits(page)
    page.set_viewport_size(LAPTOP)


@pytest.mark.e2e
def test_lead_works_three_items_off_the_queue_with_a_note_on_one(sign_in, screenshot):
    core = CoreGroup.objects.get(slug=ENGAGING_CORE)
    lead = core.leads.get()
    waiting = list(Alignment.objects.review_queue(core.tendency).values_list("pk", flat=True))
    assert len(waiting) >= 4, "the demo's queue should have work in it"
    notes_before = ReviewNote.objects.count()

    page = sign_in(ENGAGING_LEAD)
    page.get_by_role("link", name=core.name).first.click()
    expect(page.get_by_role("heading", name=core.name, level=1)).to_be_visible()
    queue_box = page.locator("#queue")
    expect(queue_box.get_by_role("definition").first).to_have_text(str(len(waiting)))
    queue_box.get_by_role("link", name="Work the queue").click()

    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    rows = page.locator("table.review-list tbody tr")
    expect(rows).to_have_count(len(waiting))
    # Oldest waiting first, as the queue orders them.
    listed = [
        int(re.search(r"/review/(\d+)/$", href).group(1))
        for href in rows.locator("th a").evaluate_all("links => links.map(a => a.href)")
    ]
    assert listed == waiting
    shoot_both(page, screenshot, "core-review-queue")
    page.get_by_role("link", name="Start reviewing").click()

    # 1. Confirm the level as stated, with a private note.
    first = Alignment.objects.select_related("member").get(pk=item_pk(page))
    assert first.pk == waiting[0]
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.member.name)
    level = page.get_by_role("group", name="Level")
    expect(level.get_by_label(first.get_level_display(), exact=True)).to_be_checked()
    shoot_both(page, screenshot, "core-review-item")
    note = "Met at the tenants' assembly; ready for the study group. (e2e)"
    page.get_by_label("Private note").fill(note)
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Reviewed {first.member.name}: {first.get_level_display()} with a note."
    )

    # 2. Adjust the level: the lead hears "committed" where "aligned" was written, or so.
    second = Alignment.objects.select_related("member").get(pk=item_pk(page))
    assert second.pk == waiting[1]
    adjusted = next(choice for choice in reversed(AlignmentLevel) if choice.value != second.level)
    page.get_by_role("group", name="Level").get_by_label(str(adjusted.label), exact=True).check()
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Reviewed {second.member.name}: {adjusted.label}."
    )

    # 3. Skip one for now (it stays in the queue), then confirm the next as it is.
    skipped = item_pk(page)
    assert skipped == waiting[2]
    page.get_by_role("button", name="Skip for now").click()
    expect(page.get_by_role("status")).to_contain_text("for now; it stays in the queue.")
    third = Alignment.objects.select_related("member").get(pk=item_pk(page))
    assert third.pk == waiting[3]
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_contain_text(f"Reviewed {third.member.name}:")

    now = timezone.now()
    for alignment, expected in [
        (first, first.level),
        (second, adjusted.value),
        (third, third.level),
    ]:
        alignment.refresh_from_db()
        assert alignment.review_state == ReviewState.REVIEWED
        assert alignment.reviewed_by == lead
        assert (now - alignment.reviewed_at).total_seconds() < 120
        assert alignment.level == expected
    saved = ReviewNote.objects.get(body=note)
    assert (saved.alignment_id, saved.author) == (first.pk, lead)
    assert ReviewNote.objects.count() == notes_before + 1  # the one note, nothing else
    assert Alignment.objects.review_queue(core.tendency).filter(pk=skipped).exists()

    # Back in the queue: three fewer, the skipped one still there and marked.
    page.get_by_role("link", name=re.compile(r"^Queue \(")).click()
    expect(rows).to_have_count(len(waiting) - 3)
    skipped_row = rows.filter(has=page.locator(f"a[href$='/review/{skipped}/']"))
    expect(skipped_row.locator(".badge")).to_contain_text(["skipped"])
    # The note reads on the person's page, for this tendency's lead.
    page.goto(first.member.get_absolute_url())
    expect(page.locator("#alignment .private-notes")).to_contain_text(note)


@pytest.mark.e2e
def test_lead_ticks_a_milestone_and_moves_the_core_on(sign_in, screenshot):
    core = CoreGroup.objects.get(slug=ENGAGING_CORE)
    lead = core.leads.get()
    assert core.phase == Phase.ENGAGING
    open_titles = list(
        core.milestones.filter(phase=core.phase, done_on__isnull=True)
        .order_by("order")
        .values_list("title", flat=True)
    )
    assert len(open_titles) >= 2, "the demo's engaging core should have open milestones"
    ticked, still_open = open_titles[0], open_titles[1:]
    decisions_before = core.phase_decisions.count()

    page = sign_in(ENGAGING_LEAD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cores").click()
    page.get_by_role("link", name=core.name).first.click()
    shoot_both(page, screenshot, "core-page-before")

    # Tick a milestone off: today by default, with a note.
    milestones = page.locator("#milestones")
    milestones.get_by_role("link", name=f"Tick off “{ticked}”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Tick off “{ticked}”")
    today = timezone.localdate()
    expect(page.get_by_label("Done on")).to_have_value(today.isoformat())
    page.get_by_label("Note").fill("Forty invitations out by hand and by text. (e2e)")
    page.get_by_role("button", name="Mark as done").click()

    expect(page.get_by_role("status")).to_contain_text(f"“{ticked}” is done.")
    done_item = milestones.locator("li.milestone", has_text=ticked)
    expect(done_item.locator(".badge")).to_have_text("done")
    expect(done_item).to_contain_text(f"ticked by {lead.get_full_name()}")
    expect(done_item).to_contain_text("Forty invitations out")
    milestone = core.milestones.get(title=ticked)
    assert (milestone.done_on, milestone.done_by) == (today, lead)
    assert milestone.note == "Forty invitations out by hand and by text. (e2e)"

    # Move on: the form names the next phase and lists what is still open.
    launching = str(Phase.LAUNCHING.label)
    page.get_by_role("link", name=f"Move on to {launching}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Move {core.name} on to “{launching}”"
    )
    warning = page.locator(".open-milestones")
    expect(warning.get_by_role("listitem")).to_have_text(still_open)
    reason = "Orientation talks are under way; the founding documents need the new people. (e2e)"
    page.get_by_label("Why the core is moving on").fill(reason)
    confirm = page.get_by_label("Move on anyway, with the milestones above still open")
    expect(confirm).not_to_be_checked()
    page.get_by_role("button", name=f"Move on to {launching}").click()

    # Without the explicit yes: refused, said on the box, the reason kept, nothing saved.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Confirm that the core moves on anyway.")
    for title in still_open:
        expect(alert).to_contain_text(title)
    expect(page.get_by_label("Why the core is moving on")).to_have_value(reason)
    core.refresh_from_db()
    assert core.phase == Phase.ENGAGING
    assert core.phase_decisions.count() == decisions_before
    page.set_viewport_size(PHONE)
    screenshot(page, "core-phase-advance-refused-390")
    assert_fits(page)
    page.set_viewport_size(LAPTOP)

    page.get_by_label("Move on anyway, with the milestones above still open").check()
    page.get_by_role("button", name=f"Move on to {launching}").click()

    expect(page.get_by_role("status")).to_contain_text(f"{core.name} moved on to “{launching}”.")
    expect(page.locator(".phase-step[aria-current=step] .step-name")).to_have_text(launching)
    expect(page.locator("ol.decisions li").last).to_contain_text(reason)
    core.refresh_from_db()
    assert core.phase == Phase.LAUNCHING
    decision = PhaseDecision.objects.filter(core=core).latest("decided_at", "pk")
    assert (decision.from_phase, decision.to_phase) == (Phase.ENGAGING, Phase.LAUNCHING)
    assert (decision.decided_by, decision.reason) == (lead, reason)
    assert core.phase_decisions.count() == decisions_before + 1
    shoot_both(page, screenshot, "core-page-after-moving-on")


@pytest.mark.e2e
def test_lead_moves_an_invitation_on(sign_in, screenshot):
    core = CoreGroup.objects.get(slug=ENGAGING_CORE)
    lead = core.leads.get()
    invited = core.invitations.filter(stage=InvitationStage.INVITED).select_related("member")
    assert invited.exists(), "the demo's funnel should have someone invited"

    page = sign_in(ENGAGING_LEAD)
    page.get_by_role("link", name=core.name).first.click()
    page.get_by_role("link", name="Invitations", exact=True).click()
    expect(page.get_by_role("heading", name="Invitations", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Invitations by stage").get_by_role(
        "link", name=re.compile(r"^Invited \d")
    ).click()
    rows = page.locator("table.invitations tbody tr")
    expect(rows).to_have_count(invited.count())
    rows.first.locator("th a").click()

    invitation = Invitation.objects.select_related("member").get(
        pk=int(re.search(r"/invitations/(\d+)/$", page.url).group(1))
    )
    assert invitation.stage == InvitationStage.INVITED
    invited_on = invitation.invited_on
    expect(page.get_by_role("heading", level=1)).to_contain_text(invitation.member.name)
    # The likely move is preselected: the next stage, on today.
    move = page.locator("#move")
    expect(move.get_by_label("Move to")).to_have_value(InvitationStage.IN_CONVERSATION)
    today = timezone.localdate()
    expect(move.get_by_label("On", exact=True)).to_have_value(today.isoformat())
    move.get_by_role("button", name="Move").click()

    name = invitation.member.preferred_name or invitation.member.name
    expect(page.get_by_role("status")).to_contain_text(
        f"{name} is now “In conversation” for {core.name}."
    )
    current = page.locator("ol.stages li[aria-current=step]")
    expect(current.locator(".step-label")).to_have_text("In conversation")
    expect(current.locator("time")).to_have_attribute("datetime", today.isoformat())
    invitation.refresh_from_db()
    assert invitation.stage == InvitationStage.IN_CONVERSATION
    assert (invitation.conversation_on, invitation.moved_on) == (today, today)
    assert invitation.invited_on == invited_on  # the earlier stage keeps its date
    history = page.locator("ol.timeline")
    expect(history.locator("li").first).to_contain_text(lead.get_full_name())
    shoot_both(page, screenshot, "core-invitation")


@pytest.mark.e2e
def test_organizer_records_a_stated_level(sign_in, screenshot):
    dual_power = Tendency.objects.get(slug="dual-power")
    # Someone who has not stated a level toward Dual Power yet: the first by name.
    person = Member.objects.exclude(alignments__tendency=dual_power).order_by("name", "pk").first()
    queue_before = Alignment.objects.review_queue(dual_power).count()

    page = sign_in(ORGANIZER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_role("searchbox").fill(person.name)
    page.locator("#results").get_by_role("link", name=person.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(person.name)

    alignment_card = page.locator("#alignment")
    form = alignment_card.locator("form", has_text="Record a stated level")
    form.get_by_label("Tendency").select_option(label="Dual Power")
    form.get_by_label("Level they state").select_option(label="Leaning")
    form.get_by_role("button", name="Record").click()

    name = person.preferred_name or person.name
    expect(page.get_by_role("status")).to_contain_text(
        f"Recorded {name} as “Leaning” toward Dual Power; it waits in that tendency's review queue."
    )
    line = alignment_card.locator("li", has_text="Dual Power")
    expect(line.locator(".level")).to_have_text("Leaning")
    expect(line.locator(".badge")).to_have_text("Needs review")
    # An organizer reads no tendency's private notes.
    expect(page.locator(".private-notes")).to_have_count(0)
    alignment = Alignment.objects.get(member=person, tendency=dual_power)
    assert alignment.level == AlignmentLevel.LEANING
    assert alignment.review_state == ReviewState.NEEDS_REVIEW
    assert alignment.stated_on == timezone.localdate()
    assert alignment.history.latest().history_user.username == ORGANIZER
    queue = Alignment.objects.review_queue(dual_power)
    assert queue.filter(pk=alignment.pk).exists()
    assert queue.count() == queue_before + 1
    page.set_viewport_size(PHONE)
    screenshot(page, "person-page-stated-level-390")
    assert_fits(page, scrolls=CHECK_IN_TABLE)


@pytest.mark.e2e
def test_every_page_fits_a_phone(sign_in, screenshot):
    """Each page of the core lead's side, at 390 px: nothing wider than the screen."""
    core = CoreGroup.objects.get(slug=ENGAGING_CORE)
    other = CoreGroup.objects.get(slug=COHERING_CORE)
    queue = Alignment.objects.review_queue(core.tendency)
    item = queue.first()
    invitation = core.invitations.filter(stage=InvitationStage.IN_CONVERSATION).first()
    milestone = core.milestones.filter(phase=core.phase, done_on__isnull=True).first()
    # Two person pages at their widest: levels with notes and check-ins; an invitation.
    person = (
        Member.objects.filter(alignments__review_notes__isnull=False, check_ins__isnull=False)
        .order_by("pk")
        .first()
    )
    invited = invitation.member
    base = core.get_absolute_url()

    page = sign_in(ENGAGING_LEAD)
    shoot_both(page, screenshot, "dashboard")
    page.goto(base)
    shoot_both(page, screenshot, "core-page")
    page.goto(other.get_absolute_url())
    shoot_both(page, screenshot, "core-page-read-only")

    page.set_viewport_size(PHONE)
    pages = {
        "core list": "/cores/",
        "review queue": f"{base}review/",
        "review item": f"{base}review/{item.pk}/",
        "invitations": f"{base}invitations/",
        "stalled invitations": f"{base}invitations/?stalled=1",
        "an invitation": f"{base}invitations/{invitation.pk}/",
        "invite someone": f"{base}invitations/add/?q=a",
        "person page": person.get_absolute_url(),
        "person page with an invitation": invited.get_absolute_url(),
        "invite from the person page": f"/people/{person.pk}/invite/?core={core.slug}",
        "move on": f"{base}phase/next/",
        "go back": f"{base}phase/back/",
        "tick a milestone": f"{base}milestones/{milestone.pk}/done/",
        "stated level": f"/people/{person.pk}/alignment/",
    }
    for name, url in pages.items():
        response = page.goto(url)
        assert response.ok, f"{name}: {url} answered {response.status}"
        assert_fits(page, scrolls=CHECK_IN_TABLE if url.startswith("/people/") else None)
    screenshot(page, "person-stated-level-form-390")
