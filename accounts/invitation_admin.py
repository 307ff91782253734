"""User invitations in the Django admin (registered when accounts/admin.py imports this)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import invitations
from accounts.models import InvitationStatus, UserInvitation
from sos_tracker.admin_mixins import RecordAdmin


class InvitationStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return InvitationStatus.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case InvitationStatus.PENDING:
                return queryset.open(now)
            case InvitationStatus.ACCEPTED:
                return queryset.filter(accepted_at__isnull=False)
            case InvitationStatus.REVOKED:
                return queryset.filter(revoked_at__isnull=False)
            case InvitationStatus.EXPIRED:
                return queryset.filter(
                    accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
                )
        return queryset


@admin.register(UserInvitation)
class UserInvitationAdmin(RecordAdmin):
    """Every invitation with who made, accepted or revoked it and when; read-only.

    New invitations are made on the app's page (the changelist links to it), which shows
    the link once: one form and one writer (accounts.invitations) for admins and leads.
    Revoking is an action here. Nothing is deleted: the rows are the trail.
    """

    change_list_template = "admin/accounts/userinvitation/change_list.html"
    list_display = ["name", "email", "role", "core", "status", "created_by", "created_at"]
    list_filter = [InvitationStatusFilter, "role"]
    list_select_related = ["core", "created_by"]
    search_fields = ["name", "email"]
    actions = ["revoke"]
    fields = [
        "name",
        "email",
        "role",
        "core",
        "status",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_user",
        "accepted_at",
        "revoked_by",
        "revoked_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description=_("status"))
    def status(self, obj):
        return obj.status.label

    @admin.action(description=_("Revoke the selected invitations"), permissions=["view"])
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset.open():
            try:
                invitations.revoke_invitation(invitation, by=request.user)
            except invitations.InvitationClosed:
                continue
            revoked += 1
        messages.success(
            request,
            ngettext("%(count)d invitation revoked.", "%(count)d invitations revoked.", revoked)
            % {"count": revoked},
        )
