"""Two-factor sign-in: leads, staff and superusers give a TOTP code after the password."""

from urllib.parse import urlsplit

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth import log_in

PASSWORD = "correct-horse-battery-staple"  # what tests.factories.UserFactory sets


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client, user, next_url="/people/"):
    return client.post(
        f"/login/?next={next_url}", {"username": user.username, "password": PASSWORD}
    )


def path_of(response):
    return urlsplit(response["Location"]).path


def test_lead_with_a_device_is_asked_for_a_code_and_gets_in_with_the_right_one(client, lead_a):
    device = TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)

    response = sign_in(client, lead_a)

    assert path_of(response) == "/login/code/"
    assert path_of(client.get("/people/")) == "/login/code/"
    page = client.get(response["Location"])
    assert "6-digit code" in page.text
    answer = client.post("/login/code/", {"code": code_for(device), "next": "/people/"})
    assert answer["Location"] == "/people/"
    assert client.get("/people/").status_code == 200


def test_wrong_code_is_refused_with_a_message_naming_the_field(client, lead_a):
    device = TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)
    sign_in(client, lead_a)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post("/login/code/", {"code": wrong, "next": "/people/"})

    assert response.status_code == 200
    assert "6-digit code</a>: That code is wrong or has expired" in response.text
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert path_of(client.get("/people/")) == "/login/code/"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp's throttling counts it


def test_lead_without_a_device_sets_one_up_with_a_qr_code_then_gets_in(client, lead_a):
    response = sign_in(client, lead_a)
    assert path_of(response) == "/account/two-factor/"
    assert path_of(client.get("/people/")) == "/account/two-factor/"

    page = client.get(response["Location"])

    device = TOTPDevice.objects.get(user=lead_a, confirmed=False)
    assert '<svg width="' in page.text
    assert 'class="qr-code"' in page.text
    secret = page.context["secret"]
    assert secret.replace(" ", "") in device.config_url
    assert secret in page.text
    answer = client.post(response["Location"], {"code": code_for(device)})
    assert answer["Location"] == "/people/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/people/").status_code == 200


def test_the_setup_page_names_no_outside_host(as_user, organizer):
    page = as_user(organizer).get("/account/two-factor/")

    assert page.status_code == 200
    assert "<svg" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "//" not in page.text.replace("otpauth://", "")


def test_organizer_is_never_asked_for_a_code(client, organizer):
    response = sign_in(client, organizer)

    assert response["Location"] == "/people/"
    assert client.get("/people/").status_code == 200
    assert not TOTPDevice.objects.filter(user=organizer).exists()


def test_organizer_who_enrolled_is_asked_for_the_code(client, organizer):
    TOTPDevice.objects.create(user=organizer, name="Phone", confirmed=True)

    response = sign_in(client, organizer)

    assert path_of(response) == "/login/code/"
    assert path_of(client.get("/people/")) == "/login/code/"


def test_lead_is_not_forced_when_two_factor_is_switched_off(client, lead_a, settings):
    settings.TWO_FACTOR_REQUIRED = False

    response = sign_in(client, lead_a)

    assert response["Location"] == "/people/"
    assert client.get("/people/").status_code == 200


def test_admin_requires_the_second_factor_for_staff(client, staff_lead_a, admin_user):
    for user in (staff_lead_a, admin_user):
        client.force_login(user)
        assert path_of(client.get("/admin/")) == "/account/two-factor/"
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        assert path_of(client.get("/admin/members/member/")) == "/login/code/"
        log_in(client, user)
        assert client.get("/admin/").status_code == 200


def test_superuser_can_reset_a_leads_device_in_the_admin(client, admin_user, lead_a):
    device = TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)
    log_in(client, admin_user)

    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    assert "alice" in listing.text
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=lead_a).exists()


def test_removing_the_device_sends_the_user_back_to_setup(client, lead_a):
    log_in(client, lead_a)
    page = client.get("/account/two-factor/")
    assert "Remove this device" in page.text

    response = client.post("/account/two-factor/remove/")

    assert path_of(response) == "/account/two-factor/"
    assert not TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()
    assert path_of(client.get("/people/")) == "/account/two-factor/"
    assert "QR code" in client.get("/account/two-factor/").text


def test_unverified_session_cannot_remove_the_device(client, lead_a):
    TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)
    sign_in(client, lead_a)

    response = client.post("/account/two-factor/remove/")

    assert path_of(response) == "/login/code/"
    assert path_of(client.get("/account/two-factor/")) == "/login/code/"
    assert TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()


def test_a_used_code_cannot_be_used_again(client, lead_a):
    # Within one 30-second step the code is still current, yet spent.
    device = TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)
    code = code_for(device)
    sign_in(client, lead_a)
    client.post("/login/code/", {"code": code})
    client.post("/logout/")

    sign_in(client, lead_a)
    response = client.post("/login/code/", {"code": code})

    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session
