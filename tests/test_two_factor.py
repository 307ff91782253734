"""Two-factor sign-in: leads, staff and superusers give a TOTP code after the password."""

from urllib.parse import urlsplit

from django.test import RequestFactory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import enrolment
from tests.accounts.helpers import code_for, code_for_secret, path_of, sign_in
from tests.auth import log_in


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


def test_lead_without_a_device_sets_one_up_with_an_enrolment_link_then_gets_in(
    client, lead_a, admin_user
):
    response = sign_in(client, lead_a)
    assert path_of(response) == "/account/two-factor/"
    assert path_of(client.get("/people/")) == "/account/two-factor/"
    assert "Ask an admin for an enrolment link" in client.get(response["Location"]).text
    lead_a.refresh_from_db()  # as the admin page loads it: signed in just now
    link = enrolment.make_link(RequestFactory().get("/"), lead_a)

    client.post(urlsplit(link).path)
    page = client.get(response["Location"])

    assert '<svg width="' in page.text
    assert 'class="qr-code"' in page.text
    secret = page.context["secret"]
    assert secret in page.text
    assert not TOTPDevice.objects.filter(user=lead_a).exists()  # the GET saved nothing
    answer = client.post(
        response["Location"],
        {"code": code_for_secret(secret), "secret": page.context["form"]["secret"].value()},
    )
    assert "shown only this once" in answer.text
    assert 'href="/people/"' in answer.text
    device = TOTPDevice.objects.get(user=lead_a)
    assert device.confirmed
    assert secret.replace(" ", "") in device.config_url
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


def test_removing_the_device_with_a_fresh_code_lets_the_user_set_up_a_new_one(client, lead_a):
    log_in(client, lead_a)
    device = TOTPDevice.objects.get(user=lead_a)
    page = client.get("/account/two-factor/")
    assert "Remove this device" in page.text

    response = client.post("/account/two-factor/remove/", {"code": code_for(device)})

    assert path_of(response) == "/account/two-factor/"
    assert not TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()
    assert path_of(client.get("/people/")) == "/account/two-factor/"
    assert "QR code" in client.get("/account/two-factor/").text  # no link needed now


def test_removing_the_device_needs_a_code_typed_in_the_form(client, lead_a):
    log_in(client, lead_a)

    response = client.post("/account/two-factor/remove/", {"code": ""})

    assert response.status_code == 400
    assert "6-digit code</a>: This field is required" in response.text
    assert TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()


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
