from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from sos_tracker import dashboard, two_factor
from sos_tracker.forms import CodeForm
from sos_tracker.permissions import two_factor_required


def home(request):
    """The network dashboard: people by status, story and sector, the cores side by side,
    check-ins per month and capacity growth (read by sos_tracker.dashboard)."""
    return render(request, "home.html", dashboard.network_dashboard(request.user))


def _next_url(request) -> str:
    """Where to go once the code is given: `next` if it is ours, else the home page."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    """The password step; those with an authenticator then give its code (login_code)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if two_factor.confirmed_device(user) is not None:
            two_factor.mark_code_pending(self.request)
            return redirect(_with_next("login_code", self.get_success_url()))
        if two_factor_required(user):
            return redirect(_with_next("two_factor", self.get_success_url()))
        return response


def login_code(request):
    """The second step of signing in: the current code from the user's authenticator."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    device = two_factor.confirmed_device(request.user)
    if device is None:
        if two_factor_required(request.user):
            return redirect(_with_next("two_factor", next_url))
        return redirect(next_url)
    form = CodeForm(request.POST or None, device=device, user=request.user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        request.session.pop(two_factor.CODE_PENDING_SESSION_KEY, None)
        return redirect(next_url)
    return render(request, "registration/login_code.html", {"form": form, "next": next_url})


def two_factor_setup(request):
    """The account's authenticator: set one up (QR code and secret), or see and remove it."""
    user = request.user
    device = two_factor.confirmed_device(user)
    if device is not None:
        if not user.is_verified():
            return redirect(_with_next("login_code", _next_url(request)))
        return render(request, "account/two_factor.html", {"device": device})
    device = two_factor.unconfirmed_device(user)
    form = CodeForm(request.POST or None, device=device, user=user)
    if request.method == "POST" and form.is_valid():
        two_factor.confirm_device(device)
        otp_login(request, device)
        request.session.pop(two_factor.CODE_PENDING_SESSION_KEY, None)
        messages.success(request, "Two-factor sign-in is on. You will be asked for a code.")
        return redirect(_next_url(request) if "next" in request.GET else "two_factor")
    context = {
        "form": form,
        "qr_svg": two_factor.qr_svg(device),
        "secret": two_factor.secret_text(device),
        "required": two_factor_required(user),
        "next": request.GET.get("next", ""),
    }
    return render(request, "account/two_factor.html", context)


@require_POST
def two_factor_remove(request):
    """Forget the authenticator, e.g. for a new phone; leads must then set one up again."""
    if not request.user.is_verified():
        return redirect(_with_next("login_code", reverse("two_factor")))
    two_factor.remove_devices(request.user)
    messages.success(request, "Your authenticator app was removed.")
    return redirect("two_factor")
