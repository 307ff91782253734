"""A network's worth of realistic data, fast, for measuring pages at size (not for tests).

    from sos_tracker.bench_data import make_cast, make_network
    cast = make_cast()                  # the users, two tendencies, two cores: once per database
    made = make_network(100_000, cast)  # people and all they carry: a minute or two

`make_network` can be called again on the same database to grow it: every share below
is a share of the people added, so 100,000 people carry a hundred times what 1,000 carry.
That is the point of a benchmark: a query that joins, sorts or counts more than it should
grows with the data and shows.

What the people carry, as a share of the people added (tendency A / tendency B):

- status: about 78 % members, 15 % prospects, 7 % former members; one to three sectors;
- a stated alignment toward tendency A (35 %) and B (28 %), drawn independently, so about
  one in ten people is exploring both and sits in both queues. Levels from "not yet clear"
  to "committed". Of these alignments 6 % need review (new or changed, waiting from a day
  to five months), 10 % were reviewed longer ago than REVIEW_STALE_AFTER_DAYS (stale: back
  in the queue), the rest were reviewed recently; a quarter changed level once, so the
  history of levels has several rows. A third of the reviewed ones carry one or two
  private notes of their tendency's lead;
- core membership: about 2 % of people in core A's member list and 0.6 % in core B's
  (a few thousand and a few hundred at 100,000), drawn from those aligned or committed;
- invitations: core A (engaging the Left) follows about 5 % of people, core B (still
  cohering) about 1.2 %, a few people both; every stage from identified to joined, and
  declined, with each stage's date, a point person from the core's members, next-step
  dates (some overdue) and about a quarter of the open ones stalled (no move for longer
  than INVITATION_STALLED_AFTER_DAYS);
- capacity check-ins: 40 % of members and former members have two to six over the last
  two years, the four capacities growing at their own rates.

Rows are written with bulk_create in batches, one transaction per batch. Models that keep
history (alignments, invitations, check-ins) get their history rows written in bulk too,
one per recorded change, dated when the change happened (as the services would have left
them), so history pages and "the alignment's history of levels" read real rows. People
themselves are written without history (save() is skipped; derived search columns are
filled by refresh_derived_fields(); the database keeps its own search index through its
triggers): no page reads 100,000 people's creation rows, and writing them would double the
time it takes. The bench gives the people whose page it measures a history of their own.
"""

import contextlib
import datetime as dt
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from cores import services as core_services
from cores.models import (
    OPEN_STAGES,
    STAGE_DATE_FIELDS,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Phase,
    ReviewNote,
    ReviewState,
    Tendency,
)
from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)
from members.text import name_words
from tests.factories import (
    CITIES,
    AdminFactory,
    LeadFactory,
    OrganizerFactory,
    TendencyFactory,
    fake_person_name,
    joining_story,
)

STATUS_WEIGHTS = {MemberStatus.MEMBER: 78, MemberStatus.PROSPECT: 15, MemberStatus.FORMER: 7}
STORY_WEIGHTS = {
    JoiningStoryKind.SOCIAL_MOVEMENT: 45,
    JoiningStoryKind.NCM_VETERAN: 15,
    JoiningStoryKind.MIDDLE_GENERATION: 25,
    JoiningStoryKind.OTHER: 15,
}
# Per tendency (A, B): share of people with a stated alignment toward it.
ALIGNMENT_SHARE = (0.35, 0.28)
LEVEL_WEIGHTS = {
    AlignmentLevel.NOT_YET_CLEAR: 20,
    AlignmentLevel.EXPLORING: 30,
    AlignmentLevel.LEANING: 20,
    AlignmentLevel.ALIGNED: 20,
    AlignmentLevel.COMMITTED: 10,
}
NEEDS_REVIEW_SHARE = 0.06
STALE_SHARE = 0.10
CHANGED_SHARE = 0.25  # alignments whose level changed once (two levels in their history)
NOTE_SHARE = 0.35  # reviewed alignments with private notes
# Per core (A, B): chance that a person aligned or committed toward its tendency is in
# its member list; about 2 % and 0.6 % of all people.
CORE_MEMBER_CHANCE = (0.2, 0.07)
# Per core (A, B): chance a prospect, and anyone else, is followed by an invitation.
INVITED_CHANCE = {"prospect": (0.2, 0.05), "other": (0.024, 0.0055)}
ALSO_INVITED_BY_A = 0.3  # of core B's invitees, those core A follows as well
STAGE_WEIGHTS = (
    # Core A is engaging the Left: people in every stage.
    {"identified": 25, "invited": 25, "in_conversation": 20, "joined": 18, "declined": 12},
    # Core B is still cohering: mostly people it has identified.
    {"identified": 55, "invited": 25, "in_conversation": 12, "joined": 4, "declined": 4},
)
STALLED_SHARE = 0.25  # of open invitations
CHECKED_IN_SHARE = 0.4  # of members and former members
TWO_YEARS = 730

