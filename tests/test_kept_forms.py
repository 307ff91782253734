"""Nothing typed is lost (sos_tracker.kept_forms): a form sent after the session ended is
kept for its user for 30 minutes, once, and refilled after signing in again; never from
another site, never a password, a code or a token."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.session_middleware import LAST_SEEN_AT, SIGNED_IN_AT
from members.erasure import erase_person
from members.models import Member
from sos_tracker import kept_forms
from sos_tracker.models import KeptForm
from tests.accounts.helpers import PASSWORD, code_for, sign_in
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    InvitationFactory,
    MemberFactory,
    OrganizerFactory,
    SectorFactory,
)

ADD = "/people/add/"
OURS = {"headers": {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}}
NOTICE = "What you typed before your session ended is filled in below; check it and save."


def _end_session_by_idling(client):
    session = client.session
    session[LAST_SEEN_AT] = int(timezone.now().timestamp()) - 31 * 60
    session.save()


def _quick_add(**extra):
    return {
        "name": "Rosa Parks Typed",
        "email": "rosa.typed@example.org",
        "city": "Montgomery",
        "status": "prospect",
        "joining_story_kind": "other",
        "joining_story": "Typed before the session ended.",
        **extra,
    }


def _login_path(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response["Location"]).path


@pytest.fixture
def kept_for_organizer(client, organizer):
    """The organizer's quick add, sent 31 idle minutes after their last request."""
    log_in(client, organizer)
    _end_session_by_idling(client)
    response = client.post(ADD, _quick_add(), **OURS)
    assert _login_path(response) == "/login/"
    return response


# --- keeping ----------------------------------------------------------------------------


def test_a_form_sent_after_the_idle_timeout_is_kept_and_the_login_page_says_so(
    client, organizer, kept_for_organizer
):
    assert kept_for_organizer["Location"] == "/login/?next=/people/add/"
    kept = KeptForm.objects.get()
    assert kept.user == organizer
    assert kept.path == ADD
    assert kept.data["name"] == ["Rosa Parks Typed"]
    assert kept.expires_at - timezone.now() == pytest.approx(
        timedelta(minutes=30), abs=timedelta(seconds=10)
    )
    page = client.get(kept_for_organizer["Location"])
    assert "You were signed out after 30 minutes without activity." in page.text
    assert "What you typed was kept: sign in again within 30 minutes" in page.text


def test_signing_in_again_lands_on_the_form_filled_in_with_a_notice(
    client, organizer, kept_for_organizer
):
    response = sign_in(client, organizer, next_url=ADD)
    assert response["Location"] == ADD

    page = client.get(ADD)

    assert NOTICE in page.text
    form = page.context["form"]
    assert not form.is_bound
    assert form["name"].value() == "Rosa Parks Typed"
    assert form["email"].value() == "rosa.typed@example.org"
    assert form["joining_story"].value() == "Typed before the session ended."
    assert 'value="Rosa Parks Typed"' in page.text


def test_the_key_is_single_use(client, organizer, kept_for_organizer):
    sign_in(client, organizer, next_url=ADD)

    assert client.get(ADD).context["form"]["name"].value() == "Rosa Parks Typed"
    again = client.get(ADD)

    assert KeptForm.objects.count() == 0
    assert NOTICE not in again.text
    assert not again.context["form"]["name"].value()


def test_a_form_sent_after_the_absolute_limit_is_kept_too(client, organizer):
    log_in(client, organizer)
    session = client.session
    session[SIGNED_IN_AT] = int(timezone.now().timestamp()) - 13 * 3600
    session.save()

    response = client.post(ADD, _quick_add(), **OURS)

    assert response["Location"] == "/login/?next=/people/add/"
    assert KeptForm.objects.get().user == organizer


def test_a_log_out_in_another_tab_binds_the_form_to_who_logged_out(client, organizer):
    log_in(client, organizer)
    client.post("/logout/")

    response = client.post(ADD, _quick_add(), **OURS)

    assert _login_path(response) == "/login/"
    assert KeptForm.objects.get().user == organizer
    sign_in(client, organizer, next_url=ADD)
    assert client.get(ADD).context["form"]["city"].value() == "Montgomery"


