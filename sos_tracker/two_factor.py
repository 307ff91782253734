"""TOTP devices through django-otp: find, enrol, confirm, remove; the QR code drawn here.

A session proves the second factor once `django_otp.login(request, device)` has run; the
OTPMiddleware then sets `request.user.otp_device` on every request.
"""

from base64 import b32encode

import segno
from django.db import transaction
from django.utils.safestring import mark_safe
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

# Set at the password step for a user who has a device but need not have one (an
# organizer who enrolled): their code is asked for as firmly as a lead's.
CODE_PENDING_SESSION_KEY = "two_factor_code_pending"
DEVICE_NAME = "Authenticator app"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def code_pending(request) -> bool:
    return bool(request.session.get(CODE_PENDING_SESSION_KEY))


def mark_code_pending(request) -> None:
    request.session[CODE_PENDING_SESSION_KEY] = True


@transaction.atomic
def unconfirmed_device(user) -> TOTPDevice:
    """The device being set up: the same secret on every visit until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def check_code(device: TOTPDevice, user, token: str) -> bool:
    """Whether `token` is the device's current code; django-otp throttles repeated misses."""
    return verify_token(user, device.persistent_id, token) is not None


@transaction.atomic
def confirm_device(device: TOTPDevice) -> TOTPDevice:
    """The first right code makes the device the user's; leftovers of earlier tries go."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user_id, confirmed=False).delete()
    return device


def remove_devices(user) -> None:
    """Forget the user's authenticator (a lost phone, re-enrolment)."""
    TOTPDevice.objects.filter(user=user).delete()


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as inline SVG markup, made here: the secret never leaves."""
    code = segno.make(device.config_url, micro=False)
    svg = code.svg_inline(
        scale=5, border=2, svgclass="qr-code", title="QR code for your authenticator app"
    )
    # segno writes the markup itself; the otpauth address inside it is URL-quoted.
    return mark_safe(svg)
