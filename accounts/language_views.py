"""The language switch in every page's header and on the login page."""

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import language


@login_not_required
@require_POST
def switch_language(request):
    """Set the interface's language and go back to the page the form was on.

    Django's set_language sets the cookie (the only memory of a visitor who has not signed
    in) and accepts `next` only when url_has_allowed_host_and_scheme says it is ours,
    else the referring page of ours, else the home page. A signed-in user's choice is
    also stored with their account, and so follows them to every browser.
    """
    response = set_language(request)
    chosen = request.POST.get("language")
    if language.is_supported(chosen) and request.user.is_authenticated:
        language.choose_language(request.user, chosen)
        language.remember_in_session(request, chosen)
    return response
