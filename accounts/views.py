"""Signing in and the account's second factor: password, code, set-up, recovery codes."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import enrolment, recovery, two_factor
from accounts.forms import CodeForm, SetupForm
from sos_tracker.permissions import two_factor_required


def _next_url(request) -> str:
    """Where to go once the code is given: `next` if it is ours, else the home page."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A path of ours: redirect() would read a bare word ("-1") as a URL name and fail.
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    """The password step; those with an authenticator then give its code (login_code).

    The code is owed because login() marked the session (two_factor.mark_code_pending,
    a user_logged_in receiver), so the admin's login page owes it just the same.
    """

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if two_factor.code_pending(self.request):
            return redirect(_with_next("login_code", self.get_success_url()))
        if two_factor_required(form.get_user()):
            return redirect(_with_next("two_factor", self.get_success_url()))
        return response


@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second step of signing in: the authenticator's current code, or a recovery code."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    if two_factor.confirmed_device(request.user) is None:
        if two_factor_required(request.user):
            return redirect(_with_next("two_factor", next_url))
        return redirect(next_url)
    form = CodeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        two_factor.verify_session(request, form.device)
        if isinstance(form.device, StaticDevice):
            left = recovery.remaining(request.user)
            messages.warning(
                request,
                ngettext(
                    "You signed in with a recovery code; %(count)d left. If your phone is "
                    "lost, remove it on the two-factor page and set up the new one.",
                    "You signed in with a recovery code; %(count)d left. If your phone is "
                    "lost, remove it on the two-factor page and set up the new one.",
                    left,
                )
                % {"count": left},
            )
        return redirect(next_url)
    return render(request, "registration/login_code.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """The account's authenticator: set one up (QR code and secret), or see and manage it.

    A GET writes nothing: the secret shown rides in a signed form field, and the device is
    saved only by a POST carrying its right code. Leads and admins need an enrolment grant
    (accounts.enrolment) first; without one they are told to ask an admin for a link.
    """
    user = request.user
    device = two_factor.confirmed_device(user)
    if device is not None:
        if not user.is_verified():
            return redirect(_with_next("login_code", _next_url(request)))
        return render(request, "account/two_factor.html", _manage_context(user, device))
    context = {"required": two_factor_required(user), "next": request.GET.get("next", "")}
    if not enrolment.may_enrol(request):
        return render(request, "account/enrolment_needed.html", context)
    form = SetupForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        device = two_factor.add_device(form.device, step=form.step)
        codes = recovery.make_codes(user)
        enrolment.spend_grant(request)
        two_factor.verify_session(request, device)
        messages.success(
            request, gettext("Two-factor sign-in is on. You will be asked for a code.")
        )
        done = _next_url(request) if request.GET.get("next") else reverse("two_factor")
        # Shown once, in this answer to the POST: nothing keeps them readable afterwards.
        return render(request, "account/recovery_codes.html", {"codes": codes, "next": done})
    draft = form.draft()
    context |= {
        "form": form,
        "qr_svg": two_factor.qr_svg(draft),
        "secret": two_factor.secret_text(draft),
    }
    return render(request, "account/two_factor.html", context)


def _manage_context(user, device, **forms):
    return {
        "device": device,
        "recovery_left": recovery.remaining(user),
        "recovery_count": recovery.COUNT,
        "remove_form": forms.get("remove_form") or CodeForm(user=user, auto_id="remove_%s"),
        "codes_form": forms.get("codes_form") or CodeForm(user=user, auto_id="codes_%s"),
    }


@require_POST
def two_factor_remove(request):
    """Forget the authenticator (a new phone), confirmed by a fresh code typed here.

    The fresh code also lets this session set up the new phone at once, link or not.
    """
    user = request.user
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    if not user.is_verified():
        return redirect(_with_next("login_code", reverse("two_factor")))
    form = CodeForm(request.POST, user=user, auto_id="remove_%s")
    if not form.is_valid():
        context = _manage_context(user, device, remove_form=form)
        return render(request, "account/two_factor.html", context, status=400)
    two_factor.remove_devices(user)
    enrolment.grant_from_old_factor(request, user)
    messages.success(request, gettext("Your authenticator app and recovery codes were removed."))
    return redirect("two_factor")


@require_POST
def recovery_codes(request):
    """New recovery codes in place of the old ones, confirmed by a fresh code; shown once."""
    user = request.user
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    if not user.is_verified():
        return redirect(_with_next("login_code", reverse("two_factor")))
    form = CodeForm(request.POST, user=user, auto_id="codes_%s")
    if not form.is_valid():
        context = _manage_context(user, device, codes_form=form)
        return render(request, "account/two_factor.html", context, status=400)
    codes = recovery.make_codes(user)
    return render(
        request, "account/recovery_codes.html", {"codes": codes, "next": reverse("two_factor")}
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def enrol(request, uidb64, token):
    """An admin's enrolment link: a button (POST) lets this session set up a factor.

    Opened signed out, the grant is kept through signing in (login() keeps the session's
    data when it held no signed-in user).
    """
    user = enrolment.user_of_link(uidb64, token)
    signed_in = request.user.is_authenticated
    if user is None or (signed_in and request.user.pk != user.pk):
        return render(request, "account/enrolment_link.html", {"invalid": True}, status=404)
    if request.method == "POST":
        enrolment.grant_from_link(request, user, token)
        if signed_in:
            return redirect("two_factor")
        return redirect(_with_next("login", reverse("two_factor")))
    return render(request, "account/enrolment_link.html", {"link_user": user})
