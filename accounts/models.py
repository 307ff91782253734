"""User invitations: the only way a new user joins (there is no open sign-up).

The link's token is never stored; only its SHA-256 digest is (accounts.invitations makes
and checks tokens). Every step says who and when on the row itself: created by/at,
accepted (the user it made) at, revoked by/at. Rows are never deleted by the app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sos_tracker.permissions import led_core_ids
from sos_tracker.roles import CORE_LEADS, ORGANIZERS


class InvitedRole(models.TextChoices):
    """The role an invitation grants: the group the new user joins."""

    ORGANIZER = "organizer", _("Organizer")
    CORE_LEAD = "core_lead", _("Core lead")

    @property
    def group_name(self) -> str:
        return {InvitedRole.ORGANIZER: ORGANIZERS, InvitedRole.CORE_LEAD: CORE_LEADS}[self]


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class UserInvitationQuerySet(models.QuerySet):
    def open(self, now=None):
        """Invitations whose link still works: not accepted, not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)

    def closed(self, now=None):
        """Invitations whose link no longer works: accepted, revoked or expired."""
        now = now or timezone.now()
        return self.filter(
            Q(accepted_at__isnull=False) | Q(revoked_at__isnull=False) | Q(expires_at__lte=now)
        )

    def visible_to(self, user):
        """The invitations `user` may see and revoke: all for a superuser; a lead's those
        made for a core they lead (by them or a co-lead); none for anyone else."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        if not user.has_perm("cores.change_coregroup"):
            return self.none()
        return self.filter(core__in=led_core_ids(user))


class UserInvitation(models.Model):
    """A single-use link that lets one person choose a user name and password."""

    email = models.EmailField()
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=InvitedRole.choices)
    # The core a lead will lead; for an organizer, the core whose lead invited them (so
    # that core's leads see and can revoke it), or none when an admin invited them.
    core = models.ForeignKey(
        "cores.CoreGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user_invitations",
    )
    # hex SHA-256 of the link's token: the token itself is shown once and never kept.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user_invitation",
        editable=False,
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    objects = UserInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("user invitation")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=InvitedRole.values), name="invite_role"),
            # A lead leads a core: the invitation says which.
            models.CheckConstraint(
                condition=~Q(role=InvitedRole.CORE_LEAD) | Q(core__isnull=False),
                name="invite_lead_has_core",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invite_accepted_or_revoked",
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}> as {self.get_role_display().lower()}"

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class UserPreference(models.Model):
    """What a user chose for themselves: for now, the language of the interface.

    No row (or an empty language) means no choice yet: the browser's language applies.
    Written only by accounts.language.choose_language.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preference",
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("user preference")

    def __str__(self):
        return f"{self.user}: {self.language or 'browser language'}"