TENDENCIES = [("Democratic Front", "democratic-front"), ("Dual Power", "dual-power")]

NOTES = [
    "Coffee after the study session: wants to read the program draft before committing.",
    "Carrying a lot at work this season. Ask about capacity before asking for more.",
    "Held the city meeting together when it got tense. A steady facilitator.",
    "Brought two coworkers into the sector conversations. A natural base-builder.",
    "Asked how the core makes decisions; send the structure draft.",
    "Level confirmed: said it plainly, wants to help build this, not just attend.",
    "Quiet in big meetings, sharp one-on-one. Ask directly rather than waiting.",
    "Clear on the vision, less sure about discipline and accountability. Talk again.",
]
INVITATION_NOTES = [
    "Met at the tenant union convention; interested in the strategy draft.",
    "Old comrade from the solidarity campaign. Call rather than email.",
    "Wants to bring two others from their collective.",
]
DECLINED_REASONS = [
    "Not the right time: new job and a newborn.",
    "Committed to their own organization's rebuild this year.",
    "Disagrees with the approach to electoral work.",
]


@dataclass
class Cast:
    """The accounts and cores every database of a bench run shares (same rows, same pks)."""

    organizer: object
    leads: list  # leads[i] leads cores[i], whose tendency is tendencies[i]
    tendencies: list[Tendency]
    cores: list[CoreGroup]
    admin: object = None  # a superuser, for the admin's lists

    def reloaded(self) -> "Cast":
        """The same cast read from the database in use (a copy of the one it was made in)."""
        users = get_user_model().objects.in_bulk(
            [self.organizer.pk, *(u.pk for u in self.leads)]
            + ([self.admin.pk] if self.admin else [])
        )
        return Cast(
            admin=users[self.admin.pk] if self.admin else None,
            organizer=users[self.organizer.pk],
            leads=[users[lead.pk] for lead in self.leads],
            tendencies=[Tendency.objects.get(pk=t.pk) for t in self.tendencies],
            cores=[CoreGroup.objects.select_related("tendency").get(pk=c.pk) for c in self.cores],
        )


