"""User invitations: who may invite whom, and the one writer of each step.

Joining is by invitation only. An admin (superuser) invites anyone as an organizer or as a
lead of any core. A core lead invites for a core they lead: a co-lead of that core, or an
organizer to help it. Neither grants more than the lead already holds (leads read and edit
every person, as organizers do; they lead only their own core), so a lead can never make
a lead of the other core, a staff user or an admin: that stays an admin's decision.

The link carries a random 256-bit token. Only its SHA-256 digest is stored: a token that
random cannot be guessed from its digest, so a slow password hash would add nothing,
and the database (or a backup of it) holds no working link. Each step records who and
when on the invitation; every function raises ValidationError keyed by the form field it
is about (or InvitationClosed) and changes nothing when it raises.
"""

import datetime as dt
import hashlib
import secrets
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import InvitedRole, UserInvitation
from cores.models import CoreGroup
from sos_tracker.permissions import led_core_ids

SMTP_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class InvitationClosed(Exception):
    """The link was used, revoked or has expired (or never existed)."""


def invitable_cores(user):
    """The cores `user` may invite for: every core for a superuser, the ones they lead for
    a core lead, none for anyone else. A QuerySet by name, not yet read."""
    if not (user.is_authenticated and user.is_active):
        return CoreGroup.objects.none()
    if user.is_superuser:
        return CoreGroup.objects.order_by("name")
    if not user.has_perm("cores.change_coregroup"):
        return CoreGroup.objects.none()
    return CoreGroup.objects.filter(pk__in=led_core_ids(user)).order_by("name")


def may_invite(user) -> bool:
    """Whether `user` may invite anyone at all (an admin, or a lead of some core)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.has_perm("cores.change_coregroup") and bool(led_core_ids(user))


def hash_token(token: str) -> str:
    """The hex SHA-256 digest stored for a link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse_unless_allowed(by, role: str, core: CoreGroup | None) -> None:
    if not may_invite(by):
        raise PermissionDenied
    if core is not None and not by.is_superuser and core.pk not in led_core_ids(by):
        raise ValidationError({"core": gettext("You can invite only for a core you lead.")})
    if core is None and not by.is_superuser:
        raise ValidationError({"core": gettext("Choose the core you are inviting for.")})
    if role == InvitedRole.CORE_LEAD and core is None:
        raise ValidationError({"core": gettext("Choose the core this person will lead.")})


@transaction.atomic
def create_invitation(
    *, email: str, name: str, role: str, core: CoreGroup | None, by
) -> tuple[UserInvitation, str]:
    """Invite `name` <`email`> to join as `role` (an InvitedRole value), for `core`.

    Returns the saved invitation and the link's raw token, which is not kept anywhere: the
    caller shows it once (and may e-mail it). The link works for USER_INVITATION_DAYS days.
    Raises PermissionDenied when `by` may not invite at all, ValidationError keyed by
    field when the core is not theirs, a lead invitation names no core, the e-mail address
    is already a user's, or an open invitation to it exists.
    """
    _refuse_unless_allowed(by, role, core)
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": gettext("A user with this e-mail address already exists.")})
    pending = UserInvitation.objects.open().filter(email__iexact=email).first()
    if pending is not None:
        raise ValidationError(
            {
                "email": gettext(
                    "This address already has an invitation waiting, until %(until)s. "
                    "Revoke it first to send a new one."
                )
                % {"until": f"{timezone.localtime(pending.expires_at):%Y-%m-%d %H:%M}"}
            }
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = UserInvitation(
        email=email,
        name=name,
        role=role,
        core=core,
        token_hash=hash_token(token),
        created_by=by,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.USER_INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    return invitation, token


def email_invitation(invitation: UserInvitation, link: str) -> bool:
    """Send the link to the invited address through Django's e-mail backend.

    `link` is the absolute accept URL. Returns False, sending nothing, when no mail server
    is configured (SMTP without EMAIL_HOST; a developer's console backend counts as one)
    or the server refused or could not be reached; the inviter then passes the link on.
    The message names no core, role or inviter: mail is not a private channel.
    """
    if settings.EMAIL_BACKEND == SMTP_EMAIL_BACKEND and not settings.EMAIL_HOST:
        return False
    context = {"invitation": invitation, "link": link}
    try:
        send_mail(
            subject=gettext("Your invitation to SOS Tracker"),
            message=render_to_string("accounts/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (smtplib.SMTPException, OSError):
        return False
    return True


def find_open_invitation(token: str) -> UserInvitation | None:
    """The invitation whose link carries `token`, if it still works; None otherwise.

    Reads only: opening a link writes nothing. The answer is the same for a token that
    never existed and one used, revoked or expired, so a link tells nothing about others.
    """
    if not token or len(token) > 100:
        return None
    return (
        UserInvitation.objects.open()
        .select_related("core")
        .filter(token_hash=hash_token(token))
        .first()
    )


def split_name(name: str) -> tuple[str, str]:
    """("Ada Maria", "Lovelace") from "Ada Maria Lovelace": the user's first and last name."""
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


@transaction.atomic
def accept_invitation(token: str, *, username: str, password: str):
    """Create the invited user with this user name and password, in the invitation's
    group (and as a lead of its core), and close the invitation. Returns the new user.

    The password is expected to have passed the password validators already (the form).
    Raises InvitationClosed when the link no longer works (also when two tabs accept at
    once: the second finds it used), ValidationError on `username` when it is taken.
    """
    invitation = (
        UserInvitation.objects.open()
        .select_for_update()
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationClosed
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": gettext("A user with that user name already exists.")})
    first_name, last_name = split_name(invitation.name)
    user = user_model(
        username=username, email=invitation.email, first_name=first_name, last_name=last_name
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    role = InvitedRole(invitation.role)
    user.groups.add(Group.objects.get(name=role.group_name))
    if role == InvitedRole.CORE_LEAD:
        invitation.core.leads.add(user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user


@transaction.atomic
def revoke_invitation(invitation: UserInvitation, *, by) -> UserInvitation:
    """Stop `invitation`'s link working, recording who and when.

    The caller loads it through UserInvitation.objects.visible_to(by) (404 otherwise).
    Raises InvitationClosed when it was accepted, revoked or expired in the meantime.
    """
    locked = UserInvitation.objects.select_for_update().open().filter(pk=invitation.pk).first()
    if locked is None:
        raise InvitationClosed
    locked.revoked_at = timezone.now()
    locked.revoked_by = by
    locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked
