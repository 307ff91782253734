"""Recovery codes (django-otp static tokens): ten at enrolment, shown once, each usable
once at the code step; new ones only after a fresh code."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import recovery
from tests.accounts.helpers import code_for, code_for_secret, path_of, sign_in
from tests.auth import log_in


def enrolled(client, user):
    """Enrol `user` (an organizer: no link needed) through the pages; the codes shown."""
    sign_in(client, user)
    page = client.get("/account/two-factor/")
    done = client.post(
        "/account/two-factor/",
        {
            "code": code_for_secret(page.context["secret"]),
            "secret": page.context["form"]["secret"].value(),
        },
    )
    return done.context["codes"], done


def test_enrolment_shows_ten_codes_once(client, organizer):
    codes, done = enrolled(client, organizer)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert code in done.text
    later = client.get("/account/two-factor/")
    assert "10 of 10 left" in later.text
    for code in codes:
        assert code not in later.text


def test_a_recovery_code_signs_in_once(client, organizer):
    codes, _ = enrolled(client, organizer)
    client.post("/logout/")

    sign_in(client, organizer)
    used = client.post("/login/code/", {"code": codes[0], "next": "/people/"})
    assert used["Location"] == "/people/"
    page = client.get("/people/")
    assert page.status_code == 200
    assert "You signed in with a recovery code; 9 left" in page.text
    client.post("/logout/")

    sign_in(client, organizer)
    again = client.post("/login/code/", {"code": codes[0], "next": "/people/"})

    assert again.status_code == 200
    assert "That recovery code is wrong or has been used already" in again.text
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert recovery.remaining(organizer) == 9


def test_a_recovery_code_may_be_typed_in_capitals_and_groups(client, organizer):
    codes, _ = enrolled(client, organizer)
    client.post("/logout/")
    sign_in(client, organizer)

    response = client.post("/login/code/", {"code": codes[3].upper().replace("-", " - ")})

    assert response.status_code == 302
    assert recovery.remaining(organizer) == 9


def test_the_two_factor_page_says_how_many_remain(client, lead_a):
    log_in(client, lead_a)
    recovery.make_codes(lead_a)
    StaticToken.objects.filter(device__user=lead_a).first().delete()

    page = client.get("/account/two-factor/")

    assert "9 of 10 left" in page.text


def test_new_codes_need_a_fresh_code_and_replace_the_old(client, lead_a):
    log_in(client, lead_a)
    device = TOTPDevice.objects.get(user=lead_a)
    old = set(StaticToken.objects.filter(device__user=lead_a).values_list("token", flat=True))
    old = old or {c.replace("-", "") for c in recovery.make_codes(lead_a)}

    refused = client.post("/account/two-factor/recovery-codes/", {"code": ""})
    assert refused.status_code == 400
    assert set(StaticToken.objects.values_list("token", flat=True)) == old

    made = client.post("/account/two-factor/recovery-codes/", {"code": code_for(device)})

    assert made.status_code == 200
    new = {c.replace("-", "") for c in made.context["codes"]}
    assert len(new) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == new
    assert not (new & old)


def test_an_unverified_session_cannot_make_new_codes(client, organizer):
    enrolled(client, organizer)
    client.post("/logout/")
    sign_in(client, organizer)
    before = set(StaticToken.objects.values_list("token", flat=True))

    response = client.post("/account/two-factor/recovery-codes/", {"code": "000000"})

    assert path_of(response) == "/login/code/"
    assert set(StaticToken.objects.values_list("token", flat=True)) == before


def test_the_admin_never_shows_the_codes(client, admin_user, organizer):
    codes = recovery.make_codes(organizer)
    device = StaticDevice.objects.get(user=organizer)
    log_in(client, admin_user)

    page = client.get(f"/admin/otp_static/staticdevice/{device.pk}/change/")

    assert page.status_code == 200
    for code in codes:
        assert code.replace("-", "") not in page.text
