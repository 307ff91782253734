"""Who may do what beyond plain model permissions: the own-tendency and own-core scope.

Model permissions (see roles.py) say what kind of thing a role may touch; these helpers
say which ones. Querysets and admin classes call them; templates never decide access.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from sos_tracker.roles import CORE_LEADS


def led_core_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Ids of the cores `user` leads, read once per request-bound user object."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_led_core_ids"):
        user._led_core_ids = frozenset(user.led_cores.values_list("pk", flat=True))
    return user._led_core_ids


def led_tendency_ids(user: AbstractBaseUser) -> frozenset[int]:
    """Ids of the tendencies of the cores `user` leads."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_led_tendency_ids"):
        user._led_tendency_ids = frozenset(user.led_cores.values_list("tendency_id", flat=True))
    return user._led_tendency_ids


def can_review_tendency(user, tendency_id: int) -> bool:
    """Review alignments and read or write review notes of this tendency."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.has_perm("cores.review_alignment") and tendency_id in led_tendency_ids(user)


def can_manage_core(user, core_id: int) -> bool:
    """Move the core's phase, tick its milestones and work its invitations."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.has_perm("cores.change_coregroup") and core_id in led_core_ids(user)


def two_factor_required(user) -> bool:
    """Core leads, staff and superusers sign in with a TOTP code as well as a password.

    A membership list is a target; these accounts see the most of it. Organizers may enrol
    of their own accord. TWO_FACTOR_REQUIRED=false (a demo machine) forces nobody.
    """
    return settings.TWO_FACTOR_REQUIRED and holds_wide_access(user)


def holds_wide_access(user) -> bool:
    """Core leads, staff and superusers: the accounts that see the most of the list.

    They need a second factor (when TWO_FACTOR_REQUIRED), and setting one up needs an
    enrolment link or the old factor (accounts.enrolment), whatever that setting says.
    """
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    if not hasattr(user, "_is_core_lead"):
        user._is_core_lead = user.groups.filter(name=CORE_LEADS).exists()
    return user._is_core_lead
