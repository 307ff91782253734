"""One item of a core's review queue: what it shows, the one-step review, skip, refusals."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog, Action
from cores import services
from cores.models import Alignment, AlignmentLevel, Invitation, ReviewNote, ReviewState
from members.models import CapacityCheckIn, JoiningStoryKind, Member
from tests.auth import log_in
from tests.factories import (
    AlignmentFactory,
    CapacityCheckInFactory,
    LeadFactory,
    MemberFactory,
    ReviewNoteFactory,
    SectorFactory,
)

UTC = dt.UTC
MARKER_A = "MARKER-A-7f3q private to Democratic Front"
MARKER_B = "MARKER-B-9k2z private to Dual Power"


def at(year, month, day, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


def waiting(tendency, name, *, queued_at, level=AlignmentLevel.EXPLORING, member=None):
    return AlignmentFactory(
        member=member or MemberFactory(name=name),
        tendency=tendency,
        level=level,
        review_state=ReviewState.NEEDS_REVIEW,
        queued_at=queued_at,
    )


def item_url(core, alignment):
    return reverse("cores:review_item", args=[core.slug, alignment.pk])


def skip_url(core, alignment):
    return reverse("cores:review_skip", args=[core.slug, alignment.pk])


def queue_url(core):
    return reverse("cores:review_queue", args=[core.slug])


def review(client, core, alignment, *, level, note="", version=None):
    return client.post(
        item_url(core, alignment),
        {
            "level": level,
            "note": note,
            "expected_version": alignment.version if version is None else version,
        },
    )


@pytest.fixture
def three(core_a, tendency_a):
    """Three items of tendency A's queue, in this order: first, second, third."""
    return [
        waiting(tendency_a, "First Fenn", queued_at=at(2024, 1, 1)),
        waiting(tendency_a, "Second Sato", queued_at=at(2024, 2, 1)),
        waiting(tendency_a, "Third Tran", queued_at=at(2024, 3, 1)),
    ]


@pytest.fixture
def explorer(core_a, core_b, tendency_a, tendency_b, lead_a, lead_b):
    """Someone exploring both tendencies, with a planted private note in each."""
    person = MemberFactory(name="Rosa Explorer")
    alignment_a = services.state_alignment(person, tendency_a, AlignmentLevel.LEANING, by=lead_a)
    alignment_b = services.state_alignment(person, tendency_b, AlignmentLevel.EXPLORING, by=lead_b)
    services.add_review_note(alignment_a, by=lead_a, body=MARKER_A)
    services.add_review_note(alignment_b, by=lead_b, body=MARKER_B)
    return {"person": person, "a": alignment_a, "b": alignment_b}


# --- what one item shows -----------------------------------------------------------------


