from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, the second factor and recovery codes, sessions, and user invitations."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        # session_middleware connects the sign-in signal that starts a session's idle and
        # absolute clocks.
        from accounts import lockout, session_middleware, two_factor  # noqa: F401

        # Every login() (ours, the admin's, any other) marks a code owed by a user who
        # has a device, and clears only that account's failed sign-ins.
        user_logged_in.connect(two_factor.mark_code_pending, dispatch_uid="accounts.code")
        user_logged_in.connect(lockout.forget_failures, dispatch_uid="accounts.lockout")
