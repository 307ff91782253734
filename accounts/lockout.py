"""Failed sign-ins (django-axes): locked per account and per address, unlocked by an admin.

AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] counts each on its own, so guesses
at one account spread over many addresses lock the account, and one address trying many
accounts is locked too. An admin unlocks an account from its admin page or unlocks the
accounts and addresses of chosen rows under "Access attempts".
"""

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def forget_failures(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: a right password clears that account's failures only.

    Not the address's: an insider signing in to their own account must not wipe the
    count of their guesses at a colleague's (axes' own reset would clear both).
    """
    reset(username=user.get_username())


def account_failures(username: str) -> int:
    """Failed sign-ins at `username`, from any address, within the cool-off period."""
    since = timezone.now() - timezone.timedelta(hours=settings.AXES_COOLOFF_TIME)
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


def is_account_locked(username: str) -> bool:
    """Whether `username` has reached the failure limit (from any addresses)."""
    return account_failures(username) >= settings.AXES_FAILURE_LIMIT


def unlock_account(username: str) -> int:
    """Forget every failed sign-in at `username`; returns how many attempt rows went."""
    return reset(username=username)


def unlock_attempts(attempts) -> int:
    """Unlock the accounts and addresses of the given AccessAttempt rows.

    Both, since either may be what locks: the count per account and per address.
    Returns how many attempt rows were forgotten.
    """
    rows = list(attempts.values_list("username", "ip_address"))
    count = 0
    for username in {username for username, _ in rows if username}:
        count += reset(username=username)
    for address in {address for _, address in rows if address}:
        count += reset(ip=address)
    return count
