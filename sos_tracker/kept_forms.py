"""Nothing typed is lost: a form sent after the session ended comes back after sign-in.

A form sent once the session has ended (the idle timeout, the absolute limit, or a log out
in another tab) would send its person to sign in and drop what they typed. Instead:

1. **Keep.** `LoginRequiredMiddleware` (Django's, plus this step) and `csrf_failure` (for
   a form whose CSRF token a sign-in in another tab has replaced) keep the POST's values
   in a `KeptForm` row under a one-time random key, and put the key in the browser's
   session beside the path it was sent to. Kept only when all of these hold:
   - the page needs a signed-in user and is one of the app's own (not the admin's, whose
     forms do not refill; never the sign-in, code or invitation pages, which are open);
   - the browser says the POST came from one of our pages (`is_same_origin`), so another
     site cannot plant values in someone's form;
   - the session that ended is known to have belonged to a user (`ended_user_id`): only
     that user gets the values back, and a POST with no ended session behind it (a
     script, a browser that lost its cookies) keeps nothing;
   - something is left once files, passwords, codes, tokens and the CSRF token are
     dropped (`keepable_fields`).
2. **Refill.** After signing in (the second factor included: both steps keep the
   session's data) the person is sent back to the form's page. Its view calls
   `refill(request, form)`: the unbound form takes the kept values as its initial values
   and the key is spent, whatever happens next. Initial values, not bound data: the page
   shows what was typed without judging it, nothing is saved until the person checks it
   and saves, and a version the form carried (optimistic locking) still refuses a save
   over a colleague's change made meanwhile.

Entries live KEEP_FOR (30 minutes): long enough to sign in again, find the phone for
the code or ask a colleague for help; short because the values are personal data in a
second place, outside the records they were meant for. Expired entries are deleted at
every keep, refill and sign-in, so none outlives a quiet site for long.
"""

import json
import re
import secrets
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.dispatch import receiver
from django.http import QueryDict
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy, ngettext
from django.views import csrf

from sos_tracker.models import KeptForm

# Why 30 minutes: see the module's docstring.
KEEP_FOR = timedelta(minutes=30)
# In the browser's session: {path: key} of the forms kept for it.
SESSION_KEY = "kept_forms"
# In the browser's session after a log out or a timeout: the pk of the user whose session
# ended, so a form sent later from one of their tabs is bound to them. It outlives a
# sign-in by someone else, who therefore never gets the ended session's forms.
ENDED_USER_KEY = "kept_forms_ended_user"
# On the request: the pk of the user logged out during it (the timeout's log out happens
# before the view; the session is written on the way out).
_ENDED_USER_ATTR = "_kept_forms_ended_user"
_RESTORED_ATTR = "_kept_forms_restored"
# A field is dropped when a word of its name says it holds a secret or a one-time code
# ("password", "new_password2", "otp_token", "recovery_code"), or when a form of ours
# renders a field of that name as a password.
_SECRET_WORD = re.compile(
    r"(password|passwd|pwd|passphrase|secret|token|otp|totp|code|pin|key|recovery)\d*"
)
_CSRF_FIELD = "csrfmiddlewaretoken"
# Forms are short; a POST larger than this as JSON is not a form someone typed.
MAX_KEPT_CHARS = 200_000

NOTICE = gettext_lazy(
    "What you typed before your session ended is filled in below; check it and save."
)


def is_same_origin(request) -> bool:
    """Whether the browser says this request came from one of our own pages.

    Every one of Sec-Fetch-Site, Origin and Referer that the browser sent must name this
    site (Sec-Fetch-Site "same-origin"; Origin our scheme and host; Referer a URL of our
    host and scheme), and at least one must be there.
    """
    host = request.get_host()
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    referer = request.headers.get("Referer")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    if origin is not None and origin != f"{request.scheme}://{host}":
        return False
    if referer is not None and not (
        referer.startswith(f"{request.scheme}://")
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={host}, require_https=request.is_secure()
        )
    ):
        return False
    return any(header is not None for header in (fetch_site, origin, referer))