def make_cast() -> Cast:
    """An organizer, two leads, a superuser, two tendencies and their cores, at different phases.

    Core A (Democratic Front) has cohered and moved on to engaging the Left a few months
    ago, with one engaging milestone done and one carrying a readiness rule computed from
    the people; core B (Dual Power) is still cohering with two of four milestones done and
    a readiness rule on "Core members committed". Call once, on an empty database.
    """
    organizer = OrganizerFactory(username="bench-organizer")
    leads = [LeadFactory(username="bench-lead-a"), LeadFactory(username="bench-lead-b")]
    tendencies = [TendencyFactory(name=name, slug=slug) for name, slug in TENDENCIES]
    cores = [
        core_services.create_core(
            name=f"{tendency.name} core",
            slug=f"{tendency.slug}-core",
            tendency=tendency,
            leads=[lead],
        )
        for tendency, lead in zip(tendencies, leads, strict=True)
    ]
    now = timezone.now()
    engaging, cohering = cores
    for order, milestone in enumerate(engaging.milestones.filter(phase=Phase.COHERING)):
        on = (now - dt.timedelta(days=420 - 30 * order)).date()
        core_services.complete_milestone(milestone, by=leads[0], on=on)
    core_services.advance_phase(
        engaging,
        by=leads[0],
        at=now - dt.timedelta(days=270),
        reason="Structure, strategy and program drafts adopted at the spring retreat.",
    )
    first, *rest = engaging.milestones.filter(phase=Phase.ENGAGING).order_by("order")
    core_services.complete_milestone(first, by=leads[0], on=(now - dt.timedelta(days=200)).date())
    _give_readiness_rule(
        rest[-1],
        people=40,
        level=AlignmentLevel.ALIGNED,
        capacity="organization_building_skills",
        at_least=3,
    )
    cohering_milestones = list(cohering.milestones.filter(phase=Phase.COHERING).order_by("order"))
    for days_ago, milestone in zip((150, 60), cohering_milestones[1:3], strict=True):
        on = (now - dt.timedelta(days=days_ago)).date()
        core_services.complete_milestone(milestone, by=leads[1], on=on)
    _give_readiness_rule(cohering_milestones[0], people=12, level=AlignmentLevel.COMMITTED)
    cores = [CoreGroup.objects.get(pk=core.pk) for core in cores]
    admin = AdminFactory(username="bench-admin")
    return Cast(organizer=organizer, leads=leads, tendencies=tendencies, cores=cores, admin=admin)


def _give_readiness_rule(milestone, *, people, level, capacity="", at_least=None):
    milestone.rule_min_people = people
    milestone.rule_min_level = level
    milestone.rule_capacity = capacity
    milestone.rule_capacity_min = at_least
    milestone.full_clean()
    milestone.save()


def make_network(n: int, cast: Cast, *, batch_size: int = 5000) -> Counter:
    """Add `n` people and what they carry (module docstring); return rows made per kind.

    Uses the module-level `random` (seed it for a repeatable run). Emails are unique per
    call. One transaction per batch of `batch_size` people.
    """
    sectors = list(Sector.objects.filter(active=True).values_list("pk", "name"))
    # Emails must not collide with an earlier run's people (case-insensitive unique).
    run = secrets.token_hex(3)
    context = _Context(cast)
    made = Counter()
    done = 0
    while done < n:
        count = min(batch_size, n - done)
        built = [_person(done + i, run, sectors, context.today) for i in range(count)]
        with transaction.atomic():
            people = _create(Member, [member for member, _chosen in built])
            made["people"] += len(people)
            made["sector links"] += _give_sectors(people, [chosen for _member, chosen in built])
            made += _give_activity(people, context)
        done += count
    return made


@contextlib.contextmanager
def bulk_loading(timings: dict | None = None):
    """Load people fast: the members table's secondary indexes (and on SQLite the search
    index's triggers) are dropped on entry and made again, all at once, on exit.

    On PostgreSQL every index of members_member that backs no constraint is dropped and
    recreated from its own definition (pg_get_indexdef); the table has no triggers there
    (the trigram index is an index). On SQLite the explicit indexes are dropped and made
    again from sqlite_master's SQL, and the full-text index's triggers
    (members.search.SQLITE_TRIGGERS) are dropped and the index rebuilt in one pass
    (SQLITE_REBUILD), which is what the triggers would have kept it as. Unique indexes
    are dropped too: the rows loaded are unique by construction. `timings`, if given,
    gets "rebuild" = seconds spent making the indexes again.
    """
    from members import search

    table = Member._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT x.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [table],
            )
            indexes = cursor.fetchall()
            triggers = {}
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            present = {row[0] for row in cursor.fetchall()}
            triggers = {
                name: sql for name, sql in search.SQLITE_TRIGGERS.items() if name in present
            }
        quote = connection.ops.quote_name
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        for name in triggers:
            cursor.execute(f"DROP TRIGGER {quote(name)}")
    try:
        yield
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for _name, sql in indexes:
                cursor.execute(sql)
            for sql in triggers.values():
                cursor.execute(sql)
            if triggers:
                cursor.execute(search.SQLITE_REBUILD)
        if timings is not None:
            timings["rebuild"] = time.perf_counter() - started


