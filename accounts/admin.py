"""The admin's account tools: an enrolment link and an unlock on each user's page, and an
"Unlock" action under "Access attempts" (django-axes)."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts import enrolment, lockout, recovery, two_factor
from accounts.invitation_admin import UserInvitationAdmin  # noqa: F401 (registers it)

User = get_user_model()


class AccountUserAdmin(UserAdmin):
    """Django's user admin with two buttons: "Enrolment link" and "Unlock sign-in"."""

    change_form_template = "admin/accounts/user/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/enrolment-link/",
                view(self.enrolment_link_view),
                name="auth_user_enrolment_link",
            ),
            path("<path:object_id>/unlock/", view(self.unlock_view), name="auth_user_unlock"),
            *super().get_urls(),
        ]

    def _user_to_change(self, request, object_id):
        """The user named in the URL, if the admin may change them (404 / 403 if not)."""
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        return user

    def _context(self, request, user, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": user,
            "title": extra.pop("title"),
            "change_url": reverse("admin:auth_user_change", args=[user.pk]),
            **extra,
        }

    def enrolment_link_view(self, request, object_id):
        """GET explains; POST makes a one-time link to copy (and e-mails it if it can).

        Making a link writes nothing: the link is a signed token (accounts.enrolment).
        """
        user = self._user_to_change(request, object_id)
        extra = {
            "title": gettext("Enrolment link for %(user)s") % {"user": user.get_username()},
            "needs_link": enrolment.needs_link(user),
            "has_device": two_factor.confirmed_device(user) is not None,
            "recovery_left": recovery.remaining(user),
            "hours": settings.ENROLMENT_LINK_HOURS,
        }
        if request.method == "POST":
            link = enrolment.make_link(request, user)
            extra |= {"link": link, "emailed": enrolment.email_link(user, link)}
        return TemplateResponse(
            request,
            "admin/accounts/user/enrolment_link.html",
            self._context(request, user, **extra),
        )

    def unlock_view(self, request, object_id):
        """GET shows the account's failed sign-ins; POST forgets them (unlocks it)."""
        user = self._user_to_change(request, object_id)
        if request.method == "POST":
            count = lockout.unlock_account(user.get_username())
            self.message_user(
                request,
                ngettext(
                    "%(user)s can sign in again (%(count)d failed-attempt record forgotten).",
                    "%(user)s can sign in again (%(count)d failed-attempt records forgotten).",
                    count,
                )
                % {"user": user.get_username(), "count": count},
                messages.SUCCESS,
            )
            return redirect("admin:auth_user_change", user.pk)
        extra = {
            "title": gettext("Unlock sign-in for %(user)s") % {"user": user.get_username()},
            "failures": lockout.account_failures(user.get_username()),
            "locked": lockout.is_account_locked(user.get_username()),
        }
        return TemplateResponse(
            request, "admin/accounts/user/unlock.html", self._context(request, user, **extra)
        )


class UnlockingAccessAttemptAdmin(AccessAttemptAdmin):
    """Axes' access attempts, with an action that unlocks their accounts and addresses."""

    actions = [*AccessAttemptAdmin.actions, "unlock"]

    @admin.action(description=gettext_lazy("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # Axes reads the time of the login being checked, which only its login handling
        # sets (a 500 here without it); from the admin, expired means expired by now.
        request.axes_attempt_time = None
        return super().cleanup_expired_attempts(request, queryset)

    @admin.action(
        description=gettext_lazy("Unlock the accounts and addresses of the selected attempts")
    )
    def unlock(self, request, queryset):
        count = lockout.unlock_attempts(queryset)
        self.message_user(
            request,
            ngettext(
                "Unlocked: %(count)d failed-attempt record forgotten.",
                "Unlocked: %(count)d failed-attempt records forgotten.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, AccountUserAdmin)
admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, UnlockingAccessAttemptAdmin)
