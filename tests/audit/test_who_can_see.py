"""The person page's "Who can see this person" panel: for superusers only, who may open the
record, who may read its review notes, who opened it in the last 30 days; a fixed number
of queries whatever the number of users."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog, Action
from cores.models import ReviewNote
from cores.templatetags.note_readers import note_readers_of
from tests.factories import (
    AlignmentFactory,
    LeadFactory,
    MemberFactory,
    OrganizerFactory,
    ReviewNoteFactory,
    UserFactory,
)

PANEL = "Who can see this person"


@pytest.fixture
def person(core_a, core_b, lead_a):
    """A person with a review note of tendency A (by lead_a), and an alignment toward
    tendency B without notes."""
    member = MemberFactory(name="Assata Shakur")
    ReviewNoteFactory(
        alignment=AlignmentFactory(member=member, tendency=core_a.tendency), author=lead_a
    )
    AlignmentFactory(member=member, tendency=core_b.tendency)
    return member


@pytest.fixture
def cast(organizer, lead_a, lead_b, admin_user, stranger, core_a):
    """The standing cast plus: a former organizer (inactive), a user given the permission
    to view people on their own account, and a lead of core A without the leads' role."""
    former = OrganizerFactory(username="former", is_active=False)
    direct = UserFactory(username="dana")
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="members", codename="view_member")
    )
    roleless_lead = UserFactory(username="rolf")
    core_a.leads.add(roleless_lead)
    return {"former": former, "direct": direct, "roleless_lead": roleless_lead}


def person_page(client, person):
    return client.get(reverse("members:person_detail", args=[person.pk]))


@pytest.mark.parametrize("role", ["organizer", "lead_a", "lead_b", "stranger"])
def test_the_panel_is_for_superusers_only(request, as_user, person, role):
    user = request.getfixturevalue(role)
    response = person_page(as_user(user), person)
    assert PANEL not in response.content.decode()


def test_a_superuser_sees_who_can_open_the_record(as_user, admin_user, person, cast):
    response = person_page(as_user(admin_user), person)
    body = response.content.decode()
    assert PANEL in body
    panel = body.split(PANEL)[1].split("</section>")[0]
    viewers = [user.username for user in response.context["viewers"]]
    # Active holders of members.view_member (role or own permission) and superusers.
    assert viewers == ["alice", "bob", "dana", "olive", "root"]
    assert "Olive Organizer" in panel
    assert "charlie" not in panel


def test_note_readers_are_the_tendencys_leads_with_the_role_and_superusers(
    person, cast, admin_user, lead_a
):
    (group,) = note_readers_of(person)
    assert group["tendency"].name == "Democratic Front"
    assert [reader["pk"] for reader in group["readers"]] == [lead_a.pk, admin_user.pk]


def test_note_readers_agree_with_the_rule_that_shows_notes(person, cast):
    listed = {reader["pk"] for group in note_readers_of(person) for reader in group["readers"]}
    for user in get_user_model().objects.all():
        reads = ReviewNote.objects.visible_to(user).filter(alignment__member=person).exists()
        assert (user.pk in listed) == reads, user.username


def test_a_person_without_notes_says_so(as_user, admin_user):
    body = person_page(as_user(admin_user), MemberFactory()).content.decode()
    assert "No review notes on this person." in body


def test_who_opened_it_in_the_last_30_days(as_user, admin_user, organizer, lead_b, person):
    long_ago = timezone.now() - dt.timedelta(days=31)
    AccessLog.objects.create(
        user=lead_b,
        username="bob",
        action=Action.VIEW_PERSON,
        person_id=person.pk,
        created=long_ago,
    )
    client = as_user(organizer)
    person_page(client, person)
    person_page(client, person)
    response = person_page(as_user(admin_user), person)
    openers = {opener["username"]: opener["times"] for opener in response.context["openers"]}
    assert openers == {"olive": 2, "root": 1}
    panel = response.content.decode().split(PANEL)[1].split("</section>")[0]
    assert "Olive Organizer: 2 times" in panel


def render_panel(user, person):
    request = RequestFactory().get("/")
    request.user = user
    template = Template(
        "{% load audit_person note_readers %}{% who_can_see member %}{% note_readers member %}"
    )
    with CaptureQueriesContext(connection) as queries:
        template.render(Context({"request": request, "member": person}))
    return len(queries)


def test_the_panel_reads_five_queries_whatever_the_number_of_users(admin_user, person, core_a):
    # viewers; openers (grouped); tendencies with notes; their leads holding the role;
    # superusers
    assert render_panel(admin_user, person) == 5
    leads = LeadFactory.create_batch(15)
    core_a.leads.add(*leads)
    OrganizerFactory.create_batch(15)
    for user in leads:
        AccessLog.objects.create(user=user, action=Action.VIEW_PERSON, person_id=person.pk)
    assert render_panel(admin_user, person) == 5


def test_the_person_page_query_count_does_not_grow_with_users(as_user, admin_user, person, core_a):
    client = as_user(admin_user)
    person_page(client, person)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        person_page(client, person)
    leads = LeadFactory.create_batch(10)
    core_a.leads.add(*leads)
    OrganizerFactory.create_batch(10)
    for user in leads:
        AccessLog.objects.create(user=user, action=Action.VIEW_PERSON, person_id=person.pk)
    with CaptureQueriesContext(connection) as many:
        person_page(client, person)
    assert len(few) == len(many)