def test_another_user_signing_in_gets_nothing(client, organizer, kept_for_organizer):
    colleague = OrganizerFactory()

    sign_in(client, colleague, next_url=ADD)
    page = client.get(ADD)

    assert NOTICE not in page.text
    assert not page.context["form"]["name"].value()
    assert "Rosa Parks Typed" not in page.text
    # Unreachable from now on (the pointer was in this browser's session): deleted.
    assert KeptForm.objects.count() == 0


def test_an_expired_form_is_not_filled_in_and_is_deleted(client, organizer, kept_for_organizer):
    KeptForm.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    sign_in(client, organizer, next_url=ADD)
    page = client.get(ADD)

    assert NOTICE not in page.text
    assert not page.context["form"]["name"].value()
    assert KeptForm.objects.count() == 0


def test_expired_forms_of_anyone_are_deleted_at_the_next_keep_and_sign_in(
    client, organizer, kept_for_organizer
):
    stale = KeptForm.objects.create(
        key="old",
        user=OrganizerFactory(),
        path=ADD,
        data={"name": ["x"]},
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    sign_in(client, organizer, next_url=ADD)
    assert not KeptForm.objects.filter(pk=stale.pk).exists()

    stale.pk = None
    stale.save()
    _end_session_by_idling(client)
    client.post(ADD, _quick_add(), **OURS)
    assert list(KeptForm.objects.values_list("key", flat=True)) != ["old"]
    assert not KeptForm.objects.filter(key="old").exists()


def test_a_second_form_sent_to_the_same_page_replaces_the_first(client, organizer):
    log_in(client, organizer)
    client.post("/logout/")
    client.post(ADD, _quick_add(name="First try"), **OURS)

    client.post(ADD, _quick_add(name="Second try"), **OURS)

    assert KeptForm.objects.get().data["name"] == ["Second try"]


# --- what is never kept -----------------------------------------------------------------


def test_passwords_codes_tokens_and_the_csrf_token_are_never_stored(client, organizer):
    log_in(client, organizer)
    client.post("/logout/")
    secrets = {
        "password": "hunter2-hunter2",
        "new_password1": "s3cret-one",
        "old_password": "s3cret-two",
        "otp_token": "123456",
        "code": "654321",
        "recovery-code": "abcd-efgh",
        "secret": "JBSWY3DPEHPK3PXP",
        "api_key": "k-123",
        "pin": "0000",
        "csrfmiddlewaretoken": "x" * 64,
    }

    client.post(ADD, _quick_add(**secrets), **OURS)

    stored = KeptForm.objects.get().data
    assert set(stored) == set(_quick_add())
    for value in secrets.values():
        assert value not in str(stored)


def test_a_field_any_form_renders_as_a_password_is_dropped_whatever_its_name():
    class PassphraseForm(forms.Form):
        phrase = forms.CharField(widget=forms.PasswordInput)

    data = QueryDict("phrase=open-sesame&name=Ana")

    assert PassphraseForm.base_fields  # declared: every Form subclass is looked at
    assert kept_forms.keepable_fields(data) == {"name": ["Ana"]}


def test_files_are_never_kept(client, organizer):
    log_in(client, organizer)
    client.post("/logout/")
    upload = SimpleUploadedFile("people.csv", b"name\nAna Diaz\n", content_type="text/csv")
    client.post("/people/import/", {"file": upload, "note": "kept"}, **OURS)

    kept = KeptForm.objects.get()
    assert "file" not in kept.data
    assert "Ana Diaz" not in str(kept.data)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/people/add/"},
        {"Referer": "http://testserver.evil.example/people/add/"},
        # Same host, but the Origin says another site: every header present must agree.
        {"Referer": "http://testserver/people/add/", "Origin": "https://evil.example"},
        # A script that sends none of them.
        {},
    ],
)
def test_a_post_not_from_our_own_pages_is_never_kept(client, organizer, headers):
    log_in(client, organizer)
    client.post("/logout/")

    response = client.post(ADD, _quick_add(), headers=headers)

    assert _login_path(response) == "/login/"
    assert KeptForm.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Referer": "http://testserver/people/add/"},
    ],
)
def test_a_post_from_our_own_pages_is_kept(client, organizer, headers):
    log_in(client, organizer)
    client.post("/logout/")

    client.post(ADD, _quick_add(), headers=headers)

    assert KeptForm.objects.count() == 1


def test_a_post_with_no_ended_session_behind_it_keeps_nothing(client, db):
    # Nobody signed out in this browser: a script, or a browser that lost its cookies.
    response = client.post(ADD, _quick_add(), **OURS)

    assert _login_path(response) == "/login/"
    assert KeptForm.objects.count() == 0


