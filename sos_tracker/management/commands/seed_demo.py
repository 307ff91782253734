"""Fill the database with realistic demo data and print the demo logins.

Refuses to touch a database holding anything but demo data, or to run with DEBUG off,
unless --force: this command deletes the previous demo data before seeding.
"""

import csv
import datetime as dt
import io
import random
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.test.utils import override_settings
from django.utils import timezone
from faker import Faker
from simple_history.utils import bulk_create_with_history

from cores import services as core_services
from cores.models import (
    OPEN_STAGES,
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
from members.exporting import export_people
from members.importing import applying
from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    ExportRecord,
    ImportRecord,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)
from members.services import snapshot_sectors_in_history
from sos_tracker.figures import recount_all
from sos_tracker.models import CountedFigures
from sos_tracker.roles import CORE_LEADS, ORGANIZERS
from tests.factories import (
    NAME_FAKER,
    VIETNAMESE_FAMILY_NAMES,
    CapacityCheckInFactory,
    MemberFactory,
    TendencyFactory,
    UserFactory,
    fake_person_name,
    joining_story,
)

TENDENCIES = [
    (
        "Democratic Front",
        "democratic-front",
        "Builds a broad front of working-class and oppressed peoples' organizations to "
        "contest for power, including through elections, while growing independent bases.",
    ),
    (
        "Dual Power",
        "dual-power",
        "Builds counter-institutions and organs of people's power outside the state that "
        "can grow into an alternative to it.",
    ),
]
DEMO_ADMIN = "admin"
DEMO_ORGANIZER = "organizer"
DEMO_LEAD_PREFIX = "lead-"
DEMO_EMAIL_DOMAIN = "demo.sos-tracker.invalid"

# Names no generated person shares, so the sign-up sheet's rows are all new people.
SIGNUP_NAMES = [
    "Assata Lindqvist-Ruiz",
    "Bayo Okonkwo-Hale",
    "Citlali Brandvold",
    "Dariusz Amankwah",
    "Esperanza Thorsby",
    "Farouk Delacroix-Mendes",
    "Guadalupe Whitcombe",
    "Hollis Ibarguen",
    "Itzel Abernathy-Sow",
    "Juniper Castellanos",
    "Kofi Vanterpool",
    "Luz Marinescu",
]

# Private review notes as a lead writes them: short, specific, about this person.
# {name} is what the person goes by, {sector} their first sector, {city} their city.
REVIEW_NOTES = {
    None: [
        "Coffee with {name}: wants to read the program draft before committing. Follow up "
        "after the study session.",
        "{name} is carrying a lot at work this season. Ask about capacity before asking for more.",
        "Held the {city} meeting together when it got tense. A steady facilitator.",
        "Brought two coworkers into the {sector} conversations. A natural base-builder.",
        "{name} asked how the core makes decisions; send the structure draft.",
        "Level confirmed. {name} said it plainly: wants to help build this, not just attend.",
        "Quiet in big meetings, sharp one-on-one. Ask {name} directly rather than waiting.",
        "Moved up after the retreat. Pair {name} with a core member for the next study.",
        "Clear on the vision, less sure about discipline and accountability. Worth a longer talk.",
        "{name} is still weighing both tendencies. No pressure; keep inviting to studies.",
        "Did the reading and came with questions on the {sector} section. Good sign.",
    ],
    "democratic-front": [
        "{name} knocked doors for the council slate and sees it as base-building, not an "
        "end in itself. Good fit for the front work.",
        "Worried the electoral work will swallow the movement work. Fair concern; {name} "
        "should hear from the labor folks.",
        "{name} has relationships with three {sector} groups in {city}: key for the front.",
        "Wants the front to include the immigrant rights coalition. Raise it at the next "
        "core meeting.",
    ],
    "dual-power": [
        "{name} helped start the tenant union's repair fund and sees it as a seed of "
        "people's power. Aligned.",
        "Skeptical of running candidates, enthusiastic about the co-op network. Matches "
        "the tendency.",
        "{name} wants to tie the {sector} mutual aid network to the assembly. Talk "
        "through the program draft together.",
        "Asked how counter-institutions grow beyond {city}. A hard question, asked in good faith.",
    ],
}

