"""Signing in with a second factor in a real browser: an enrolment link, the QR page,
recovery codes shown once, then the code asked for at the next sign-in."""

from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect

from accounts import enrolment
from tests.accounts.helpers import PASSWORD, code_for_secret


def fill_password(page, user):
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.e2e
def test_a_lead_enrols_with_a_link_and_is_then_asked_for_the_code(new_context, lead_a):
    # Made before the lead first signs in: signing in does not spend it.
    link = urlsplit(enrolment.make_link(RequestFactory().get("/"), lead_a)).path
    page = new_context().new_page()

    page.goto("/people/")
    fill_password(page, lead_a)
    expect(page.get_by_role("heading", name="Ask an admin for an enrolment link")).to_be_visible()

    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("svg.qr-code")).to_be_visible()
    secret = page.locator(".secret code").inner_text()
    page.get_by_label("6-digit code").fill(code_for_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page.get_by_text("10 of 10 left")).to_be_visible()

    page.get_by_role("button", name="Log out").first.click()
    page.goto("/people/")
    fill_password(page, lead_a)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("6-digit code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url("/people/")
    expect(page.get_by_text("You signed in with a recovery code; 9 left")).to_be_visible()