def test_the_admins_forms_are_not_kept(client, admin_user):
    log_in(client, admin_user)
    client.post("/logout/")

    client.post("/admin/members/member/add/", _quick_add(), **OURS)

    assert KeptForm.objects.count() == 0


def test_a_form_with_nothing_but_a_code_keeps_nothing(client, organizer):
    log_in(client, organizer)
    client.post("/logout/")

    client.post("/account/two-factor/", {"code": "123456", "secret": "abc"}, **OURS)

    assert KeptForm.objects.count() == 0


# --- the second factor --------------------------------------------------------------------


def test_the_form_comes_back_after_the_code_step_too(client, lead_a):
    device = TOTPDevice.objects.create(user=lead_a, name="Phone", confirmed=True)
    log_in(client, lead_a)
    _end_session_by_idling(client)
    client.post(ADD, _quick_add(), **OURS)

    step = sign_in(client, lead_a, next_url=ADD)
    assert urlsplit(step["Location"]).path == "/login/code/"
    done = client.post(step["Location"], {"code": code_for(device)})
    assert done["Location"] == ADD

    page = client.get(ADD)
    assert NOTICE in page.text
    assert page.context["form"]["name"].value() == "Rosa Parks Typed"


# --- restoring in several forms --------------------------------------------------------------


def test_sectors_and_choices_come_back_as_ticked(client, organizer):
    housing, labor = SectorFactory(name="Housing kept"), SectorFactory(name="Labor kept")
    log_in(client, organizer)
    client.post("/logout/")
    client.post(ADD, _quick_add(sectors=[housing.pk, labor.pk], status="member"), **OURS)

    sign_in(client, organizer, next_url=ADD)
    form = client.get(ADD).context["form"]

    assert sorted(form["sectors"].value()) == sorted([str(housing.pk), str(labor.pk)])
    assert form["status"].value() == "member"


# --- a CSRF token a sign-in replaced ----------------------------------------------------------


def _token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def old_tab(organizer):
    """A client that checks CSRF like a browser, with the organizer's quick add open in a
    tab whose CSRF token a later sign-in replaced (log out, sign in again elsewhere)."""
    browser = Client(enforce_csrf_checks=True)
    sign_in_page = browser.get("/login/")
    browser.post(
        "/login/",
        {"username": organizer.username, "password": PASSWORD, **_csrf(sign_in_page)},
    )
    form_page = browser.get(ADD)
    old_token = _token(form_page)
    browser.post("/logout/", _csrf(form_page), **OURS)
    again = browser.get("/login/")
    browser.post("/login/", {"username": organizer.username, "password": PASSWORD, **_csrf(again)})
    return browser, old_token


def _csrf(page) -> dict:
    return {"csrfmiddlewaretoken": _token(page)}


def test_a_form_whose_token_a_sign_in_replaced_comes_back_at_once(old_tab):
    browser, old_token = old_tab

    response = browser.post(ADD, _quick_add(csrfmiddlewaretoken=old_token), **OURS)

    assert response.status_code == 302
    assert response["Location"] == ADD
    page = browser.get(ADD)
    assert NOTICE in page.text
    assert page.context["form"]["name"].value() == "Rosa Parks Typed"


def test_signed_out_again_the_form_comes_back_after_sign_in(old_tab, organizer):
    browser, old_token = old_tab
    browser.post("/logout/", _csrf(browser.get(ADD)), **OURS)

    response = browser.post(ADD, _quick_add(csrfmiddlewaretoken=old_token), **OURS)

    assert response["Location"] == "/login/?next=/people/add/"
    again = browser.get("/login/")
    browser.post(
        "/login/?next=/people/add/",
        {"username": organizer.username, "password": PASSWORD, **_csrf(again)},
    )
    assert browser.get(ADD).context["form"]["email"].value() == "rosa.typed@example.org"


