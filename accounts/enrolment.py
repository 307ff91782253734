"""Enrolment links: who may bind an authenticator to an account that sees the most.

Whoever holds a lead's or an admin's password must not be able to bind their own phone
to that account before its owner does. So for those accounts (`needs_link`) setting up a
second factor needs, besides the password, one of:

- an enrolment link an admin issued (`make_link`, from the user's admin page): a signed
  token, like Django's password-reset tokens, that expires after ENROLMENT_LINK_HOURS and
  dies once used: it hashes the user's devices (authenticator and recovery codes), which
  setting up replaces, and their password;
- a fresh code from the factor they already have (removing it grants the new set-up).

Either gives the session a *grant* (`grant`), which the set-up page requires and spends.
Organizers may enrol with the password alone: the factor is optional for them, so an
intruder holding an organizer's password gains nothing by binding a phone that the
password does not already give (it can only lock the owner out, which an admin undoes).
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from sos_tracker.permissions import holds_wide_access

GRANT_SESSION_KEY = "two_factor_enrolment_grant"
# Seconds a grant won by the old factor's code lasts: time to scan the new QR code.
REPLACE_GRANT_SECONDS = 30 * 60


class EnrolmentTokenGenerator(PasswordResetTokenGenerator):
    """Password-reset-style tokens, salted apart, with their own lifetime and state."""

    key_salt = "accounts.enrolment.EnrolmentTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        # Not the last sign-in (password reset's choice): a lead who signs in before
        # opening the link must still be able to use it. The devices are what enrolling
        # changes (a new authenticator and a new set of recovery codes), so a used link
        # never checks out again; a new password or a deactivated account ends it too.
        totp = TOTPDevice.objects.filter(user=user).order_by("pk").values_list("pk", flat=True)
        static = StaticDevice.objects.filter(user=user).order_by("pk").values_list("pk", flat=True)
        devices = f"{','.join(map(str, totp))};{','.join(map(str, static))}"
        email = getattr(user, user.get_email_field_name(), "") or ""
        return f"{user.pk}|{user.password}|{email}|{user.is_active}|{timestamp}|{devices}"

    def check_token(self, user, token):
        """As Django's, but the lifetime is ENROLMENT_LINK_HOURS, not the reset timeout."""
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self.seconds_left(token) > 0

    def seconds_left(self, token) -> int:
        """Seconds until a well-formed `token` stops working (negative once it has)."""
        issued = base36_to_int(token.split("-")[0])
        age = self._num_seconds(self._now()) - issued
        return settings.ENROLMENT_LINK_HOURS * 3600 - age


tokens = EnrolmentTokenGenerator()


def needs_link(user) -> bool:
    """Whether setting up a factor needs a link or the old factor, not just the password."""
    return holds_wide_access(user)


def link_path(user) -> str:
    """The path of a new enrolment link for `user`, valid ENROLMENT_LINK_HOURS."""
    return reverse(
        "enrol",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": tokens.make_token(user),
        },
    )


def make_link(request, user) -> str:
    """An absolute enrolment link for `user`, valid ENROLMENT_LINK_HOURS, to copy or send."""
    return request.build_absolute_uri(link_path(user))


def user_of_link(uidb64: str, token: str):
    """The user a still-valid link was made for, or None (unknown, expired or used)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except ValueError:
        return None
    user = get_user_model()._default_manager.filter(pk=pk, is_active=True).first()
    if user is None or not tokens.check_token(user, token):
        return None
    return user


def email_link(user, link: str) -> bool:
    """E-mail the link to the user when outgoing mail is set up; whether it was sent."""
    # The SMTP backend without a host is "no e-mail set up"; another backend (the
    # console on a developer's machine, memory in tests) counts as set up.
    smtp = settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    if not user.email or (smtp and not settings.EMAIL_HOST):
        return False
    send_mail(
        subject=gettext("Set up two-factor sign-in for SOS Tracker"),
        message=gettext(
            "Hello %(name)s,\n\n"
            "An admin has asked you to set up two-factor sign-in. Open this link, sign in "
            "with your password and follow the steps (it works once, for %(hours)s "
            "hours):\n\n%(link)s\n"
        )
        % {
            "name": user.get_short_name() or user.get_username(),
            "hours": settings.ENROLMENT_LINK_HOURS,
            "link": link,
        },
        from_email=None,
        recipient_list=[user.email],
    )
    return True


def grant(request, user, *, until: float) -> None:
    """Let this session set up a factor for `user` until the Unix time `until`."""
    request.session[GRANT_SESSION_KEY] = {"user": user.pk, "until": until}


def grant_from_link(request, user, token: str) -> None:
    """The grant an enrolment link gives, lasting as long as the link would have."""
    grant(request, user, until=time.time() + tokens.seconds_left(token))


def grant_from_old_factor(request, user) -> None:
    """The grant a fresh code of the factor being replaced gives."""
    grant(request, user, until=time.time() + REPLACE_GRANT_SECONDS)


def may_enrol(request) -> bool:
    """Whether the signed-in user may set up a factor now (see the module's docstring)."""
    user = request.user
    if not needs_link(user):
        return True
    held = request.session.get(GRANT_SESSION_KEY)
    return (
        isinstance(held, dict)
        and held.get("user") == user.pk
        and isinstance(held.get("until"), int | float)
        and held["until"] > time.time()
    )


def spend_grant(request) -> None:
    """The set-up is done: the grant cannot set up another device."""
    request.session.pop(GRANT_SESSION_KEY, None)
