"""Every sign-in path asks an enrolled user for the code, the admin's login page included,
whether or not two factors are required; the session key changes at each step."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import code_for, path_of, sign_in

LOGIN_PAGES = ["/login/", "/admin/login/"]


@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("login_page", LOGIN_PAGES)
def test_an_enrolled_user_is_asked_for_the_code_on_every_login_page(
    client, admin_user, settings, login_page, required
):
    settings.TWO_FACTOR_REQUIRED = required
    device = TOTPDevice.objects.create(user=admin_user, name="Phone", confirmed=True)

    response = sign_in(client, admin_user, next_url="/admin/", login_page=login_page)
    # Ours sends to the code step at once; the admin's to /admin/, which sends there.
    step = path_of(response)
    if step == "/admin/":
        step = path_of(client.get(response["Location"]))

    assert step == "/login/code/"
    for path in ("/admin/", "/admin/auth/user/", "/people/", "/"):
        assert path_of(client.get(path)) == "/login/code/", path
    answer = client.post("/login/code/", {"code": code_for(device), "next": "/admin/"})
    assert answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("login_page", LOGIN_PAGES)
def test_an_unenrolled_admin_gets_in_when_two_factors_are_not_required(
    client, admin_user, settings, login_page
):
    settings.TWO_FACTOR_REQUIRED = False

    sign_in(client, admin_user, next_url="/admin/", login_page=login_page)

    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("login_page", LOGIN_PAGES)
def test_an_unenrolled_admin_must_set_one_up_when_required(client, admin_user, login_page):
    sign_in(client, admin_user, next_url="/admin/", login_page=login_page)

    assert path_of(client.get("/admin/")) == "/account/two-factor/"


def test_an_enrolled_organizer_is_asked_for_the_code_when_nobody_is_required(
    client, organizer, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    TOTPDevice.objects.create(user=organizer, name="Phone", confirmed=True)

    response = sign_in(client, organizer)

    assert path_of(response) == "/login/code/"
    assert path_of(client.get("/people/")) == "/login/code/"


@pytest.mark.parametrize("login_page", LOGIN_PAGES)
def test_the_session_key_changes_at_sign_in_and_again_at_the_code(client, admin_user, login_page):
    device = TOTPDevice.objects.create(user=admin_user, name="Phone", confirmed=True)
    client.get(login_page)
    session = client.session
    session["seen"] = True  # a session that exists before signing in
    session.save()
    before = client.session.session_key

    sign_in(client, admin_user, next_url="/admin/", login_page=login_page)
    after_password = client.session.session_key
    client.post("/login/code/", {"code": code_for(device), "next": "/admin/"})
    after_code = client.session.session_key

    assert None not in (before, after_password, after_code)
    assert len({before, after_password, after_code}) == 3
    assert client.get("/admin/").status_code == 200