def test_a_csrf_failure_from_another_site_gets_the_failure_page(old_tab):
    browser, old_token = old_tab

    response = browser.post(
        ADD,
        _quick_add(csrfmiddlewaretoken=old_token),
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 403
    assert KeptForm.objects.count() == 0


def test_a_csrf_failure_on_someone_elses_form_is_not_kept(old_tab):
    browser, old_token = old_tab
    # The organizer logs out; a colleague signs in on the same browser.
    browser.post("/logout/", _csrf(browser.get(ADD)), **OURS)
    colleague = OrganizerFactory()
    page = browser.get("/login/")
    browser.post("/login/", {"username": colleague.username, "password": PASSWORD, **_csrf(page)})

    response = browser.post(ADD, _quick_add(csrfmiddlewaretoken=old_token), **OURS)

    assert response.status_code == 403
    assert KeptForm.objects.count() == 0


# --- every app form refills -------------------------------------------------------------------


def _person_edit(request):
    member = MemberFactory(name="Ana Diaz", city="Austin")
    return (
        request.getfixturevalue("organizer"),
        f"/people/{member.pk}/edit/",
        {
            "name": "Ana Díaz Typed",
            "city": "Austin",
            "status": member.status,
            "joining_story_kind": member.joining_story_kind,
            "edit_version": str(member.version),
        },
        "form",
        {"name": "Ana Díaz Typed", "edit_version": str(member.version)},
    )


def _check_in(request):
    member = MemberFactory()
    return (
        request.getfixturevalue("organizer"),
        f"/people/{member.pk}/check-in/",
        {"checked_on": "2026-03-01", "strategic_skills": "4", "note": "Typed check-in note"},
        "form",
        {"note": "Typed check-in note", "strategic_skills": "4", "checked_on": "2026-03-01"},
    )


def _review(request):
    core = request.getfixturevalue("core_a")
    alignment = AlignmentFactory(tendency=core.tendency)
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/review/{alignment.pk}/",
        {"level": "aligned", "note": "Typed review note", "expected_version": "1"},
        "form",
        {"level": "aligned", "note": "Typed review note"},
    )


def _state_alignment(request):
    tendency = request.getfixturevalue("tendency_a")
    member = MemberFactory()
    return (
        request.getfixturevalue("organizer"),
        f"/people/{member.pk}/alignment/",
        {"tendency": str(tendency.pk), "level": "leaning", "stated_on": "2026-02-02"},
        "form",
        {"tendency": str(tendency.pk), "level": "leaning"},
    )


def _invitation_follow_up(request):
    core = request.getfixturevalue("core_a")
    invitation = InvitationFactory(core=core)
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/invitations/{invitation.pk}/",
        {"action": "follow_up", "note": "Typed follow-up note", "next_step_on": "2026-04-04"},
        "follow_up_form",
        {"note": "Typed follow-up note", "next_step_on": "2026-04-04"},
    )


def _invitation_move(request):
    core = request.getfixturevalue("core_a")
    invitation = InvitationFactory(core=core)
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/invitations/{invitation.pk}/",
        {"action": "move", "stage": "invited", "reason": "Typed move reason"},
        "move_form",
        {"stage": "invited", "reason": "Typed move reason"},
    )


def _invitation_add(request):
    core = request.getfixturevalue("core_a")
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/invitations/add/",
        {"action": "add", **_quick_add()},
        "form",
        {"name": "Rosa Parks Typed", "city": "Montgomery"},
    )


def _invite_person(request):
    core = request.getfixturevalue("core_a")
    member = MemberFactory()
    request.getfixturevalue("core_b").leads.add(request.getfixturevalue("lead_a"))
    return (
        request.getfixturevalue("lead_a"),
        f"/people/{member.pk}/invite/",
        {"core": core.slug, "note": "Typed invitation note"},
        "form",
        {"note": "Typed invitation note"},
    )


def _phase_advance(request):
    core = request.getfixturevalue("core_a")
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/phase/next/",
        {"reason": "Typed phase reason", "to_phase": "engaging", "from_phase": "cohering"},
        "form",
        {"reason": "Typed phase reason"},
    )


def _milestone_done(request):
    core = request.getfixturevalue("core_a")
    milestone = core.milestones.filter(phase=core.phase).first()
    return (
        request.getfixturevalue("lead_a"),
        f"/cores/{core.slug}/milestones/{milestone.pk}/done/",
        {"done_on": "2026-05-05", "note": "Typed milestone note", "version": "1"},
        "form",
        {"note": "Typed milestone note", "done_on": "2026-05-05"},
    )


def _user_invitation(request):
    return (
        request.getfixturevalue("admin_user"),
        "/account/invitations/",
        {"email": "typed.invitee@example.org", "name": "Typed Invitee", "role": "organizer"},
        "form",
        {"email": "typed.invitee@example.org"},
    )


