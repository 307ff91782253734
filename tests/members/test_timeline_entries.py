"""The person page's timeline: check-ins, alignment changes, review notes, invitations and
merges beside the record's own changes, newest first, each with who and when, and only
what the reader may see (members/timeline.py, cores/timeline.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cores import services as core_services
from cores.models import AlignmentLevel
from members import merging
from members import services as member_services
from members.models import Member
from members.timeline import person_timeline
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
    MemberFactory,
)

pytestmark = pytest.mark.django_db

SECRET_A = "Tendency A's lead thinks she is ready for the strategy drafts."
SECRET_B = "Tendency B's lead has doubts about her study."


def _page(client, person):
    response = client.get(reverse("members:person_detail", args=[person.pk]))
    assert response.status_code == 200
    return response


def _kinds(timeline):
    return [entry.kind for entry in timeline]


def _ago(days=0, hours=0):
    return timezone.now() - dt.timedelta(days=days, hours=hours)


@pytest.fixture
def person(organizer):
    return member_services.create_member(by=organizer, name="Rosa Vega", email="rosa@example.org")


@pytest.fixture
def reviewed(person, organizer, lead_a, lead_b, core_a, core_b):
    """Rosa states levels toward both tendencies; each tendency's lead reviews with a note."""
    for core, lead, note, days in ((core_a, lead_a, SECRET_A, 4), (core_b, lead_b, SECRET_B, 2)):
        alignment = core_services.state_alignment(
            person, core.tendency, AlignmentLevel.EXPLORING, by=organizer, at=_ago(days=days)
        )
        core_services.review_alignment(
            alignment, by=lead, level=AlignmentLevel.LEANING, note=note, at=_ago(days=days - 1)
        )
    return person


# --- each kind of entry ----------------------------------------------------------------------


def test_a_check_in_shows_who_recorded_it_when_and_its_scores(as_user, organizer, person):
    member_services.record_check_in(
        person,
        by=organizer,
        checked_on=dt.date(2025, 3, 7),
        strategic_skills=4,
        political_organizing_skills=2,
        social_emotional_capacities=5,
        organization_building_skills=3,
        note="After the spring school.",
    )
    entry = next(
        e for e in _page(as_user(organizer), person).context["timeline"] if e.kind == "check_in"
    )
    assert entry.who == "Olive Organizer"
    assert entry.title == "Recorded a check-in of Mar 7, 2025"
    assert entry.details == [
        "Strategic skills 4 · Political organizing skills 2 · "
        "Social-emotional capacities 5 · Organization-building skills 3",
        "After the spring school.",
    ]
    assert timezone.now() - entry.when < dt.timedelta(minutes=1)


def test_a_changed_and_a_deleted_check_in_say_what_changed(as_user, organizer, admin_user, person):
    check_in = member_services.record_check_in(
        person,
        by=organizer,
        checked_on=dt.date(2025, 3, 7),
        strategic_skills=4,
        political_organizing_skills=2,
        social_emotional_capacities=5,
        organization_building_skills=3,
    )
    check_in.strategic_skills = 5
    check_in._history_user = admin_user
    check_in.save()
    check_in._history_user = admin_user
    check_in.delete()
    timeline = person_timeline(person, organizer)
    deleted, changed, recorded = [e for e in timeline if e.kind == "check_in"]
    assert (deleted.who, deleted.title) == ("Ada Admin", "Deleted the check-in of Mar 7, 2025")
    assert changed.title == "Changed the check-in of Mar 7, 2025"
    assert [(c.label, c.old, c.new) for c in changed.changes] == [("Strategic skills", "4", "5")]
    assert recorded.who == "Olive Organizer"


def test_alignment_levels_and_reviews_show_to_every_role(as_user, organizer, reviewed, lead_b):
    timeline = person_timeline(reviewed, organizer)
    titles = [(e.who, e.title) for e in timeline if e.kind == "alignment"]
    assert titles == [
        ("Bob Lead", "Reviewed: Leaning, toward Dual Power (adjusted from Exploring)"),
        ("Olive Organizer", "Stated: Exploring, toward Dual Power"),
        ("Alice Lead", "Reviewed: Leaning, toward Democratic Front (adjusted from Exploring)"),
        ("Olive Organizer", "Stated: Exploring, toward Democratic Front"),
    ]