def _password_field_names() -> set[str]:
    """Names of the fields any form class of ours (or Django's) renders as a password."""
    names, classes = set(), [forms.BaseForm]
    while classes:
        for subclass in classes.pop().__subclasses__():
            classes.append(subclass)
            for name, field in getattr(subclass, "base_fields", {}).items():
                if isinstance(field.widget, forms.PasswordInput):
                    names.add(name)
    return names


def _is_secret(name: str, password_fields: set[str]) -> bool:
    # The words of "otp_token", "recovery-code", "form-0-password".
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return name in password_fields or any(_SECRET_WORD.fullmatch(word) for word in words)


def keepable_fields(data) -> dict[str, list[str]]:
    """The POST's fields worth keeping: every value as lists of strings, without the CSRF
    token and any field that holds a secret (see _SECRET_WORD). Files never reach this:
    they are in request.FILES, which is not kept."""
    password_fields = _password_field_names()
    return {
        name: values
        for name, values in data.lists()
        if name != _CSRF_FIELD and not _is_secret(name, password_fields)
    }


def ended_user_id(request) -> int | None:
    """The pk of the user whose session ended in this browser: logged out during this
    request (the timeout), or earlier (a log out, a timeout seen on another tab)."""
    pk = getattr(request, _ENDED_USER_ATTR, None)
    if pk is None:
        pk = request.session.get(ENDED_USER_KEY)
    return pk if isinstance(pk, int) else None


def _keepable_view(request, view_func) -> bool:
    match = request.resolver_match
    return (
        request.method == "POST"
        and getattr(view_func, "login_required", True)
        and not (match and match.namespace == "admin")
    )


def purge_expired() -> int:
    """Delete every kept form past its time; how many went."""
    return KeptForm.objects.filter(expires_at__lte=timezone.now()).delete()[0]


def keep(request, *, user_id: int) -> KeptForm | None:
    """Keep this POST's values for `user_id`, and point this browser's session at them.

    None (nothing kept) when nothing worth keeping is left or the values are too large.
    A second form sent to the same page replaces the first one kept.
    """
    data = keepable_fields(request.POST)
    if not data or len(json.dumps(data)) > MAX_KEPT_CHARS:
        return None
    pointers = dict(request.session.get(SESSION_KEY) or {})
    replaced = pointers.get(request.path)
    KeptForm.objects.filter(Q(expires_at__lte=timezone.now()) | Q(key=replaced)).delete()
    kept = KeptForm.objects.create(
        key=secrets.token_urlsafe(32),
        user_id=user_id,
        path=request.path,
        data=data,
        expires_at=timezone.now() + KEEP_FOR,
    )
    pointers[request.path] = kept.key
    request.session[SESSION_KEY] = pointers
    return kept


def kept_data(request) -> QueryDict | None:
    """What was typed into this page's form before the session ended, as a QueryDict, or
    None. Once per request (later calls give the same); the key is spent by the first.

    Read only on a GET by a signed-in user whose session points at a form kept for this
    path: any other page costs no query. A form kept for another user is deleted unread.
    """
    if hasattr(request, _RESTORED_ATTR):
        return getattr(request, _RESTORED_ATTR)
    setattr(request, _RESTORED_ATTR, None)
    pointers = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
    if request.method != "GET" or not pointers or request.path not in pointers:
        return None
    pointers = dict(pointers)
    key = pointers.pop(request.path)
    request.session[SESSION_KEY] = pointers
    kept = KeptForm.objects.filter(key=key, expires_at__gt=timezone.now()).first()
    purge_expired()
    if kept is None:
        return None
    # Spent by this read whoever reads it; two tabs racing for it: one gets it.
    if not KeptForm.objects.filter(pk=kept.pk).delete()[0] or kept.user_id != request.user.pk:
        return None
    data = _query_dict(kept.data)
    setattr(request, _RESTORED_ATTR, data)
    messages.info(request, NOTICE)
    return data


def _query_dict(data: dict) -> QueryDict:
    result = QueryDict(mutable=True)
    for name, values in data.items():
        if isinstance(values, list):
            result.setlist(name, [str(value) for value in values])
    return result