# Why people said no to an invitation, in the core's words; most leave it blank.
DECLINED_REASONS = [
    "Caring for a parent this year; asked us to come back in the spring.",
    "Committed to the union drive through the contract fight. Open to talking after.",
    "Does not want another organization right now; burned out after the last one.",
    "Agrees with the vision, not with the pace. Stay friendly.",
    "Moving out of state in the summer.",
]
INVITATION_NOTES = [
    "Met at the May Day assembly; runs the volunteer program at the food co-op.",
    "Recommended by two core members who worked with them in the {sector} campaign.",
    "Long history in {city} organizing; wants to know who else is in the room.",
    "Asked for the strategy draft in Spanish before a first conversation.",
    "",
    "",
]

# How many core members each demo core has, and how many people it has invited, as a
# share of the prospects: the engaging core has been inviting for months.
CORE_SIZES = ((16, 22), (10, 14))


def demo_usernames():
    return {DEMO_ADMIN, DEMO_ORGANIZER} | {DEMO_LEAD_PREFIX + slug for _, slug, _ in TENDENCIES}


def demo_users_q():
    return Q(username__in=demo_usernames(), email__endswith="@" + DEMO_EMAIL_DOMAIN)


def moment(day):
    """A time of day on `day` (a date), in the current timezone: for back-dated history."""
    at = dt.datetime.combine(day, dt.time(random.randint(9, 20), random.randint(0, 59)))
    return min(timezone.make_aware(at), timezone.now())


def called(member):
    """What a lead calls the person in a note: their preferred name, else their given name."""
    if member.preferred_name:
        return member.preferred_name
    words = member.name.split()
    if words[0] in VIETNAMESE_FAMILY_NAMES and len(words) > 2:
        return words[-1]
    return words[0]


# Each capacity has its own typical pace (points per year): people tend to grow fastest
# in political organizing and slowest in social-emotional capacities.
CAPACITY_PACE = {
    "strategic_skills": 0.65,
    "political_organizing_skills": 0.95,
    "social_emotional_capacities": 0.35,
    "organization_building_skills": 0.55,
}


def capacity_curve(field, years):
    """A function from progress (0 to 1 across `years` of check-ins) to a score from 1 to 5.

    Each person's pace in each capacity is drawn on its own, so one capacity can race
    while another stays flat or slips; now and then a check-in dips (a hard season).
    """
    start = random.choices([1, 2, 3, 4], weights=[22, 40, 28, 10])[0]
    pace = random.gauss(CAPACITY_PACE[field], 0.5)
    if random.random() < 0.15:
        pace = random.uniform(-0.4, 0.1)  # flat, or slipping
    gain = pace * years

    def score(progress):
        dip = -1 if progress > 0 and random.random() < 0.1 else 0
        value = start + gain * progress + dip + random.gauss(0, 0.2)
        return max(1, min(5, round(value)))

    return score


def readiness_count(core, level, capacity, minimum):
    """How many people a readiness rule would count now (as cores.readiness counts them):
    aligned at `level` or above toward the core's tendency, not former members, with
    `capacity` at `minimum` or more at their latest check-in."""
    latest = CapacityCheckIn.objects.filter(member_id=OuterRef("member_id")).order_by(
        "-checked_on", "-pk"
    )
    return (
        Alignment.objects.filter(
            tendency_id=core.tendency_id, level__in=AlignmentLevel.at_least(level)
        )
        .exclude(member__status=MemberStatus.FORMER)
        .annotate(score=Subquery(latest.values(capacity)[:1]))
        .filter(score__gte=minimum)
        .count()
    )


def set_rule(milestone, people, level, capacity, minimum):
    milestone.rule_min_people = people
    milestone.rule_min_level = level
    milestone.rule_capacity = capacity
    milestone.rule_capacity_min = minimum
    milestone.full_clean()
    milestone.save(
        update_fields=["rule_min_people", "rule_min_level", "rule_capacity", "rule_capacity_min"]
    )


