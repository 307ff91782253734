"""Behind the README's reverse proxy, the lockout counts the client's address (the one the
proxy appended to X-Forwarded-For), not the proxy's, and never one a client wrote itself."""

from axes.helpers import get_client_ip_address
from django.test import RequestFactory, override_settings

BEHIND_ONE_PROXY = {"TRUSTED_PROXY_COUNT": 1}


def address_of(**meta):
    return get_client_ip_address(RequestFactory().post("/login/", REMOTE_ADDR="127.0.0.1", **meta))


@override_settings(**BEHIND_ONE_PROXY)
def test_behind_one_proxy_the_address_is_the_one_the_proxy_appended():
    assert address_of(HTTP_X_FORWARDED_FOR="203.0.113.7") == "203.0.113.7"
    # A client's own X-Forwarded-For sits to the left of what the proxy appends.
    assert address_of(HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7") == "203.0.113.7"


def test_served_directly_a_forwarded_header_is_ignored():
    assert address_of(HTTP_X_FORWARDED_FOR="203.0.113.7") == "127.0.0.1"