def refill(request, form, **match):
    """Fill the unbound `form` with what was typed into it before the session ended.

    Only on the page a sign-in led back to, for the user whose form it was; a bound form
    (a POST) is returned as it is. `match` narrows it to the kept form of a page with
    several forms (`action="move"`: only if the kept POST had action=move). The values
    become the form's initial values, as its widgets read them from a POST (a checkbox left
    unticked is unticked); a field the POST did not carry keeps its own initial value.
    Returns the form.
    """
    if form.is_bound:
        return form
    data = kept_data(request)
    if data is None or any(data.get(name) != value for name, value in match.items()):
        return form
    # A copy: the view's own `initial` dict may serve another form.
    form.initial = dict(form.initial)
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if field.disabled or field.widget.value_omitted_from_data(data, {}, key):
            continue
        form.initial[name] = field.widget.value_from_datadict(data, {}, key)
    return form


def _kept_message(request) -> None:
    minutes = int(KEEP_FOR.total_seconds() // 60)
    messages.info(
        request,
        ngettext(
            "What you typed was kept: sign in again within %(minutes)d minute and it "
            "will be filled in.",
            "What you typed was kept: sign in again within %(minutes)d minutes and it "
            "will be filled in.",
            minutes,
        )
        % {"minutes": minutes},
    )


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, keeping a form sent after the session ended.

    In place of Django's in MIDDLEWARE. It also writes, on the way out, who a log out
    during the request signed out (ENDED_USER_KEY): the log out flushed the session, so
    this is the first moment the new one can hold it.
    """

    def handle_no_permission(self, request, view_func):
        user_id = ended_user_id(request)
        if (
            user_id is not None
            and _keepable_view(request, view_func)
            and is_same_origin(request)
            and keep(request, user_id=user_id) is not None
        ):
            _kept_message(request)
        return super().handle_no_permission(request, view_func)

    def process_response(self, request, response):
        pk = getattr(request, _ENDED_USER_ATTR, None)
        if pk is not None and hasattr(request, "session"):
            request.session[ENDED_USER_KEY] = pk
        return response


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent with a CSRF token that a sign-in since replaced.

    The token lives in a cookie (CSRF_USE_SESSIONS is off), which a log out leaves alone:
    a form sent after the session ended passes the check and reaches
    LoginRequiredMiddleware. But a sign-in (here or in another tab) gives the browser a
    new token, so a form opened before it fails the check (with CSRF_USE_SESSIONS on, a
    log out would do the same; this covers both). When that form is one worth keeping (the rules of
    `keep`, the same-origin rule first) and belongs to whoever's session ended, its values
    are kept and the person is sent back to it (through sign-in if they are signed out).
    Anything else gets Django's failure page (templates/403_csrf.html when present).
    """
    match = request.resolver_match
    view_func = match.func if match else None
    user = request.user
    user_id = ended_user_id(request) or (user.pk if user.is_authenticated else None)
    if (
        view_func is not None
        and user_id is not None
        and (not user.is_authenticated or user.pk == user_id)
        and _keepable_view(request, view_func)
        and is_same_origin(request)
        and keep(request, user_id=user_id) is not None
    ):
        back = _own_path(request)
        if user.is_authenticated:
            return redirect(back)
        _kept_message(request)
        return redirect_to_login(back)
    return csrf.csrf_failure(request, reason)


def _own_path(request) -> str:
    """This request's path and query, as a URL of this site only (never "//host/...")."""
    path = request.get_full_path()
    if path.startswith("/") and url_has_allowed_host_and_scheme(
        path, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return path
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@receiver(user_logged_out, dispatch_uid="sos_tracker.kept_forms.session_ended")
def note_session_ended(sender, request, user, **kwargs):
    """Every log out (the timeout's, the log out button in any tab, the admin's) notes who
    was signed out, for the forms their open tabs may still send."""
    if request is not None and user is not None:
        setattr(request, _ENDED_USER_ATTR, user.pk)


@receiver(user_logged_in, dispatch_uid="sos_tracker.kept_forms.purge_at_sign_in")
def purge_at_sign_in(sender, request, user, **kwargs):
    """A sign-in deletes the expired entries: no cron job needed to keep the table small."""
    purge_expired()
