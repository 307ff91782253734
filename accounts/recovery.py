"""Recovery codes: django-otp static tokens, each good for one sign-in without the phone.

Ten are made when an authenticator is set up, and again on request (after a fresh code);
the new set replaces the old. They are shown once, on the page that made them; afterwards
only how many remain is shown. A code is typed at the code step in place of the app's.
"""

import re

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

COUNT = 10
DEVICE_NAME = "Recovery codes"
# StaticToken.random_token(): 8 characters of lowercase base32 (a-z, 2-7).
_TOKEN = re.compile(r"[a-z2-7]{8}")


def device_of(user) -> StaticDevice | None:
    """The user's set of recovery codes, or None if they have none."""
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def remaining(user) -> int:
    """How many of the user's recovery codes are still unused (0 without a set)."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise(text: str) -> str:
    """A code as typed ("ABCD-EFGH", "abcd efgh") in the stored form ("abcdefgh")."""
    return re.sub(r"[\s-]", "", text).lower()


def looks_like_code(text: str) -> bool:
    """Whether normalised `text` has the shape of a recovery code (not a 6-digit code)."""
    return _TOKEN.fullmatch(text) is not None


def shown(code: str) -> str:
    """A code as shown to the user: two groups of four, easier to copy by hand."""
    return f"{code[:4]}-{code[4:]}"


@transaction.atomic
def make_codes(user) -> list[str]:
    """Replace the user's recovery codes with COUNT new ones and return them, shown form.

    The caller shows them once; they are not kept anywhere the user can read them again.
    """
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    codes = []
    while len(codes) < COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [shown(code) for code in codes]
