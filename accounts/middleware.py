"""Keep a signed-in user who still owes the second factor on the code and set-up pages."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from accounts import two_factor
from sos_tracker.permissions import two_factor_required

# Reachable before the code is given: signing in and out, the code and set-up pages, and
# an admin's enrolment link (it only lets the set-up page show its QR code).
OPEN_URL_NAMES = {"login", "logout", "login_code", "two_factor", "enrol"}


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: covers every page, the admin included.

    A session owes the code when login() marked it (the user has a device, whichever
    login page was used) or when the user's role needs a second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match.url_name in OPEN_URL_NAMES or request.path.startswith("/" + settings.STATIC_URL):
            return None
        if match.namespace == "admin" and match.url_name == "logout":
            return None
        if not (two_factor.code_pending(request) or two_factor_required(user)):
            return None
        target = "login_code" if two_factor.confirmed_device(user) else "two_factor"
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(target) + (f"?{query}" if query else ""))
