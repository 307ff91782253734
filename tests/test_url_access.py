"""Every page as every role: who gets the page, who is refused, who is sent to log in.

Permissions live in views and querysets, not templates; this walks the URLconf so a new
page without its check fails here. The admin's own pages are walked for the superuser in
test_admin_pages.py and for a stranger in test_auth.py; here every non-staff role must be
turned away from all of them.
"""

from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from tests.auth import log_in
from tests.test_auth import concrete_path, every_route, one_of_everything  # noqa: F401 (fixture)

ROLES = ["organizer", "lead_a", "lead_b", "admin_user", "stranger"]
# Actions that change data answer only POST; a GET by someone allowed is 405.
POST_ONLY = {
    "import_sectors",
    "import_decide",
    "import_apply",
    "import_undo",
    "import_discard",
    "logout",
    "milestone_reopen",
    "review_skip",
    "merge_undo",
}
OPEN = {"login", "logout"}
# An import opens only for the person who made it and for superusers; the walk's import
# was made by someone else, so the other roles that may import get 404.
IMPORT_OWN = {"import_detail", "import_mapping", "import_rejected_csv"}
# A core's pages everyone with a role reads; the walk fills them with lead_a's core.
CORE_READ = {"core_list", "core_detail", "invitation_list", "invitation_detail"}
# Working a core: its own leads and superusers. Another core's lead is outside its scope
# (404); a role without the permission is refused (403).
CORE_WORK = {
    "phase_advance",
    "phase_back",
    "milestone_done",
    "milestone_reopen",
    "invitation_add",
    "review_queue",
    "review_item",
    "review_skip",
}


# Inviting users: admins and leads (of some core); the walk's invitation is of a core
# nobody in the cast leads, so only the superuser reaches it (and revoking is POST only).
USER_INVITING = {"user_invitation_list", "user_invitation_revoke"}


# The pages whose answer to each role is spelled out above or is the plain 200 of a page
# every role with a login reads. A page not named here (one another part of the project
# has just added) is still walked, with a default that holds for any page: no server
# error, and someone without a role is never served it (tests/test_url_access.py stays
# green when pages appear; their own tests say who reads them).
ESTABLISHED = {
    "home",
    "two_factor",
    "login_code",
    "two_factor_remove",
    "user_invitation_accept",
    "person_merge",
    "person_merge_pick",
    "people_list",
    "people_export",
    "person_add",
    "person_detail",
    "person_edit",
    "check_in_add",
    "state_alignment",
    "invite_person",
    "import_start",
    *POST_ONLY,
    *IMPORT_OWN,
    *CORE_READ,
    *CORE_WORK,
    *USER_INVITING,
}
# What any page may answer a role it does not serve (sent on, refused, not found, POST).
NOT_SERVED = {302, 403, 404, 405}


def acceptable_statuses(url_name, role) -> set[int]:
    """The statuses `role` may get from the page `url_name`: exactly the expected one for
    an established page, and for a new one anything but a server error (never a 200 for
    someone without a role)."""
    if url_name in ESTABLISHED:
        return {expected_status(url_name, role)}
    if role == "stranger":
        return NOT_SERVED
    return {200} | NOT_SERVED


def expected_status(url_name, role):
    if url_name == "user_invitation_accept":  # the walk's token is no invitation's
        return 404
    if url_name == "enrol":  # the walk's token is no enrolment link
        return 404
    if url_name in ("home", "two_factor"):  # everyone may set up two-factor sign-in
        return 200
    if url_name == "login_code":  # verified already, or never asked: sent on
        return 302
    if url_name in ("two_factor_remove", "recovery_codes"):  # one's own, by POST only
        return 405
    if role == "stranger":
        return 403
    if url_name == "person_merge":
        return 404  # the walk fills both people with one pk: nobody merges with themselves
    if url_name in IMPORT_OWN and role != "admin_user":
        return 404
    if url_name in CORE_WORK:
        if role == "organizer":
            return 403
        if role == "lead_b":
            return 404
    if url_name == "invite_person" and role == "organizer":
        return 403  # organizers record levels; inviting is a core lead's work
    if url_name in ("access_log", "alert_acknowledge"):  # audit.view_accesslog: superusers here
        if role != "admin_user":
            return 403
        return 405 if url_name == "alert_acknowledge" else 200
    if url_name == "people_export":  # the separate export permission: superusers here
        return 200 if role == "admin_user" else 403
    if url_name in ("retention_list", "retention_keep"):  # members.erase_person: superusers
        if role != "admin_user":
            return 403
        return 405 if url_name == "retention_keep" else 200
    if url_name in USER_INVITING:
        if role == "organizer":
            return 403
        if url_name == "user_invitation_revoke":
            return 405 if role == "admin_user" else 404
    if url_name in POST_ONLY:
        return 405
    return 200


@pytest.mark.usefixtures("one_of_everything", "core_b")
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_its_permissions_say(request, client, role):
    user = request.getfixturevalue(role)
    log_in(client, user)
    checked = 0
    for route, pattern in every_route():
        path = concrete_path(route, pattern)
        match = resolve(path)
        if match.url_name in OPEN or path.startswith("/static/"):
            continue
        response = client.get(path)
        if route.startswith("admin/"):
            if role != "admin_user":
                # Not staff: every admin page sends them to the admin's login.
                assert response.status_code == 302, path
                assert urlsplit(response["Location"]).path == "/admin/login/", path
            continue
        expected = acceptable_statuses(match.url_name, role)
        if match.url_name == "import_mapping" and expected == {200}:
            expected = {302}  # an import whose file is gone goes back to the start
        assert response.status_code in expected, (path, role, response.status_code)
        checked += 1
    assert checked >= 15
