"""The 400, 403, 404, CSRF-failure and 500 pages: in the site's layout, saying what to do
next, and revealing nothing (no data, no hint whether a record exists, no stack)."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import path, reverse

from sos_tracker import errors
from sos_tracker import urls as site_urls
from tests.auth import log_in
from tests.factories import AlignmentFactory, MemberFactory

SECRET = "Rosa Vega's private review"


def boom(request):
    raise RuntimeError(f"{SECRET}: a stack that must never reach the page")


# This module doubles as a URLconf (settings.ROOT_URLCONF below): the site's own routes, a
# view that fails, and the site's handler500.
urlpatterns = [*site_urls.urlpatterns, path("boom/", boom)]
handler500 = site_urls.handler500


def broken_context_processor(request):
    raise RuntimeError("a context processor that fails")


def _without_tokens(body: str) -> str:
    """The page without what differs on every request (CSRF tokens, CSP nonces) and the
    address it was asked for (the language switch returns to it)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'name="next" value="[^"]+"', "", body)
    return re.sub(r'nonce="[^"]+"', "", body)


def _assert_in_layout_with_navigation(body: str) -> None:
    assert '<header class="site-header">' in body
    assert '<nav aria-label="Main">' in body
    assert '<main id="main"' in body


# --- 404 -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_person_is_a_404_in_the_sites_layout(as_user, organizer):
    response = as_user(organizer).get(reverse("members:person_detail", args=[999999]))
    assert response.status_code == 404
    body = response.content.decode()
    _assert_in_layout_with_navigation(body)
    assert "Nothing here" in body
    assert "find the person or the core again from the lists" in body
    assert f'href="{reverse("members:people_list")}"' in body
    assert "No such person" not in body  # the exception's message is for the log


@pytest.mark.django_db
def test_a_lead_outside_their_core_gets_the_same_404_as_for_nothing(
    as_user, lead_a, core_a, core_b
):
    # Alice leads core A. Core B's review item exists but is not hers; core A has no item
    # of that number. Both answers are the same page: nothing says the record exists.
    hidden = AlignmentFactory(tendency=core_b.tendency, member=MemberFactory(name="Rosa Vega"))
    client = as_user(lead_a)
    outside = client.get(reverse("cores:review_item", args=[core_b.slug, hidden.pk]))
    missing = client.get(reverse("cores:review_item", args=[core_a.slug, hidden.pk + 1000]))
    assert outside.status_code == missing.status_code == 404
    body = outside.content.decode()
    _assert_in_layout_with_navigation(body)
    assert "Rosa Vega" not in body
    assert core_b.name not in body
    assert "No such review queue" not in body
    assert _without_tokens(body) == _without_tokens(missing.content.decode())


@pytest.mark.django_db
def test_another_tendencys_review_queue_is_the_same_404_as_no_core(as_user, lead_a, core_b):
    client = as_user(lead_a)
    outside = client.get(reverse("cores:review_queue", args=[core_b.slug]))
    missing = client.get(reverse("cores:review_queue", args=["no-such-core"]))
    assert outside.status_code == missing.status_code == 404
    body = outside.content.decode()
    _assert_in_layout_with_navigation(body)
    assert core_b.name not in body
    assert _without_tokens(body) == _without_tokens(missing.content.decode())


# --- 403 -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refused_page_is_a_403_in_the_layout_that_says_who_to_ask(as_user, organizer):
    response = as_user(organizer).get(reverse("audit:access_log"))
    assert response.status_code == 403
    body = response.content.decode()
    _assert_in_layout_with_navigation(body)
    assert "You cannot open this page" in body
    assert "ask an admin of SOS Tracker" in body
    assert 'class="button" href="/"' in body


@pytest.mark.django_db
def test_a_user_without_a_role_gets_the_403_without_links_they_cannot_use(as_user, stranger):
    body = as_user(stranger).get(reverse("members:people_list")).content.decode()
    assert "You cannot open this page" in body
    assert "Find a person" not in body


# --- 400 -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_that_cannot_be_read_is_a_400_in_the_layout(as_user, organizer, settings):
    settings.MAX_QUERY_PARAM_LENGTH = 50
    response = as_user(organizer).get(reverse("members:people_list"), {"q": "x" * 51})
    assert response.status_code == 400
    body = response.content.decode()
    _assert_in_layout_with_navigation(body)
    assert "This request could not be read" in body
    assert "Nothing was saved" in body


@pytest.mark.django_db
def test_a_suspicious_request_gets_the_styled_400_and_no_detail(client):
    response = client.get("/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    body = response.content.decode()
    assert "This request could not be read" in body
    assert "attacker.example" not in body
    assert "ALLOWED_HOSTS" not in body


# --- CSRF failure ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_gets_the_styled_page(organizer):
    client = log_in(Client(enforce_csrf_checks=True), organizer)
    response = client.post(reverse("members:person_add"), {"name": "Rosa Vega"})
    assert response.status_code == 403
    body = response.content.decode()
    _assert_in_layout_with_navigation(body)
    assert "This form could not be sent" in body
    assert "reload the page" in body
    # Django's reason ("CSRF token missing") is for developers, not the page.
    assert "CSRF" not in body


# --- 500 -------------------------------------------------------------------------------------


@pytest.fixture
def failing_site(settings, client):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_a_server_error_is_the_styled_500_without_the_stack(failing_site, organizer):
    log_in(failing_site, organizer)
    response = failing_site.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert '<header class="site-header">' in body
    assert 'href="/static/css/site.css"' in body
    assert "Something went wrong on our side" in body
    assert "go back, check, and try again" in body
    assert SECRET not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    # Nothing about the user either: the page is rendered without a request.
    assert "Olive" not in body


def test_the_500_page_needs_no_database():
    # No django_db mark: pytest-django refuses every query here, so a page that needed
    # the database (a session, the user, their permissions) would fail this test.
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_the_500_page_renders_when_the_context_processors_fail(failing_site, organizer, settings):
    log_in(failing_site, organizer)
    template_settings = [
        dict(engine, OPTIONS=dict(engine["OPTIONS"])) for engine in settings.TEMPLATES
    ]
    template_settings[0]["OPTIONS"]["context_processors"] = [
        *template_settings[0]["OPTIONS"]["context_processors"],
        f"{__name__}.broken_context_processor",
    ]
    settings.TEMPLATES = template_settings
    for url in ("/boom/", "/"):  # a failing view; a page whose own rendering fails
        response = failing_site.get(url)
        assert response.status_code == 500
        assert "Something went wrong on our side" in response.content.decode()


def test_when_even_the_500_template_fails_a_plain_page_is_sent(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("Missing staticfiles manifest entry for 'css/site.css'")

    monkeypatch.setattr(errors.loader, "render_to_string", broken)
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert 'href="/"' in body
    assert "manifest" not in body