def funnel_stages(count):
    """The stages of `count` invitations in funnel proportions (each stage at least once
    when there are five or more), in random order."""
    stages = list(InvitationStage)
    shares = [26, 24, 20, 16, 14]
    counts = [1 if count >= len(stages) else 0 for _ in stages]
    exact = [(count - sum(counts)) * share / 100 for share in shares]
    counts = [n + int(part) for n, part in zip(counts, exact, strict=True)]
    # Hand out what rounding down left over, largest remainder first.
    by_remainder = sorted(range(len(stages)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    order = [stage for stage, n in zip(stages, counts, strict=True) for _ in range(n)]
    random.shuffle(order)
    return order


class AlignmentWriter:
    """Writes what state_alignment, review_alignment and add_review_note would, in bulk.

    The seeder makes hundreds of alignments, each stated and reviewed a few times; one
    service call per step costs seconds of `make demo`. This keeps the services' values
    (version counting, queue and review fields, one history row per step with its user
    and time, notes stamped with the review's time) and writes them in a few queries.
    tests/test_seed_demo.py checks the result against the services.
    """

    def __init__(self):
        self.alignments = []
        self.steps = {}  # id(alignment) -> [(history type, date, user, field values)]
        self.notes = {}  # id(alignment) -> [ReviewNote without its alignment]

    def state(self, alignment, member, tendency, level, *, by, at):
        """As state_alignment(member, tendency, level, by=by, at=at); `alignment` is the
        one returned before for this person and tendency, or None."""
        if alignment is None:
            alignment = Alignment(member=member, tendency=tendency)
            self.alignments.append(alignment)
            self.steps[id(alignment)] = []
        elif alignment.level == level:
            return alignment
        else:
            alignment.version += 1
        alignment.level = level
        alignment.stated_on = timezone.localdate(at)
        alignment.review_state = ReviewState.NEEDS_REVIEW
        alignment.reviewed_by = None
        alignment.reviewed_at = None
        alignment.queued_at = at
        self._step(alignment, by, at)
        return alignment

    def review(self, alignment, *, by, at, level=None, note=""):
        """As review_alignment(alignment, by=by, level=level, note=note, at=at)."""
        if level is not None:
            alignment.level = level
        alignment.review_state = ReviewState.REVIEWED
        alignment.reviewed_by = by
        alignment.reviewed_at = at
        alignment.version += 1
        self._step(alignment, by, at)
        if note.strip():
            self.notes.setdefault(id(alignment), []).append(
                ReviewNote(author=by, body=note.strip(), created_at=at)
            )

    def _step(self, alignment, by, at):
        steps = self.steps[id(alignment)]
        fields = {
            field.attname: getattr(alignment, field.attname)
            for field in Alignment._meta.concrete_fields
            if field.attname != "id"
        }
        steps.append(("~" if steps else "+", at, by, fields))

    def save(self):
        for alignment in self.alignments:
            # The values; the one-per-person-and-tendency rule holds by construction.
            alignment.clean_fields(exclude=["member", "tendency", "reviewed_by"])
        Alignment.objects.bulk_create(self.alignments, batch_size=500)
        history, notes = [], []
        for alignment in self.alignments:
            for kind, at, by, fields in self.steps[id(alignment)]:
                history.append(
                    Alignment.history.model(
                        id=alignment.pk,
                        history_type=kind,
                        history_date=at,
                        history_user=by,
                        **fields,
                    )
                )
            for note in self.notes.get(id(alignment), []):
                note.alignment = alignment
                notes.append(note)
        Alignment.history.model.objects.bulk_create(history, batch_size=500)
        ReviewNote.objects.bulk_create(notes, batch_size=500)


class Command(BaseCommand):
    help = "Replace the demo data with ~300 realistic people, two tendencies and two cores."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=300, help="How many people to make.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeats.")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/login/", help="Where to log in, as printed."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off or over data that is not demo data (deletes it!).",
        )

    def handle(self, *args, people, seed, force, url, **options):
        if not force:
            self.refuse_unless_safe()
        rng_seed = seed if seed is not None else secrets.randbelow(2**31)
        random.seed(rng_seed)
        Faker.seed(rng_seed)
        NAME_FAKER.seed_instance(rng_seed)
        with transaction.atomic():
            self.clear_demo_data()
            passwords = self.seed(people)
            # Counted now, as the background worker would: the demo's pages show their
            # figures at once, not "being counted" until a worker runs.
            recount_all()
        self.print_logins(passwords, people, url)

    def refuse_unless_safe(self):
        if not settings.DEBUG:
            raise CommandError(
                "DEBUG is off: this looks like a real deployment. seed_demo deletes data; "
                "run it with DEBUG=true, or pass --force if you are sure."
            )
        User = get_user_model()
        # A demo account has a demo name and a demo address: a real "admin" is not ours.
        foreign_users = User.objects.exclude(demo_users_q())
        foreign_people = Member.objects.exclude(email__endswith="@" + DEMO_EMAIL_DOMAIN).exclude(
            added_by__in=User.objects.filter(demo_users_q())
        )
        if foreign_users.exists() or foreign_people.exists():
            raise CommandError(
                "This database holds people or users that seed_demo did not make. "
                "Refusing to replace them; pass --force to delete everything and seed anyway."
            )

    def clear_demo_data(self):
        # The histories are deleted below: writing a "deleted" row for each object first
        # would only cost seconds of every reseed.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            ImportRecord.objects.all().delete()
            ExportRecord.objects.all().delete()
            ReviewNote.objects.all().delete()
            Invitation.objects.all().delete()
            Alignment.objects.all().delete()
            CoreGroup.objects.all().delete()
            Tendency.objects.all().delete()
            CapacityCheckIn.objects.all().delete()
            Member.objects.all().delete()
        for model in (Member, CapacityCheckIn, Alignment, Invitation, Milestone):
            model.history.all().delete()
        CountedFigures.objects.all().delete()  # counted again at the end, from the new data
        get_user_model().objects.filter(demo_users_q()).delete()

    def seed(self, people_count):
        passwords = {}

        def user(username, *, groups=(), **fields):
            password = secrets.token_urlsafe(9)
            passwords[username] = password
            made = UserFactory(
                username=username,
                password=password,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                **fields,
            )
            made.groups.set(Group.objects.filter(name__in=groups))
            return made

        admin = user(
            DEMO_ADMIN, first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True
        )
        organizer = user(
            DEMO_ORGANIZER, first_name="Omar", last_name="Organizer", groups=[ORGANIZERS]
        )
        tendencies = [
            TendencyFactory(name=name, slug=slug, description=description)
            for name, slug, description in TENDENCIES
        ]
        leads = [
            user(
                DEMO_LEAD_PREFIX + tendency.slug,
                first_name=("Lena", "Luis")[index],
                last_name="Lead",
                groups=[CORE_LEADS],
            )
            for index, tendency in enumerate(tendencies)
        ]
        staff = [organizer, *leads]

        sectors = list(Sector.objects.filter(active=True))
        # About one in ten came in through an old sign-up sheet, imported for real.
        signups = min(12, people_count // 10)
        people = self.make_people(people_count - signups, sectors, by=organizer)
        latest = self.make_check_ins(people, staff)
        cores = self.make_cores(tendencies, leads)
        levels = self.make_alignments(people, tendencies, leads, organizer)
        self.choose_core_members(cores, people, levels, latest)
        self.add_readiness_rules(cores)
        self.make_invitations(people, cores, tendencies, leads, organizer)
        self.make_import_and_export(signups, by=organizer, admin=admin)
        return passwords

    def make_import_and_export(self, signups, *, by, admin):
        """One old sign-up sheet brought in through the real import, and one export."""
        if not signups:
            return
        rows = [["Full name", "E-mail", "Town", "Sector(s)", "Why did you join?", "Member since"]]
        for n in range(signups):
            rows.append(
                [
                    SIGNUP_NAMES[n],
                    f"signup{n}@{DEMO_EMAIL_DOMAIN}",
                    random.choice(["Oakland", "Detroit", "Durham"]),
                    random.choice(["housing; labor", "Climate", "Abolition, Education"]),
                    "Heard about SOS at the assembly and want in.",
                    f"{random.randint(1, 12):02d}/{random.randint(1, 28):02d}/2023",
                ]
            )
        rows.append(["Nobody Atall", "not-an-email", "Oakland", "", "", ""])  # a reject
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        record = applying.start_import(
            filename="2023-sos-signup-sheet.csv", content=text.getvalue().encode(), by=by
        )
        applying.apply_import(applying.preview_import(record), by=by)
        export_people(
            Member.objects.filter(status=MemberStatus.MEMBER, city="Oakland"),
            by=admin,
            file_format="csv",
            include_joining_story=False,
            filters={"q": "", "status": "member", "sector": "", "kind": ""},
        )

    def make_people(self, count, sectors, *, by):
        today = timezone.localdate()
        kinds = list(JoiningStoryKind)
        statuses = [MemberStatus.MEMBER] * 16 + [MemberStatus.PROSPECT] * 3 + [MemberStatus.FORMER]
        people, chosen_sectors = [], []
        for n in range(count):
            chosen = random.sample(sectors, k=random.choice([1, 1, 2, 2, 3]))
            kind = random.choices(kinds, weights=[45, 15, 25, 15])[0]
            named = fake_person_name()
            member = MemberFactory.build(
                name=named.name,
                preferred_name=named.preferred_name,
                pronouns=named.pronouns,
                email=f"person{n}@{DEMO_EMAIL_DOMAIN}" if random.random() < 0.9 else "",
                status=random.choice(statuses),
                joining_story_kind=kind,
                joined_on=today - dt.timedelta(days=random.randint(20, 3600)),
                added_by=by,
            )
            member.joining_story = joining_story(kind, chosen[0].name, member.city)
            if member.status == MemberStatus.PROSPECT:
                member.joined_on = None
            # The person's history starts when they were added, not when the demo was made.
            added = member.joined_on or today - dt.timedelta(days=random.randint(5, 300))
            member._history_date = moment(max(added, today - dt.timedelta(days=3 * 365)))
            member.refresh_derived_fields()
            people.append(member)
            chosen_sectors.append(chosen)
        people = bulk_create_with_history(people, Member, batch_size=500, default_user=by)
        through = Member.sectors.through
        through.objects.bulk_create(
            [
                through(member_id=member.pk, sector_id=sector.pk)
                for member, chosen in zip(people, chosen_sectors, strict=True)
                for sector in chosen
            ],
            batch_size=1000,
        )
        snapshot_sectors_in_history([member.pk for member in people])
        for member, chosen in zip(people, chosen_sectors, strict=True):
            member.demo_sector = chosen[0].name
        return people

    def make_check_ins(self, people, staff):
        """Two years of check-ins in which each capacity grows at its own pace.

        Returns {member pk: {capacity: latest score}} for the people with check-ins.
        """
        today = timezone.localdate()
        check_ins, latest = [], {}
        for member in people:
            if member.status == MemberStatus.PROSPECT or random.random() < 0.25:
                continue
            first_day = today - dt.timedelta(days=random.randint(420, 730))
            if member.joined_on and member.joined_on > first_day:
                first_day = member.joined_on + dt.timedelta(days=random.randint(3, 15))
            # The latest check-in is some weeks or months back, as it is in real use; if
            # everyone's were today, the check-ins per month would spike this month.
            last_day = max(today - dt.timedelta(days=random.randint(0, 150)), first_day)
            span = (last_day - first_day).days
            count = random.choices([1, 2, 3, 4, 5, 6, 7, 8], weights=[4, 10, 16, 18, 16, 12, 8, 6])[
                0
            ]
            count = max(1, min(count, span // 45 + 1))
            days = sorted(
                first_day
                + dt.timedelta(days=round(span * i / max(count - 1, 1)))
                + dt.timedelta(days=random.randint(-10, 10) if 0 < i < count - 1 else 0)
                for i in range(count)
            )
            years = span / 365
            curves = {field: capacity_curve(field, years) for field in CAPACITY_FIELDS}
            for i, day in enumerate(days):
                progress = i / max(count - 1, 1)
                scores = {field: curve(progress) for field, curve in curves.items()}
                check_in = CapacityCheckInFactory.build(
                    member=member, checked_on=day, assessed_by=random.choice(staff), **scores
                )
                check_in._history_date = moment(day)
                check_ins.append(check_in)
                latest[member.pk] = scores
        bulk_create_with_history(check_ins, CapacityCheckIn, batch_size=1000)
        return latest

    def make_cores(self, tendencies, leads):
        """Two cores at different points: one engaging the Left, one still cohering."""
        now = timezone.now()
        today = timezone.localdate()

        def ago(days):
            return today - dt.timedelta(days=days)

        cores = [
            core_services.create_core(
                name=f"{tendency.name} core",
                slug=f"{tendency.slug}-core",
                tendency=tendency,
                leads=[lead],
                by=lead,
            )
            for tendency, lead in zip(tendencies, leads, strict=True)
        ]
        engaging, cohering = cores
        engaging_lead, cohering_lead = leads
        # Made long before the demo; only the page's "since" reads it.
        CoreGroup.objects.filter(pk=engaging.pk).update(created_at=now - dt.timedelta(days=610))
        CoreGroup.objects.filter(pk=cohering.pk).update(created_at=now - dt.timedelta(days=250))

        notes = {
            "Core members committed": "Nine of us signed the commitment at the founding retreat.",
            "Strategy drafted": "Draft 4 adopted; the electoral section stays open for study.",
        }
        cohering_milestones = engaging.milestones.filter(phase=Phase.COHERING).order_by("order")
        for offset, milestone in enumerate(cohering_milestones):
            core_services.complete_milestone(
                milestone,
                by=engaging_lead,
                on=ago(520 - 45 * offset),
                note=notes.get(milestone.title, ""),
            )
        core_services.advance_phase(
            engaging,
            by=engaging_lead,
            at=now - dt.timedelta(days=330),
            reason="Structure, strategy and program drafts adopted at the retreat; "
            "the core is ready to invite others in.",
        )
        core_services.return_to_previous_phase(
            engaging,
            by=engaging_lead,
            at=now - dt.timedelta(days=304),
            reason="Two founding members stepped back. We recommit as a "
            "core before inviting anyone else in.",
        )
        core_services.advance_phase(
            engaging,
            by=engaging_lead,
            at=now - dt.timedelta(days=270),
            reason="Recommitted at our last meeting, eleven of us now. The invitation "
            "list is ready; time to engage the Left.",
        )
        first_engaging = engaging.milestones.filter(phase=Phase.ENGAGING).order_by("order").first()
        core_services.complete_milestone(
            first_engaging,
            by=engaging_lead,
            on=ago(230),
            note="Sixty names across eight sectors; labor and climate are thin.",
        )
        done = cohering.milestones.filter(
            phase=Phase.COHERING, title__in=["Foundational structure drafted", "Strategy drafted"]
        ).order_by("order")
        for milestone, days in zip(done, (150, 45), strict=True):
            core_services.complete_milestone(milestone, by=cohering_lead, on=ago(days))
        return [CoreGroup.objects.get(pk=core.pk) for core in cores]

    def make_alignments(self, people, tendencies, leads, organizer):
        """Stated levels with their history of reviews, notes and restatements.

        Each alignment ends waiting in the queue (new or changed, from days to months
        ago), reviewed recently, or reviewed 7 to 10 months ago so that it comes back
        stale. Returns {(member pk, tendency index): level}.
        """
        now = timezone.now()
        weights = dict(zip(AlignmentLevel, [12, 24, 22, 24, 18], strict=True))
        levels = {}
        # Each queue gets at least one item stated in the last two weeks, whatever the dice.
        fresh_given = set()
        writer = AlignmentWriter()
        for member in people:
            if member.status == MemberStatus.PROSPECT:
                continue
            roll = random.random()
            if roll < 0.18:
                continue
            chosen = range(len(tendencies)) if roll > 0.86 else [random.randrange(len(tendencies))]
            for index in chosen:
                level = random.choices(list(weights), weights=weights.values())[0]
                levels[member.pk, index] = self.align(
                    writer,
                    member,
                    tendencies[index],
                    level,
                    lead=leads[index],
                    organizer=organizer,
                    now=now,
                    fresh=index not in fresh_given,
                )
                fresh_given.add(index)
        writer.save()
        return levels

    def align(self, writer, member, tendency, level, *, lead, organizer, now, fresh=False):
        """One person's alignment toward `tendency`: the levels they stated over time, each
        reviewed or not; `fresh` makes it a level stated in the last two weeks, waiting.
        Returns the level it ends at."""
        earliest = now - dt.timedelta(days=700)
        if member.joined_on:
            earliest = max(earliest, moment(member.joined_on))
        outcome = random.choices(["waiting", "reviewed", "stale"], weights=[11, 81, 8])[0]
        if fresh:
            outcome = "waiting"
        if outcome == "waiting":
            days = random.choices([(1, 14), (15, 60), (61, 170)], weights=[40, 35, 25])[0]
            if fresh:
                days = (1, 14)
            last_stated = now - dt.timedelta(days=random.uniform(*days))
            review_at = None
        else:
            days = (210, 300) if outcome == "stale" else (2, 170)
            review_at = now - dt.timedelta(days=random.uniform(*days))
            last_stated = review_at - dt.timedelta(days=random.uniform(1, 40))
        if last_stated < earliest:
            # Joined too recently for that story: their level waits in the queue.
            last_stated = earliest + (now - earliest) * random.uniform(0.2, 0.95)
            review_at = None
        # Most people state one level; some moved up (rarely down) on the way.
        order = list(AlignmentLevel)
        path = [level]
        for _ in range(random.choices([0, 1, 2], weights=[55, 33, 12])[0]):
            step = -1 if random.random() < 0.1 else 1
            earlier = order.index(path[0]) - step
            if 0 <= earlier < len(order):
                path.insert(0, order[earlier])
        stated_at = [last_stated]
        for _ in path[:-1]:
            stated_at.insert(0, stated_at[0] - dt.timedelta(days=random.uniform(40, 150)))
        while stated_at[0] < earliest:
            stated_at.pop(0)
            path.pop(0)

        say = {"name": called(member), "sector": member.demo_sector, "city": member.city}
        notes = REVIEW_NOTES[None] + REVIEW_NOTES[tendency.slug]
        alignment = None
        for step, (stated_level, at) in enumerate(zip(path, stated_at, strict=True)):
            # Organizers mostly record what people state; leads sometimes do it themselves.
            by = organizer if random.random() < 0.75 else lead
            alignment = writer.state(alignment, member, tendency, stated_level, by=by, at=at)
            if step == len(path) - 1:
                at_review = review_at
            elif random.random() < 0.85:
                at_review = at + (stated_at[step + 1] - at) * random.uniform(0.05, 0.5)
            else:
                continue
            if at_review is None:
                continue
            note = random.choice(notes).format(**say) if random.random() < 0.35 else ""
            # Now and then the lead hears a level one notch lower than the one stated.
            index = order.index(alignment.level)
            adjusted = order[index - 1] if index > 0 and random.random() < 0.08 else None
            writer.review(alignment, level=adjusted, by=lead, note=note, at=at_review)
        return alignment.level

    def choose_core_members(self, cores, people, levels, latest):
        """10 to 25 members per core: people aligned or committed to its tendency, the
        more experienced first, never in both cores."""
        taken = set()
        for index, (core, (low, high)) in enumerate(zip(cores, CORE_SIZES, strict=True)):
            candidates = [
                person
                for person in people
                if person.status == MemberStatus.MEMBER
                and person.pk not in taken
                and levels.get((person.pk, index))
                in (AlignmentLevel.ALIGNED, AlignmentLevel.COMMITTED)
            ]

            def weight(person, index=index):
                committed = levels[person.pk, index] == AlignmentLevel.COMMITTED
                scores = latest.get(person.pk, {})
                return 2 * committed + sum(scores.values()) / 4 + random.uniform(0, 2.5)

            candidates.sort(key=weight, reverse=True)
            chosen = candidates[: random.randint(low, high)]
            core.members.add(*chosen)
            taken.update(person.pk for person in chosen)

    def add_readiness_rules(self, cores):
        """A readiness rule per core: the engaging core's is met, the cohering one's not."""
        engaging, cohering = cores
        orientation = engaging.milestones.get(
            phase=Phase.ENGAGING, title="Orientation conversations held"
        )
        count = readiness_count(engaging, AlignmentLevel.ALIGNED, "organization_building_skills", 3)
        set_rule(
            orientation,
            min(12, max(count, 1)),
            AlignmentLevel.ALIGNED,
            "organization_building_skills",
            3,
        )
        committed = cohering.milestones.get(phase=Phase.COHERING, title="Core members committed")
        count = readiness_count(cohering, AlignmentLevel.COMMITTED, "strategic_skills", 4)
        set_rule(committed, max(15, count + 3), AlignmentLevel.COMMITTED, "strategic_skills", 4)

    def make_invitations(self, people, cores, tendencies, leads, organizer):
        """Each core's funnel, every stage filled, a few stalled; one person in conversation
        with both cores."""
        prospects = [p for p in people if p.status == MemberStatus.PROSPECT]
        random.shuffle(prospects)
        if len(prospects) < 3:
            return
        today = timezone.localdate()
        engaging, cohering = cores
        point_people = {core.pk: list(core.members.all()) for core in cores}
        in_a_core = {person.pk for members in point_people.values() for person in members}
        # Prospects first; members in no core are invited too, once prospects run out.
        others = [p for p in people if p.status == MemberStatus.MEMBER and p.pk not in in_a_core]
        random.shuffle(others)
        shared, pool = prospects[0], prospects[1:] + others
        sizes = (max(8, len(people) // 12), max(6, len(people) // 25))
        plans = [
            (engaging, leads[0], pool[: sizes[0]]),
            (cohering, leads[1], pool[sizes[0] : sum(sizes)]),
        ]
        for index, (core, lead) in enumerate(zip(cores, leads, strict=True)):
            # Exploring both tendencies and talking with both cores: each core sees only
            # its own stages and notes.
            conversation = today - dt.timedelta(days=random.randint(3, 20))
            self.invite(
                core,
                shared,
                InvitationStage.IN_CONVERSATION,
                last=conversation,
                lead=lead,
                point_people=point_people[core.pk],
                stalled=False,
            )
            core_services.state_alignment(
                shared,
                tendencies[index],
                AlignmentLevel.EXPLORING,
                by=organizer,
                at=moment(conversation),
            )
        for core, lead, invitees in plans:
            stages = funnel_stages(len(invitees))
            open_count = sum(stage in OPEN_STAGES for stage in stages)
            stalled = max(1, round(open_count * 0.15)) if open_count >= 3 else 0
            reasons = 1  # at least one declined invitation says why
            for person, stage in zip(invitees, stages, strict=True):
                is_stalled = stage in OPEN_STAGES and stalled > 0
                stalled -= is_stalled
                give_reason = stage == InvitationStage.DECLINED and reasons > 0
                reasons -= give_reason
                if stage in OPEN_STAGES:
                    back = random.randint(35, 110) if is_stalled else random.randint(0, 27)
                else:
                    back = random.randint(4, 200)
                self.invite(
                    core,
                    person,
                    stage,
                    last=today - dt.timedelta(days=back),
                    lead=lead,
                    point_people=point_people[core.pk],
                    stalled=is_stalled,
                    give_reason=give_reason,
                )

    def invite(self, core, person, stage, *, last, lead, point_people, stalled, give_reason=False):
        """Identify `person` for `core` and move them through the funnel to `stage`,
        reaching it on `last`, each earlier stage some days before."""
        path = {
            InvitationStage.IDENTIFIED: [],
            InvitationStage.INVITED: [InvitationStage.INVITED],
            InvitationStage.IN_CONVERSATION: [
                InvitationStage.INVITED,
                InvitationStage.IN_CONVERSATION,
            ],
            InvitationStage.JOINED: [
                InvitationStage.INVITED,
                InvitationStage.IN_CONVERSATION,
                InvitationStage.JOINED,
            ],
            InvitationStage.DECLINED: random.choice(
                [
                    [InvitationStage.INVITED, InvitationStage.DECLINED],
                    [
                        InvitationStage.INVITED,
                        InvitationStage.IN_CONVERSATION,
                        InvitationStage.DECLINED,
                    ],
                ]
            ),
        }[stage]
        days = [last]
        for _ in path:
            days.insert(0, days[0] - dt.timedelta(days=random.randint(4, 35)))
        today = timezone.localdate()
        next_step = None
        if stage in OPEN_STAGES and random.random() < (0.35 if stalled else 0.7):
            # Mostly in the coming weeks; some already overdue.
            ahead = random.randint(-10, -1) if random.random() < 0.2 else random.randint(1, 21)
            next_step = today + dt.timedelta(days=ahead)
        # Six in seven have a point person, counted rather than rolled so that even a small
        # demo shows most invitations followed by someone.
        self.invitations_made = getattr(self, "invitations_made", 0) + 1
        point_person = (
            random.choice(point_people) if point_people and self.invitations_made % 7 else None
        )
        note = random.choice(INVITATION_NOTES).format(
            sector=person.demo_sector.lower(), city=person.city or "the city"
        )
        invitation = core_services.invite_to_core(
            core,
            person,
            by=lead,
            point_person=point_person,
            next_step_on=next_step,
            note=note,
            on=days[0],
        )
        for move, day in zip(path, days[1:], strict=True):
            reason = ""
            if move == InvitationStage.DECLINED and (give_reason or random.random() < 0.5):
                reason = random.choice(DECLINED_REASONS)
            core_services.move_invitation(invitation, move, by=lead, on=day, reason=reason)

    def print_logins(self, passwords, people_count, url):
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS(f"Demo data ready: {people_count} people, 2 tendencies, 2 cores."))
        w(f"Log in at {url} with one of these (shown only now):")
        roles = {
            DEMO_ADMIN: "admin (superuser, Django admin)",
            DEMO_ORGANIZER: "organizer",
        }
        for username, password in passwords.items():
            role = roles.get(username) or f"core lead, {username.removeprefix(DEMO_LEAD_PREFIX)}"
            w(f"  {username:<24} {password:<16} {role}")
        w("")