def test_item_shows_what_a_lead_needs_to_decide(as_user, lead_a, core_a, explorer, tendency_a):
    person = explorer["person"]
    person.joining_story_kind = JoiningStoryKind.NCM_VETERAN
    person.joining_story = "Forty years in labor work; I want to pass it on."
    person.save()
    person.sectors.set([SectorFactory(name="Labor", slug="labor")])
    today = timezone.localdate()
    CapacityCheckInFactory(
        member=person, checked_on=today - dt.timedelta(days=365), strategic_skills=2
    )
    CapacityCheckInFactory(member=person, checked_on=today, strategic_skills=4)

    response = as_user(lead_a).get(item_url(core_a, explorer["a"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{person.get_absolute_url()}"' in body
    assert person.get_joining_story_kind_display() in body
    assert "Forty years in labor work; I want to pass it on." in body
    assert '<span class="tag">Labor</span>' in body
    assert body.count("<svg") == 4
    assert "Strategic skills: 2 to 4 of 5 (up) over 2 check-ins." in body
    assert MARKER_A in body
    # The other tendency: its level only, said plainly.
    assert re.search(
        r"<dt>Dual Power</dt><dd><span[^>]*>Exploring</span> "
        r'<span class="sub">\(a level stated toward the other tendency\)</span>',
        body,
    )
    assert "also exploring" not in body
    assert MARKER_B not in body
    # History: stated by Alice.
    assert response.context["history"][0].event == "Stated"
    assert response.context["history"][0].who == "Alice Lead"
    # The form: the current level preselected, the version the page saw.
    assert re.search(r'value="leaning"[^>]*checked', body)
    assert f'name="expected_version" value="{explorer["a"].version}"' in body


def test_item_history_records_reviews_with_who_and_level(
    as_user, lead_a, organizer, core_a, tendency_a
):
    person = MemberFactory(name="Ola Oke")
    alignment = services.state_alignment(person, tendency_a, AlignmentLevel.EXPLORING, by=organizer)
    services.review_alignment(alignment, by=lead_a, level=AlignmentLevel.LEANING)
    services.state_alignment(person, tendency_a, AlignmentLevel.ALIGNED, by=organizer)

    response = as_user(lead_a).get(item_url(core_a, alignment))
    events = [(e.event, e.who, e.level, e.detail) for e in response.context["history"]]
    assert events == [
        ("Level changed", "Olive Organizer", "aligned", "was Leaning"),
        ("Reviewed", "Alice Lead", "leaning", "adjusted from Exploring"),
        ("Stated", "Olive Organizer", "exploring", ""),
    ]


# --- the one-step review -----------------------------------------------------------------


def test_review_with_note_saves_level_review_and_note_together_then_goes_on(
    as_user, lead_a, core_a, three
):
    first, second, _third = three
    response = review(
        as_user(lead_a), core_a, first, level=AlignmentLevel.ALIGNED, note="  Ready to commit.  "
    )
    assert response.status_code == 302
    assert response["Location"] == item_url(core_a, second)

    first.refresh_from_db()
    assert first.level == AlignmentLevel.ALIGNED
    assert first.review_state == ReviewState.REVIEWED
    assert first.reviewed_by == lead_a
    note = ReviewNote.objects.get(alignment=first)
    assert note.body == "Ready to commit."
    assert note.author == lead_a
    last = first.history.order_by("-history_date", "-history_id").first()
    assert last.history_user == lead_a
    assert last.level == AlignmentLevel.ALIGNED
    assert not Alignment.objects.review_queue(first.tendency).filter(pk=first.pk).exists()


def test_confirming_without_a_note_keeps_the_level_and_writes_no_note(
    as_user, lead_a, core_a, three
):
    first = three[0]
    client = as_user(lead_a)
    response = review(client, core_a, first, level=first.level)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.level == AlignmentLevel.EXPLORING
    assert first.review_state == ReviewState.REVIEWED
    assert not ReviewNote.objects.exists()
    message = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert message == ["Reviewed First Fenn: Exploring."]


def test_the_last_item_leads_back_to_the_queue_saying_it_is_done(as_user, lead_a, core_a, three):
    client = as_user(lead_a)
    for alignment in three:
        response = review(client, core_a, alignment, level=AlignmentLevel.LEANING)
    assert response["Location"] == queue_url(core_a)
    body = client.get(queue_url(core_a)).content.decode()
    assert "Queue done" in body
    assert "Nothing is waiting" in body


def test_next_item_wraps_to_an_earlier_one_still_waiting(as_user, lead_a, core_a, three):
    first, _second, third = three
    response = review(as_user(lead_a), core_a, third, level=AlignmentLevel.LEANING)
    assert response["Location"] == item_url(core_a, first)


def test_a_reviewed_item_can_be_opened_and_says_it_is_not_waiting(as_user, lead_a, core_a, three):
    first = three[0]
    client = as_user(lead_a)
    review(client, core_a, first, level=AlignmentLevel.LEANING)
    body = client.get(item_url(core_a, first)).content.decode()
    assert "not waiting: reviewed" in body
    assert "Alice Lead" in body


# --- skip for now ------------------------------------------------------------------------


def test_skip_keeps_the_item_in_the_queue_and_goes_to_the_next(as_user, lead_a, core_a, three):
    first, second, third = three
    client = as_user(lead_a)
    response = client.post(skip_url(core_a, first), {"note": "typed but skipped"})
    assert response["Location"] == item_url(core_a, second)
    first.refresh_from_db()
    assert first.review_state == ReviewState.NEEDS_REVIEW
    assert not ReviewNote.objects.exists()
    # Reviewing the second passes over the skipped first one, wrapping or not.
    response = review(client, core_a, second, level=AlignmentLevel.LEANING)
    assert response["Location"] == item_url(core_a, third)
    response = review(client, core_a, third, level=AlignmentLevel.LEANING)
    assert response["Location"] == queue_url(core_a)
    assert client.get(item_url(core_a, first)).context["skipped"] is True


def test_skip_keeps_a_typed_note_and_level_as_a_draft_until_reviewed(
    as_user, lead_a, core_a, three
):
    first = three[0]
    client = as_user(lead_a)
    client.post(
        skip_url(core_a, first),
        {"level": AlignmentLevel.ALIGNED, "note": "Half a thought", "expected_version": 1},
    )
    assert not ReviewNote.objects.exists()
    response = client.get(item_url(core_a, first))
    body = response.content.decode()
    assert "Half a thought</textarea>" in body
    assert "Your unsaved note and choice of level from earlier are filled in." in body
    assert response.context["form"]["level"].value() == AlignmentLevel.ALIGNED
    # Other items carry no draft.
    assert "unsaved" not in client.get(item_url(core_a, three[1])).content.decode()

    review(client, core_a, first, level=AlignmentLevel.ALIGNED, note="Half a thought, done")
    response = client.get(item_url(core_a, first))
    assert response.context["draft"] is None
    assert "Half a thought, done</textarea>" not in response.content.decode()


def test_skip_with_only_a_note_fills_in_the_note_and_keeps_the_stated_level(
    as_user, lead_a, core_a, three
):
    first = three[0]
    client = as_user(lead_a)
    client.post(skip_url(core_a, first), {"level": first.level, "note": "Ask about the union"})
    response = client.get(item_url(core_a, first))
    assert "Your unsaved note from earlier is filled in." in response.content.decode()
    assert response.context["form"]["level"].value() == first.level
    assert response.context["form"]["note"].value() == "Ask about the union"


def test_skip_with_nothing_typed_keeps_no_draft(as_user, lead_a, core_a, three):
    client = as_user(lead_a)
    client.post(skip_url(core_a, three[0]), {"level": three[0].level, "note": "  "})
    assert client.get(item_url(core_a, three[0])).context["draft"] is None


def test_an_item_reviewed_by_someone_else_since_is_no_longer_marked_skipped(
    as_user, lead_a, core_a, three
):
    first = three[0]
    client = as_user(lead_a)
    client.post(skip_url(core_a, first))
    services.review_alignment(first, by=LeadFactory())
    assert client.get(item_url(core_a, first)).context["skipped"] is False
    response = client.get(queue_url(core_a))
    assert response.context["skipped_count"] == 0
    assert "Skipped for now" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"), [("lead_a", 405), ("lead_b", 404), ("organizer", 403), ("stranger", 403)]
)
def test_skip_answers_post_only_after_checking_scope(
    request, as_user, core_a, core_b, three, role, status
):
    client = as_user(request.getfixturevalue(role))
    assert client.get(skip_url(core_a, three[0])).status_code == status


def test_skips_are_per_core(as_user, admin_user, core_a, core_b, tendency_b, three):
    client = as_user(admin_user)
    client.post(skip_url(core_a, three[0]))
    other = waiting(tendency_b, "Bo Berg", queued_at=at(2024, 1, 1))
    response = client.get(queue_url(core_b))
    assert response.context["skipped_count"] == 0
    assert response.context["start_pk"] == other.pk


# --- bad input and a colleague a moment earlier ------------------------------------------


def test_a_second_lead_a_moment_later_is_told_and_nothing_is_overwritten(
    client, lead_a, core_a, three
):
    first = three[0]
    ann = LeadFactory(username="ann", first_name="Ann", last_name="Other")
    core_a.leads.add(ann)
    seen_version = first.version  # both pages opened at this version

    log_in(client, ann)
    assert review(client, core_a, first, level=AlignmentLevel.COMMITTED).status_code == 302

    log_in(client, lead_a)
    response = review(
        client,
        core_a,
        first,
        level=AlignmentLevel.LEANING,
        note="My careful note",
        version=seen_version,
    )
    assert response.status_code == 200
    form = response.context["form"]
    # Told once, above the form, true to what the page shows; not as a field's mistake.
    assert not form.errors
    first.refresh_from_db()
    at = timezone.localtime(first.reviewed_at).strftime("%H:%M")
    assert response.context["conflict"] == (
        f"Ann Other reviewed this a moment ago: it is now Committed, reviewed by Ann Other "
        f"at {at}. Nothing of yours was saved. Your choice and note are kept below; save "
        "again to review it once more."
    )
    body = response.content.decode()
    assert body.count("reviewed this a moment ago") == 1
    assert "Please fix" not in body
    assert form["level"].value() == AlignmentLevel.LEANING
    assert "My careful note</textarea>" in body
    # The page shows the fresh state and the form now carries the fresh version.
    assert "not waiting: reviewed" in body
    assert "Ann Other" in body
    first.refresh_from_db()
    assert f'name="expected_version" value="{first.version}"' in body
    assert first.level == AlignmentLevel.COMMITTED
    assert first.reviewed_by == ann
    assert not ReviewNote.objects.exists()


def test_a_level_stated_meanwhile_refuses_the_review(as_user, organizer, lead_a, core_a, three):
    first = three[0]
    seen_version = first.version
    services.state_alignment(first.member, first.tendency, AlignmentLevel.ALIGNED, by=organizer)
    response = review(
        as_user(lead_a), core_a, first, level=AlignmentLevel.LEANING, version=seen_version
    )
    conflict = response.context["conflict"]
    assert conflict.startswith("This alignment changed since you opened it: it is now Aligned")
    first.refresh_from_db()
    assert first.review_state == ReviewState.NEEDS_REVIEW


def test_a_second_save_from_the_leads_own_other_tab_says_you(as_user, lead_a, core_a, three):
    first = three[0]
    seen_version = first.version
    client = as_user(lead_a)
    assert review(client, core_a, first, level=AlignmentLevel.ALIGNED).status_code == 302
    response = review(
        client, core_a, first, level=AlignmentLevel.LEANING, note="Tab two", version=seen_version
    )
    conflict = response.context["conflict"]
    assert conflict.startswith("You reviewed this in another tab a moment ago: it is now Aligned")
    assert "reviewed by you at" in conflict
    assert lead_a.get_full_name() not in conflict
    assert "Tab two</textarea>" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"level": "sort_of"}, "level", "Choose one of the levels."),
        ({"level": ""}, "level", "Choose the level you confirm."),
        ({"expected_version": ""}, "expected_version", "The page was incomplete"),
    ],
)
def test_bad_input_names_the_field_and_keeps_the_note(
    as_user, lead_a, core_a, three, data, field, message
):
    first = three[0]
    post = {"level": "leaning", "note": "Kept as typed", "expected_version": first.version}
    response = as_user(lead_a).post(item_url(core_a, first), {**post, **data})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert "Kept as typed</textarea>" in response.content.decode()
    first.refresh_from_db()
    assert first.review_state == ReviewState.NEEDS_REVIEW
    assert not ReviewNote.objects.exists()


