"""User invitations: the only way in. Who may invite whom, a link that works once for
7 days, revoking, and an accept page that writes nothing until the form is sent."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import invitations
from accounts.models import InvitedRole, UserInvitation
from sos_tracker.roles import CORE_LEADS, ORGANIZERS
from tests.auth import log_in
from tests.test_auth import every_route

LIST = "/account/invitations/"
GOOD_PASSWORD = "a-long-and-unusual-passphrase-42"
User = get_user_model()


def _invite(by, *, core, role=InvitedRole.CORE_LEAD, email="nia@example.org"):
    return invitations.create_invitation(email=email, name="Nia Reyes", role=role, core=core, by=by)


def _accept_path(token):
    return reverse("user_invitation_accept", args=[token])


def _link_on(response) -> str:
    match = re.search(r'value="(http://testserver/join/[^"]+/)"', response.text)
    assert match, "no invitation link on the page"
    return match.group(1).removeprefix("http://testserver")


def _accept(client, path, username="nia"):
    return client.post(
        path, {"username": username, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    )


# --- who may invite whom -------------------------------------------------------------


def test_admin_invites_a_lead_of_any_core_and_the_link_is_shown_and_emailed(
    client, admin_user, core_a, core_b
):
    log_in(client, admin_user)

    response = client.post(
        LIST,
        {"email": "Nia@Example.org ", "name": "Nia  Reyes", "role": "core_lead", "core": core_b.pk},
    )

    assert response.status_code == 200
    invitation = UserInvitation.objects.get()
    assert (invitation.email, invitation.name, invitation.core) == (
        "nia@example.org",
        "Nia Reyes",
        core_b,
    )
    assert invitation.created_by == admin_user
    assert invitation.created_at is not None
    path = _link_on(response)
    token = path.split("/")[2]
    # Only the digest is kept: the token is in no column of the row.
    assert invitation.token_hash == invitations.hash_token(token) != token
    row = UserInvitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    # E-mailed (the test backend counts as configured), naming no core or inviter.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nia@example.org"]
    assert f"http://testserver{path}" in mail.outbox[0].body
    assert core_b.name not in mail.outbox[0].body
    assert admin_user.get_full_name() not in mail.outbox[0].body


def test_without_a_mail_server_the_link_is_only_shown(client, admin_user, core_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    log_in(client, admin_user)

    response = client.post(LIST, {"email": "nia@example.org", "name": "Nia", "role": "organizer"})

    assert _link_on(response)
    assert "It was not e-mailed" in response.text
    assert mail.outbox == []


def test_lead_invites_a_co_lead_and_an_organizer_for_their_own_core(client, lead_a, core_a):
    log_in(client, lead_a)

    for email, role in (("co@example.org", "core_lead"), ("helper@example.org", "organizer")):
        response = client.post(
            LIST, {"email": email, "name": "Someone", "role": role, "core": core_a.pk}
        )
        assert response.status_code == 200
        assert _link_on(response)

    assert set(UserInvitation.objects.values_list("role", "core", "created_by")) == {
        ("core_lead", core_a.pk, lead_a.pk),
        ("organizer", core_a.pk, lead_a.pk),
    }


def test_lead_cannot_invite_for_the_other_core(client, lead_a, core_a, core_b):
    log_in(client, lead_a)

    response = client.post(
        LIST, {"email": "x@example.org", "name": "X", "role": "core_lead", "core": core_b.pk}
    )

    # The other core is not among the choices: refused on "Core", what was typed kept.
    assert response.status_code == 200
    assert response.context["form"].errors["core"]
    assert 'value="x@example.org"' in response.text
    assert not UserInvitation.objects.exists()
    # And the service refuses it whoever calls it.
    with pytest.raises(ValidationError) as refused:
        _invite(lead_a, core=core_b)
    assert "core" in refused.value.message_dict


@pytest.mark.parametrize(
    "bad",
    [
        {"core": "99999999999999999999999"},
        {"core": "abc"},
        {"role": "superuser"},
        {"email": "not an address"},
        {"name": "x" * 151},
    ],
)
def test_bad_input_is_refused_on_its_field_never_a_server_error(client, admin_user, bad):
    log_in(client, admin_user)
    data = {"email": "x@example.org", "name": "X", "role": "core_lead", "core": ""} | bad

    response = client.post(LIST, data)

    assert response.status_code == 200
    assert set(bad) <= set(response.context["form"].errors)
    assert not UserInvitation.objects.exists()


def test_lead_cannot_invite_an_organizer_without_a_core(lead_a, core_a):
    with pytest.raises(ValidationError) as refused:
        _invite(lead_a, core=None, role=InvitedRole.ORGANIZER)
    assert "core" in refused.value.message_dict


@pytest.mark.parametrize("role", ["organizer", "stranger"])
def test_only_admins_and_leads_may_invite(request, client, core_a, role):
    log_in(client, request.getfixturevalue(role))

    assert client.get(LIST).status_code == 403
    response = client.post(LIST, {"email": "x@example.org", "name": "X", "role": "organizer"})
    assert response.status_code == 403
    assert not UserInvitation.objects.exists()


def test_an_address_already_a_user_or_invited_is_refused_on_email(lead_a, core_a, organizer):
    with pytest.raises(ValidationError) as taken:
        _invite(lead_a, core=core_a, email=organizer.email.upper())
    assert "email" in taken.value.message_dict

    _invite(lead_a, core=core_a)
    with pytest.raises(ValidationError) as waiting:
        _invite(lead_a, core=core_a)
    assert "already has an invitation waiting" in waiting.value.message_dict["email"][0]


# --- the inviter's list and revoking ---------------------------------------------------


def test_lead_sees_own_cores_pending_invitations_only(client, lead_a, lead_b, core_a, core_b):
    _invite(lead_a, core=core_a, email="ours@example.org")
    _invite(lead_b, core=core_b, email="theirs@example.org")
    log_in(client, lead_a)

    response = client.get(LIST)

    assert "ours@example.org" in response.text
    assert "theirs@example.org" not in response.text


def test_the_list_reads_the_same_queries_for_any_number_of_invitations(client, lead_a, core_a):
    def invite(count):
        for n in range(count):
            invitation, _ = _invite(lead_a, core=core_a, email=f"p{count}-{n}@example.org")
            if n % 2:
                invitations.revoke_invitation(invitation, by=lead_a)

    log_in(client, lead_a)
    invite(2)
    client.get(LIST)  # warms per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    invite(10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)

    assert response.context["pending"].count() == 6
    assert len(many) == len(few)


def test_revoking_closes_the_link_and_records_who_and_when(client, lead_a, core_a):
    invitation, token = _invite(lead_a, core=core_a)
    log_in(client, lead_a)

    response = client.post(reverse("user_invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_by == lead_a
    assert invitation.revoked_at is not None
    client.logout()
    response = client.get(_accept_path(token))
    assert response.status_code == 404
    assert "This link does not work" in response.text
    assert _accept(client, _accept_path(token)).status_code == 404
    assert not User.objects.filter(username="nia").exists()


def test_lead_cannot_revoke_the_other_cores_invitation(client, lead_a, lead_b, core_a, core_b):
    invitation, _ = _invite(lead_b, core=core_b)
    log_in(client, lead_a)

    assert client.post(reverse("user_invitation_revoke", args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_admin_revokes_from_the_admin(client, admin_user, lead_a, core_a):
    invitation, _ = _invite(lead_a, core=core_a)
    log_in(client, admin_user)
    changelist = reverse("admin:accounts_userinvitation_changelist")

    page = client.get(changelist).text
    assert "Nia Reyes" in page
    assert f'href="{LIST}"' in page  # new invitations are made on the app's page
    client.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]})

    invitation.refresh_from_db()
    assert invitation.revoked_by == admin_user


# --- accepting -------------------------------------------------------------------------


def test_accepting_makes_a_lead_of_the_core_and_sends_them_to_sign_in(client, lead_a, core_a):
    invitation, token = _invite(lead_a, core=core_a)

    response = _accept(client, _accept_path(token))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    user = User.objects.get(username="nia")
    assert user.check_password(GOOD_PASSWORD)
    assert (user.email, user.first_name, user.last_name) == ("nia@example.org", "Nia", "Reyes")
    assert list(user.groups.values_list("name", flat=True)) == [CORE_LEADS]
    assert list(user.led_cores.all()) == [core_a]
    assert not user.is_staff
    assert not user.is_superuser
    invitation.refresh_from_db()
    assert invitation.accepted_user == user
    assert invitation.accepted_at is not None


def test_an_accepted_lead_signs_in_and_may_set_up_the_second_factor(client, lead_a, core_a):
    _, token = _invite(lead_a, core=core_a)
    _accept(client, _accept_path(token))

    response = client.post(
        reverse("login"), {"username": "nia", "password": GOOD_PASSWORD}, follow=True
    )

    # Sent to the set-up page, which offers the QR code: the invitation stood in for an
    # admin's enrolment link.
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor"))
    assert response.context["qr_svg"]


def test_accepting_an_organizer_invitation_joins_organizers(client, admin_user):
    _, token = _invite(admin_user, core=None, role=InvitedRole.ORGANIZER)

    _accept(client, _accept_path(token))

    user = User.objects.get(username="nia")
    assert list(user.groups.all()) == [Group.objects.get(name=ORGANIZERS)]
    assert not user.led_cores.exists()


def test_a_link_works_once(client, lead_a, core_a):
    _, token = _invite(lead_a, core=core_a)
    _accept(client, _accept_path(token))

    assert client.get(_accept_path(token)).status_code == 404
    assert _accept(client, _accept_path(token), username="nia2").status_code == 404
    assert User.objects.filter(email="nia@example.org").count() == 1


def test_a_link_works_for_7_days(client, lead_a, core_a):
    invitation, token = _invite(lead_a, core=core_a)
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)

    def made_ago(delta):
        # Time passes: move the invitation's moments back rather than the clock.
        UserInvitation.objects.filter(pk=invitation.pk).update(
            created_at=invitation.created_at - delta, expires_at=invitation.expires_at - delta
        )

    made_ago(dt.timedelta(days=6, hours=23))
    assert client.get(_accept_path(token)).status_code == 200
    made_ago(dt.timedelta(days=7, minutes=1))
    assert client.get(_accept_path(token)).status_code == 404
    assert _accept(client, _accept_path(token)).status_code == 404
    assert not User.objects.filter(username="nia").exists()


def test_a_made_up_link_gets_the_same_page_as_a_used_one(client, db):
    response = client.get(_accept_path("not-a-real-token"))

    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_opening_the_link_writes_nothing(client, lead_a, core_a):
    _, token = _invite(lead_a, core=core_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(_accept_path(token))

    assert response.status_code == 200
    assert "Welcome, Nia Reyes" in response.text
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert "sessionid" not in response.cookies


def test_a_weak_password_is_refused_on_its_field_and_the_user_name_kept(client, lead_a, core_a):
    _, token = _invite(lead_a, core=core_a)

    response = client.post(
        _accept_path(token), {"username": "nia", "password1": "nia", "password2": "nia"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert 'value="nia"' in response.text
    assert not User.objects.filter(username="nia").exists()


def test_a_taken_user_name_is_refused_on_its_field(client, lead_a, core_a, organizer):
    _, token = _invite(lead_a, core=core_a)

    response = _accept(client, _accept_path(token), username=organizer.username.upper())

    assert response.context["form"].errors["username"]


def test_a_signed_in_user_is_not_offered_the_form(client, lead_a, core_a, organizer):
    _, token = _invite(lead_a, core=core_a)
    log_in(client, organizer)

    response = client.get(_accept_path(token))

    assert "Log out first" in response.text
    assert "form" not in response.context


def test_there_is_no_open_sign_up():
    """Besides signing in (the site's and the admin's login pages) and an admin's enrolment
    link, only the invitation link opens without an account: no sign-up page exists."""
    open_views = {
        pattern.name
        for _, pattern in every_route()
        if getattr(pattern.callback, "login_required", True) is False
    }

    # set_language: the language switch, also on the login page (a POST; it shows nothing).
    assert open_views == {"login", "enrol", "user_invitation_accept", "set_language"}
    for route, _ in every_route():
        assert not re.search(r"sign.?up|register", route, re.IGNORECASE), route