def replicated_models() -> list:
    """The models copied with the people by copy_network, parents before children.

    Member, every model with a foreign key to one already listed (alignments, review
    notes, invitations, check-ins, sector and core lists: the many-to-many tables
    included), and the history models of those listed (their `id` is the object's).
    """
    from django.apps import apps

    chosen = [Member]
    candidates = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in ("members", "cores") and model is not Member
    ]
    grew = True
    while grew:
        grew = False
        for model in candidates:
            if model in chosen:
                continue
            related = {f.related_model for f in model._meta.concrete_fields if f.is_relation}
            if related & set(chosen) or getattr(model, "instance_type", None) in chosen:
                chosen.append(model)
                grew = True
    return chosen


def copy_network(copies: int) -> Counter:
    """Grow the network `copies` times over by copying its rows in SQL (INSERT … SELECT).

    Every row of the replicated_models() is copied `copies` times, with its primary key
    and every key pointing at a copied row moved past the original rows (copy k adds k
    times the table's largest key), so each copy is a network of its own with the same
    shares: queues, core lists, invitations and check-ins grow with the people. Emails
    get a domain of their own per copy (the unique index), phones another exchange (so
    copies do not all share a household); names and cities repeat, as they would in
    a list of a million. Meant inside bulk_loading(); sequences are reset after.
    Returns rows made per table.
    """
    from django.core.management.color import no_style

    models_ = replicated_models()
    quote = connection.ops.quote_name
    made = Counter()
    with connection.cursor() as cursor:
        largest = {}
        for model in models_:
            pk = model._meta.pk.column
            cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(model._meta.db_table)}")
            largest[model] = cursor.fetchone()[0] or 0
        for k in range(1, copies + 1):
            with transaction.atomic():
                for model in models_:
                    if not largest[model]:
                        continue
                    columns, values = _copied_columns(model, k, largest)
                    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
                    cursor.execute(
                        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                        f"FROM {table} WHERE {pk} <= %s",
                        [largest[model]],
                    )
                    made[model._meta.db_table] += cursor.rowcount
        for sql in connection.ops.sequence_reset_sql(no_style(), models_):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            # Check the deferred foreign keys now: PostgreSQL will not rebuild an index
            # (bulk_loading's exit) on a table with checks pending in the transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return made


def _copied_columns(model, k: int, largest: dict) -> tuple[list[str], list[str]]:
    """(columns, SELECT expressions) copying `model`'s rows as copy number `k`."""
    quote = connection.ops.quote_name
    instance = getattr(model, "instance_type", None)
    columns, values = [], []
    for field in model._meta.concrete_fields:
        column = quote(field.column)
        target = None
        if field.primary_key:
            target = model
        elif field.is_relation and field.related_model in largest:
            target = field.related_model
        elif instance is not None and field.attname == instance._meta.pk.attname:
            target = instance  # a history row's copy of its object's key
        if target is not None:
            value = f"{column} + {k * largest[target]}"
        elif Member in (model, instance) and field.attname == "email":
            value = f"CASE WHEN {column} = '' THEN '' ELSE REPLACE({column}, '@', '@c{k}.') END"
        elif model is Member and field.attname in ("phone", "phone_digits", "phone_key"):
            value = f"REPLACE({column}, '555', '5{k % 10}{k // 10 % 10}')"
        else:
            value = column
        columns.append(column)
        values.append(value)
    return columns, values


# --- people -----------------------------------------------------------------------------


