"""Sign-in and what a stranger can reach: login everywhere, lockout, hashing, CSP."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from accounts.models import UserInvitation
from cores.models import Alignment, CoreGroup, Invitation, Milestone
from members.models import ImportRecord, Member
from sos_tracker import settings as project_settings
from tests.auth import log_in
from tests.factories import AlignmentFactory, InvitationFactory, MemberFactory, ReviewNoteFactory
from tests.test_admin_pages import ROWS as ADMIN_ROWS

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
# The only addresses a stranger may open (logging out asks nothing of them either).
# The language switch is a POST (a GET is refused) that a visitor may send from the login
# page; it reads and shows nothing.
OPEN_TO_ALL = {LOGIN, ADMIN_LOGIN, "/logout/", "/admin/logout/", "/language/"}
# An invitee opens their link before having an account, a lead their enrolment link before
# signing in; the walk's made-up ones are a 404 that says nothing
# (tests/accounts/test_invitations.py, tests/accounts/test_enrolment.py).
OPEN_BY_LINK = {"user_invitation_accept", "enrol"}

ADMIN_PREFIXES = {
    f"admin/{model._meta.app_label}/{model._meta.model_name}/": model
    for model in admin.site._registry
}
# Our own pages whose pk is not a person's. On PostgreSQL the sequences of different
# tables drift apart, so a person's pk is not an import's.
PREFIXES = {
    **ADMIN_PREFIXES,
    "people/import/": ImportRecord,
    "account/invitations/": UserInvitation,
}
# A core's pages name the core by slug, and then one of its rows by pk.
CORE_PARTS = {"milestones/": Milestone, "review/": Alignment, "invitations/": Invitation}


def _core_path(route):
    """A core's route filled with the first core and a row of that core."""
    core = CoreGroup.objects.order_by("pk").first()
    assert core is not None, f"no core to fill {route}"
    model = next((model for part, model in CORE_PARTS.items() if part in route), CoreGroup)
    rows = {
        Milestone: Milestone.objects.filter(core=core),
        Alignment: Alignment.objects.filter(tendency=core.tendency_id),
        Invitation: Invitation.objects.filter(core=core),
        CoreGroup: CoreGroup.objects.filter(pk=core.pk),
    }[model]
    obj = rows.order_by("pk").first()
    assert obj is not None, f"no {model.__name__} of {core} to fill {route}"
    path = route.replace("<slug:slug>", core.slug)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", str(obj.pk), path)


PASSWORD = "correct-horse-battery-staple"  # what tests.factories.UserFactory sets


def every_route(resolver=None, prefix=""):
    """(route, pattern) for every URL the project serves, as written in the URLconf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from every_route(entry, route)
        else:
            assert isinstance(entry, URLPattern)
            yield route, entry


@pytest.fixture
def one_of_everything(db, core_a, lead_a):
    """Real rows of every model the URLs name, so each parameter gets a real pk."""
    member = MemberFactory(name="Assata Olugbala Shakur", email="assata@example.org")
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=member, tendency=core_a.tendency), author=lead_a
    )
    InvitationFactory(core=core_a, member=MemberFactory(name="Kwame Ture"))
    for model in admin.site._registry:
        # The admin walk's builders know how to make a row of every registered model.
        ADMIN_ROWS[model](1, None)
    return member


def concrete_path(route, pattern):
    """`route` with every parameter filled by the pk of a real object of the right model."""
    if route.startswith("cores/") and "<" in route:
        path = _core_path(route)
        assert resolve(path).func == pattern.callback, f"{path} does not reach {route}"
        return path
    model = next((model for prefix, model in PREFIXES.items() if route.startswith(prefix)), Member)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model.__name__} to fill {route}"
    history_id = obj.history.latest().history_id if hasattr(obj, "history") else obj.pk
    values = {
        "content_type_id": ContentType.objects.get_for_model(model).pk,
        "app_label": model._meta.app_label,
        "url": "no-such-page/",
    }

    def fill(match):
        return str(values.get(match.group(1), obj.pk))

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", fill, route)  # re_path() groups, first
    path = re.sub(r"<(?:\w+:)?(\w+)>", fill, path)  # then path() parameters
    path = path.replace("([^/]+)/history/([^/]+)", f"{obj.pk}/history/{history_id}")
    path = "/" + path.replace("^", "").replace("$", "")
    assert resolve(path).func == pattern.callback, f"{path} does not reach {route}"
    return path


def test_every_address_sends_a_stranger_to_log_in(client, one_of_everything):
    checked = 0
    for route, pattern in every_route():
        path = concrete_path(route, pattern)
        if path in OPEN_TO_ALL or path.startswith("/" + project_settings.STATIC_URL):
            continue

        response = client.get(path)
        if resolve(path).url_name in OPEN_BY_LINK:
            assert response.status_code == 404, path
            assert one_of_everything.name not in response.text
            continue

        assert response.status_code == 302, path
        location = urlsplit(response["Location"])
        assert location.path in (LOGIN, ADMIN_LOGIN), path
        assert parse_qs(location.query) == {"next": [path]}, path
        assert one_of_everything.name not in response.text
        checked += 1
    assert checked > 100  # the admin's pages included


@pytest.mark.parametrize("login_page", [LOGIN, ADMIN_LOGIN])
def test_login_page_says_nothing_about_the_data(client, one_of_everything, core_a, login_page):
    response = client.get(login_page)

    assert response.status_code == 200
    for secret in (
        one_of_everything.name,
        one_of_everything.email,
        "Kwame Ture",
        core_a.name,
        core_a.tendency.name,
    ):
        assert secret not in response.text


def test_five_wrong_passwords_lock_the_login(client, lead_a):
    for _ in range(5):
        client.post(LOGIN, {"username": lead_a.username, "password": "not-the-password"})

    response = client.post(LOGIN, {"username": lead_a.username, "password": PASSWORD})

    assert response.status_code in (403, 429)
    assert "Too many failed logins" in response.text
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_do_not_lock_the_login(client, lead_a):
    for _ in range(4):
        wrong = client.post(LOGIN, {"username": lead_a.username, "password": "not-the-password"})
        assert wrong.status_code == 200

    response = client.post(LOGIN, {"username": lead_a.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(lead_a.pk)


def test_passwords_are_hashed_with_argon2(settings):
    # conftest swaps in a cheap hasher for speed; this checks the project's real choice.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS

    assert make_password("a long and memorable passphrase").startswith("argon2$")


def csp_directives(response):
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, _, values in (d.strip().partition(" ") for d in header.split(";"))
        if name
    }


@pytest.mark.parametrize("path", [LOGIN, "/", "/admin/"])
def test_pages_carry_a_content_security_policy_without_unsafe_inline(client, admin_user, path):
    if path != LOGIN:
        log_in(client, admin_user)

    response = client.get(path)

    assert response.status_code == 200
    header = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header
    directives = csp_directives(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
