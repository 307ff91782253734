"""Nothing typed is lost, in a real browser: a quick add sent after the session ended in
another tab comes back filled in once the organizer signs in again (sos_tracker.kept_forms)."""

import pytest
from playwright.sync_api import expect

from members.models import Member
from sos_tracker.models import KeptForm
from tests.accounts.helpers import PASSWORD

PHONE = {"width": 390, "height": 844}
NOTICE = "What you typed before your session ended is filled in below; check it and save."
TYPED = {
    "Name": "Dolores Typed-Huerta",
    "Email": "dolores.typed@example.org",
    "City": "Stockton",
}
STORY = "Farmworkers first, then everything else."


def _start_quick_add(page):
    page.goto("/people/add/")
    for label, value in TYPED.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("In their own words").fill(STORY)
    page.get_by_label("Status").select_option(label="Prospect")
    page.get_by_label("Immigrant justice").check()


def _expect_as_typed(page):
    for label, value in TYPED.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("In their own words")).to_have_value(STORY)
    expect(page.get_by_label("Status")).to_have_value("prospect")
    expect(page.get_by_label("Immigrant justice")).to_be_checked()
    expect(page.get_by_label("Labor")).not_to_be_checked()


def _sign_in(page, user):
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.e2e
def test_a_quick_add_sent_after_logging_out_in_another_tab_comes_back(
    new_context, organizer, screenshot
):
    context = new_context(organizer)
    form_tab = context.new_page()
    _start_quick_add(form_tab)

    other_tab = context.new_page()
    other_tab.goto("/people/")
    other_tab.get_by_role("button", name="Log out").first.click()
    expect(other_tab).to_have_url("/login/")

    form_tab.get_by_role("button", name="Add person").click()
    expect(form_tab).to_have_url("/login/?next=/people/add/")
    expect(form_tab.get_by_text("What you typed was kept")).to_be_visible()
    screenshot(form_tab, "nothing-lost-login-1280")
    assert not Member.objects.filter(email=TYPED["Email"]).exists()

    _sign_in(form_tab, organizer)

    expect(form_tab).to_have_url("/people/add/")
    expect(form_tab.get_by_text(NOTICE)).to_be_visible()
    _expect_as_typed(form_tab)
    screenshot(form_tab, "nothing-lost-refilled-1280")
    form_tab.set_viewport_size(PHONE)
    screenshot(form_tab, "nothing-lost-refilled-390")
    assert KeptForm.objects.count() == 0  # spent

    form_tab.get_by_role("button", name="Add person").click()
    expect(form_tab.get_by_role("heading", name=TYPED["Name"])).to_be_visible()
    person = Member.objects.get(email=TYPED["Email"])
    assert (person.city, person.joining_story, person.status) == ("Stockton", STORY, "prospect")
    assert [sector.name for sector in person.sectors.all()] == ["Immigrant justice"]


@pytest.mark.e2e
def test_signed_in_again_in_another_tab_the_form_comes_back_at_once(new_context, organizer):
    # Signing in again in the other tab gives the browser a new CSRF token, so the old
    # form fails the CSRF check: it is kept and shown again, filled in, without a 403.
    context = new_context(organizer)
    form_tab = context.new_page()
    _start_quick_add(form_tab)

    other_tab = context.new_page()
    other_tab.goto("/people/")
    other_tab.get_by_role("button", name="Log out").first.click()
    _sign_in(other_tab, organizer)
    expect(other_tab).to_have_url("/")

    form_tab.get_by_role("button", name="Add person").click()

    expect(form_tab).to_have_url("/people/add/")
    expect(form_tab.get_by_text(NOTICE)).to_be_visible()
    _expect_as_typed(form_tab)
    assert not Member.objects.filter(email=TYPED["Email"]).exists()
