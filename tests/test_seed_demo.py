import datetime as dt
import io
import random
import re
from collections import defaultdict
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from cores import services as core_services
from cores.models import (
    STAGE_DATE_FIELDS,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Milestone,
    Phase,
    ReviewNote,
    ReviewState,
    Tendency,
)
from cores.readiness import evaluate
from members.models import CAPACITY_FIELDS, CapacityCheckIn, Member, MemberStatus
from members.text import fold
from sos_tracker.management.commands.seed_demo import AlignmentWriter
from tests.factories import NICKNAMES, MemberFactory, UserFactory, fake_person_name

pytestmark = pytest.mark.django_db

# Enough people that, with this seed, prospects reach every invitation stage; small
# enough to seed in about a second.
PEOPLE, SEED = 120, "3"
# Titles and degrees Faker puts around names; nobody writes them inside their own name.
HONORIFICS = {
    "Dr.",
    "Dra.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Miss",
    "Sr.",
    "Sra.",
    "Srta.",
    "Srita.",
    "Lic.",
    "Ing.",
    "Mtro.",
    "MD",
    "PhD",
    "DDS",
    "DVM",
}


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        seed("--people", "5")

    assert not Member.objects.exists()


def test_refuses_when_a_user_it_did_not_make_exists(debug):
    UserFactory(username="real-organizer")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert not Member.objects.exists()


def test_a_real_account_with_a_demo_name_is_not_taken_for_demo_data(debug):
    real_admin = UserFactory(username="admin", email="ops@organizing.example")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert get_user_model().objects.get(pk=real_admin.pk).email == "ops@organizing.example"


def test_refuses_when_a_person_it_did_not_make_exists(debug):
    real = MemberFactory(email="real.person@example.org")

    with pytest.raises(CommandError, match="did not make"):
        seed("--people", "5")

    assert list(Member.objects.all()) == [real]


def test_force_seeds_over_real_data_and_with_debug_off(settings):
    settings.DEBUG = False
    real_user = UserFactory(username="real-organizer")
    MemberFactory(email="real.person@example.org")

    seed("--people", "5", "--seed", SEED, "--force")

    # --force replaces every person, as its help says; accounts it did not make stay.
    assert not Member.objects.filter(email="real.person@example.org").exists()
    assert Member.objects.count() == 5
    assert get_user_model().objects.filter(pk=real_user.pk).exists()


def test_seeds_people_tendencies_cores_alignments_and_invitations(debug):
    seed("--people", str(PEOPLE), "--seed", SEED)

    assert Member.objects.count() == PEOPLE
    assert Tendency.objects.count() == 2
    phases = set(CoreGroup.objects.values_list("phase", flat=True))
    assert len(phases) == 2, "the two cores are at different phases"
    assert set(Alignment.objects.values_list("level", flat=True)) == set(AlignmentLevel)
    assert set(Alignment.objects.values_list("review_state", flat=True)) == set(ReviewState)
    assert set(Invitation.objects.values_list("stage", flat=True)) == set(InvitationStage)


def test_prints_each_login_with_a_password_that_works(debug):
    out = seed("--people", "10", "--seed", SEED)

    logins = dict(re.findall(r"^ +(\S+) +(\S+) +\S", out, flags=re.MULTILINE))
    assert set(logins) == {"admin", "organizer", "lead-democratic-front", "lead-dual-power"}
    for username, password in logins.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    assert "http://127.0.0.1:8000/login/" in out


def test_running_again_replaces_the_demo_data(debug):
    seed("--people", "30", "--seed", SEED)

    seed("--people", "20", "--seed", "4")

    assert Member.objects.count() == 20
    assert Member.history.count() == 20
    assert Tendency.objects.count() == 2
    assert CoreGroup.objects.count() == 2
    assert get_user_model().objects.count() == 4


def test_the_name_maker_never_writes_an_honorific_or_a_cut_off_first_name():
    random.seed(5)
    for _ in range(3000):
        name, preferred, _ = fake_person_name()
        assert not HONORIFICS & set(name.split()), name
        assert not preferred or not fold(name.split()[0]).startswith(fold(preferred))
    for first, nicknames in NICKNAMES.items():
        for nickname in nicknames:
            assert not fold(first.split()[0]).startswith(fold(nickname)), (first, nickname)


