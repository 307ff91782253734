"""The standing cast every test can ask for.

organizer: in Organizers. lead_a / lead_b: in Core leads, leading core_a (tendency_a) and
core_b (tendency_b). admin: superuser. stranger: logged in, in no group.
"""

import pytest

from tests.auth import log_in
from tests.factories import (
    AdminFactory,
    CoreGroupFactory,
    LeadFactory,
    OrganizerFactory,
    TendencyFactory,
    UserFactory,
)

# The fuzz's request and server-error counts, printed at the end of every run that has
# fuzz tests in it (tests/fuzz/report.py), also from pytest-xdist's workers.
from tests.fuzz.report import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401


@pytest.fixture
def organizer(db):
    return OrganizerFactory(username="olive", first_name="Olive", last_name="Organizer")


@pytest.fixture
def lead_a(db):
    return LeadFactory(username="alice", first_name="Alice", last_name="Lead")


@pytest.fixture
def lead_b(db):
    return LeadFactory(username="bob", first_name="Bob", last_name="Lead")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="root", first_name="Ada", last_name="Admin")


@pytest.fixture
def stranger(db):
    return UserFactory(username="charlie")


@pytest.fixture
def tendency_a(db):
    return TendencyFactory(name="Democratic Front", slug="democratic-front")


@pytest.fixture
def tendency_b(db):
    return TendencyFactory(name="Dual Power", slug="dual-power")


@pytest.fixture
def core_a(tendency_a, lead_a):
    return CoreGroupFactory(tendency=tendency_a, leads=[lead_a])


@pytest.fixture
def core_b(tendency_b, lead_b):
    return CoreGroupFactory(tendency=tendency_b, leads=[lead_b])


@pytest.fixture
def staff_lead_a(lead_a, core_a):
    """lead_a with admin access: sees the admin, scoped by model permissions."""
    lead_a.is_staff = True
    lead_a.save(update_fields=["is_staff"])
    return lead_a


@pytest.fixture
def as_user(db, client):
    """Log the test client in as a given user: `as_user(organizer).get(...)`.

    Asks for `db` itself: a test that names its user through request.getfixturevalue
    would otherwise be sorted among the transactional tests, after a flush emptied the
    seeded groups.

    Leads, staff and superusers come with their second factor already given (tests.auth).
    """

    def login(user):
        return log_in(client, user)

    return login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 spends ~0.25 s per hash by design; tests not about hashing use a cheap one.

    tests/test_auth.py checks that the real settings hash with Argon2.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: what one test keeps there (rate limits,
    a user's roles) must not leak into the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def static_files_in_place(settings):
    """Serve static files from the app folders: tests run without collectstatic.

    The production storage (whitenoise's manifest) raises on every `{% static %}` when
    STATIC_ROOT has not been collected, so every page test would fail with a 500.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
