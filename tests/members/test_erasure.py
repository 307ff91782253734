"""Erasing a person on request (members.erasure, cores.erasure, the admin's erase page)."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from cores.models import Alignment, Invitation, InvitationStage, ReviewNote
from cores.services import add_review_note, invite_to_core, move_invitation, state_alignment
from members.duplicates import find_duplicates
from members.erasure import erase_person, stub_name
from members.merging import merge_people
from members.models import (
    CapacityCheckIn,
    Erasure,
    ImportRecord,
    ImportRow,
    Member,
    MemberStatus,
    MergeRecord,
)
from members.services import record_check_in
from tests.factories import MemberFactory, MilestoneFactory, SectorFactory

NAME = "Zebulon Quarterfield"
OLD_NAME = "Zebulon Q. Fieldstone"
PREFERRED = "Zebby Quarter"
EMAIL = "zebulon.q@privacy.example"
OLD_EMAIL = "zq.old@privacy.example"
OTHER_RECORD_EMAIL = "zeb.duplicate@privacy.example"
PHONE = "(512) 555-0199"
OLD_PHONE = "+1 737 555 0142"
OWN_WORDS = "Came from the Quarterfield tenants union fight"
NOTE = "Prefers Signal; lives near the rail yard"
# Everything that must be gone from every table afterwards.
SECRETS = [
    NAME,
    OLD_NAME,
    PREFERRED,
    EMAIL,
    OLD_EMAIL,
    OTHER_RECORD_EMAIL,
    PHONE,
    OLD_PHONE,
    OWN_WORDS,
    NOTE,
    "5125550199",
]


def _save(member, by, **fields):
    for name, value in fields.items():
        setattr(member, name, value)
    member._history_user = by
    member.save()


@pytest.fixture
def person(db, admin_user, organizer, core_a, tendency_a, lead_a):
    """A prospect with a past: renamed, re-addressed, merged with a second record of theirs,
    checked in, invited, aligned with a review note, imported, mentioned by others."""
    housing = SectorFactory(name="Housing", slug="housing")
    member = MemberFactory(
        name=OLD_NAME,
        email=OLD_EMAIL,
        phone=OLD_PHONE,
        city="Austin",
        region="TX",
        status=MemberStatus.PROSPECT,
        joining_story=OWN_WORDS,
        note=NOTE,
        sectors=[housing],
    )
    _save(member, organizer, name=NAME, preferred_name=PREFERRED, email=EMAIL, phone=PHONE)
    duplicate = MemberFactory(
        name=NAME, email=OTHER_RECORD_EMAIL, phone="", city="Austin", note="second record"
    )
    record_check_in(
        duplicate,
        by=organizer,
        strategic_skills=2,
        political_organizing_skills=3,
        social_emotional_capacities=4,
        organization_building_skills=2,
        note=f"{NAME} led the door-knocking",
    )
    merge_people(member, duplicate, by=admin_user)
    member.refresh_from_db()
    record_check_in(
        member,
        by=organizer,
        strategic_skills=3,
        political_organizing_skills=3,
        social_emotional_capacities=3,
        organization_building_skills=3,
        note=f"Call {PHONE} after 6pm",
    )
    invitation = invite_to_core(core_a, member, by=lead_a, note=f"Ask {PREFERRED} about housing")
    move_invitation(invitation, InvitationStage.INVITED, by=lead_a)
    alignment = state_alignment(member, tendency_a, "exploring", by=organizer)
    add_review_note(alignment, by=lead_a, body=f"{NAME} is close to the strategy drafts")
    MilestoneFactory(core=core_a, note=f"Strategy draft reviewed with {NAME}")
    # Someone else's record and history mention them.
    friend = MemberFactory(name="Ruth Okonkwo-Bell", note="")
    _save(friend, organizer, note=f"Came with {NAME} ({EMAIL})")
    record = ImportRecord.objects.create(
        filename="people.csv",
        uploaded_by=organizer,
        sha256="0" * 64,
        sheet={"rows": [[2, [NAME, EMAIL, PHONE]]]},
    )
    # An upload not imported yet keeps its file.
    ImportRecord.objects.create(
        filename="later.csv",
        uploaded_by=organizer,
        sha256="1" * 64,
        content=f"Name,Email,Phone\n{NAME},{EMAIL},{PHONE}\n".encode(),
    )
    ImportRow.objects.create(
        record=record,
        number=2,
        cells=[NAME, EMAIL, PHONE, "ignored column"],
        action="update",
        values={"name": NAME, "email": EMAIL},
        changes={"phone": [OLD_PHONE, PHONE]},
        member=member,
    )
    LogEntry.objects.log_actions(
        user_id=admin_user.pk,
        queryset=Member.objects.filter(pk=member.pk),
        action_flag=CHANGE,
        change_message="Changed email.",
    )
    member.refresh_from_db()
    return member


def _counts():
    return {
        "people": Member.objects.count(),
        "prospects": Member.objects.filter(status=MemberStatus.PROSPECT).count(),
        "check-ins": CapacityCheckIn.objects.count(),
        "invited": Invitation.objects.filter(stage=InvitationStage.INVITED).count(),
        "alignments": Alignment.objects.count(),
        "review notes": ReviewNote.objects.count(),
        "housing": Member.objects.filter(sectors__slug="housing").count(),
    }


def _where_in_database(texts: list[str]) -> dict[str, list[str]]:
    """For each of `texts`, every table and column of the database (history, admin log,
    tasks, access log, search index...) whose value holds it, case aside: read with SQL,
    every column cast to text, not through the models."""
    found = {text: [] for text in texts}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            quoted = [connection.ops.quote_name(column) for column in columns]
            if connection.vendor == "postgresql":
                quoted = [f"CAST({column} AS TEXT)" for column in quoted]
            cursor.execute(f"SELECT {', '.join(quoted)} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    # SQLite hands blobs (an upload, the search index's pages) over as bytes.
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    value = str(value if value is not None else "").lower()
                    for text in texts:
                        if text.lower() in value and f"{table}.{column}" not in found[text]:
                            found[text].append(f"{table}.{column}")
    return found


def test_erasure_leaves_no_name_email_phone_or_words_in_any_table(person, admin_user):
    before = _where_in_database(SECRETS)
    assert all(before.values()), f"the fixture should have put each secret somewhere: {before}"

    erase_person(person, by=admin_user, reason=f"Asked by email from {EMAIL} on 3 March")

    assert _where_in_database(SECRETS) == {secret: [] for secret in SECRETS}
    # Bytes too (PostgreSQL's CAST of bytea to text above shows hex, not the text).
    upload = bytes(ImportRecord.objects.get(filename="later.csv").content)
    stub = stub_name(person.pk)
    assert upload == f"Name,Email,Phone\n{stub},{stub},{stub}\n".encode()


def test_erased_person_is_an_anonymous_stub_and_every_count_stays(person, admin_user):
    before = _counts()
    joined_on, kind = person.joined_on, person.joining_story_kind

    erasure = erase_person(person, by=admin_user, reason="Asked in person")

    assert _counts() == before
    person.refresh_from_db()
    assert person.name == stub_name(person.pk) == f"Erased person #{person.pk}"
    assert (person.email, person.phone, person.city, person.joining_story, person.note) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert (person.status, person.joining_story_kind, person.joined_on) == (
        MemberStatus.PROSPECT,
        kind,
        joined_on,
    )
    assert person.erased_at == erasure.erased_at
    # Every history row anonymised, and the erasure is the last one.
    history = list(person.history.order_by("history_id"))
    assert {row.name for row in history} == {stub_name(person.pk)}
    assert {row.email for row in history} == {""}
    assert history[-1].history_change_reason == f"Erased on request (erasure #{erasure.pk})"
    assert history[-1].history_user == admin_user
    # Review notes keep their number, not their text.
    assert list(ReviewNote.objects.values_list("body", flat=True)) == [
        f"Erased with the person (erasure #{erasure.pk})."
    ]
    # An import undo or a merge undo has nothing left to bring back.
    assert ImportRow.objects.get(member=person).changes == {}
    merge = MergeRecord.objects.get(survivor_pk=person.pk)
    assert merge.snapshot == {"erased": erasure.pk}
    assert merge.merged_name == merge.survivor_name == stub_name(person.pk)


def test_erasure_is_recorded_with_who_when_and_why_without_the_name(person, admin_user):
    erasure = erase_person(person, by=admin_user, reason=f"{NAME} asked by email ({EMAIL})")

    erasure = Erasure.objects.get(pk=erasure.pk)
    assert erasure.member_pk == person.pk
    assert erasure.erased_by == admin_user
    assert erasure.reason == f"{stub_name(person.pk)} asked by email ({stub_name(person.pk)})"
    assert erasure.counts["people"] == 1
    assert erasure.counts["review notes"] == 1
    from audit.models import AccessLog

    entry = AccessLog.objects.get(action="erase")
    assert (entry.user, entry.person_id, entry.reason) == (admin_user, person.pk, erasure.reason)


def test_an_erasure_needs_a_reason_and_happens_once(person, admin_user):
    with pytest.raises(ValidationError) as refused:
        erase_person(person, by=admin_user, reason="   ")
    assert "reason" in refused.value.message_dict
    assert Member.objects.get(pk=person.pk).name == NAME

    erase_person(person, by=admin_user, reason="Asked")
    with pytest.raises(ValidationError, match="erased already"):
        erase_person(person, by=admin_user, reason="Again")
    assert Erasure.objects.count() == 1


def test_erased_people_are_not_found_listed_matched_or_merged(person, admin_user, as_user):
    erase_person(person, by=admin_user, reason="Asked")
    stub = stub_name(person.pk)

    assert not Member.objects.search("Erased person").filter(pk=person.pk).exists()
    assert not Member.objects.search("").filter(pk=person.pk).exists()
    assert find_duplicates(name=stub) == []
    client = as_user(admin_user)
    assert stub not in client.get(reverse("members:people_list")).content.decode()
    assert stub not in client.get(reverse("members:people_list"), {"q": "erased"}).content.decode()
    other = MemberFactory()
    with pytest.raises(ValidationError, match="erased"):
        merge_people(other, person, by=admin_user)
    assert (
        client.get(reverse("members:person_merge", args=[other.pk, person.pk])).status_code == 404
    )


def test_an_erased_person_cannot_be_edited_back_to_life(person, admin_user, as_user):
    erase_person(person, by=admin_user, reason="Asked")
    client = as_user(admin_user)
    stub = stub_name(person.pk)

    page = client.get(reverse("members:person_detail", args=[person.pk]))
    assert "Erased on request" in page.content.decode()
    assert reverse("members:person_edit", args=[person.pk]) not in page.content.decode()

    response = client.post(
        reverse("members:person_edit", args=[person.pk]),
        {"name": NAME, "email": EMAIL, "status": "member", "joining_story_kind": "other"},
        follow=True,
    )
    assert "erased on request; their record cannot be edited" in response.content.decode()
    assert client.get(reverse("members:check_in_add", args=[person.pk])).status_code == 404
    # The admin shows the stub read-only and refuses a change.
    change = reverse("admin:members_member_change", args=[person.pk])
    client.post(change, {"name": NAME, "email": EMAIL, "edit_version": person.version + 1})
    person.refresh_from_db()
    assert (person.name, person.email) == (stub, "")
    with pytest.raises(ValidationError, match="cannot be edited"):
        person.full_clean()


def test_admin_erases_from_the_erase_page_with_a_typed_reason(person, admin_user, as_user):
    client = as_user(admin_user)
    url = reverse("admin:members_member_erase", args=[person.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "cannot be undone" in page.content.decode()
    assert "1 review note" in page.content.decode()

    refused = client.post(url, {"reason": "  ", "confirm": ""})
    assert refused.status_code == 200
    assert "Say why this person is erased" in refused.content.decode()
    assert "Tick the box to confirm" in refused.content.decode()
    assert not Erasure.objects.exists()

    done = client.post(url, {"reason": "Asked by phone", "confirm": "on"})
    assert done.status_code == 302
    assert Erasure.objects.get().reason == "Asked by phone"
    assert Member.objects.get(pk=person.pk).erased_at is not None


def test_admin_action_opens_the_erase_page_for_one_person(person, admin_user, as_user):
    client = as_user(admin_user)
    response = client.post(
        reverse("admin:members_member_changelist"),
        {"action": "erase_on_request", "_selected_action": [person.pk]},
    )
    assert response.status_code == 302
    assert response.url == reverse("admin:members_member_erase", args=[person.pk])
    assert not Erasure.objects.exists()


def test_only_admins_may_erase(person, organizer, staff_lead_a, stranger, as_user, client):
    url = reverse("admin:members_member_erase", args=[person.pk])
    data = {"reason": "Because", "confirm": "on"}
    for user in (organizer, stranger):
        as_user(user)
        response = client.post(url, data)
        # The admin sends non-staff to its login page; nothing is erased.
        assert response.status_code == 302
        assert reverse("admin:login") in response.url
    as_user(staff_lead_a)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert not Erasure.objects.exists()
    assert Member.objects.get(pk=person.pk).name == NAME


def test_the_erase_permission_alone_lets_staff_erase(person, staff_lead_a, as_user, client):
    from django.contrib.auth.models import Permission

    staff_lead_a.user_permissions.add(Permission.objects.get(codename="erase_person"))
    as_user(staff_lead_a)
    url = reverse("admin:members_member_erase", args=[person.pk])
    assert client.post(url, {"reason": "Asked", "confirm": "on"}).status_code == 302
    assert Erasure.objects.get().erased_by == staff_lead_a


def test_erase_page_of_no_such_person_is_404(admin_user, as_user):
    client = as_user(admin_user)
    assert client.get(reverse("admin:members_member_erase", args=[999999])).status_code == 404


def test_admin_log_entries_keep_no_name(person, admin_user):
    erase_person(person, by=admin_user, reason="Asked")
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(person.pk)
    )
    assert {entry.object_repr for entry in entries} == {stub_name(person.pk)}


def test_a_record_mentioning_them_is_saved_with_history_and_a_new_version(person, admin_user):
    friend = Member.objects.get(name="Ruth Okonkwo-Bell")
    version = friend.version

    erasure = erase_person(person, by=admin_user, reason="Asked")

    friend.refresh_from_db()
    # An edit page opened before the erasure is stale: it cannot write the mention back.
    assert friend.version == version + 1
    assert friend.note == f"Came with {stub_name(person.pk)} ({stub_name(person.pk)})"
    latest = friend.history.latest("history_id")
    assert (latest.history_user, latest.history_change_reason) == (
        admin_user,
        erasure.history_reason,
    )
