"""Every URL of the URLconf and the admin's registry, as every role, with generated input.

For each page: a plain GET (to read its forms and the parameters its links use), a GET
with those parameters (and the usual ones: q, page, p, o, term...) filled with generated
values, and a POST of each of its forms' fields filled the same way. Nothing may answer
500. The URLs are the ones tests/test_url_access.py walks, filled with real rows.

Deterministic (seeded by role); FUZZ_CRAWL_ROUNDS walks more than once with new values.
"""

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import resolve

from tests.auth import log_in
from tests.factories import AlignmentFactory, InvitationFactory, MemberFactory, ReviewNoteFactory
from tests.fuzz.pages import read_page
from tests.fuzz.values import CRAWL_ROUNDS, NASTY, seeded
from tests.test_admin_pages import ROWS as ADMIN_ROWS
from tests.test_auth import concrete_path, every_route

ROLES = ["organizer", "lead_a", "lead_b", "admin_user", "staff_no_role", "stranger"]
# Parameters worth trying on every page besides those the page itself names.
COMMON_PARAMS = ["q", "page", "p", "o", "e", "all", "term", "next", "_changelist_filters"]
# Ending the session would leave the rest of the walk signed out.
SIGN_OUT = {("", "logout"), ("admin", "logout")}
ADMIN_DOORS = {"/admin/", "/admin/login/"}
# Confirmation pages that delete or erase whatever is posted.
DELETING = ("_delete", "_erase")


def _value(rng, offered):
    """A page's own value half the time (to get past the first check), else a nasty one."""
    if offered and rng.random() < 0.5:
        return rng.choice(offered)
    value = rng.choice(NASTY)
    if rng.random() < 0.3:  # glue a control character or a huge number into a real value
        value = (rng.choice(offered) if offered else "x") + rng.choice(["\x00", "\x1f", value])
    return value


@pytest.fixture
def rows_to_walk(db, core_a, core_b, lead_a):
    """test_auth.one_of_everything, except that a model the admin walk cannot build yet
    leaves its own pages out (test_admin_pages fails for it) instead of the whole fuzz."""
    member = MemberFactory(name="Assata Olugbala Shakur", email="assata@example.org")
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=member, tendency=core_a.tendency), author=lead_a
    )
    InvitationFactory(core=core_a, member=MemberFactory(name="Kwame Ture"))
    for model in admin.site._registry:
        if model in ADMIN_ROWS:
            ADMIN_ROWS[model](1, None)


def _paths():
    unbuilt = {
        f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if model not in ADMIN_ROWS
    }
    paths = []
    for route, pattern in every_route():
        if any(route.startswith(prefix) for prefix in unbuilt):
            continue
        path = concrete_path(route, pattern)
        match = resolve(path)
        if (match.namespace, match.url_name) in SIGN_OUT or path.startswith(
            "/" + settings.STATIC_URL
        ):
            continue
        paths.append(path)
    return paths


@pytest.mark.usefixtures("rows_to_walk")
@pytest.mark.parametrize("role", ROLES)
def test_no_url_answers_generated_input_with_a_server_error(request, fuzz, role):
    user = request.getfixturevalue(role)
    log_in(fuzz.client, user)
    # Filled once, before anything is posted: a deleted row makes a 404, not a gap.
    paths = _paths()
    if not user.is_staff:
        # Every admin page sends them to the admin's login before reading any input
        # (test_url_access); the index and the login page stand for all of them.
        paths = [p for p in paths if not p.startswith("/admin/") or p in ADMIN_DOORS]
    rng = seeded(role)
    for _ in range(CRAWL_ROUNDS):
        for path in paths:
            match = resolve(path)
            page = fuzz.get(path)
            forms, link_params = [], set()
            if page.status_code == 200 and "html" in page.get("Content-Type", ""):
                forms, link_params = read_page(page.content.decode(errors="replace"))
            get_fields = {name: [] for name in [*COMMON_PARAMS, *sorted(link_params)]}
            for form in forms:
                if form.method == "get":
                    get_fields.update(form.fields)
            names = rng.sample(sorted(get_fields), k=min(len(get_fields), 6))
            fuzz.get(path, {name: _value(rng, get_fields[name]) for name in names})
            if (match.url_name or "").endswith(DELETING):
                continue  # deleting takes no input, and the walk needs its rows
            for form in forms:
                if form.method == "post":
                    data = {name: _value(rng, offered) for name, offered in form.fields.items()}
                    fuzz.post(path, data)
            if not any(form.method == "post" for form in forms):
                fuzz.post(path, {rng.choice(COMMON_PARAMS): rng.choice(NASTY)})
    assert fuzz.requests > len(paths) * 2
    fuzz.assert_no_server_error()
