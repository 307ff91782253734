"""One network, grown from SMALL to LARGE people, and every main page measured at both.

The network is sos_tracker.bench_data's (what `make bench` measures): people in sectors,
two cores with member lists, alignments toward both tendencies with review queues, stale
reviews and private notes, invitations in every stage, check-ins over two years. At
SMALL people a random draw could leave a core without members or a queue empty, which
would hide the queries those rows cost; `_ensure_every_relation` then gives core A one
of each, so both sizes carry every relation a page reads.

Built once per session (a few seconds) inside a transaction rolled back at the end, so
the other tests' databases stay empty; each page is requested once at each size, cold
(tests.perf.cost.measure), and the results kept as plain data.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from faker import Faker

from cores.models import Alignment, Invitation, InvitationStage
from members.models import CapacityCheckIn, Member, MemberStatus
from sos_tracker.bench_data import make_cast, make_network
from sos_tracker.figures import recount_all
from tests.auth import log_in
from tests.factories import (
    AdminFactory,
    AlignmentFactory,
    CapacityCheckInFactory,
    InvitationFactory,
)
from tests.perf.cost import Cost, measure

SMALL, LARGE = 10, 500
# The cost check compares LARGE with HUGE (see tests/perf/test_cost.py).
HUGE = 5000
SEED = 11


@dataclass(frozen=True)
class Page:
    """A request to measure: `who` ("organizer", "lead" of core A, "admin") makes it."""

    label: str
    who: str
    url: str
    post: dict | None = None


@dataclass
class Network:
    """What the pages are opened on: the cast, a superuser, and people chosen at SMALL
    (so present at both sizes)."""

    cast: object
    admin: object
    person: Member
    queued: Alignment
    term: str
    clients: dict = field(default_factory=dict)


# The app's pages the perf tests check (pages() also measures the old home page, kept
# only to prove the cost test can fail).
APP_PAGES = [
    "home",
    "people list",
    "search",
    "person page",
    "core page",
    "review queue",
    "review item",
    "invitation list",
    "quick add POST",
    "admin people",
    "admin alignments",
]


def pages(network: Network) -> list[Page]:
    """The pages the cost tests cover, in the order measured (quick add's POST, which
    writes nothing as the duplicate warning stops it, last)."""
    core = network.cast.cores[0]
    person = network.person
    return [
        Page("home", "lead", reverse("home")),
        # Not a page of the app: the home page before issue 9 (tests/perf/old_home.py).
        Page("old home (a3c0fe4)", "lead", reverse("old_home")),
        Page("people list", "organizer", reverse("members:people_list")),
        Page(
            "search",
            "organizer",
            f"{reverse('members:people_list')}?{urlencode({'q': network.term})}",
        ),
        Page("person page", "organizer", reverse("members:person_detail", args=[person.pk])),
        Page("core page", "lead", reverse("cores:core_detail", args=[core.slug])),
        Page("review queue", "lead", reverse("cores:review_queue", args=[core.slug])),
        Page(
            "review item",
            "lead",
            reverse("cores:review_item", args=[core.slug, network.queued.pk]),
        ),
        Page("invitation list", "lead", reverse("cores:invitation_list", args=[core.slug])),
        Page("admin people", "admin", reverse("admin:members_member_changelist")),
        Page("admin alignments", "admin", reverse("admin:cores_alignment_changelist")),
        Page(
            "quick add POST",
            "organizer",
            reverse("members:person_add"),
            post={
                # The same name in the same city as someone saved: warned, nothing saved.
                "name": person.name,
                "email": "",
                "phone": "",
                "city": person.city,
                "region": person.region,
                "status": MemberStatus.PROSPECT,
                "joining_story_kind": person.joining_story_kind,
                "joining_story": "Met at the assembly.",
            },
        ),
    ]


def _ensure_every_relation(cast) -> None:
    """Core A with at least one member, someone in conversation with both cores, an
    alignment waiting for review toward its tendency, and someone with two check-ins (see
    the module docstring)."""
    core = cast.cores[0]
    people = list(Member.objects.order_by("pk")[:3])
    if not core.members.exists():
        core.members.add(people[0])
    # Someone in conversation with both cores: the invitation list marks it (a query
    # made only when a row of the page is in conversation).
    talking = InvitationStage.IN_CONVERSATION
    both = core.invitations.filter(stage=talking).values("member")
    if not cast.cores[1].invitations.filter(stage=talking, member__in=both).exists():
        member = people[1]
        Invitation.objects.filter(member=member, core__in=cast.cores).delete()
        for each in cast.cores:
            InvitationFactory(core=each, member=member, stage=talking)
    if not Alignment.objects.review_queue(core.tendency_id).exists():
        Alignment.objects.filter(member=people[2], tendency=core.tendency).delete()
        AlignmentFactory(member=people[2], tendency=core.tendency)
    if not CapacityCheckIn.objects.filter(member=people[0]).exists():
        today = timezone.localdate()
        for days in (200, 20):
            CapacityCheckInFactory(member=people[0], checked_on=today - dt.timedelta(days=days))


def _measure_all(network: Network, size: int, results: dict) -> None:
    for page in pages(network):
        client = network.clients[page.who]

        def request(page=page, client=client):
            if page.post is not None:
                return client.post(page.url, page.post)
            return client.get(page.url)

        results.setdefault(page.label, {})[size] = measure(request)


def _as_the_worker_leaves_it(cast) -> None:
    """Statistics and counted figures as they are between two requests in use: PostgreSQL
    plans with what autovacuum gathered, and the worker has counted the figures pages
    read (sos_tracker.figures); its counting is not a request's work."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    recount_all(cores=cast.cores)


@pytest.fixture(scope="session")
def measured(django_db_setup, django_db_blocker) -> dict[str, dict[int, Cost]]:
    """{page label: {SMALL: Cost, LARGE: Cost, HUGE: Cost}} for every page of `pages`."""
    random.seed(SEED)
    Faker.seed(SEED)
    results = {}
    with (
        django_db_blocker.unblock(),
        # As tests/conftest.py's autouse fixtures do for each test (they are per test).
        override_settings(
            ROOT_URLCONF="tests.perf.old_home",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            STORAGES={
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        ),
        transaction.atomic(),
    ):
        cast = make_cast()
        make_network(SMALL, cast)
        _ensure_every_relation(cast)
        person = Member.objects.order_by("pk").first()
        network = Network(
            cast=cast,
            admin=AdminFactory(username="perf-admin"),
            person=person,
            queued=Alignment.objects.review_queue(cast.tendencies[0].pk).first(),
            term=person.name.split()[-1],
        )
        network.clients = {
            "organizer": log_in(Client(), cast.organizer),
            "lead": log_in(Client(), cast.leads[0]),
            "admin": log_in(Client(), network.admin),
        }
        _as_the_worker_leaves_it(cast)
        _measure_all(network, SMALL, results)
        for size in (LARGE, HUGE):
            make_network(size - Member.objects.count(), cast)
            _as_the_worker_leaves_it(cast)
            _measure_all(network, size, results)
        transaction.set_rollback(True)
    return results
