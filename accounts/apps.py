from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, the second factor and recovery codes, sessions, and user invitations."""

    name = "accounts"
    verbose_name = "Accounts"