# --- scope: the other tendency and other roles ------------------------------------------


def test_an_alignment_of_the_other_tendency_is_not_found_by_editing_the_url(
    as_user, lead_a, core_a, core_b, explorer
):
    client = as_user(lead_a)
    other = explorer["b"]
    assert client.get(item_url(core_a, other)).status_code == 404
    response = review(client, core_a, other, level=AlignmentLevel.COMMITTED, note="sneaky")
    assert response.status_code == 404
    assert client.post(skip_url(core_a, other)).status_code == 404
    # Through its own core's URL it is outside lead_a's scope.
    assert client.get(item_url(core_b, other)).status_code == 404
    assert review(client, core_b, other, level=AlignmentLevel.COMMITTED).status_code == 404
    other.refresh_from_db()
    assert other.level == AlignmentLevel.EXPLORING
    assert other.review_state == ReviewState.NEEDS_REVIEW
    assert not ReviewNote.objects.filter(body="sneaky").exists()


@pytest.mark.parametrize(("role", "status"), [("organizer", 403), ("stranger", 403)])
def test_people_without_the_review_permission_are_refused(
    request, as_user, core_a, three, role, status
):
    client = as_user(request.getfixturevalue(role))
    first = three[0]
    assert client.get(item_url(core_a, first)).status_code == status
    assert review(client, core_a, first, level=AlignmentLevel.COMMITTED).status_code == status
    assert client.post(skip_url(core_a, first)).status_code == status
    first.refresh_from_db()
    assert first.review_state == ReviewState.NEEDS_REVIEW


