"""Sessions that end: an idle timeout, an absolute limit, and no copies left in caches.

Hand-written rather than a library: django-auto-logout (last release 2022) measures the
absolute limit from user.last_login, which any sign-in on another device moves forward,
and django-session-security (last release 2021) keeps a session alive through a script
pinging the server from any open tab; neither states support for Django 5 or 6. What we
need is two timestamps in the session and one comparison each.

SessionTimeoutMiddleware goes after MessageMiddleware (it leaves a message) and before
the OTP and two-factor middleware; LoginRequiredMiddleware then sends the signed-out
request to sign in (sos_tracker.kept_forms' version, which first keeps the values of a
form the request was sending, for the user this log out signed out). NoStoreMiddleware
goes after AuthenticationMiddleware.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import ngettext

# Epoch seconds (ints: the session is JSON) of the sign-in and of the last request seen.
SIGNED_IN_AT = "_signed_in_at"
LAST_SEEN_AT = "_last_seen_at"
# The last-seen time is rewritten at most this often, so a click is not a session write:
# the idle timeout is then exact to within this many seconds.
LAST_SEEN_RESOLUTION = 60


def _now() -> int:
    return int(timezone.now().timestamp())


@receiver(user_logged_in, dispatch_uid="accounts.session_started")
def mark_session_start(sender, request, user, **kwargs):
    """Both clocks start at sign-in (every path: the login pages, the admin's, tests)."""
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


def expiry_message(request) -> str | None:
    """Why this signed-in request's session has ended, or None while it is still good.

    Idle: more than SESSION_IDLE_TIMEOUT_MINUTES since the last request. Absolute: more
    than SESSION_ABSOLUTE_HOURS since sign-in, however active.
    """
    now = _now()
    idle_minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
    last_seen = request.session.get(LAST_SEEN_AT)
    if last_seen is not None and now - last_seen > idle_minutes * 60:
        return ngettext(
            "You were signed out after %(minutes)d minute without activity.",
            "You were signed out after %(minutes)d minutes without activity.",
            idle_minutes,
        ) % {"minutes": idle_minutes}
    signed_in = request.session.get(SIGNED_IN_AT)
    hours = settings.SESSION_ABSOLUTE_HOURS
    if signed_in is not None and now - signed_in > hours * 3600:
        return ngettext(
            "You were signed out %(hours)d hour after signing in. Please sign in again.",
            "You were signed out %(hours)d hours after signing in. Please sign in again.",
            hours,
        ) % {"hours": hours}
    return None


class SessionTimeoutMiddleware:
    """Sign out a session left idle too long, or older than the absolute limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            message = expiry_message(request)
            if message:
                logout(request)
                messages.info(request, message)
            else:
                self._touch(request.session)
        return self.get_response(request)

    @staticmethod
    def _touch(session) -> None:
        now = _now()
        # A session from before this middleware has no start: it starts now.
        session.setdefault(SIGNED_IN_AT, now)
        if now - session.get(LAST_SEEN_AT, 0) >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_AT] = now


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response Django itself makes.

    Every page but the login and error pages shows personal data, so no browser cache,
    back button or shared proxy should keep any of them; static files (served earlier by
    whitenoise) are the only responses that may be cached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