@pytest.mark.parametrize(
    "case",
    [
        _person_edit,
        _check_in,
        _review,
        _state_alignment,
        _invitation_follow_up,
        _invitation_move,
        _invitation_add,
        _invite_person,
        _phase_advance,
        _milestone_done,
        _user_invitation,
    ],
    ids=lambda case: case.__name__.strip("_"),
)
def test_every_app_form_comes_back_filled_in(db, client, request, case):
    user, path, data, form_name, expected = case(request)
    log_in(client, user)
    client.post("/logout/")

    response = client.post(path, data, **OURS)

    assert _login_path(response) == "/login/"
    assert KeptForm.objects.get().path == path
    log_in(client, user)
    page = client.get(path)
    assert page.status_code == 200
    assert NOTICE in page.text
    form = page.context[form_name]
    assert {name: form[name].value() for name in expected} == expected
    assert KeptForm.objects.count() == 0


# --- a stale edit and a duplicate warning keep what was typed too --------------------------------


def _form_as_post(form) -> dict:
    """What a browser sends for `form` as rendered (its values, the hidden ones included)."""
    values = {name: form[name].value() for name in form.fields}
    return {name: value for name, value in values.items() if value is not None}


def test_a_stale_edit_sent_after_the_session_ended_is_refused_with_the_input_kept(
    client, organizer, lead_a
):
    person = MemberFactory(city="Oakland", phone="(555) 010-2233")
    url = f"/people/{person.pk}/edit/"
    log_in(client, organizer)
    mine = _form_as_post(client.get(url).context["form"]) | {"phone": "(555) 999-0000"}
    client.post("/logout/")
    client.post(url, mine, **OURS)
    # Meanwhile a colleague saves the person from their own form.
    other = Client()
    log_in(other, lead_a)
    theirs = _form_as_post(other.get(url).context["form"]) | {"city": "Detroit"}
    assert other.post(url, theirs).status_code == 302

    log_in(client, organizer)
    refilled = client.get(url).context["form"]
    assert refilled["phone"].value() == "(555) 999-0000"
    response = client.post(url, _form_as_post(refilled))

    assert response.status_code == 200
    form = response.context["form"]
    assert "Someone else saved this person" in form.non_field_errors()[0]
    assert form["phone"].value() == "(555) 999-0000"
    assert form["city"].value() == "Detroit"
    person.refresh_from_db()
    assert (person.phone, person.city) == ("(555) 010-2233", "Detroit")


def test_a_quick_add_stopped_by_a_duplicate_warning_keeps_its_values_through_a_session_end(
    client, organizer
):
    MemberFactory(name="José García", city="Oakland", email="")
    log_in(client, organizer)
    data = _quick_add(name="Jose Garcia", city="Oakland", email="other@example.org")
    warned = client.post(ADD, data)
    assert warned.context["weak"]
    assert warned.context["form"]["name"].value() == "Jose Garcia"
    client.post("/logout/")
    client.post(ADD, {**data, "confirm_different": "yes"}, **OURS)

    log_in(client, organizer)
    page = client.get(ADD)

    assert page.context["form"]["name"].value() == "Jose Garcia"
    assert page.context["form"]["email"].value() == "other@example.org"
    assert not Member.objects.filter(email="other@example.org").exists()
    # Sent again it is weighed again: a session end never turns into a silent "add anyway".
    again = client.post(ADD, _form_as_post(page.context["form"]))
    assert again.status_code == 200
    assert again.context["weak"]


def test_erasing_a_person_sweeps_their_details_from_kept_forms(client, organizer, admin_user):
    person = MemberFactory(name="Zebulon Keptfield", email="zeb.kept@privacy.example")
    log_in(client, organizer)
    client.post("/logout/")
    client.post(
        f"/people/{person.pk}/edit/",
        {"name": "Zebulon Keptfield", "email": "zeb.kept@privacy.example", "note": "x"},
        **OURS,
    )

    erase_person(person, by=admin_user, reason="Asked")

    kept = str(KeptForm.objects.get().data)
    assert "Keptfield" not in kept
    assert "zeb.kept" not in kept


def test_a_form_page_with_nothing_kept_asks_the_database_nothing_more(client, organizer):
    log_in(client, organizer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ADD).status_code == 200

    assert not [q for q in queries.captured_queries if "keptform" in q["sql"].lower()]