def test_a_superuser_reviews_any_cores_queue(as_user, admin_user, core_a, three):
    response = review(as_user(admin_user), core_a, three[0], level=AlignmentLevel.LEANING)
    assert response.status_code == 302
    three[0].refresh_from_db()
    assert three[0].reviewed_by == admin_user


def test_someone_exploring_both_is_in_both_queues_and_each_lead_sees_only_own_notes(
    as_user, client, lead_a, lead_b, admin_user, core_a, core_b, explorer
):
    for lead, core, own, mine, theirs in [
        (lead_a, core_a, explorer["a"], MARKER_A, MARKER_B),
        (lead_b, core_b, explorer["b"], MARKER_B, MARKER_A),
    ]:
        log_in(client, lead)
        queue = client.get(queue_url(core)).content.decode()
        assert "Rosa Explorer" in queue
        assert theirs not in queue
        item = client.get(item_url(core, own)).content.decode()
        assert mine in item
        assert theirs not in item
        # Reviewing with a note adds to the own tendency's notes only.
        review(client, core, own, level=AlignmentLevel.ALIGNED, note=f"second {mine}")
        assert ReviewNote.objects.filter(alignment=own, body=f"second {mine}").exists()
    # Each lead's new note stays with its tendency.
    assert set(
        ReviewNote.objects.filter(alignment=explorer["a"]).values_list("body", flat=True)
    ) == {MARKER_A, f"second {MARKER_A}"}

    log_in(client, admin_user)
    assert MARKER_B in client.get(item_url(core_b, explorer["b"])).content.decode()
    assert MARKER_B not in client.get(item_url(core_a, explorer["a"])).content.decode()