def test_a_changed_level_says_what_it_was(organizer, person, tendency_a):
    core_services.state_alignment(
        person, tendency_a, AlignmentLevel.EXPLORING, by=organizer, at=_ago(days=5)
    )
    core_services.state_alignment(
        person, tendency_a, AlignmentLevel.ALIGNED, by=organizer, at=_ago(days=1)
    )
    latest = next(e for e in person_timeline(person, organizer) if e.kind == "alignment")
    assert latest.title == "Level changed: Aligned, toward Democratic Front (was Exploring)"


def test_invitations_show_each_stage_with_who_and_when(organizer, lead_a, core_a, person):
    invitation = core_services.invite_to_core(core_a, person, by=lead_a, note="Met at the forum")
    core_services.move_invitation(invitation, "invited", by=lead_a)
    moved, started = [e for e in person_timeline(person, organizer) if e.kind == "invitation"]
    assert (started.who, started.title) == (
        "Alice Lead",
        f"{core_a} started following this person: Identified",
    )
    assert moved.title == f"Changed the invitation from {core_a}"
    assert ("Stage", "Identified", "Invited") in [(c.label, c.old, c.new) for c in moved.changes]


def test_an_invitations_private_note_stays_on_its_own_page(as_user, lead_a, core_a, person):
    # The core's note and the reason for declining are the core's leads' (the invitation
    # page's private history); the person page shows every role the same fields.
    invitation = core_services.invite_to_core(core_a, person, by=lead_a, note="Met at the forum")
    core_services.move_invitation(invitation, "declined", by=lead_a, reason="Too busy this year")
    body = _page(as_user(lead_a), person).content.decode()
    assert "Declined" in body
    assert "Too busy this year" not in body
    assert "Met at the forum" not in body


def test_a_merge_and_its_undo_are_entries(as_user, organizer, person):
    other = MemberFactory(name="Rosa M. Vega", email="")
    CapacityCheckInFactory(member=other)
    record = merging.merge_people(person, other, by=organizer)
    timeline = person_timeline(person, organizer)
    merge = next(e for e in timeline if e.kind == "merge")
    assert (merge.who, merge.title) == (
        "Olive Organizer",
        "Merged the record of Rosa M. Vega into this one",
    )
    assert merge.reason == f"Merge #{record.pk}"
    # The check-in that came with the merge is not repeated as an entry of its own.
    assert "check_in" not in _kinds(timeline)

    merging.undo_merge(record, by=organizer)
    undone, _merged = [e for e in person_timeline(person, organizer) if e.kind == "merge"]
    assert undone.title == "Undid the merge with Rosa M. Vega: two records again"
    restored = Member.objects.get(pk=other.pk)
    assert [e.title for e in person_timeline(restored, organizer) if e.kind == "merge"] == [
        "Undid the merge with Rosa Vega: two records again",
        "Merged this record into the record of Rosa Vega",
    ]


def test_the_records_own_changes_are_still_there(as_user, organizer, person):
    person.city = "Detroit"
    person._history_user = organizer
    person.save()
    timeline = person_timeline(person, organizer)
    changed, created = [e for e in timeline if e.kind == "person"]
    assert (changed.title, created.title) == ("Changed this record", "Created this record")
    assert [(c.label, c.new) for c in changed.changes] == [("City", "Detroit")]


def test_entries_of_every_kind_are_newest_first(as_user, organizer, lead_a, core_a, person):
    core_services.state_alignment(
        person, core_a.tendency, AlignmentLevel.EXPLORING, by=organizer, at=_ago(days=9)
    )
    check_in = CapacityCheckInFactory.build(member=person, assessed_by=organizer)
    check_in._history_user = organizer
    check_in._history_date = _ago(days=5)
    check_in.save()
    invitation = InvitationFactory.build(core=core_a, member=person)
    invitation._history_date = _ago(days=7)
    invitation.save()
    timeline = _page(as_user(lead_a), person).context["timeline"]
    assert _kinds(timeline) == ["person", "check_in", "invitation", "alignment"]
    assert [e.when for e in timeline] == sorted((e.when for e in timeline), reverse=True)