def _person(number: int, run: str, sectors: list[tuple[int, str]], today: dt.date):
    """An unsaved person and the pks of their sectors (one to three), as a real list has.

    Built field by field rather than by MemberFactory.build(): the same names, cities and
    stories (tests.factories), at a fraction of the cost, which was most of the seeding.
    """
    named = fake_person_name()
    city, region = random.choice(CITIES)
    kind = random.choices(list(STORY_WEIGHTS), weights=list(STORY_WEIGHTS.values()))[0]
    status = random.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    chosen = random.sample(sectors, k=min(len(sectors), random.choice([1, 1, 2, 3])))
    member = Member(
        name=named.name,
        preferred_name=named.preferred_name,
        pronouns=named.pronouns,
        phone=f"({random.randint(201, 989)}) 555-{random.randint(1000, 9999)}",
        city=city,
        region=region,
        status=status,
        joining_story_kind=kind,
        joining_story=joining_story(kind, chosen[0][1] if chosen else "housing", city),
        joined_on=(
            None
            if status == MemberStatus.PROSPECT
            else today - dt.timedelta(days=random.randint(30, 3650))
        ),
    )
    # About one in ten has no email, as in real lists; the rest derive it from the name,
    # so searching a surname also finds emails, as it would for real people.
    words = name_words(member.name)
    if random.random() >= 0.1:
        member.email = f"{words[0]}.{words[-1]}.{run}{number}@example.net"
    member.refresh_derived_fields()
    return member, [pk for pk, _name in chosen]


def _give_sectors(people: list[Member], sectors: list[list[int]]) -> int:
    return _insert(
        Member.sectors.through,
        ["member_id", "sector_id"],
        [
            (member.pk, sector)
            for member, chosen in zip(people, sectors, strict=True)
            for sector in chosen
        ],
    )


# --- what people carry ------------------------------------------------------------------


class _Context:
    """What every batch needs: now, the cast, and each core's member pks so far."""

    def __init__(self, cast: Cast):
        self.cast = cast
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.stale_days = settings.REVIEW_STALE_AFTER_DAYS
        self.stalled_days = settings.INVITATION_STALLED_AFTER_DAYS
        # Point persons are members of the core; a grown database keeps its earlier ones.
        self.core_members = [list(core.members.values_list("pk", flat=True)) for core in cast.cores]
        self.assessors = [cast.organizer.pk, *(lead.pk for lead in cast.leads)]


def _give_activity(people: list[Member], context: _Context) -> Counter:
    made = Counter()
    alignments, alignment_history, notes = [], [], []
    for member in people:
        for index, share in enumerate(ALIGNMENT_SHARE):
            if member.status == MemberStatus.PROSPECT:
                share /= 2  # prospects have said less about where they stand
            if random.random() < share:
                alignment, history, note_times = _alignment(member, index, context)
                alignments.append(alignment)
                alignment_history.append(history)
                notes.append((index, note_times))
    alignments = _create(Alignment, alignments)
    made["alignments"] = len(alignments)
    made["alignment history"] = _write_history(
        Alignment,
        [
            (alignment, *entry)
            for alignment, history in zip(alignments, alignment_history, strict=True)
            for entry in history
        ],
    )
    made["review notes"] = _insert(
        ReviewNote,
        ["alignment_id", "author_id", "body", "created_at"],
        [
            (alignment.pk, context.cast.leads[index].pk, random.choice(NOTES), at)
            for alignment, (index, times) in zip(alignments, notes, strict=True)
            for at in times
        ],
    )
    made["core members"] = _join_cores(alignments, context)
    invitations = _invitations(people, context)
    made["invitations"] = len(invitations[0])
    made["invitation history"] = _write_invitations(*invitations)
    check_ins = _check_ins(people, context)
    made["check-ins"] = len(check_ins)
    made["check-in history"] = _write_history(
        CapacityCheckIn,
        [
            (check_in, _moment(check_in.checked_on), "+", check_in.assessed_by_id, {})
            for check_in in check_ins
        ],
    )
    return made