def test_the_bulk_alignment_writer_writes_what_the_services_write(debug):
    lead = UserFactory()
    tendency = Tendency.objects.create(name="T", slug="t")
    by_service, by_writer = MemberFactory(), MemberFactory()
    now = timezone.now()
    stated, reviewed, restated = (now - dt.timedelta(days=d) for d in (90, 80, 10))

    alignment = core_services.state_alignment(
        by_service, tendency, AlignmentLevel.LEANING, by=lead, at=stated
    )
    core_services.review_alignment(alignment, by=lead, note=" Clear. ", at=reviewed)
    core_services.state_alignment(
        by_service, tendency, AlignmentLevel.ALIGNED, by=lead, at=restated
    )
    writer = AlignmentWriter()
    written = writer.state(None, by_writer, tendency, AlignmentLevel.LEANING, by=lead, at=stated)
    writer.review(written, by=lead, note=" Clear. ", at=reviewed)
    writer.state(written, by_writer, tendency, AlignmentLevel.ALIGNED, by=lead, at=restated)
    writer.save()

    def saved(member):
        alignment = Alignment.objects.get(member=member)
        fields = [
            "level",
            "stated_on",
            "review_state",
            "reviewed_by_id",
            "reviewed_at",
            "queued_at",
            "version",
        ]
        history = list(
            alignment.history.order_by("history_date").values_list(
                "history_type", "history_date", "history_user_id", *fields
            )
        )
        notes = list(alignment.review_notes.values_list("author_id", "body", "created_at"))
        return [getattr(alignment, field) for field in fields], history, notes

    assert saved(by_writer) == saved(by_service)


# What a newcomer sees after `make demo`: the properties issue 8 asks of the demo data.


