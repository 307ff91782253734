"""Sessions end: after 30 idle minutes, 12 hours after sign-in, with a new key at sign-in;
and no page is kept in a cache (Cache-Control: no-store, private)."""

from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.session_middleware import LAST_SEEN_AT, SIGNED_IN_AT
from tests.auth import log_in
from tests.factories import MemberFactory

PEOPLE = "/people/"
PASSWORD = "correct-horse-battery-staple"  # what tests.factories.UserFactory sets


def _now() -> int:
    return int(timezone.now().timestamp())


def _set_clocks(client, *, signed_in_ago: int | None = None, last_seen_ago: int | None = None):
    """Move the session's clocks back by so many seconds: time travel without a mock."""
    session = client.session
    if signed_in_ago is not None:
        session[SIGNED_IN_AT] = _now() - signed_in_ago
    if last_seen_ago is not None:
        session[LAST_SEEN_AT] = _now() - last_seen_ago
    session.save()


def _signed_out(client, response) -> bool:
    return (
        response.status_code == 302
        and urlsplit(response["Location"]).path == reverse("login")
        and "_auth_user_id" not in client.session
    )


def test_sign_in_starts_both_clocks(client, organizer):
    log_in(client, organizer)

    session = client.session
    assert abs(session[SIGNED_IN_AT] - _now()) <= 2
    assert abs(session[LAST_SEEN_AT] - _now()) <= 2


def test_31_idle_minutes_sign_the_user_out_with_a_message(client, organizer):
    log_in(client, organizer)
    _set_clocks(client, last_seen_ago=31 * 60)

    response = client.get(PEOPLE)

    assert _signed_out(client, response)
    page = client.get(response["Location"])
    assert "You were signed out after 30 minutes without activity." in page.text


def test_activity_keeps_the_session_alive(client, organizer):
    log_in(client, organizer)
    _set_clocks(client, last_seen_ago=29 * 60)

    assert client.get(PEOPLE).status_code == 200
    # The request counts as activity: 29 more minutes later the session still holds.
    assert abs(client.session[LAST_SEEN_AT] - _now()) <= 2
    _set_clocks(client, last_seen_ago=29 * 60)
    assert client.get(PEOPLE).status_code == 200


def test_the_idle_timeout_is_a_setting(client, organizer, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    log_in(client, organizer)
    _set_clocks(client, last_seen_ago=6 * 60)

    response = client.get(PEOPLE)

    assert _signed_out(client, response)
    assert "after 5 minutes without activity" in client.get(response["Location"]).text


def test_12_hours_after_sign_in_the_session_ends_even_if_active(client, organizer):
    log_in(client, organizer)
    _set_clocks(client, signed_in_ago=12 * 3600 - 60, last_seen_ago=60)
    assert client.get(PEOPLE).status_code == 200

    _set_clocks(client, signed_in_ago=12 * 3600 + 60, last_seen_ago=60)
    response = client.get(PEOPLE)

    assert _signed_out(client, response)
    assert "12 hours after signing in" in client.get(response["Location"]).text


def test_a_session_from_before_the_clocks_gets_them_on_its_next_request(client, organizer):
    log_in(client, organizer)
    session = client.session
    del session[SIGNED_IN_AT], session[LAST_SEEN_AT]
    session.save()

    assert client.get(PEOPLE).status_code == 200

    assert abs(client.session[SIGNED_IN_AT] - _now()) <= 2


def test_signing_in_gives_the_session_a_new_key(client, organizer):
    # A key planted before sign-in (session fixation) must not become the signed-in one.
    session = client.session
    session["planted"] = True
    session.save()
    planted_key = session.session_key

    response = client.post(reverse("login"), {"username": organizer.username, "password": PASSWORD})

    assert response.status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != planted_key
    assert not Session.objects.filter(session_key=planted_key).exists()
    assert client.session["_auth_user_id"] == str(organizer.pk)


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(lambda member: "/", id="home"),
        pytest.param(lambda member: PEOPLE, id="people list"),
        pytest.param(lambda member: f"{PEOPLE}{member.pk}/", id="person page"),
        pytest.param(lambda member: f"{PEOPLE}export/?format=csv", id="export"),
    ],
)
def test_personal_pages_are_never_cached(client, admin_user, page):
    member = MemberFactory(name="Assata Olugbala Shakur")
    log_in(client, admin_user)

    response = client.get(page(member))

    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_the_login_page_is_never_cached(client):
    response = client.get(reverse("login"))

    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
