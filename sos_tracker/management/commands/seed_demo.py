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
from django.db.models import Q
from django.utils import timezone
from faker import Faker
from simple_history.utils import bulk_create_with_history

from cores import services as core_services
from cores.models import (
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Phase,
    ReviewNote,
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
from sos_tracker.roles import CORE_LEADS, ORGANIZERS
from tests.factories import (
    NAME_FAKER,
    CapacityCheckInFactory,
    MemberFactory,
    TendencyFactory,
    UserFactory,
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

REVIEW_NOTES = [
    "Talked after the study session: clear on the strategy draft, wants more on program.",
    "Strong base-builder. Still weighing both tendencies; no pressure.",
    "Committed in words; check capacity for the engaging phase before asking more.",
    "Brought two people from the tenant union into the conversations.",
    "Skeptical of the electoral arm; let us revisit after the retreat.",
]


def demo_usernames():
    return {DEMO_ADMIN, DEMO_ORGANIZER} | {DEMO_LEAD_PREFIX + slug for _, slug, _ in TENDENCIES}


def demo_users_q():
    return Q(username__in=demo_usernames(), email__endswith="@" + DEMO_EMAIL_DOMAIN)


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
        ImportRecord.objects.all().delete()
        ExportRecord.objects.all().delete()
        ReviewNote.objects.all().delete()
        Invitation.objects.all().delete()
        Alignment.objects.all().delete()
        CoreGroup.objects.all().delete()
        Tendency.objects.all().delete()
        CapacityCheckIn.objects.all().delete()
        Member.objects.all().delete()
        for model in (Member, CapacityCheckIn, Alignment, Invitation):
            model.history.all().delete()
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
        self.make_check_ins(people, staff)
        cores = self.make_cores(tendencies, leads, admin)
        self.make_alignments(people, tendencies, cores, leads)
        self.make_invitations(people, cores, leads)
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
            member = MemberFactory.build(
                email=f"person{n}@{DEMO_EMAIL_DOMAIN}" if random.random() < 0.9 else "",
                status=random.choice(statuses),
                joining_story_kind=kind,
                joined_on=today - dt.timedelta(days=random.randint(20, 3600)),
                added_by=by,
            )
            member.joining_story = joining_story(kind, chosen[0].name, member.city)
            if random.random() < 0.15:
                member.preferred_name = member.name.split()[0][:3]
            if member.status == MemberStatus.PROSPECT:
                member.joined_on = None
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
        return people

    def make_check_ins(self, people, staff):
        today = timezone.localdate()
        check_ins = []
        for member in people:
            if member.status == MemberStatus.PROSPECT or random.random() < 0.25:
                continue
            count = random.randint(2, 8)
            start = {field: random.randint(1, 3) for field in CAPACITY_FIELDS}
            growth = random.choice([0, 0.5, 1, 1, 1.5, 2])
            for i in range(count):
                days_ago = int(730 * (count - 1 - i) / max(count - 1, 1)) + random.randint(0, 20)
                progress = i / max(count - 1, 1)
                wobble = random.choice([-0.4, 0, 0, 0, 0.4])
                scores = {
                    field: max(1, min(5, round(base + growth * progress + wobble)))
                    for field, base in start.items()
                }
                check_ins.append(
                    CapacityCheckInFactory.build(
                        member=member,
                        checked_on=today - dt.timedelta(days=days_ago),
                        assessed_by=random.choice(staff),
                        **scores,
                    )
                )
        bulk_create_with_history(check_ins, CapacityCheckIn, batch_size=1000)

    def make_cores(self, tendencies, leads, admin):
        now = timezone.now()
        cores = []
        for tendency, lead in zip(tendencies, leads, strict=True):
            cores.append(
                core_services.create_core(
                    name=f"{tendency.name} core",
                    slug=f"{tendency.slug}-core",
                    tendency=tendency,
                    leads=[lead],
                )
            )
        # The first core has cohered and is engaging the Left; the second is still cohering.
        engaging, cohering = cores
        for milestone in engaging.milestones.filter(phase=Phase.COHERING):
            core_services.complete_milestone(
                milestone,
                by=leads[0],
                on=(now - dt.timedelta(days=random.randint(300, 500))).date(),
            )
        core_services.advance_phase(
            engaging,
            by=leads[0],
            at=now - dt.timedelta(days=270),
            reason="Structure, strategy and program drafts adopted at the spring retreat; "
            "the core is ready to invite others in.",
        )
        first_engaging = engaging.milestones.filter(phase=Phase.ENGAGING).order_by("order").first()
        core_services.complete_milestone(
            first_engaging, by=leads[0], on=(now - dt.timedelta(days=200)).date()
        )
        for milestone in cohering.milestones.filter(phase=Phase.COHERING).order_by("order")[:2]:
            core_services.complete_milestone(
                milestone, by=leads[1], on=(now - dt.timedelta(days=random.randint(60, 200))).date()
            )
        return [CoreGroup.objects.get(pk=core.pk) for core in cores]

    def make_alignments(self, people, tendencies, cores, leads):
        levels = list(AlignmentLevel)
        now = timezone.now()
        members = [p for p in people if p.status != MemberStatus.PROSPECT]
        for member in members:
            roll = random.random()
            if roll < 0.2:
                continue
            chosen = tendencies if roll > 0.85 else [random.choice(tendencies)]
            for tendency in chosen:
                index = tendencies.index(tendency)
                lead = leads[index]
                level = random.choice(levels)
                alignment = core_services.state_alignment(
                    member,
                    tendency,
                    level,
                    by=lead,
                    on=(now - dt.timedelta(days=random.randint(1, 400))).date(),
                )
                if random.random() < 0.6:
                    note = random.choice(REVIEW_NOTES) if random.random() < 0.4 else ""
                    core_services.review_alignment(alignment, by=lead, note=note)
                if level in (AlignmentLevel.ALIGNED, AlignmentLevel.COMMITTED):
                    cores[index].members.add(member)

    def make_invitations(self, people, cores, leads):
        prospects = [p for p in people if p.status == MemberStatus.PROSPECT]
        random.shuffle(prospects)
        today = timezone.localdate()
        stages = list(InvitationStage)
        engaging, cohering = cores
        for i, person in enumerate(prospects):
            core, lead = (engaging, leads[0]) if i % 4 else (cohering, leads[1])
            stage = stages[i % len(stages)] if core == engaging else InvitationStage.IDENTIFIED
            identified = today - dt.timedelta(days=random.randint(60, 250))
            invitation = Invitation(
                core=core, member=person, invited_by=lead, identified_on=identified
            )
            day = identified
            path = {
                InvitationStage.IDENTIFIED: [],
                InvitationStage.INVITED: ["invited_on"],
                InvitationStage.IN_CONVERSATION: ["invited_on", "conversation_on"],
                InvitationStage.JOINED: ["invited_on", "conversation_on", "joined_on"],
                InvitationStage.DECLINED: ["invited_on", "declined_on"],
            }[stage]
            for field in path:
                day = min(today, day + dt.timedelta(days=random.randint(5, 25)))
                setattr(invitation, field, day)
            invitation.stage = stage
            invitation.full_clean()
            invitation._history_user = lead
            invitation.save()

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
