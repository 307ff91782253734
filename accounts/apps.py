from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Sign-in, the second factor and recovery codes, sessions, and user invitations."""

    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        # session_middleware connects the sign-in signal that starts a session's idle and
        # absolute clocks.
        from accounts import language, lockout, session_middleware, two_factor  # noqa: F401

        # Every login() (ours, the admin's, any other) marks a code owed by a user who
        # has a device, and clears only that account's failed sign-ins.
        user_logged_in.connect(two_factor.mark_code_pending, dispatch_uid="accounts.code")
        user_logged_in.connect(lockout.forget_failures, dispatch_uid="accounts.lockout")
        # A new session starts in the language the user chose (accounts.language).
        user_logged_in.connect(language.apply_stored_language, dispatch_uid="accounts.language")
