"""Codes and sign-ins for the accounts tests: real TOTP codes, real login posts."""

from base64 import b32decode
from urllib.parse import urlsplit

from django_otp.oath import totp

PASSWORD = "correct-horse-battery-staple"  # what tests.factories.UserFactory sets


def code_for(device, steps_ahead=0):
    """The device's code now (or `steps_ahead` 30-second steps later: a fresh one)."""
    t0 = device.t0 - steps_ahead * device.step
    return f"{totp(device.bin_key, step=device.step, t0=t0, digits=device.digits):06d}"


def code_for_secret(secret_text):
    """The current code of a secret as the set-up page shows it ("ABCD EFGH ...")."""
    key = b32decode(secret_text.replace(" ", ""))
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def sign_in(client, user, next_url="/people/", login_page="/login/", **extra):
    """Post the user's password to a login page; `extra` goes into the request (REMOTE_ADDR)."""
    return client.post(
        f"{login_page}?next={next_url}",
        {"username": user.username, "password": PASSWORD},
        **extra,
    )


def path_of(response):
    return urlsplit(response["Location"]).path