# --- query counts ------------------------------------------------------------------------


def add_crowd(count, *, core_a, core_b, lead_a, lead_b, start=0):
    """`count` people in both cores, aligned with both tendencies (waiting in both queues),
    each with two check-ins, a sector, a note per alignment and an invitation from core A:
    every many-valued relation a careless join would multiply."""
    sector = SectorFactory(name="Housing", slug="housing")
    people = Member.objects.bulk_create(
        Member(
            name=f"Crowd {n:04}",
            email=f"crowd{n}@example.net",
            joining_story_kind=JoiningStoryKind.OTHER,
        )
        for n in range(start, start + count)
    )
    core_a.members.add(*people)
    core_b.members.add(*people)
    Member.sectors.through.objects.bulk_create(
        Member.sectors.through(member_id=p.pk, sector_id=sector.pk) for p in people
    )
    today = timezone.localdate()
    CapacityCheckIn.objects.bulk_create(
        CapacityCheckIn(
            member=p,
            checked_on=today - dt.timedelta(days=days),
            strategic_skills=score,
            political_organizing_skills=score,
            social_emotional_capacities=score,
            organization_building_skills=score,
        )
        for p in people
        for days, score in ((200, 2), (0, 3))
    )
    alignments = Alignment.objects.bulk_create(
        Alignment(
            member=p,
            tendency=core.tendency,
            level=AlignmentLevel.LEANING,
            queued_at=at(2025, 1, 1) + dt.timedelta(minutes=n),
        )
        for n, p in enumerate(people)
        for core in (core_a, core_b)
    )
    ReviewNote.objects.bulk_create(
        ReviewNote(
            alignment=a, author=lead_a if a.tendency_id == core_a.tendency_id else lead_b, body="n"
        )
        for a in alignments
    )
    Invitation.objects.bulk_create(Invitation(core=core_a, member=p) for p in people)


