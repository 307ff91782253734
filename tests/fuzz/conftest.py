"""The fuzz's client (counting requests and server errors) and the one role the walk adds."""

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.fuzz.report import FuzzClient


@pytest.fixture
def fuzz(record_property):
    """A FuzzClient on a fresh test client that answers a view's exception with a 500; its
    counts are recorded on the test's report when the test ends."""
    fuzz_client = FuzzClient(Client(raise_request_exception=False))
    yield fuzz_client
    fuzz_client.report(record_property)


@pytest.fixture
def staff_no_role(db):
    """Staff (may open the admin) with no group and no permission: sees nothing there."""
    return UserFactory(username="stella", is_staff=True)
