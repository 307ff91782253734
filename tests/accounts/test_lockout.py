"""Lockout per account and per address (django-axes), and an admin's unlock."""

import re

from axes.models import AccessAttempt

from tests.accounts.helpers import PASSWORD, path_of, sign_in
from tests.auth import log_in

LOCKED = "Too many failed logins"


def guess(client, username, address):
    return client.post(
        "/login/", {"username": username, "password": "not-the-password"}, REMOTE_ADDR=address
    )


def test_five_failures_from_five_addresses_lock_the_account(client, lead_a):
    for n in range(1, 5):
        assert guess(client, lead_a.username, f"203.0.113.{n}").status_code == 200
    assert LOCKED in guess(client, lead_a.username, "203.0.113.5").text

    response = sign_in(client, lead_a, REMOTE_ADDR="198.51.100.7")

    assert response.status_code in (403, 429)
    assert LOCKED in response.text
    assert "_auth_user_id" not in client.session


def test_five_failures_on_five_accounts_lock_the_address(client, lead_a):
    for name in ("amy", "ben", "cat", "dan", "eve"):
        guess(client, name, "203.0.113.9")

    from_there = sign_in(client, lead_a, REMOTE_ADDR="203.0.113.9")
    from_elsewhere = sign_in(client, lead_a, REMOTE_ADDR="198.51.100.7")

    assert LOCKED in from_there.text
    assert from_elsewhere.status_code == 302  # the account itself was never guessed at


def test_an_insider_signing_in_does_not_wipe_their_guesses_at_a_colleague(
    client, lead_a, organizer
):
    for _ in range(4):
        guess(client, lead_a.username, "203.0.113.5")
    assert sign_in(client, organizer, REMOTE_ADDR="203.0.113.5").status_code == 302
    client.post("/logout/")

    guess(client, lead_a.username, "198.51.100.1")

    assert LOCKED in sign_in(client, lead_a, REMOTE_ADDR="198.51.100.2").text


def test_a_right_password_clears_the_accounts_own_failures(client, organizer):
    for _ in range(4):
        guess(client, organizer.username, "203.0.113.5")

    assert sign_in(client, organizer, REMOTE_ADDR="203.0.113.5").status_code == 302

    assert not AccessAttempt.objects.filter(username=organizer.username).exists()


def test_an_admin_unlocks_the_account_from_its_admin_page(client, lead_a, admin_user):
    for n in range(1, 6):
        guess(client, lead_a.username, f"203.0.113.{n}")
    assert LOCKED in sign_in(client, lead_a, REMOTE_ADDR="198.51.100.7").text
    admin_client = type(client)()
    log_in(admin_client, admin_user)

    change_page = admin_client.get(f"/admin/auth/user/{lead_a.pk}/change/")
    assert f"/admin/auth/user/{lead_a.pk}/unlock/" in change_page.text
    page = admin_client.get(f"/admin/auth/user/{lead_a.pk}/unlock/")
    assert re.search(r"has [56] failed sign-ins", page.text)  # the locked try may count
    assert "locked out" in page.text
    assert AccessAttempt.objects.filter(username=lead_a.username).count() >= 5
    done = admin_client.post(f"/admin/auth/user/{lead_a.pk}/unlock/")

    assert path_of(done) == f"/admin/auth/user/{lead_a.pk}/change/"
    assert not AccessAttempt.objects.filter(username=lead_a.username).exists()
    response = sign_in(client, lead_a, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(lead_a.pk)


def test_an_admin_unlocks_an_address_from_the_access_attempts(client, lead_a, admin_user):
    for name in ("amy", "ben", "cat", "dan", "eve"):
        guess(client, name, "203.0.113.9")
    admin_client = type(client)()
    log_in(admin_client, admin_user)
    chosen = AccessAttempt.objects.filter(username="amy")

    admin_client.post(
        "/admin/axes/accessattempt/",
        {
            "action": "unlock",
            "_selected_action": [str(pk) for pk in chosen.values_list("pk", flat=True)],
        },
    )

    assert not AccessAttempt.objects.filter(ip_address="203.0.113.9").exists()
    assert sign_in(client, lead_a, REMOTE_ADDR="203.0.113.9").status_code == 302


def test_only_those_who_may_change_users_can_unlock(client, staff_lead_a, lead_b):
    log_in(client, staff_lead_a)

    response = client.post(f"/admin/auth/user/{lead_b.pk}/unlock/")

    assert response.status_code in (403, 404)


def test_the_lockout_page_names_both_causes(client, lead_a):
    for n in range(1, 6):
        guess(client, lead_a.username, f"203.0.113.{n}")

    page = client.post("/login/", {"username": lead_a.username, "password": PASSWORD})

    assert "This account, or sign-ins from this address, are locked" in page.text
