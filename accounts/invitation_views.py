"""User invitation pages: the inviter's list and form, revoking, and the invitee's link.

Inviting is for admins and core leads (accounts.invitations.may_invite): 403 for anyone
else; an invitation outside the user's scope is a 404. The invitee's page needs no
sign-in, writes nothing on GET, and answers a used, revoked, expired or made-up link
with the same 404 page.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import enrolment, invitations
from accounts.invitation_forms import AcceptInvitationForm, InvitationForm
from accounts.models import InvitedRole, UserInvitation
from sos_tracker import kept_forms

RECENT_CLOSED = 20
# Seconds a new lead has, after accepting, to sign in and set up their second factor
# without an admin's enrolment link.
ENROLMENT_GRANT_SECONDS = 60 * 60


def _invitations_in_scope(user):
    if not invitations.may_invite(user):
        raise PermissionDenied
    return UserInvitation.objects.visible_to(user).select_related(
        "core", "created_by", "revoked_by", "accepted_user"
    )


def invitation_created(request, invitation, token: str, *, back_url: str):
    """The page that shows a new invitation's link, once (it is not kept anywhere).

    Shared with the admin's add view. E-mails the link when a backend is configured.
    """
    link = request.build_absolute_uri(reverse("user_invitation_accept", args=[token]))
    emailed = invitations.email_invitation(invitation, link)
    return render(
        request,
        "accounts/invitation_created.html",
        {"invitation": invitation, "link": link, "emailed": emailed, "back_url": back_url},
    )


def invitation_list(request):
    """Pending invitations in the user's scope, the last closed ones, and a form to invite.

    POST creates an invitation and answers with its link (no redirect: the link is shown
    in this one response and never stored).
    """
    in_scope = _invitations_in_scope(request.user)
    form = kept_forms.refill(request, InvitationForm(request.POST or None, user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = invitations.create_invitation(**form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return invitation_created(
                request, invitation, token, back_url=reverse("user_invitation_list")
            )
    now = timezone.now()
    return render(
        request,
        "accounts/invitation_list.html",
        {
            "form": form,
            "pending": in_scope.open(now).order_by("expires_at"),
            "closed": in_scope.closed(now)[:RECENT_CLOSED],
            "invitation_days": settings.USER_INVITATION_DAYS,
        },
    )


def invitation_revoke(request, pk):
    """Stop an invitation's link working. POST only; scope is checked before the method."""
    invitation = get_object_or_404(_invitations_in_scope(request.user), pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        invitations.revoke_invitation(invitation, by=request.user)
    except invitations.InvitationClosed:
        messages.warning(
            request,
            _("The invitation to %(email)s had already been used or closed.")
            % {"email": invitation.email},
        )
    else:
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect("user_invitation_list")


@login_not_required
def invitation_accept(request, token):
    """The invitee's page: choose a user name and password, then sign in."""
    invitation = invitations.find_open_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    context = {"invitation": invitation}
    if request.user.is_authenticated:
        # Accepting while signed in would leave two accounts in one browser session.
        return render(request, "accounts/invitation_accept.html", context)
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.accept_invitation(
                token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except invitations.InvitationClosed:
            return render(request, "accounts/invitation_invalid.html", status=404)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if enrolment.needs_link(user):
                # The single-use link stands in for an admin's enrolment link: this browser
                # may set up the new account's second factor once it signs in.
                enrolment.grant(request, user, until=time.time() + ENROLMENT_GRANT_SECONDS)
            ready = _("Your account is ready: sign in with your user name and password.")
            if invitation.role == InvitedRole.CORE_LEAD and settings.TWO_FACTOR_REQUIRED:
                ready += " " + _("You will then set up two-factor sign-in.")
            messages.success(request, ready)
            return redirect("login")
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})