def _alignment(member: Member, index: int, context: _Context):
    """An unsaved alignment toward tendency `index`, its history entries and note times.

    History entries are (when, type, user id, field overrides) from the first statement
    to the current state, as state_alignment and review_alignment would have written them.
    """
    now, lead = context.now, context.cast.leads[index].pk
    organizer = context.cast.organizer.pk  # who records what people state
    level = random.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
    roll = random.random()
    if roll < NEEDS_REVIEW_SHARE:
        state, reviewed_at = ReviewState.NEEDS_REVIEW, None
        stated = now - dt.timedelta(days=random.uniform(0.5, 150))
    else:
        state = ReviewState.REVIEWED
        if roll < NEEDS_REVIEW_SHARE + STALE_SHARE:
            ago = random.uniform(context.stale_days + 1, context.stale_days + 365)
        else:
            ago = random.uniform(0.5, context.stale_days - 1)
        reviewed_at = now - dt.timedelta(days=ago)
        stated = reviewed_at - dt.timedelta(days=random.uniform(1, 60))
    history, review_times = [], []
    version = 1
    if random.random() < CHANGED_SHARE:
        # An earlier level, stated and reviewed months before the current one.
        levels = list(AlignmentLevel)
        earlier = levels[max(0, levels.index(level) - random.choice([1, 1, 2]))]
        if earlier == level:
            earlier = levels[1]
        first = stated - dt.timedelta(days=random.uniform(90, 300))
        first_review = first + dt.timedelta(days=random.uniform(1, 30))
        history += [
            (first, "+", organizer, _queued(earlier, first, version=1)),
            (first_review, "~", lead, _reviewed(earlier, first, first_review, lead, version=2)),
        ]
        review_times.append(first_review)
        version = 3
        history.append((stated, "~", organizer, _queued(level, stated, version=version)))
    else:
        history.append((stated, "+", organizer, _queued(level, stated, version=version)))
    final = _queued(level, stated, version=version)
    if state == ReviewState.REVIEWED:
        version += 1
        final = _reviewed(level, stated, reviewed_at, lead, version=version)
        history.append((reviewed_at, "~", lead, final))
        review_times.append(reviewed_at)
    alignment = Alignment(
        member_id=member.pk,
        tendency_id=context.cast.tendencies[index].pk,
        **final,
    )
    note_times = []
    if review_times and random.random() < NOTE_SHARE:
        note_times = random.sample(review_times, k=len(review_times))[: random.choice([1, 1, 2])]
    return alignment, history, note_times


def _queued(level, at, *, version) -> dict:
    return {
        "level": level,
        "review_state": ReviewState.NEEDS_REVIEW,
        "reviewed_by_id": None,
        "reviewed_at": None,
        "queued_at": at,
        "version": version,
        "stated_on": timezone.localdate(at),
    }


def _reviewed(level, stated, at, lead, *, version) -> dict:
    return {
        "level": level,
        "review_state": ReviewState.REVIEWED,
        "reviewed_by_id": lead,
        "reviewed_at": at,
        "queued_at": stated,
        "version": version,
        "stated_on": timezone.localdate(stated),
    }


def _join_cores(alignments: list[Alignment], context: _Context) -> int:
    """Put some of the aligned and committed into their tendency's core's member list."""
    through = CoreGroup.members.through
    tendency_index = {t.pk: i for i, t in enumerate(context.cast.tendencies)}
    rows = []
    for alignment in alignments:
        if alignment.level not in (AlignmentLevel.ALIGNED, AlignmentLevel.COMMITTED):
            continue
        index = tendency_index[alignment.tendency_id]
        if random.random() < CORE_MEMBER_CHANCE[index]:
            core = context.cast.cores[index]
            rows.append((core.pk, alignment.member_id))
            context.core_members[index].append(alignment.member_id)
    return _insert(through, ["coregroup_id", "member_id"], rows)


def _invitations(people: list[Member], context: _Context):
    """Unsaved invitations of both cores and, per invitation, its path of stage moves."""
    cores, leads = context.cast.cores, context.cast.leads
    members_of = [set(pks) for pks in context.core_members]
    invitations, paths = [], []
    for member in people:
        kind = "prospect" if member.status == MemberStatus.PROSPECT else "other"
        chances = INVITED_CHANCE[kind]
        by_b = random.random() < chances[1] and member.pk not in members_of[1]
        by_a = random.random() < (ALSO_INVITED_BY_A if by_b else chances[0])
        by_a = by_a and member.pk not in members_of[0]
        for index, invited in ((0, by_a), (1, by_b)):
            if not invited:
                continue
            stage = random.choices(
                list(STAGE_WEIGHTS[index]), weights=list(STAGE_WEIGHTS[index].values())
            )[0]
            invitation, path = _invitation(member, index, InvitationStage(stage), context)
            invitation.core_id, invitation.invited_by_id = cores[index].pk, leads[index].pk
            invitations.append(invitation)
            paths.append(path)
    return invitations, paths


