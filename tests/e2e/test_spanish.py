"""The interface in Spanish, in a real browser: switched from the header, nothing left in
English on the organizer's and the core lead's main pages.

The organization's own terms are data and stay as typed (people, cities, sectors, the
tendency, the core, milestone titles, users' names): they are taken out of the page's text
before it is searched for English words.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import UserPreference
from cores.models import AlignmentLevel, Milestone, ReviewState
from members.models import Sector
from sos_tracker.figures import recount_all
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    CoreGroupFactory,
    InvitationFactory,
    MemberFactory,
    TendencyFactory,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

# Words of the interface that an untranslated string would show; none is also Spanish.
ENGLISH = {
    "about",
    "add",
    "added",
    "against",
    "alignment",
    "all",
    "and",
    "are",
    "back",
    "been",
    "by",
    "cancel",
    "capacities",
    "capacity",
    "change",
    "check",
    "city",
    "clear",
    "contact",
    "core",
    "cores",
    "different",
    "done",
    "duplicate",
    "duplicates",
    "edit",
    "email",
    "evidence",
    "every",
    "export",
    "first",
    "for",
    "found",
    "from",
    "growth",
    "has",
    "have",
    "here",
    "history",
    "home",
    "import",
    "invitation",
    "invitations",
    "invite",
    "is",
    "joining",
    "language",
    "latest",
    "lead",
    "leads",
    "level",
    "log",
    "main",
    "member",
    "members",
    "merge",
    "milestone",
    "milestones",
    "name",
    "new",
    "next",
    "none",
    "not",
    "note",
    "notes",
    "now",
    "of",
    "only",
    "open",
    "out",
    "page",
    "people",
    "person",
    "phase",
    "phases",
    "phone",
    "point",
    "possible",
    "previous",
    "queue",
    "record",
    "results",
    "review",
    "save",
    "search",
    "sectors",
    "showing",
    "since",
    "skip",
    "stage",
    "stated",
    "status",
    "step",
    "story",
    "strong",
    "that",
    "the",
    "their",
    "them",
    "they",
    "this",
    "to",
    "waiting",
    "weak",
    "what",
    "when",
    "who",
    "why",
    "with",
    "yet",
    "you",
    "your",
}
WORD = re.compile(r"[^\W\d_]+")


@pytest.fixture
def network(lead_a):
    """A core led by lead_a, its review queue, a person with check-ins and an invitation;
    every name is data a person typed, none an English word."""
    tendency = TendencyFactory(name="Poder Popular", slug="poder-popular")
    core = CoreGroupFactory(name="Núcleo Poder Popular", tendency=tendency, leads=[lead_a])
    lead_a.first_name, lead_a.last_name = "Alicia", "Guzmán"
    lead_a.save(update_fields=["first_name", "last_name"])
    ana = MemberFactory(
        name="Ana Pérez Olmos",
        preferred_name="Anita",
        pronouns="ella",
        email="ana.perez@ejemplo.org",
        phone="+1 915 555 0101",
        city="El Paso",
        region="TX",
        joining_story="Llegué por la lucha de vivienda en mi barrio.",
        note="",
    )
    ana.sectors.set(Sector.objects.filter(active=True)[:2])
    beto = MemberFactory(name="Beto Ramírez", city="Oaxaca", region="OAX", note="")
    for days_ago, score in ((200, 2), (20, 4)):
        CapacityCheckInFactory(
            member=ana,
            checked_on=timezone.localdate() - dt.timedelta(days=days_ago),
            strategic_skills=score,
            political_organizing_skills=score,
            social_emotional_capacities=score,
            organization_building_skills=score,
            note="",
        )
    AlignmentFactory(
        member=ana,
        tendency=tendency,
        level=AlignmentLevel.ALIGNED,
        review_state=ReviewState.NEEDS_REVIEW,
    )
    AlignmentFactory(
        member=beto,
        tendency=tendency,
        level=AlignmentLevel.EXPLORING,
        review_state=ReviewState.NEEDS_REVIEW,
    )
    InvitationFactory(core=core, member=beto, invited_by=lead_a)
    recount_all()
    return {"core": core, "ana": ana, "beto": beto, "tendency": tendency}


def data_strings(network, user) -> list[str]:
    """What people typed: shown as typed in every language, so not searched."""
    core = network["core"]
    strings = [user.get_full_name(), user.get_username(), core.name, network["tendency"].name]
    for person in (network["ana"], network["beto"]):
        strings += [person.name, person.preferred_name, person.email, person.phone]
        strings += [person.city, person.region, person.joining_story, person.pronouns]
    strings += list(Sector.objects.values_list("name", flat=True))
    strings += list(Milestone.objects.filter(core=core).values_list("title", flat=True))
    # Longest first, so a name is removed before a shorter name inside it.
    return sorted((s for s in strings if s), key=len, reverse=True)


def english_left(page, data: list[str]) -> list[str]:
    """English words in the header and the main part of the page, read as a person (or a
    screen reader: visually hidden text and labels included) would read them."""
    text = page.evaluate(
        """() => {
            const parts = [...document.querySelectorAll('header.site-header, main')]
                .map(el => el.innerText);
            for (const el of document.querySelectorAll(
                    'header.site-header [aria-label], main [aria-label], main [title],' +
                    ' main [placeholder], main [data-label], header.site-header [title]')) {
                for (const name of ['aria-label', 'title', 'placeholder', 'data-label']) {
                    if (el.getAttribute(name)) parts.push(el.getAttribute(name));
                }
            }
            return parts.join('\\n');
        }"""
    )
    for value in data:
        text = text.replace(value, " ")
    # Each English word with the words around it, to say where to look.
    return sorted(
        {
            " ".join(text[max(0, m.start() - 30) : m.end() + 30].split())
            for m in WORD.finditer(text)
            if m.group().lower() in ENGLISH
        }
    )


def test_switching_to_spanish_leaves_no_english_on_the_main_pages(
    new_context, lead_a, network, screenshot
):
    page = new_context(lead_a).new_page()
    page.set_viewport_size(LAPTOP)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Español").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile(r"/$"))
    assert UserPreference.objects.get(user=lead_a).language == "es"
    data = data_strings(network, lead_a)
    core = network["core"]
    pages = {
        "home": "/",
        "people-list": reverse("members:people_list"),
        "quick-add": reverse("members:person_add"),
        "person-page": network["ana"].get_absolute_url(),
        "core-page": core.get_absolute_url(),
        "review-queue": reverse("cores:review_queue", args=[core.slug]),
    }
    found = {}
    for name, url in pages.items():
        page.set_viewport_size(LAPTOP)
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        if name == "quick-add":
            # Its error messages too: an empty name is refused, in Spanish.
            page.locator("form.person-form button[type=submit]").click()
            expect(page.locator("#error-summary")).to_be_visible()
        if words := english_left(page, data):
            found[name] = words
        screenshot(page, f"spanish-{name}-1280")
        page.set_viewport_size(PHONE)
        screenshot(page, f"spanish-{name}-390")

    assert not found, f"English left on the Spanish pages: {found}"
    # Back to English from any page, to the same page.
    page.goto(pages["people-list"])
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/people/$"))
