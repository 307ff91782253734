"""Setting up a second factor: a lead or admin needs an admin's enrolment link (or the old
factor's code), not only the password; no GET writes a device."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import enrolment, two_factor
from tests.accounts.helpers import code_for_secret, path_of, sign_in
from tests.auth import log_in

ASK = "Ask an admin for an enrolment link"


def link_for(user):
    user.refresh_from_db()  # as the admin page loads it
    return urlsplit(enrolment.make_link(RequestFactory().get("/"), user)).path


def set_up(client, page):
    """Post the right first code for the QR code `page` shows."""
    return client.post(
        "/account/two-factor/",
        {
            "code": code_for_secret(page.context["secret"]),
            "secret": page.context["form"]["secret"].value(),
        },
    )


def test_a_lead_with_the_password_alone_can_only_ask_for_a_link(client, lead_a, core_a):
    sign_in(client, lead_a)
    secret = two_factor.new_secret()
    device = two_factor.draft_device(lead_a, secret)
    forged = {
        "code": code_for_secret(two_factor.secret_text(device)),
        "secret": two_factor.sign_secret(lead_a, secret),
    }

    page = client.get("/account/two-factor/")
    posted = client.post("/account/two-factor/", forged)

    assert ASK in page.text
    assert "qr-code" not in page.text
    assert ASK in posted.text
    assert not TOTPDevice.objects.filter(user=lead_a).exists()
    for path in ("/", "/people/", f"/cores/{core_a.slug}/", "/admin/"):
        assert path_of(client.get(path)) == "/account/two-factor/", path


def test_an_admin_issues_a_link_on_the_users_admin_page_and_it_is_emailed(
    client, admin_user, lead_a
):
    lead_a.email = "alice@example.org"
    lead_a.save(update_fields=["email"])
    log_in(client, admin_user)

    change_page = client.get(f"/admin/auth/user/{lead_a.pk}/change/")
    page = client.get(f"/admin/auth/user/{lead_a.pk}/enrolment-link/")
    made = client.post(f"/admin/auth/user/{lead_a.pk}/enrolment-link/")

    assert f"/admin/auth/user/{lead_a.pk}/enrolment-link/" in change_page.text
    assert "Make an enrolment link" in page.text
    assert "/account/enrol/" not in page.text  # a GET makes no link
    link = made.context["link"]
    assert link in made.text
    assert "/account/enrol/" in link
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]
    assert link in mail.outbox[0].body


def test_the_link_opened_signed_out_survives_sign_in_and_works_once(client, lead_a):
    link = link_for(lead_a)

    landing = client.get(link)
    assert "Set up two-factor sign-in" in landing.text
    onward = client.post(link)
    assert path_of(onward) == "/login/"
    signed_in = sign_in(client, lead_a, next_url="/account/two-factor/")
    assert path_of(signed_in) == "/account/two-factor/"
    page = client.get("/account/two-factor/")
    assert "qr-code" in page.text
    done = set_up(client, page)

    assert "shown only this once" in done.text
    assert TOTPDevice.objects.filter(user=lead_a, confirmed=True).count() == 1
    client.post("/logout/")
    assert client.get(link).status_code == 404  # used: it works once


def test_the_link_opened_when_signed_in_grants_the_set_up(client, lead_a):
    sign_in(client, lead_a)
    link = link_for(lead_a)

    assert path_of(client.post(link)) == "/account/two-factor/"
    page = client.get("/account/two-factor/")

    assert "qr-code" in page.text
    assert "shown only this once" in set_up(client, page).text
    assert TOTPDevice.objects.filter(user=lead_a, confirmed=True).exists()


def test_a_link_for_someone_else_gives_nothing(client, lead_a, lead_b):
    sign_in(client, lead_b)

    response = client.post(link_for(lead_a))

    assert response.status_code == 404
    assert ASK in client.get("/account/two-factor/").text


def test_an_expired_or_altered_link_gives_nothing(client, lead_a, settings):
    link = link_for(lead_a)
    sign_in(client, lead_a)

    altered = client.post(link[:-3] + ("aaa" if not link.endswith("aaa/") else "bbb") + "/")
    settings.ENROLMENT_LINK_HOURS = 0
    expired = client.post(link)

    assert altered.status_code == 404
    assert expired.status_code == 404
    assert ASK in client.get("/account/two-factor/").text


def test_a_new_link_stops_working_once_the_lead_has_a_device(client, lead_a):
    link = link_for(lead_a)
    TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)

    assert client.get(link).status_code == 404


def test_an_organizer_may_enrol_with_the_password_alone(client, organizer):
    sign_in(client, organizer)

    page = client.get("/account/two-factor/")
    done = set_up(client, page)

    assert "shown only this once" in done.text
    assert TOTPDevice.objects.filter(user=organizer, confirmed=True).exists()


def test_opening_the_set_up_page_writes_no_device(client, organizer, lead_a):
    sign_in(client, organizer)
    client.get("/account/two-factor/")
    client.get("/account/two-factor/")
    client.post("/logout/")
    sign_in(client, lead_a)
    client.post(link_for(lead_a))
    client.get("/account/two-factor/")

    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()
    assert not StaticToken.objects.exists()


def test_a_wrong_first_code_keeps_the_same_qr_code_and_saves_nothing(client, organizer):
    sign_in(client, organizer)
    page = client.get("/account/two-factor/")
    right = code_for_secret(page.context["secret"])
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    again = client.post(
        "/account/two-factor/",
        {"code": wrong, "secret": page.context["form"]["secret"].value()},
    )

    assert again.status_code == 200
    assert "6-digit code</a>: That code is wrong or has expired" in again.text
    assert again.context["secret"] == page.context["secret"]
    assert not TOTPDevice.objects.exists()


def test_a_secret_signed_for_someone_else_is_refused(client, organizer, lead_b):
    sign_in(client, organizer)
    secret = two_factor.new_secret()
    text = two_factor.secret_text(two_factor.draft_device(lead_b, secret))

    response = client.post(
        "/account/two-factor/",
        {"code": code_for_secret(text), "secret": two_factor.sign_secret(lead_b, secret)},
    )

    assert "This set-up page has expired" in response.text
    assert not TOTPDevice.objects.exists()


def test_a_link_made_before_the_lead_signs_in_still_works_after(client, lead_a):
    link = link_for(lead_a)  # the admin sends it; the lead signs in first, as usual

    sign_in(client, lead_a)

    assert path_of(client.post(link)) == "/account/two-factor/"
    assert "qr-code" in client.get("/account/two-factor/").text


def test_a_used_link_stays_dead_after_an_admin_deletes_the_lost_phone(client, lead_a):
    link = link_for(lead_a)
    sign_in(client, lead_a)
    client.post(link)
    set_up(client, client.get("/account/two-factor/"))

    TOTPDevice.objects.filter(user=lead_a).delete()  # "TOTP devices" in the admin

    assert client.post(link).status_code == 404


def test_the_first_superuser_gets_a_link_from_the_command_line(client, admin_user):
    out = StringIO()
    call_command(
        "enrolment_link", admin_user.username, "--base-url=https://sos.example.org/", stdout=out
    )
    link = out.getvalue().strip()
    sign_in(client, admin_user)

    assert link.startswith("https://sos.example.org/account/enrol/")
    assert path_of(client.post(urlsplit(link).path)) == "/account/two-factor/"
    assert "qr-code" in client.get("/account/two-factor/").text


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        call_command("enrolment_link", "nobody")
