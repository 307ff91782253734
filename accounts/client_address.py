"""The client's address for the sign-in lockout (django-axes' AXES_CLIENT_IP_CALLABLE).

Written here rather than through django-ipware's proxy-count rules: the one rule we need
is short and must be exactly this, and a misread count would let a client choose its own
address (or lock everyone behind the proxy's).
"""

from django.conf import settings


def client_address(request) -> str | None:
    """REMOTE_ADDR when served directly (TRUSTED_PROXY_COUNT=0); behind N trusted proxies,
    the N-th address from the right of X-Forwarded-For: the one the outermost trusted proxy
    appended (nginx's $proxy_add_x_forwarded_for). Whatever a client wrote to the left of
    it is never used. Falls back to REMOTE_ADDR when the header holds too few entries."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