def _invitation(member, index, stage, context: _Context):
    """An unsaved invitation at `stage` and the (stage, day) moves that brought it there."""
    order = {
        InvitationStage.IDENTIFIED: [InvitationStage.IDENTIFIED],
        InvitationStage.INVITED: [InvitationStage.IDENTIFIED, InvitationStage.INVITED],
        InvitationStage.IN_CONVERSATION: [
            InvitationStage.IDENTIFIED,
            InvitationStage.INVITED,
            InvitationStage.IN_CONVERSATION,
        ],
        InvitationStage.JOINED: [
            InvitationStage.IDENTIFIED,
            InvitationStage.INVITED,
            InvitationStage.IN_CONVERSATION,
            InvitationStage.JOINED,
        ],
        InvitationStage.DECLINED: [
            InvitationStage.IDENTIFIED,
            InvitationStage.INVITED,
            InvitationStage.DECLINED,
        ],
    }[stage]
    today = context.today
    # The last move's day decides whether an open invitation is stalled; earlier moves
    # are counted back from it.
    if stage in OPEN_STAGES and random.random() >= STALLED_SHARE:
        last = today - dt.timedelta(days=random.randint(0, context.stalled_days - 1))
    elif stage in OPEN_STAGES:
        last = today - dt.timedelta(days=random.randint(context.stalled_days + 1, 300))
    else:
        last = today - dt.timedelta(days=random.randint(0, 500))
    days = [last]
    for _ in order[1:]:
        days.insert(0, days[0] - dt.timedelta(days=random.randint(3, 45)))
    path = list(zip(order, days, strict=True))
    invitation = Invitation(member_id=member.pk, stage=stage, moved_on=last)
    for moved_to, day in path:
        setattr(invitation, STAGE_DATE_FIELDS[moved_to], day)
    members = context.core_members[index]
    if members and random.random() < 0.75:
        invitation.point_person_id = random.choice(members)
    if stage in OPEN_STAGES and random.random() < 0.5:
        invitation.next_step_on = today + dt.timedelta(days=random.randint(-10, 21))
    if random.random() < 0.2:
        invitation.note = random.choice(INVITATION_NOTES)
    if stage == InvitationStage.DECLINED and random.random() < 0.5:
        invitation.declined_reason = random.choice(DECLINED_REASONS)
    return invitation, path


def _write_invitations(invitations: list[Invitation], paths: list) -> int:
    """Save the invitations and one history row per move, each as it stood after it."""
    invitations = _create(Invitation, invitations)
    entries = []
    for invitation, path in zip(invitations, paths, strict=True):
        later = {STAGE_DATE_FIELDS[stage]: None for stage, _ in path}
        for step, (stage, day) in enumerate(path):
            later.pop(STAGE_DATE_FIELDS[stage])
            overrides = {"stage": stage, "moved_on": day, **later}
            if stage != InvitationStage.DECLINED:
                overrides["declined_reason"] = ""
            kind = "+" if step == 0 else "~"
            entries.append((invitation, _moment(day), kind, invitation.invited_by_id, overrides))
    return _write_history(Invitation, entries)