class TestTheDemoANewcomerSees:
    """One demo, seeded once for the class (seeding takes seconds) and rolled back after;
    each test still runs in its own savepoint on top of it."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def demo(cls, django_db_setup, django_db_blocker):
        with django_db_blocker.unblock(), transaction.atomic():
            seed("--people", str(PEOPLE), "--seed", SEED, "--force")
            yield
            transaction.set_rollback(True)

    @pytest.mark.parametrize("slug", ["democratic-front", "dual-power"])
    def test_each_queue_has_items_of_varied_age_and_some_stale(self, slug):
        queue = list(Alignment.objects.review_queue(Tendency.objects.get(slug=slug)))

        assert any(item.is_stale for item in queue)
        assert any(not item.is_stale for item in queue)
        now = timezone.now()
        waited = sorted((now - item.waiting_since).days for item in queue)
        assert waited[0] < 15, waited
        assert waited[-1] > 60, waited

    def test_stale_reviews_are_seven_to_ten_months_old_and_queue_times_match_stated_dates(self):
        now = timezone.now()
        stale = Alignment.objects.filter(Alignment.objects.stale_q())
        ages = [(now - alignment.reviewed_at).days for alignment in stale]

        assert ages
        assert all(200 <= age <= 310 for age in ages), ages
        for alignment in Alignment.objects.all():
            assert timezone.localdate(alignment.queued_at) == alignment.stated_on
            if alignment.reviewed_at:
                assert alignment.queued_at <= alignment.reviewed_at <= now
        queued = [(now - at).days for at in Alignment.objects.values_list("queued_at", flat=True)]
        assert max(queued) > 180, "queue times spread over months, not all today"

    def test_review_notes_are_written_in_both_tendencies_on_several_alignments(self):
        for tendency in Tendency.objects.all():
            notes = ReviewNote.objects.filter(alignment__tendency=tendency)
            assert notes.values("alignment").distinct().count() >= 5
            for note in notes:
                assert "{" not in note.body
                assert note.author.username == f"lead-{tendency.slug}"
                assert note.created_at <= timezone.now()

    def test_an_alignment_history_shows_when_each_level_was_stated_and_reviewed(self):
        steps = Alignment.history.values("id").annotate(steps=Count("history_id"))
        restated = Alignment.objects.get(pk=steps.filter(steps__gte=3).order_by("id")[0]["id"])
        records = list(restated.history.order_by("history_date"))

        assert records[0].history_type == "+"
        assert records[0].history_date == records[0].queued_at
        assert (timezone.now() - records[0].history_date).days > 30
        assert [r.version for r in records] == sorted(r.version for r in records)

    @pytest.mark.parametrize("slug", ["democratic-front-core", "dual-power-core"])
    def test_each_funnel_has_every_stage_point_people_and_a_few_stalled(self, slug):
        core = CoreGroup.objects.get(slug=slug)
        invitations = list(core.invitations.all())
        members = set(core.members.values_list("pk", flat=True))

        assert {invitation.stage for invitation in invitations} == set(InvitationStage)
        open_ones = [invitation for invitation in invitations if invitation.is_open]
        stalled = core.invitations.stalled().count()
        assert 1 <= stalled <= len(open_ones) // 2
        followed = [invitation.point_person_id for invitation in invitations]
        assert set(filter(None, followed)) <= members
        assert sum(map(bool, followed)) > len(invitations) / 2
        assert any(invitation.next_step_on for invitation in open_ones)
        declined = [i for i in invitations if i.stage == InvitationStage.DECLINED]
        assert any(invitation.declined_reason for invitation in declined)
        for invitation in invitations:
            # The stage dates follow one another, and the last move is the stage's own date.
            dates = [getattr(invitation, field) for field in STAGE_DATE_FIELDS.values()]
            stamped = [day for day in dates if day]
            assert stamped == sorted(stamped)
            assert invitation.moved_on == getattr(invitation, STAGE_DATE_FIELDS[invitation.stage])

    def test_someone_is_in_conversation_with_both_cores(self):
        both = (
            Member.objects.filter(invitations__stage=InvitationStage.IN_CONVERSATION)
            .annotate(cores_talking=Count("invitations"))
            .filter(cores_talking=2)
        )

        assert both.exists()

    def test_the_two_cores_stand_at_different_points(self):
        engaging = CoreGroup.objects.get(phase=Phase.ENGAGING)
        cohering = CoreGroup.objects.get(phase=Phase.COHERING)

        engaging_open = engaging.milestones.filter(done_on=None)
        assert not engaging_open.filter(phase=Phase.COHERING).exists()
        assert engaging_open.filter(phase=Phase.ENGAGING).exists()
        assert engaging.milestones.filter(phase=Phase.ENGAGING).exclude(done_on=None).exists()
        assert cohering.milestones.filter(phase=Phase.COHERING).exclude(done_on=None).count() == 2
        assert engaging.phase_decisions.filter(to_phase=Phase.ENGAGING).exists()
        for core in (engaging, cohering):
            assert 10 <= core.members.count() <= 25
            assert not core.members.exclude(status=MemberStatus.MEMBER).exists()

    def test_one_readiness_rule_is_met_and_another_is_not(self):
        rules = Milestone.objects.exclude(rule_min_people=None).select_related("core")

        results = {milestone.core.phase: evaluate(milestone) for milestone in rules}

        assert set(results) == {Phase.ENGAGING, Phase.COHERING}
        assert results[Phase.ENGAGING].met
        assert not results[Phase.COHERING].met

    def test_names_carry_no_honorifics_and_preferred_names_are_real_nicknames(self):
        people = list(Member.objects.values_list("name", "preferred_name"))

        for name, preferred in people:
            assert not HONORIFICS & set(name.split()), name
            if preferred:
                assert not fold(name.split()[0]).startswith(fold(preferred)), (name, preferred)
        with_nickname = sum(bool(preferred) for _, preferred in people)
        assert 0 < with_nickname < len(people) / 3

    def test_capacities_grow_at_different_rates_not_in_lockstep(self):
        series = defaultdict(list)
        for check_in in CapacityCheckIn.objects.order_by("member", "checked_on", "pk"):
            series[check_in.member_id].append([getattr(check_in, f) for f in CAPACITY_FIELDS])
        several = [scores for scores in series.values() if len(scores) >= 3]

        def lockstep(scores):
            steps = {
                tuple(later[i] - earlier[i] for earlier, later in pairwise(scores))
                for i in range(len(CAPACITY_FIELDS))
            }
            return len(steps) == 1

        assert len(several) >= 20
        assert sum(map(lockstep, several)) <= len(several) / 10
        dips = [
            scores
            for scores in several
            if any(later[i] < earlier[i] for earlier, later in pairwise(scores) for i in range(4))
        ]
        assert dips, "now and then a capacity dips"
        spans = [
            (last - first).days
            for first, last in CapacityCheckIn.objects.values("member")
            .annotate(first=Min("checked_on"), last=Max("checked_on"))
            .values_list("first", "last")
        ]
        assert max(spans) > 600, "check-ins reach back about two years"
