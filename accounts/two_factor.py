"""TOTP devices through django-otp: find, draft, confirm, remove; the QR code drawn here.

A session proves the second factor once `verify_session(request, device)` has run; the
OTPMiddleware then sets `request.user.otp_device` on every request.

Setting up writes nothing until the first right code: the secret being set up travels in a
signed form field (`sign_secret`), and the device row is created by `add_device` on the
POST that carries a right code. A GET of the set-up page leaves the database as it was.
"""

import time
from base64 import b32encode

import segno
from django.core import signing
from django.db import transaction
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

# Set at every sign-in (any login page, the admin's included) for a user who has a
# device: their code is asked for even when nobody is required to have one.
CODE_PENDING_SESSION_KEY = "two_factor_code_pending"
DEVICE_NAME = "Authenticator app"
_SETUP_SALT = "accounts.two_factor.setup"
# Seconds a set-up page's secret stays usable: time to find the phone and scan.
SETUP_MAX_AGE = 30 * 60


def confirmed_device(user) -> TOTPDevice | None:
    """The user's authenticator, or None if they have not set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def code_pending(request) -> bool:
    return bool(request.session.get(CODE_PENDING_SESSION_KEY))


def mark_code_pending(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: whoever signs in and has a device owes its code.

    Connected in AccountsConfig.ready, so every path that calls django.contrib.auth.login
    (our login page, the admin's, a test's force_login) is covered, not only our view.
    """
    if request is not None and hasattr(request, "session") and confirmed_device(user):
        request.session[CODE_PENDING_SESSION_KEY] = True


def verify_session(request, device) -> None:
    """Mark the session as having passed the second factor with `device`.

    The session key is cycled as Django's login() does at the password step: a session
    id seen before the code was given is worth nothing after it.
    """
    otp_login(request, device)
    request.session.pop(CODE_PENDING_SESSION_KEY, None)
    request.session.cycle_key()


def check_code(device, user, token: str) -> bool:
    """Whether `token` is the device's current code; django-otp throttles repeated misses."""
    return verify_token(user, device.persistent_id, token) is not None


def new_secret() -> str:
    """A fresh TOTP secret: 20 random bytes, hex-encoded as TOTPDevice.key stores it."""
    return random_hex(20)


def sign_secret(user, key: str) -> str:
    """The secret being set up, signed for this user, to carry in a hidden form field."""
    return signing.dumps({"user": user.pk, "key": key}, salt=_SETUP_SALT, compress=True)


def unsign_secret(user, signed: str) -> str | None:
    """The secret from `sign_secret`, or None if tampered with, another's or too old."""
    try:
        data = signing.loads(signed, salt=_SETUP_SALT, max_age=SETUP_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user.pk:
        return None
    key = data.get("key")
    return key if isinstance(key, str) else None


def draft_device(user, key: str) -> TOTPDevice:
    """An unsaved device holding `key`, for the QR code and the first code's check."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)


def first_code_step(device: TOTPDevice, token: str) -> int | None:
    """The time step `token` matches on the unsaved `device`, or None if it is wrong."""
    try:
        value = int(token)
    except ValueError:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(value, device.tolerance):
        return None
    return totp.t()


@transaction.atomic
def add_device(device: TOTPDevice, *, step: int) -> TOTPDevice:
    """Save the drafted device as the user's one authenticator, its first code spent.

    Any earlier device of the user's goes (there is one authenticator per account).
    """
    TOTPDevice.objects.filter(user=device.user_id).delete()
    device.confirmed = True
    device.last_t = step  # the code just typed cannot be used again to sign in
    device.save()
    return device


@transaction.atomic
def remove_devices(user) -> None:
    """Forget the user's authenticator and recovery codes (a lost phone, re-enrolment)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as inline SVG markup, made here: the secret never leaves."""
    code = segno.make(device.config_url, micro=False)
    svg = code.svg_inline(
        scale=5,
        border=2,
        svgclass="qr-code",
        title=gettext("QR code for your authenticator app"),
    )
    # segno writes the markup itself; the otpauth address inside it is URL-quoted.
    return mark_safe(svg)