def _check_ins(people: list[Member], context: _Context) -> list[CapacityCheckIn]:
    """Two to six check-ins over two years for some people, each capacity at its own pace."""
    rows = []
    for member in people:
        if member.status == MemberStatus.PROSPECT or random.random() >= CHECKED_IN_SHARE:
            continue
        count = random.randint(2, 6)
        span = random.randint(120, TWO_YEARS)
        start = {name: random.randint(1, 3) for name in CAPACITY_FIELDS}
        # Points gained over the whole span, per capacity: not in lockstep.
        gain = {name: random.choice([0, 0, 0.5, 1, 1.5, 2, 3]) for name in CAPACITY_FIELDS}
        assessor = random.choice(context.assessors)
        for i in range(count):
            progress = i / (count - 1)
            days_ago = round(span * (1 - progress)) + random.randint(0, 10)
            scores = {
                name: round(start[name] + gain[name] * progress + random.choice([-0.4, 0, 0, 0.4]))
                for name in CAPACITY_FIELDS
            }
            rows.append(
                CapacityCheckIn(
                    member_id=member.pk,
                    checked_on=context.today - dt.timedelta(days=days_ago),
                    assessed_by_id=assessor,
                    **{name: max(1, min(5, score)) for name, score in scores.items()},
                )
            )
    return _create(CapacityCheckIn, rows)


# --- writing ----------------------------------------------------------------------------


def _write_history(model, entries) -> int:
    """Write history rows: (saved object, when, "+"/"~", user pk, field overrides).

    What bulk_create_with_history writes, but one row per recorded change with its own
    date and author, so a history page shows how the object came to be as it is.
    """
    historical = model.history.model
    tracked = {field.attname for field in historical._meta.concrete_fields}
    fields = [field.attname for field in model._meta.concrete_fields if field.attname in tracked]
    rows = [
        (
            *(overrides[name] if name in overrides else getattr(obj, name) for name in fields),
            when,
            kind,
            user,
            "",
        )
        for obj, when, kind, user, overrides in entries
    ]
    extra = ["history_date", "history_type", "history_user_id", "history_change_reason"]
    return _insert(historical, [*fields, *extra], rows)


def _create(model, objs: list) -> list:
    """Save new `objs` of `model` in bulk, as bulk_create does, and set their primary keys.

    auto_now and auto_now_add fields are filled as save() would (Field.pre_save).
    """
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    rows = [tuple(field.pre_save(obj, True) for field in fields) for obj in objs]
    pks = _insert(model, [field.attname for field in fields], rows, returning=True)
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def _insert(model, fields: list[str], rows: list[tuple], *, returning: bool = False):
    """INSERT `rows` (tuples in `fields` order, by attname); how many, or their new pks.

    bulk_create runs every value through its field's preparation, which was half of the
    seeding time; these columns hold plain numbers, text, dates and aware datetimes,
    adapted here once per column. With `returning`, rows go in as multi-row VALUES with
    RETURNING (SQLite 3.35+ and PostgreSQL, as bulk_create itself does) and the new
    primary keys come back in order; without, through executemany.
    """
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    adapters = [_adapter(field) for field in columns]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(field.column) for field in columns)}) VALUES "
    )
    one = f"({', '.join(['%s'] * len(columns))})"
    prepared = [
        tuple(
            value if adapt is None or value is None else adapt(value)
            for adapt, value in zip(adapters, row, strict=True)
        )
        for row in rows
    ]
    pks = []
    with connection.cursor() as cursor:
        if not returning:
            for start in range(0, len(prepared), 5000):
                cursor.executemany(head + one, prepared[start : start + 5000])
            return len(prepared)
        # SQLite allows 32,766 parameters per statement, PostgreSQL 65,535.
        size = max(1, min(1000, 30_000 // len(columns)))
        pk = quote(meta.pk.column)
        for start in range(0, len(prepared), size):
            chunk = prepared[start : start + size]
            params = [value for row in chunk for value in row]
            cursor.execute(f"{head}{', '.join([one] * len(chunk))} RETURNING {pk}", params)
            pks += [row[0] for row in cursor.fetchall()]
    return pks


def _adapter(field):
    """How a column's Python value becomes a database value: cheaply where that is safe."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, (models.CharField, models.TextField)):
        return str  # choices are str subclasses; the drivers want plain text
    if isinstance(field, (models.IntegerField, models.BooleanField, models.ForeignKey)):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _moment(day: dt.date) -> dt.datetime:
    """Midday of `day`, aware: the time a dated move or check-in is recorded at."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