def test_the_page_shows_each_entrys_kind_who_and_when(as_user, organizer, reviewed):
    body = _page(as_user(organizer), reviewed).content.decode()
    assert '<span class="tag">Alignment</span> Reviewed: Leaning, toward Dual Power' in body
    assert "· Bob Lead</p>" in body
    assert '<li class="timeline-alignment">' in body


# --- privacy ---------------------------------------------------------------------------------


def test_a_lead_sees_their_own_tendencys_notes_in_the_timeline(as_user, lead_a, reviewed):
    notes = [e for e in _page(as_user(lead_a), reviewed).context["timeline"] if e.kind == "note"]
    assert [(n.who, n.details, n.private_to) for n in notes] == [
        ("Alice Lead", [SECRET_A], "Democratic Front leads only")
    ]


def test_the_other_tendencys_lead_never_sees_a_note_nor_an_entry_for_it(as_user, lead_b, reviewed):
    response = _page(as_user(lead_b), reviewed)
    notes = [e for e in response.context["timeline"] if e.kind == "note"]
    assert [n.details for n in notes] == [[SECRET_B]]
    body = response.content.decode()
    assert SECRET_A not in body
    assert "Private review note on the alignment toward Democratic Front" not in body
    assert "Democratic Front leads only" not in body


def test_an_organizer_sees_no_notes_and_no_entries_for_them(as_user, organizer, reviewed):
    response = _page(as_user(organizer), reviewed)
    assert "note" not in _kinds(response.context["timeline"])
    body = response.content.decode()
    assert SECRET_A not in body
    assert SECRET_B not in body
    assert "Private review note" not in body


def test_an_admin_sees_both_tendencies_notes(admin_user, reviewed):
    notes = [e for e in person_timeline(reviewed, admin_user) if e.kind == "note"]
    assert sorted(n.details[0] for n in notes) == sorted([SECRET_A, SECRET_B])


def test_a_lead_whose_role_lost_reading_notes_sees_none(lead_a, reviewed):
    # Leading a core is not enough on its own (ReviewNote.objects.visible_to).
    lead_a.groups.clear()
    lead_a = type(lead_a).objects.get(pk=lead_a.pk)
    assert [e for e in person_timeline(reviewed, lead_a) if e.kind == "note"] == []


def test_a_role_without_a_kinds_history_sees_none_of_it(stranger, reviewed):
    assert person_timeline(reviewed, stranger) == []


# --- queries ---------------------------------------------------------------------------------


def _timeline_queries(user, person):
    user = type(user).objects.get(pk=user.pk)  # as a request's: no permissions read yet
    with CaptureQueriesContext(connection) as ctx:
        timeline = person_timeline(person, user)
    return len(ctx.captured_queries), len(timeline)


def _add_history(person, alignment, organizer, lead_a, n):
    for i in range(n):
        member_services.record_check_in(
            person,
            by=organizer,
            checked_on=timezone.localdate() - dt.timedelta(days=i),
            strategic_skills=1 + i % 5,
            political_organizing_skills=2,
            social_emotional_capacities=3,
            organization_building_skills=4,
        )
        person.city = f"City {i}"
        person._history_user = organizer
        person.save()
    for i in range(n):
        core_services.review_alignment(alignment, by=lead_a, note=f"Note {i}")
        core_services.reopen_review(alignment, by=lead_a)
    other = MemberFactory()
    merging.merge_people(person, other, by=organizer)


def test_the_timeline_costs_the_same_queries_at_2_and_20_entries_a_kind(
    organizer, lead_a, core_a, person
):
    invitation = core_services.invite_to_core(core_a, person, by=lead_a)
    alignment = AlignmentFactory(member=person, tendency=core_a.tendency)
    _add_history(person, alignment, organizer, lead_a, 1)
    few, few_entries = _timeline_queries(lead_a, person)
    core_services.move_invitation(invitation, "invited", by=lead_a)
    _add_history(person, alignment, organizer, lead_a, 10)
    many, many_entries = _timeline_queries(lead_a, person)
    assert many_entries > few_entries + 40
    # the user's and their groups' permissions (read once a request: the person page
    # has them already); the person's history + its users, its sectors at each record,
    # the "added by" names; check-ins' history + users; merges + mergers and undoers;
    # alignments' history + users + tendencies; the notes lead_a may read + authors +
    # tendencies (the led tendencies a subquery); invitations' history + users + cores +
    # point people
    assert few == many == 10