@pytest.fixture
def crowd_item(core_a, core_b, lead_a, lead_b, organizer, tendency_a, tendency_b):
    """The item under test: oldest in A's queue, with history, notes, check-ins and a level
    toward B; plus ten people in everything."""
    person = MemberFactory(name="Ada Item")
    alignment = services.state_alignment(person, tendency_a, AlignmentLevel.EXPLORING, by=organizer)
    services.review_alignment(alignment, by=lead_a, note="first look")
    services.state_alignment(person, tendency_a, AlignmentLevel.LEANING, by=organizer)
    services.state_alignment(person, tendency_b, AlignmentLevel.EXPLORING, by=organizer)
    ReviewNoteFactory.create_batch(3, alignment=alignment, author=lead_a)
    CapacityCheckInFactory.create_batch(3, member=person)
    core_a.members.add(person)
    add_crowd(10, core_a=core_a, core_b=core_b, lead_a=lead_a, lead_b=lead_b)
    alignment.refresh_from_db()
    return alignment


def test_queue_page_query_count_is_the_same_at_10_and_500_people(
    as_user, lead_a, lead_b, core_a, core_b, crowd_item, django_assert_num_queries
):
    client = as_user(lead_a)
    url = queue_url(core_a)
    client.post(skip_url(core_a, crowd_item))  # a skip in the session, as in real use
    # session, user, the verified two-factor device, user's permissions, group
    # permissions, the core + tendency, led tendencies, which skipped items still wait
    # (only when something was skipped), the queue's size and stale count (two
    # index-range counts in one query), the page of rows + members from each of the
    # queue's slices (needs review, gone stale), the access log entry for the page, the
    # first item not skipped (one query)
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200
    add_crowd(490, core_a=core_a, core_b=core_b, lead_a=lead_a, lead_b=lead_b, start=10)
    with django_assert_num_queries(13):
        response = client.get(url)
    assert response.context["totals"]["size"] == 501


def test_item_page_query_count_is_the_same_at_10_and_500_people(
    as_user, lead_a, lead_b, core_a, core_b, crowd_item, django_assert_num_queries
):
    client = as_user(lead_a)
    url = item_url(core_a, crowd_item)
    # session, user, the verified two-factor device, user's permissions, group
    # permissions, the core + tendency, led tendencies, the alignment as a queue row +
    # member + tendency, the hourly quota of people opened and the access log entry,
    # check-ins, sectors, history + users, notes + authors (visible_to), the alignment
    # toward the other tendency + tendency, this core's invitation, core membership, the
    # queue's size
    with django_assert_num_queries(18):
        assert client.get(url).status_code == 200
    add_crowd(490, core_a=core_a, core_b=core_b, lead_a=lead_a, lead_b=lead_b, start=10)
    with django_assert_num_queries(18):
        response = client.get(url)
    assert len(response.context["notes"]) == 4
    assert response.context["queue_size"] == 501


def test_the_queue_and_an_opened_item_are_in_the_access_log(as_user, lead_a, core_a, crowd_item):
    """A page of the queue lists people and an item shows one: both are logged, as the
    people list and a person's page are."""
    client = as_user(lead_a)
    assert client.get(queue_url(core_a)).status_code == 200
    listed = AccessLog.objects.get(action=Action.LIST)
    assert listed.user == lead_a
    assert crowd_item.member_id in listed.people
    assert listed.path == queue_url(core_a)

    assert client.get(item_url(core_a, crowd_item)).status_code == 200
    opened = AccessLog.objects.get(action=Action.VIEW_PERSON)
    assert (opened.user, opened.person_id) == (lead_a, crowd_item.member_id)


def test_opening_items_counts_against_the_hourly_quota(
    as_user, lead_a, core_a, crowd_item, settings
):
    """Past the hourly number of people opened, an item is refused as a person page is."""
    settings.ACCESS_PEOPLE_PER_HOUR = 1
    someone_else = Member.objects.exclude(pk=crowd_item.member_id).first()
    AccessLog.objects.create(
        user=lead_a, username=lead_a.username, action=Action.VIEW_PERSON, person_id=someone_else.pk
    )
    response = as_user(lead_a).get(item_url(core_a, crowd_item))
    assert response.status_code == 429
    assert not AccessLog.objects.filter(person_id=crowd_item.member_id).exists()
