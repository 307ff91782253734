"""Browser test fixtures: one Debian Chromium per session, a fresh context per visitor.

Every context is watched: a console error, an uncaught exception or a Content-Security-Policy
violation on any page fails the test that caused it (see `pytest_runtest_call`).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from tests.auth import log_in as log_in_client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
# Generous: CI shares two cores with a database server; a passing page answers in ms.
TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, launched once for the whole run. Playwright never downloads one."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}; apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the browser tests)", pytrace=False)
        pytest.skip(message)
    # Playwright's sync API keeps an asyncio event loop running in this thread, so Django
    # takes every ORM call made here (factories, assertions) for a call from async code and
    # raises SynchronousOnlyOperation. The calls really are synchronous; the loop only
    # talks to the browser.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    # With that loop running, Django keeps this thread's connections in a context-local
    # store and would open new ones, which lack what pytest-django prepared (the
    # serialized seed data restored before each test). Keep using the prepared ones.
    prepared = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in prepared.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _seeded_transactional_db(transactional_db, django_db_serialized_rollback):
    """Committed data, and the rows the migrations seed (groups, permissions, sectors).

    The live server answers from its own thread and connection, so what a test creates
    must be committed: transactional_db, which empties every table after the test. That
    would also drop the seeded rows, so serialized_rollback restores them before each test.
    """


class BrowserLog:
    """What went wrong in the browser during one test: JS errors and CSP violations."""

    def __init__(self):
        self.problems = []
        self.contexts = []

    def watch(self, context):
        self.contexts.append(context)
        context.on("console", self._on_console)
        context.on("weberror", self._on_page_error)

    def _on_console(self, message):
        # Chromium reports a CSP violation as a console error ("Refused to load ...
        # because it violates the following Content Security Policy directive ...").
        if message.type == "error":
            kind = "CSP violation" if "Content Security Policy" in message.text else "error"
            where = message.page.url if message.page else "?"
            self.problems.append(f"console {kind} on {where}: {message.text}")

    def _on_page_error(self, web_error):
        where = web_error.page.url if web_error.page else "?"
        self.problems.append(f"uncaught JavaScript error on {where}: {web_error.error}")

    def settle(self):
        """One round trip per open page, so events already sent by the browser arrive."""
        for context in self.contexts:
            for page in context.pages:
                if not page.is_closed():
                    page.evaluate("0")


@pytest.fixture
def browser_log():
    return BrowserLog()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test whose pages logged an error, after the test's own assertions passed."""
    log = item.funcargs.get("browser_log")
    try:
        result = yield
    except BaseException:
        if log and log.problems:
            item.add_report_section("call", "browser", "\n".join(log.problems))
        raise
    if log is not None:
        log.settle()
        if log.problems:
            pytest.fail("The browser reported:\n" + "\n".join(log.problems), pytrace=False)
    return result


@pytest.fixture
def new_context(browser, live_server, browser_log):
    """Open a browser context (one visitor) on the live server, logged in as `user`."""
    contexts = []

    def make(user=None):
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        browser_log.watch(context)
        if user is not None:
            log_in(context, user, live_server.url)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context, organizer):
    """A page logged in as the organizer."""
    return new_context(organizer).new_page()


def log_in(context, user, url):
    """Give the context a session for `user` without the login form (tested on its own).

    Leads, staff and superusers get a session that has passed the second factor.

    The cookie is marked Secure as the settings mark it; Chromium keeps Secure cookies
    for http://localhost, which counts as a secure origin (test_log_in_through_the_form
    checks this with the cookies the server sets itself).
    """
    client = log_in_client(Client(), user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.value,
                "url": url,
                "httpOnly": True,
                "secure": settings.SESSION_COOKIE_SECURE,
                "sameSite": "Lax",
            }
        ]
    )


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under artifacts/e2e/ (git-ignored) for a human to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save
