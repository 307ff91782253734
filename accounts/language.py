"""The interface's language: chosen per user, the browser's until they choose.

Who decides, first to last: the signed-in user's own choice (stored in UserPreference,
carried in their session from sign-in on, so a page costs no query for it); the language
cookie (a choice made on this browser, e.g. on the login page); the browser's
Accept-Language; settings.LANGUAGE_CODE (English). Django's LocaleMiddleware does the last
three; UserLanguageMiddleware adds the first.
"""

from django.conf import settings
from django.db import transaction
from django.utils import translation

from accounts.models import UserPreference

# The signed-in user's choice, copied into their session at sign-in and on each change.
SESSION_KEY = "language"


def is_supported(code: str | None) -> bool:
    """Whether `code` is one of settings.LANGUAGES (exactly: "es", not "es-mx")."""
    return code in dict(settings.LANGUAGES)


@transaction.atomic
def choose_language(user, language: str) -> UserPreference:
    """Store `language` as `user`'s choice; the one writer of UserPreference.language."""
    if not is_supported(language):
        raise ValueError(f"{language!r} is not one of settings.LANGUAGES")
    preference, _ = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference


def stored_language(user) -> str:
    """`user`'s stored choice, or "" when they have not chosen."""
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""


def remember_in_session(request, language: str) -> None:
    """Carry `language` in the session so every later page uses it without a query."""
    if language:
        request.session[SESSION_KEY] = language
    else:
        request.session.pop(SESSION_KEY, None)


def apply_stored_language(sender, request, user, **kwargs):
    """user_logged_in receiver: a new session (another browser, a later day) starts in the
    language the user chose, whatever that browser says."""
    if request is not None and hasattr(request, "session"):
        remember_in_session(request, stored_language(user))


class UserLanguageMiddleware:
    """Activates the signed-in user's chosen language, over the cookie and the browser.

    After AuthenticationMiddleware; LocaleMiddleware (earlier) has already chosen from
    the cookie or Accept-Language and adds Content-Language and Vary to the response.
    The session is read by the sign-in check on every request anyway: no extra query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if is_supported(language) and request.user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
