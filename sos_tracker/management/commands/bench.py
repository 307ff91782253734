"""Server times of the main pages as the network grows, the duplicate check of quick add,
import speed, and hurtful uploads: `make bench`.

    manage.py bench                    # 1,000 and 100,000 people; imports of 1,000 and 20,000
    manage.py bench --quick            # a smoke run in well under a minute
    manage.py bench --only pages,checks  # sections among pages, checks, imports, uploads
    manage.py bench --uploads-only     # only the uploads section (no databases)
    manage.py bench --sizes 1000,100000,1000000   # a million too: built in bulk, minutes
    DATABASE_URL=postgres://… manage.py bench

A measurement that prints figures; it asserts nothing about them. It never touches the
developer's database: each size gets a throwaway database made with Django's test
machinery (files in a new temporary folder on SQLite, `test_<name>_bench` and its copies
on PostgreSQL), and all of them are dropped at the end, also on Ctrl-C.

Each database holds a network as real use leaves it (sos_tracker.bench_data): people in
sectors, two cores with member lists, phases and milestones, alignments toward both
tendencies with review queues, stale reviews and private notes, invitations in every
stage, check-ins over two years. The smallest is built first; each larger one is a copy
of the one before, grown, so every share (queue, funnel, members) grows with the people.
A step adding 100,000 people or more loads them with the members table's secondary
indexes and search triggers off, and makes them again at the end (bench_data.bulk_loading);
the time it took is printed.

The sizes are measured in alternation, request by request: a page at 1,000 people, the
same page at 100,000, the next page, and so on, round after round. The machine is shared:
a load that comes and goes then weighs on every size and every page alike (measured
minutes apart, ratios swung from 0.4 to 8.4; issue 11). Pages are served through Django's
test Client without the test runner's template instrumentation, so a figure is the whole
server side of a request (middleware, session, view, queries, template) without the
network: the organizer's pages as a signed-in organizer, the core's pages and the
dashboard as the lead of the core, the admin's lists (people, alignments, invitations,
check-ins, access log) as a superuser, two-factor verified as a real session would be.
The unit is the bare view (sos_tracker.bench_urls: an HttpResponse behind the same
middleware and session), measured in the same rounds as any page. Each page is warmed
up, then timed `--repeat` times per size. The summary gives the median per size, its
multiple of the bare view at the same size (what a page costs beyond the framework: the
machine's speed mostly cancels out) and the growth from the smallest size to the
largest, which should stay at or below 1.3. For a page that grows more, or fails, the
slowest queries are printed at both sizes, with the database's plan of the slowest. A
request is stopped after `--time-limit` seconds (its query is interrupted) and the page
reported failed at that size.

The duplicate check of quick add (members.duplicates.find_duplicates, what
members.views.person_add calls) is timed on its own for a fixed set of new contacts made
from people saved in the smallest database (so present at every size): a similar name in
the same city and region, an existing email in other case, a shared phone under another
name, a brand-new person. The sizes alternate as for the pages. The whole quick-add POST
is a page row ("quick add, warned"): a form the duplicate warning stops, so nothing is saved.

Imports read a realistic CSV made here (messy dates and sectors, about 2% people already
saved, some rows repeated in the file, a few broken rows) and go through the same
functions as the import pages: start_import + preview_import (read, plan, duplicate
checks, store the plan), then apply_import (one transaction, with history). They run on
the largest database, after the pages.

Uploads: each shape of members.importing.bench_shapes (a line of a million commas, a cell
in column XFD, two million XLSX rows, a row of a million cells, a huge cell, and a large
honest file) is read by members.importing.reading.read_sheet in a process of its own, so
its peak resident memory (VmHWM, else ru_maxrss) is its own: refused or read, the message, seconds,
and the peak with and without the process's baseline (Django loaded, the file in memory).
Every peak should stay under 200 MB.
"""

import contextlib
import copy
import csv
import datetime as dt
import io
import json
import logging
import math
import os
import platform
import random
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from dataclasses import dataclass, field

import django
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import DatabaseErrorWrapper
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from faker import Faker

from audit.models import AccessLog
from cores.models import Alignment, Invitation
from members.duplicates import find_duplicates
from members.importing import applying, bench_shapes
from members.models import CapacityCheckIn, Member, Sector
from members.text import name_words
from sos_tracker.bench_data import Cast, bulk_loading, copy_network, make_cast, make_network
from sos_tracker.figures import recount_all
from tests.auth import log_in
from tests.factories import CapacityCheckInFactory, MemberFactory

DEFAULT_SIZES = "1000,100000"
# Sections of the run (--only), in the order they run.
SECTIONS = ("pages", "checks", "imports", "uploads")
# A step adding at least this many people loads them with the members table's indexes
# and search triggers off, made again after (bench_data.bulk_loading).
BULK_LOAD_FROM = 100_000
# A size at least twice one of this many people or more is built mostly as whole copies
# of it in SQL (bench_data.copy_network): a million in minutes, not the better part of an
# hour of generating people in Python.
COPY_FROM = 10_000
# The unit: a signed-in HttpResponse behind every middleware (sos_tracker.bench_urls).
BARE = "bare view"
# 20,000 rows give the same rows per second as 50,000 did, in well under half the time:
# the whole run stays within about ten minutes on a shared two-core machine.
DEFAULT_IMPORT_SIZES = "1000,20000"
# Twenty rounds suffice because the sizes alternate: a passing load hits both alike.
DEFAULT_REPEAT = 20
DEFAULT_TIME_LIMIT = 20.0
QUICK = {"sizes": "100,400", "import_sizes": "50,200", "repeat": 3}
WARM_UP = 3
# Growth from the smallest size to the largest above which a page is "not flat".
FLAT_LIMIT = 1.3
# Slowest queries printed for a page that is not flat or failed.
SLOW_QUERIES_SHOWN = 3
# People whose page is measured: each gets check-ins and a few history rows, as a real
# person page has; requests cycle through them. As many review items are cycled through.
PERSON_PAGE_PEOPLE = 10
SEED = 20_240_601
# The figures before issue 9's work, as issue 11 measured them on this machine: printed
# under the new ones for comparison, never measured again.
BEFORE_DUPLICATE_CHECK = "10-18 ms per check at 100,000 people (1.5 ms at 1,000)"
BEFORE_IMPORT = "450-860 rows per second against 100,000 people"
BEFORE_NOTE = "before (issue 11's measurement)"

# (search term or None for "an email fragment taken from the data", what it stands for)
SEARCH_TERMS = [
    ("ana", "a common short word"),
    ("da", "two letters: too short for the index, a plain scan"),
    ("nguyen", "a surname with accents (Nguyễn), typed without"),
    (None, "an email fragment, first.last of a real address"),
    ("detroit", "a city"),
]

# The import file: the organization's old spreadsheets, roughly.
IMPORT_HEADERS = [
    "First name",
    "Last name",
    "E-mail",
    "Phone",
    "Town",
    "State",
    "Pronouns",
    "Sector(s)",
    "Joining story",
    "Why did you join?",
    "Member since",
    "Status",
    "Shirt size",
]
COLUMN = {name: i for i, name in enumerate(IMPORT_HEADERS)}
DUPLICATE_SHARE = 0.02  # people already saved
REPEAT_SHARE = 0.005  # rows repeating an earlier row of the file
BAD_SHARE = 0.004  # rows with one unusable value
KIND_WRITINGS = [
    "NCM vet",
    "social movement",
    "Middle generation",
    "",
    "other",
    "Social-movement leftist",
    "new communist movement veteran",
    "mid gen?",
    "",
]
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d %b %Y", "%B %d, %Y", "%Y/%m/%d"]
STATUS_WRITINGS = ["member", "Member", "MEMBER", "prospect", "Prospect", ""]
BAD_CELLS = [
    ("E-mail", "someone@@example.org"),
    ("Phone", "123"),
    ("Member since", "2099-01-01"),
    ("Member since", "31/31/2020"),
    ("Status", "honorary"),
    ("First name", ""),
]


class QueryRecorder:
    """An execute wrapper kept on each bench database's connection.

    Counts queries and remembers the one running (to name the query a stopped request was
    in); while `timed` is a list, appends (seconds, sql, params) of each query to it.
    """

    def __init__(self):
        self.count = 0
        self.current = None
        self.timed = None

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.current = (sql, None if many else params)
        if self.timed is None:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timed.append([time.perf_counter() - started, sql, None if many else params])

    def fetched(self, seconds: float) -> None:
        """Fetching rows took `seconds`: the last query's, whose rows they are."""
        if self.timed:
            self.timed[-1][0] += seconds


class TimedFetches(DatabaseErrorWrapper):
    """The connection's error wrapper, also timing every fetch for the QueryRecorder.

    A query's cost is not all in execute(): SQLite computes rows as they are fetched, and
    both databases send them then. Django wraps fetchone/fetchmany/fetchall with this
    wrapper, so putting this one in place while a request is profiled adds each fetch to
    the query it reads from.
    """

    def __init__(self, wrapper, recorder: QueryRecorder):
        super().__init__(wrapper)
        self.recorder = recorder

    def __call__(self, func):
        wrapped = super().__call__(func)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return wrapped(*args, **kwargs)
            finally:
                self.recorder.fetched(time.perf_counter() - started)

        return timed


@dataclass
class Site:
    """One size's throwaway database: its connection, cast and signed-in clients."""

    size: int
    wrapper: object  # a DatabaseWrapper, swapped in as the default connection when used
    recorder: QueryRecorder = field(default_factory=QueryRecorder)
    cast: Cast | None = None
    clients: dict = field(default_factory=dict)
    made: Counter = field(default_factory=Counter)
    # perf_counter() after which the running query is interrupted (SQLite's progress
    # handler reads it); infinite outside a measured request.
    deadline: float = math.inf
    guarded: object = None  # the raw connection the time limit is installed on


@dataclass
class Page:
    """A page to measure: per size, the URLs cycled through and what the page covers."""

    label: str
    who: str  # "organizer" or "lead" (of the first core)
    urls: dict  # size -> [url, ...]
    found: dict  # size -> int or None
    # size -> [form data, ...] posted to the URL of the same position; None: a GET.
    posts: dict = field(default_factory=dict)


@dataclass
class PageResult:
    label: str
    who: str
    people: int
    found: int | None
    times: list = field(default_factory=list)
    queries: int | None = None
    # (seconds, sql, params) of each query of one request, in order, and its total time.
    profile: list = field(default_factory=list)
    profile_ms: float = 0.0
    error: str = ""
    failed_query: tuple | None = None  # (sql, params) a stopped request was running

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.times) * 1000 if self.times else None

    @property
    def p95_ms(self) -> float | None:
        return _percentile(self.times, 95) * 1000 if self.times else None


class PageFailed(Exception):
    """A page answered something else than 200, raised, or ran past the time limit."""

    def __init__(self, message, query=None):
        super().__init__(message)
        self.query = query


@dataclass
class CheckResult:
    """The duplicate check for one kind of new contact at one size: seconds per check."""

    kind: str
    people: int
    times: list = field(default_factory=list)
    # What find_duplicates answered, e.g. "1 strong": proof the contact is the kind named.
    found: str = ""

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.times) * 1000 if self.times else None

    @property
    def p95_ms(self) -> float | None:
        return _percentile(self.times, 95) * 1000 if self.times else None


@dataclass
class ImportResult:
    rows: int
    existing: int
    file_mb: float
    preview_s: float
    apply_s: float
    preview_queries: int
    apply_queries: int
    counts: dict
    planted: Counter
    traced_mb: dict = field(default_factory=dict)


class QueryCounter:
    """Counts queries without keeping their SQL (an import's bulk inserts are megabytes)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = (
        "Print server times of the people list, search, the person page, a core's page, "
        "its review queue and invitations, and the dashboard at 1,000 and 100,000 people "
        "(measured in alternation), the duplicate check of quick add at both sizes, and "
        "import rows per second, on throwaway databases."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes",
            default=DEFAULT_SIZES,
            help=f"People to measure the pages at, comma-separated (default {DEFAULT_SIZES}).",
        )
        parser.add_argument(
            "--import-sizes",
            default=DEFAULT_IMPORT_SIZES,
            help=f"Rows per import file (default {DEFAULT_IMPORT_SIZES}); 0 skips imports.",
        )
        parser.add_argument(
            "--repeat",
            type=int,
            default=DEFAULT_REPEAT,
            help=f"Requests per page and size after the warm-up (default {DEFAULT_REPEAT}).",
        )
        parser.add_argument(
            "--time-limit",
            type=float,
            default=DEFAULT_TIME_LIMIT,
            help="Seconds after which a request's query is interrupted and the page "
            f"reported failed at that size (default {DEFAULT_TIME_LIMIT:g}).",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="Small sizes and few repetitions: a smoke run.",
        )
        parser.add_argument(
            "--only",
            default=",".join(SECTIONS),
            help="Sections to run, comma-separated, from "
            f"{', '.join(SECTIONS)} (default: all of them).",
        )
        parser.add_argument(
            "--uploads-only",
            action="store_true",
            help="Only the uploads section (same as --only uploads): no databases are built.",
        )
        parser.add_argument(
            "--trace-memory",
            action="store_true",
            help="Also report each import step's peak Python allocations (tracemalloc); "
            "slows the imports down, so their times are not comparable.",
        )

    def handle(self, *args, **options):
        only = _sections("uploads" if options["uploads_only"] else options["only"])
        if only == {"uploads"}:
            self._measure_uploads()
            return
        if options["quick"]:
            # Quick replaces the defaults; a size or repeat given explicitly still wins.
            defaults = {
                "sizes": DEFAULT_SIZES,
                "import_sizes": DEFAULT_IMPORT_SIZES,
                "repeat": DEFAULT_REPEAT,
            }
            for key, value in QUICK.items():
                if options[key] == defaults[key]:
                    options[key] = value
        sizes = _sizes(options["sizes"], "--sizes", minimum=1)
        import_sizes = [n for n in _sizes(options["import_sizes"], "--import-sizes") if n]
        if "imports" not in only:
            import_sizes = []
        repeat = options["repeat"]
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if options["time_limit"] <= 0:
            raise CommandError("--time-limit must be a positive number of seconds.")
        self.time_limit = options["time_limit"]

        started = time.perf_counter()
        random.seed(SEED)
        Faker.seed(SEED)
        with (
            warnings.catch_warnings(),
            _quiet_request_errors(),
            override_settings(
                # The test client speaks plain HTTP to "testserver"; static URLs are made
                # without collectstatic's manifest (a dictionary lookup in production).
                ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
                SECURE_SSL_REDIRECT=False,
                STORAGES=_plain_static_storages(),
                # The project's URLs and the bare view, the unit of every page's figure.
                ROOT_URLCONF="sos_tracker.bench_urls",
            ),
            self._throwaway_databases() as databases,
        ):
            # Hence whitenoise's warning that there is no collected static folder.
            warnings.filterwarnings("ignore", "No directory at", UserWarning)
            self._say(
                f"Python {platform.python_version()}, Django {django.get_version()}, "
                f"{os.cpu_count()} CPUs, {platform.machine()}; {_load()}"
            )
            sites = self._build(databases, sizes)
            contacts = _quick_add_contacts(sites[0])
            results = checks = []
            if "pages" in only:
                pages = self._pages(sites, contacts)
                results = self._measure_pages(sites, pages, repeat)
            if "checks" in only:
                checks = self._measure_duplicate_checks(sites, contacts, repeat)
            imports = []
            if import_sizes:
                _use(sites[-1])
                _lift_time_limit(sites[-1])
                imports = [
                    self._measure_import(
                        n, by=sites[-1].cast.organizer, trace=options["trace_memory"]
                    )
                    for n in import_sizes
                ]
            self._say("")
            if results:
                self._print_pages(results, pages, sites, repeat)
            if checks:
                self._print_duplicate_checks(checks, sites, repeat)
            if imports:
                self._print_imports(imports, trace=options["trace_memory"])
        if "uploads" in only:
            self._measure_uploads()
        elapsed = time.perf_counter() - started
        self._say("")
        self._say(f"Peak memory of the process (ru_maxrss): {_peak_rss_mb():,.0f} MB")
        self._say(f"Total time: {_duration(elapsed)} (building, measuring and the databases)")
        self._say(
            f"{_load()} at the end; other processes share the CPUs, and the figures are "
            "noisy while the load is near or above the CPU count."
        )

    # --- the databases --------------------------------------------------------------------

    @contextlib.contextmanager
    def _throwaway_databases(self):
        """Make and drop the bench's databases; the developer's connection is put back.

        Yields a function `new(size, copy_of=None)` returning a Site: a new migrated
        database, or a copy of `copy_of`'s (SQLite copies the file, PostgreSQL creates it
        from it as a template). Each is used by swapping its connection in as the default
        one (`_use`), so the app's code runs unchanged against it.
        """
        original = connections[DEFAULT_DB_ALIAS]
        original_name = settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"]
        template = copy.deepcopy(original.settings_dict)
        template.setdefault("TEST", {})
        folder = None
        if original.vendor == "sqlite":
            # A file, not memory: the page cache and the journal are part of the cost.
            folder = tempfile.mkdtemp(prefix="sos-bench-")
            template["TEST"]["NAME"] = os.path.join(folder, "bench.sqlite3")
        else:
            template["TEST"]["NAME"] = f"test_{original.settings_dict['NAME']}_bench"
        made = []

        def new(size: int, copy_of: Site | None = None) -> Site:
            started = time.perf_counter()
            if copy_of is None:
                wrapper = original.__class__(copy.deepcopy(template), DEFAULT_DB_ALIAS)
                made.append(wrapper)
                connections[DEFAULT_DB_ALIAS] = wrapper
                self._say(f"Creating the throwaway database {template['TEST']['NAME']} …")
                wrapper.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
                # Content types are cached per alias; this database numbers its own.
                ContentType.objects.clear_cache()
                self._say(f"  migrated in {time.perf_counter() - started:.1f} s")
            else:
                source = copy_of.wrapper
                clone = source.creation.get_test_db_clone_settings(str(size))
                # Copying needs the source closed: SQLite folds its write-ahead log into
                # the file, PostgreSQL refuses a template that has connections.
                source.close()
                source.creation.clone_test_db(str(size), verbosity=0, autoclobber=True)
                wrapper = original.__class__(copy.deepcopy(clone), DEFAULT_DB_ALIAS)
                made.append(wrapper)
                self._say(
                    f"Copied the {copy_of.size:,}-people database to {clone['NAME']} in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            site = Site(size=size, wrapper=wrapper)
            wrapper.execute_wrappers.append(site.recorder)
            _use(site)
            self._say(f"  {_describe_database()}")
            return site

        try:
            yield new
        finally:
            for wrapper in reversed(made):
                with contextlib.suppress(Exception):  # one failed drop must not keep the rest
                    wrapper.creation.destroy_test_db(verbosity=0, keepdb=False)
            connections[DEFAULT_DB_ALIAS] = original
            settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"] = original_name
            ContentType.objects.clear_cache()
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    def _build(self, new_database, sizes) -> list[Site]:
        """One database per size: the smallest built, each larger a grown copy."""
        sites = []
        for size in sizes:
            previous = sites[-1] if sites else None
            site = new_database(size, copy_of=previous)
            if previous is None:
                started = time.perf_counter()
                site.cast = make_cast()
                self._say(f"Made the accounts, tendencies and cores in {_since(started)}")
                have = 0
            else:
                site.cast = previous.cast.reloaded()
                site.made = Counter(previous.made)
                have = previous.size
            started = time.perf_counter()
            timings = {}
            bulk = size - have >= BULK_LOAD_FROM
            # A size many times the one before is mostly whole copies of it, in SQL.
            copies = (size // have - 1) if have >= COPY_FROM else 0
            made = Counter()
            with bulk_loading(timings) if bulk else contextlib.nullcontext():
                if copies:
                    copy_network(copies)
                    made = Counter({kind: n * copies for kind, n in site.made.items()})
                made += make_network(size - have * (copies + 1), site.cast)
            site.made += made
            _refresh_statistics()
            took = time.perf_counter() - started
            how = (
                f"; indexes off while loading, made again in {timings['rebuild']:.1f} s"
                if bulk
                else ""
            )
            if copies:
                how += f"; {copies} copies of the {have:,} in SQL"
            self._say(
                f"Built {size - have:,} people (now {size:,}) and what they carry in "
                f"{_duration(took)} ({(size - have) / took:,.0f} people per second{how}); "
                f"peak RSS {_peak_rss_mb():,.0f} MB"
            )
            self._say("  " + ", ".join(f"{n:,} {kind}" for kind, n in site.made.items()))
            # The pages read the figures the background worker counts (sos_tracker.figures);
            # counted here as it would, as that is not a request's work.
            started = time.perf_counter()
            recount_all()
            self._say(f"  counted the figures the worker keeps in {_since(started)}")
            site.clients = {
                "organizer": log_in(Client(), site.cast.organizer),
                "lead": log_in(Client(), site.cast.leads[0]),
                "admin": log_in(Client(), site.cast.admin),
            }
            sites.append(site)
        return sites

    # --- pages ----------------------------------------------------------------------------

    def _pages(self, sites: list[Site], contacts: list[tuple[str, dict]]) -> list[Page]:
        """What is measured, with its URLs and counts in each database.

        `contacts` are _quick_add_contacts(); those the duplicate warning stops (a strong or
        weak match, not a household) are posted to quick add, so nothing is saved.
        """
        _use(sites[0])
        terms = _search_terms()
        for term, meaning in terms:
            self._say(f'  search "{term}": {meaning}')
        sector = Sector.objects.filter(active=True).order_by("name").first()
        people_url = reverse("members:people_list")
        pages = {}

        def add(label, who, site, urls, found=None, posts=None):
            page = pages.setdefault(label, Page(label=label, who=who, urls={}, found={}))
            page.urls[site.size] = urls
            page.found[site.size] = found
            if posts:
                page.posts[site.size] = posts

        for site in sites:
            _use(site)
            add(BARE, "organizer", site, [reverse("bench_bare")])
            add("people list", "organizer", site, [people_url], Member.objects.count())
            if sector:
                add(
                    f"list, sector {sector.slug}",
                    "organizer",
                    site,
                    [f"{people_url}?{urlencode({'sector': sector.slug})}"],
                    Member.objects.filter(sectors=sector).count(),
                )
            for term, _meaning in terms:
                add(
                    f'search "{term}"',
                    "organizer",
                    site,
                    [f"{people_url}?{urlencode({'q': term})}"],
                    Member.objects.search(term).count(),
                )
            person_pages = [
                reverse("members:person_detail", args=[pk]) for pk in _person_page_people()
            ]
            add("person page", "organizer", site, person_pages)
            warned = [details for kind, details in contacts if kind in WARNED_KINDS]
            add(
                "quick add, warned",
                "organizer",
                site,
                [reverse("members:person_add")] * len(warned),
                posts=warned,
            )

            core = site.cast.cores[0]
            slug = core.slug
            add(
                "core page",
                "lead",
                site,
                [reverse("cores:core_detail", args=[slug])],
                core.members.count(),
            )
            queue = Alignment.objects.review_queue(core.tendency_id)
            add(
                "review queue",
                "lead",
                site,
                [reverse("cores:review_queue", args=[slug])],
                queue.count(),
            )
            items = list(queue.values_list("pk", flat=True)[:PERSON_PAGE_PEOPLE])
            add(
                "review item",
                "lead",
                site,
                [reverse("cores:review_item", args=[slug, pk]) for pk in items],
            )
            add(
                "invitations",
                "lead",
                site,
                [reverse("cores:invitation_list", args=[slug])],
                core.invitations.count(),
            )
            add("dashboard", "lead", site, [reverse("home")], Member.objects.count())
            add("import page", "organizer", site, [reverse("members:import_start")])
            for label, model in ADMIN_LISTS:
                add(
                    f"admin: {label}",
                    "admin",
                    site,
                    [reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")],
                    model._default_manager.count(),
                )
        return list(pages.values())

    def _measure_pages(self, sites, pages, repeat) -> list[PageResult]:
        """Warm every page up at every size, then time rounds that alternate the sizes."""
        results = {
            (page.label, site.size): PageResult(
                label=page.label,
                who=page.who,
                people=site.size,
                found=page.found[site.size],
            )
            for page in pages
            for site in sites
        }
        started = time.perf_counter()
        for page in pages:
            for site in sites:
                result = results[page.label, site.size]
                urls = page.urls[site.size]
                try:
                    if not urls:
                        raise PageFailed("nothing to open (no item in the queue)")
                    for i in range(WARM_UP):
                        self._request(site, page.who, urls[i % len(urls)], _post(page, site, i))
                    # One more request with each query's time (its rows' fetching
                    # included), for the slow-query report.
                    site.recorder.count, site.recorder.timed = 0, []
                    site.wrapper.wrap_database_errors = TimedFetches(site.wrapper, site.recorder)
                    result.profile_ms = (
                        self._request(site, page.who, urls[0], _post(page, site, 0)) * 1000
                    )
                    result.queries, result.profile = site.recorder.count, site.recorder.timed
                except PageFailed as failure:
                    result.error, result.failed_query = str(failure), failure.query
                finally:
                    site.recorder.timed = None
                    # Back to the plain wrapper (a cached property, made again when read).
                    site.wrapper.__dict__.pop("wrap_database_errors", None)
        self._say(f"Warmed up {len(pages)} pages at {len(sites)} sizes in {_since(started)}")
        started = time.perf_counter()
        for round_ in range(repeat):
            # Alternate which size goes first, so neither always follows the other.
            order = sites if round_ % 2 == 0 else sites[::-1]
            for page in pages:
                for site in order:
                    result = results[page.label, site.size]
                    if result.error:
                        continue
                    urls = page.urls[site.size]
                    try:
                        result.times.append(
                            self._request(
                                site,
                                page.who,
                                urls[round_ % len(urls)],
                                _post(page, site, round_),
                            )
                        )
                    except PageFailed as failure:
                        result.error, result.failed_query = str(failure), failure.query
            if (round_ + 1) % 10 == 0 and round_ + 1 < repeat:
                self._say(f"  {round_ + 1} of {repeat} rounds in {_since(started)}")
        self._say(f"Timed {repeat} rounds in {_since(started)}")
        return list(results.values())

    def _request(self, site: Site, who: str, url: str, data: dict | None = None) -> float:
        """Seconds to serve `url` to `who` from `site`'s database; PageFailed otherwise.

        With `data`, the form is posted instead: a page that re-renders it (200) passes,
        a redirect (something saved) fails it.
        """
        _use(site)
        _limit_time(site, self.time_limit)
        site.deadline = time.perf_counter() + self.time_limit
        method = "GET" if data is None else "POST"
        started = time.perf_counter()
        try:
            client = site.clients[who]
            response = client.get(url) if data is None else client.post(url, data)
        except Exception as error:  # a page that raises at one size is a finding, not a crash
            query = site.recorder.current
            if time.perf_counter() > site.deadline:
                raise PageFailed(
                    f"stopped after {self.time_limit:g} s ({method} {url})", query
                ) from error
            raise PageFailed(
                f"raised {type(error).__name__}: {error} ({method} {url})", query
            ) from error
        finally:
            site.deadline = math.inf
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise PageFailed(f"answered {response.status_code}, not 200 ({method} {url})")
        return took

    def _print_pages(self, results: list[PageResult], pages, sites, repeat):
        sizes = [site.size for site in sites]
        self._say(
            f"Server time per request, test Client; {repeat} requests per page and size after "
            f"{WARM_UP} warm-up, the sizes in alternation; pages of the core and the "
            "dashboard as the core's lead, the others as an organizer"
        )
        for line in summary_table(results, sizes):
            self._say(line)
        self._say("")
        self._say(
            "found: people matched (lists, search), the core's members (core page), items "
            "waiting (review queue), the core's invitations, people (dashboard)"
        )
        for line in detail_table(results, sizes):
            self._say(line)
        for line in self._explain_slow_pages(results, sites):
            self._say(line)

    # --- the duplicate check of quick add ----------------------------------------------

    def _measure_duplicate_checks(self, sites, contacts, repeat) -> list[CheckResult]:
        """Time find_duplicates per contact and size: a warm-up, then alternating rounds.

        As many checks per kind and size as requests per page (`repeat`), times the
        CHECKS_PER_ROUND taken back to back in each round, for a steadier percentile.
        """
        results = {
            (kind, site.size): CheckResult(kind=kind, people=site.size)
            for kind, _details in contacts
            for site in sites
        }
        for site in sites:
            _use(site)
            _lift_time_limit(site)  # a check is not a request: no deadline to interrupt it
            for kind, details in contacts:
                for _ in range(WARM_UP):
                    matches = find_duplicates(**details)
                results[kind, site.size].found = _verdicts(matches)
        started = time.perf_counter()
        for round_ in range(repeat):
            order = sites if round_ % 2 == 0 else sites[::-1]
            for kind, details in contacts:
                for site in order:
                    _use(site)
                    times = results[kind, site.size].times
                    for _ in range(CHECKS_PER_ROUND):
                        began = time.perf_counter()
                        find_duplicates(**details)
                        times.append(time.perf_counter() - began)
        self._say(
            f"Timed {repeat * CHECKS_PER_ROUND} duplicate checks per contact and size in "
            f"{_since(started)}"
        )
        return list(results.values())

    def _print_duplicate_checks(self, checks: list[CheckResult], sites, repeat):
        self._say("")
        self._say(
            "Duplicate check per quick add (members.duplicates.find_duplicates, as "
            f"person_add calls it), ms per check; {repeat * CHECKS_PER_ROUND} checks per "
            "contact and size after a warm-up, the sizes in alternation"
        )
        for line in duplicate_check_table(checks, [site.size for site in sites]):
            self._say(line)
        self._say(
            "found: what the check answered for that contact (strong and weak matches, "
            "household: shares a phone only)"
        )
        self._say(f"{BEFORE_NOTE}: {BEFORE_DUPLICATE_CHECK}")

    def _explain_slow_pages(self, results, sites) -> list[str]:
        """For each page not flat or failed: its slowest queries, and the plan of the worst."""
        by_page = {}
        for r in results:
            by_page.setdefault(r.label, {})[r.people] = r
        small, large = sites[0], sites[-1]
        lines = []
        for label, per_size in by_page.items():
            first, last = per_size[small.size], per_size[large.size]
            growth = _growth(first, last)
            failed = [r for r in per_size.values() if r.error]
            if not failed and (growth is None or growth <= FLAT_LIMIT):
                continue
            lines.append("")
            if failed:
                worst = failed[-1]
                lines.append(f"{label}: failed at {worst.people:,} people: {worst.error}")
                if worst.failed_query:
                    sql, params = worst.failed_query
                    lines.append(f"  the query it was in: {_short(sql)}")
                    site = large if worst.people == large.size else small
                    lines += [f"  plan: {line}" for line in _explain(site, sql, params)]
            else:
                lines.append(
                    f"{label}: not flat, {growth:.2f}x from {small.size:,} to {large.size:,} "
                    f"people; its slowest queries at {large.size:,} (the same query at "
                    f"{small.size:,})"
                )
            if not last.profile:
                continue
            lines.append(
                f"  in one request, queries (and fetching their rows) took "
                f"{_query_ms(last):.1f} of {last.profile_ms:.1f} ms at {large.size:,} "
                f"({_query_ms(first):.1f} of {first.profile_ms:.1f} ms at {small.size:,}); "
                "the rest is Python: view, forms, template"
            )
            if failed and not last.error:
                lines.append(f"  its slowest queries at {large.size:,} (at {small.size:,}):")
            paired = len(first.profile) == len(last.profile)
            ranked = sorted(enumerate(last.profile), key=lambda item: -item[1][0])
            for position, (seconds, sql, _params) in ranked[:SLOW_QUERIES_SHOWN]:
                before = (
                    f"{first.profile[position][0] * 1000:.1f} ms"
                    if paired
                    else "not comparable: the query counts differ"
                )
                lines.append(
                    f"  query {position + 1}: {seconds * 1000:.1f} ms ({before}): {_short(sql)}"
                )
            if ranked:
                _seconds, sql, params = ranked[0][1]
                lines += [f"  plan: {line}" for line in _explain(large, sql, params)]
        return lines

    # --- imports --------------------------------------------------------------------------

    def _measure_import(self, rows: int, *, by, trace: bool) -> ImportResult:
        existing = Member.objects.count()
        content, planted = import_file(rows, existing_sample=_sample_people(rows), rng=random)
        if len(content) > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise CommandError(
                f"The {rows:,}-row file is {len(content) / 1e6:.1f} MB, over the upload limit."
            )
        counter = QueryCounter()
        traced = {}
        with connection.execute_wrapper(counter):
            with _traced(traced, "preview", enabled=trace):
                started = time.perf_counter()
                record = applying.start_import(filename=f"bench-{rows}.csv", content=content, by=by)
                record = applying.preview_import(record)
                preview_s = time.perf_counter() - started
            preview_queries, counter.count = counter.count, 0
            with _traced(traced, "apply", enabled=trace):
                started = time.perf_counter()
                # Possible duplicates wait for a person's decision; as the command line
                # does, they stay held and the rest is imported.
                record = applying.apply_import(record, by=by, undecided="hold")
                apply_s = time.perf_counter() - started
        _refresh_statistics()
        result = ImportResult(
            rows=rows,
            existing=existing,
            file_mb=len(content) / 1e6,
            preview_s=preview_s,
            apply_s=apply_s,
            preview_queries=preview_queries,
            apply_queries=counter.count,
            counts=applying.counts_by_action(record),
            planted=planted,
            traced_mb=traced,
        )
        self._say(
            f"Imported {rows:,} rows against {existing:,} people: preview {preview_s:.1f} s, "
            f"apply {apply_s:.1f} s; peak RSS {_peak_rss_mb():,.0f} MB"
        )
        return result

    def _print_imports(self, results: list[ImportResult], *, trace: bool):
        self._say("")
        self._say(
            "Import rows per second (preview = read + plan with duplicate checks + store the "
            "plan; apply = write people, sectors and history in one transaction)"
        )
        header = (
            f"{'rows':>8} {'existing':>9} {'file MB':>8} {'preview s':>10} {'rows/s':>8} "
            f"{'apply s':>8} {'rows/s':>8} {'both rows/s':>12} {'queries':>12}"
        )
        self._say(header)
        self._say("-" * len(header))
        for r in results:
            both = r.preview_s + r.apply_s
            self._say(
                f"{r.rows:>8,} {r.existing:>9,} {r.file_mb:>8.1f} {r.preview_s:>10.2f} "
                f"{r.rows / r.preview_s:>8,.0f} {r.apply_s:>8.2f} {r.rows / r.apply_s:>8,.0f} "
                f"{r.rows / both:>12,.0f} {f'{r.preview_queries}+{r.apply_queries}':>12}"
            )
        self._say("")
        for r in results:
            outcome = ", ".join(f"{n:,} {action}" for action, n in r.counts.items())
            planted = ", ".join(f"{what}: {n:,}" for what, n in sorted(r.planted.items()))
            planted = planted or "nothing"
            self._say(f"{r.rows:>8,} rows: {outcome}  (planted: {planted})")
            if trace:
                self._say(
                    f"{'':>8}  tracemalloc peak: preview {r.traced_mb['preview']:,.1f} MB, "
                    f"apply {r.traced_mb['apply']:,.1f} MB"
                )
        self._say(f"{BEFORE_NOTE}: {BEFORE_IMPORT} (preview and apply together)")

    # --- uploads ----------------------------------------------------------------------------

    def _measure_uploads(self):
        """Read each upload shape in a child process and print refused/read, seconds, peak."""
        self._say("")
        self._say(
            "Uploads: each shape read as an upload is (members.importing.reading), in a "
            "process of its own; peak = its resident peak (VmHWM), above = over its baseline "
            "(Django + the file)"
        )
        header = (
            f"  {'shape':<42} {'size':>9} {'outcome':<8} {'seconds':>7} {'peak':>7} {'above':>7}"
        )
        self._say(header)
        with tempfile.TemporaryDirectory(prefix="sos-bench-uploads-") as folder:
            for name, make in bench_shapes.SHAPES.items():
                data = make()
                suffix = ".xlsx" if data[:2] == b"PK" else ".csv"
                path = os.path.join(folder, "upload" + suffix)
                with open(path, "wb") as file:
                    file.write(data)
                del data
                result = _read_upload_in_child(path)
                self._say(
                    f"  {name:<42} {_size(os.path.getsize(path)):>9} {result['outcome']:<8} "
                    f"{result['seconds']:>7.2f} {result['peak_mb']:>5.0f}MB "
                    f"{result['peak_mb'] - result['base_mb']:>5.0f}MB"
                )
                self._say(f"    {result['detail'][:150]}")

    def _say(self, line: str):
        self.stdout.write(line)
        self.stdout.flush()


# --- the tables ---------------------------------------------------------------------------


def summary_table(results: list[PageResult], sizes: list[int]) -> list[str]:
    """Per page: queries, median ms and multiple of the bare view at each size, and growth.

    The unit is the bare view (BARE) measured in the same rounds at the same size; without
    one, the people list. Growth is the median at the largest size over the median at the
    smallest; a page growing more than FLAT_LIMIT is marked "not flat", one that failed
    "FAILED at <size>".
    """
    by_key = {(r.label, r.people): r for r in results}
    unit = BARE if any(r.label == BARE for r in results) else "people list"
    base = {size: by_key.get((unit, size)) for size in sizes}
    header = (
        f"{'page':<28} {'queries':>9}"
        + "".join(f" {f'ms @{size:,}':>12}" for size in sizes)
        + "".join(f" {f'x {unit.split()[0]} @{size:,}':>14}" for size in sizes)
        + (f" {'growth':>7}" if len(sizes) > 1 else "")
    )
    lines = [header, "-" * len(header)]
    for label in dict.fromkeys(r.label for r in results):
        row = [by_key[label, size] for size in sizes]
        queries = "/".join("-" if r.queries is None else str(r.queries) for r in row)
        line = f"{label:<28} {queries:>9}"
        line += "".join(f" {_ms(r):>12}" for r in row)
        line += "".join(f" {_ratio(r, base[r.people]):>14}" for r in row)
        growth = _growth(row[0], row[-1])
        if len(sizes) > 1:
            line += f" {'' if growth is None else f'{growth:.2f}':>7}"
        failed = [f"{r.people:,}" for r in row if r.error]
        if failed:
            line += f"  FAILED at {' and '.join(failed)}"
        elif growth is not None and growth > FLAT_LIMIT:
            line += "  not flat"
        lines.append(line)
    return lines


def detail_table(results: list[PageResult], sizes: list[int]) -> list[str]:
    """Per page and size: what the page covers, median and 95th percentile, queries."""
    header = (
        f"{'page':<28} {'people':>8} {'found':>8} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
    )
    lines = [header, "-" * len(header)]
    by_key = {(r.label, r.people): r for r in results}
    for label in dict.fromkeys(r.label for r in results):
        for size in sizes:
            r = by_key[label, size]
            found = "" if r.found is None else f"{r.found:,}"
            queries = "" if r.queries is None else str(r.queries)
            if r.error:
                lines.append(f"{label:<28} {size:>8,} {found:>8} {'failed':>10}")
                continue
            lines.append(
                f"{label:<28} {size:>8,} {found:>8} {r.median_ms:>10.1f} {r.p95_ms:>8.1f} "
                f"{queries:>8}"
            )
    return lines


def duplicate_check_table(checks: list[CheckResult], sizes: list[int]) -> list[str]:
    """Per kind of contact, and all kinds together: median and p95 ms per size, growth.

    Growth is the median at the largest size over the median at the smallest.
    """
    by_key = {(c.kind, c.people): c for c in checks}
    kinds = list(dict.fromkeys(c.kind for c in checks))
    everything = "all of them"
    for size in sizes:
        by_key[everything, size] = CheckResult(
            kind=everything,
            people=size,
            times=[t for kind in kinds for t in by_key[kind, size].times],
        )
    header = (
        f"{'new contact':<36}"
        + "".join(f" {f'ms @{size:,}':>12} {f'p95 @{size:,}':>12}" for size in sizes)
        + (f" {'growth':>7}" if len(sizes) > 1 else "")
        + f"  {'found'}"
    )
    lines = [header, "-" * len(header)]
    for kind in [*kinds, everything]:
        row = [by_key[kind, size] for size in sizes]
        line = f"{kind:<36}"
        for c in row:
            if c.times:
                line += f" {c.median_ms:>12.2f} {c.p95_ms:>12.2f}"
            else:
                line += f" {'-':>12} {'-':>12}"
        if len(sizes) > 1:
            first, last = row[0], row[-1]
            growth = (
                f"{last.median_ms / first.median_ms:.2f}"
                if first.median_ms and last.median_ms
                else ""
            )
            line += f" {growth:>7}"
        found = "/".join(dict.fromkeys(c.found for c in row)) if kind != everything else ""
        lines.append(f"{line}  {found}".rstrip())
    return lines


def _ms(result: PageResult) -> str:
    return "failed" if result.error else f"{result.median_ms:.1f}"


def _ratio(result: PageResult, base: PageResult | None) -> str:
    if result.error or base is None or base.error or not base.median_ms:
        return ""
    return f"{result.median_ms / base.median_ms:.1f}"


def _growth(first: PageResult, last: PageResult) -> float | None:
    if first is last or first.error or last.error or not first.median_ms:
        return None
    return last.median_ms / first.median_ms


def _query_ms(result: PageResult) -> float:
    """Time spent in the database during the profiled request of `result`, in ms."""
    return sum(seconds for seconds, _sql, _params in result.profile) * 1000


def _short(sql: str, limit: int = 400) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(site: Site, sql: str, params, *, limit: int = 14) -> list[str]:
    """The database's plan for a read query in `site`'s database, one line per step."""
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    _use(site)
    sqlite = connection.vendor == "sqlite"
    try:
        with connection.cursor() as cursor:
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params)
            rows = cursor.fetchall()
    except Exception as error:  # a plan is a hint; the report goes on without it
        return [f"(no plan: {error})"]
    if sqlite:
        # (id, parent, notused, detail): indent each step under its parent.
        depth, lines = {0: -1}, []
        for step, parent, _notused, detail in rows:
            depth[step] = depth.get(parent, -1) + 1
            lines.append("  " * depth[step] + detail)
    else:
        lines = [row[0] for row in rows]
    return lines[:limit] + (["…"] if len(lines) > limit else [])


# --- measuring --------------------------------------------------------------------------


def _use(site: Site) -> None:
    """Make `site`'s database the default connection: the app's code then runs against it."""
    connections[DEFAULT_DB_ALIAS] = site.wrapper


def _limit_time(site: Site, seconds: float) -> None:
    """Stop any query of `site` that runs past its deadline (installed once per connection).

    SQLite calls a progress handler every 100,000 virtual-machine steps, which interrupts
    the query when it answers true; PostgreSQL cancels a statement over statement_timeout.
    """
    site.wrapper.ensure_connection()
    raw = site.wrapper.connection
    if site.guarded is raw:
        return
    if site.wrapper.vendor == "sqlite":
        raw.set_progress_handler(lambda: time.perf_counter() > site.deadline, 100_000)
    elif site.wrapper.vendor == "postgresql":
        raw.execute(f"SET statement_timeout = {math.ceil(seconds * 1000)}")
    site.guarded = raw


def _lift_time_limit(site: Site) -> None:
    """No time limit for what is not a page request (imports)."""
    if site.wrapper.vendor == "postgresql" and site.guarded is not None:
        site.guarded.execute("RESET statement_timeout")
    site.guarded = None
    if site.wrapper.vendor == "sqlite" and site.wrapper.connection is not None:
        site.wrapper.connection.set_progress_handler(None, 0)


@contextlib.contextmanager
def _quiet_request_errors():
    """A page that raises is reported in the table; its logged traceback would bury it."""
    logger = logging.getLogger("django.request")
    saved = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


def _percentile(values, percent) -> float:
    """Nearest-rank percentile: a value that was measured, not an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


@contextlib.contextmanager
def _traced(into: dict, key: str, *, enabled: bool):
    if not enabled:
        yield
        return
    tracemalloc.start()
    try:
        yield
    finally:
        into[key] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()


def _search_terms() -> list[tuple[str, str]]:
    terms = []
    for term, meaning in SEARCH_TERMS:
        if term is None:
            term = _email_fragment()
        if term:
            terms.append((term, meaning))
    return terms


def _email_fragment() -> str:
    """ "first.last" of the first saved address of that shape: what someone pastes."""
    for email in (
        Member.objects.exclude(email="").order_by("pk").values_list("email", flat=True)[:200]
    ):
        parts = email.split("@")[0].split(".")
        if len(parts) >= 2 and len(parts[0]) >= 3 and len(parts[1]) >= 3:
            return f"{parts[0]}.{parts[1]}"
    return ""


def _person_page_people() -> list[int]:
    """People whose page is measured, with check-ins and history as a real page has."""
    pks = list(Member.objects.values_list("pk", flat=True))
    chosen = random.sample(pks, k=min(PERSON_PAGE_PEOPLE, len(pks)))
    people = list(Member.objects.filter(pk__in=chosen))
    # bench_data writes no history; give these a creation row and two edits.
    Member.history.bulk_history_create(people, default_change_reason="Added by the bench")
    today = timezone.localdate()
    for person in people:
        for months_ago in (14, 8, 2):
            CapacityCheckInFactory(
                member=person,
                checked_on=today - dt.timedelta(days=30 * months_ago),
                **{
                    name: random.randint(1, 5)
                    for name in (
                        "strategic_skills",
                        "political_organizing_skills",
                        "social_emotional_capacities",
                        "organization_building_skills",
                    )
                },
            )
        for pronouns in ("they/them", "she/they"):
            person.pronouns = pronouns
            person.version += 1
            person.save()
    return chosen


# The admin's changelists measured, as a superuser: (label, model).
ADMIN_LISTS = [
    ("people", Member),
    ("alignments", Alignment),
    ("invitations", Invitation),
    ("check-ins", CapacityCheckIn),
    ("access log", AccessLog),
]


def _sections(text: str) -> set[str]:
    """The sections --only names (comma-separated), checked against SECTIONS."""
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown or not chosen:
        raise CommandError(
            f"--only takes sections among {', '.join(SECTIONS)}, comma-separated"
            + (f"; not {', '.join(sorted(unknown))}." if unknown else ".")
        )
    return chosen


# The kinds of new contact posted to quick add as a page: those the warning stops.
WARNED_KINDS = ("similar name, same city", "existing email, other case")
# Checks back to back per contact, size and round.
CHECKS_PER_ROUND = 5


def _quick_add_contacts(site: Site) -> list[tuple[str, dict]]:
    """(kind, contact details as PersonForm.contact_details gives them) for the check.

    Made from people of the smallest database, so every larger one (a grown copy) holds
    them too; the same contacts are then checked at every size.
    """
    _use(site)
    people = list(
        Member.objects.exclude(email="").exclude(phone="").exclude(city="").order_by("pk")[:50]
    )
    if len(people) < 3:
        raise CommandError("The smallest size needs a few people with email, phone and city.")
    alike, emailed, phoned = people[0], people[1], people[2]
    first, _, last = alike.name.partition(" ")
    # A typo: one inner letter of the surname dropped ("Garcia" -> "Garca").
    if len(last) >= 5:
        last = last[:2] + last[3:]
    else:
        first = first + first[-1]
    return [
        (
            "similar name, same city",
            {
                "name": f"{first} {last}".strip(),
                "email": "",
                "phone": "(313) 867-4021",
                "city": alike.city,
                "region": alike.region,
            },
        ),
        (
            "existing email, other case",
            {
                "name": emailed.name,
                "email": emailed.email.upper(),
                "phone": "",
                "city": emailed.city,
                "region": emailed.region,
            },
        ),
        (
            "shared phone, other name",
            {
                "name": "Rosa Quintanilla-Ortega",
                "email": "",
                "phone": phoned.phone,
                "city": phoned.city,
                "region": phoned.region,
            },
        ),
        (
            "brand-new person",
            {
                "name": "Wendell Okafor-Lindqvist",
                "email": "wendell.okafor@example.com",
                "phone": "(605) 238-7714",
                "city": "Sioux Falls",
                "region": "SD",
            },
        ),
    ]


def _verdicts(matches) -> str:
    """What find_duplicates answered, in words: "1 strong", "1 household", "none"."""
    counts = Counter(
        "household" if m.only_shares_a_phone else ("strong" if m.is_strong else "weak")
        for m in matches
    )
    return ", ".join(f"{n} {what}" for what, n in counts.items()) or "none"


def _post(page: Page, site: Site, number: int) -> dict | None:
    """The form data of a posted page's `number`th request at `site`, or None for a GET."""
    posts = page.posts.get(site.size)
    return posts[number % len(posts)] if posts else None


def _sample_people(rows: int) -> list[Member]:
    """Saved people the import file repeats: enough for DUPLICATE_SHARE of its rows."""
    pks = list(Member.objects.values_list("pk", flat=True))
    chosen = random.sample(pks, k=min(len(pks), int(rows * DUPLICATE_SHARE) + 1))
    return list(Member.objects.in_bulk(chosen).values())


def _refresh_statistics():
    """After bulk writes, give PostgreSQL's planner fresh statistics, as autovacuum would.

    SQLite is left as a deployment leaves it: Django never runs ANALYZE there.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- the import file --------------------------------------------------------------------


def import_file(rows: int, *, existing_sample: list[Member], rng) -> tuple[bytes, Counter]:
    """A CSV like the organization's old spreadsheets, and what was planted in it.

    UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), names with accents, dates and
    sectors written several ways, an extra column. About DUPLICATE_SHARE of the rows are
    people already saved (same email in capitals with a new city, same phone written
    differently, or same name and city without contact details), REPEAT_SHARE repeat an
    earlier row, BAD_SHARE have one unusable value.
    """
    sector_names = list(Sector.objects.filter(active=True).values_list("name", flat=True))
    tag = secrets.token_hex(3)  # new emails never collide with an earlier run's
    out, planted = [], Counter()
    for number in range(rows):
        roll = rng.random()
        if roll < DUPLICATE_SHARE and existing_sample:
            person = existing_sample[rng.randrange(len(existing_sample))]
            row, kind = _saved_person_row(person, rng)
            planted[kind] += 1
        elif roll < DUPLICATE_SHARE + REPEAT_SHARE and out:
            row = list(out[rng.randrange(len(out))])
            row[COLUMN["State"]] = ""
            planted["repeated rows"] += 1
        elif roll < DUPLICATE_SHARE + REPEAT_SHARE + BAD_SHARE:
            row = _new_person_row(number, tag, sector_names, rng)
            column, value = rng.choice(BAD_CELLS)
            row[COLUMN[column]] = value
            if column == "First name":
                row[COLUMN["Last name"]] = ""
            planted["bad rows"] += 1
        else:
            row = _new_person_row(number, tag, sector_names, rng)
        out.append(row)
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(IMPORT_HEADERS)
    writer.writerows(out)
    return text.getvalue().encode("utf-8-sig"), planted


def _new_person_row(number, tag, sector_names, rng) -> list[str]:
    person = MemberFactory.build()
    first, _, last = person.name.partition(" ")
    words = name_words(person.name) or ["someone"]
    email = ""
    if rng.random() > 0.12:
        email = f"{words[0]}.{words[-1]}.{tag}{number}@{rng.choice(['example.org', 'example.net'])}"
        if rng.random() < 0.05:
            email = email.capitalize()
    phone = ""
    if rng.random() > 0.3:
        # Not the 555 exchange of the seeded people: a new person's number is new.
        area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        phone = rng.choice(
            [
                f"({area}) {exchange}-{line:04d}",
                f"{area}.{exchange}.{line:04d}",
                f"+1 {area} {exchange} {line:04d}",
                f"{area}{exchange}{line:04d}",
            ]
        )
    sectors = rng.sample(sector_names, k=rng.choice([0, 1, 1, 2])) if sector_names else []
    written = rng.choice(["; ", ", "]).join(
        rng.choice([name, name.lower(), name.upper()]) for name in sectors
    )
    joined = person.joined_on.strftime(rng.choice(DATE_FORMATS)) if rng.random() < 0.8 else ""
    return [
        first,
        last,
        email,
        phone,
        person.city,
        person.region,
        person.pronouns,
        written,
        rng.choice(KIND_WRITINGS),
        person.joining_story if rng.random() < 0.25 else "",
        joined,
        rng.choice(STATUS_WRITINGS),
        rng.choice(["S", "M", "L", "XL", ""]),
    ]


def _saved_person_row(person: Member, rng) -> tuple[list[str], str]:
    """A row for someone already saved, written as another spreadsheet would have them."""
    first, _, last = person.name.partition(" ")
    row = [""] * len(IMPORT_HEADERS)
    row[COLUMN["First name"]], row[COLUMN["Last name"]] = first, last
    way = rng.choice(["email", "email", "phone", "name and city"])
    if way == "email" and person.email:
        row[COLUMN["E-mail"]] = person.email.upper()
        row[COLUMN["Town"]], row[COLUMN["State"]] = "Flint", "MI"
        return row, "saved people by email"
    digits = "".join(c for c in person.phone if c.isdigit())
    if way == "phone" and len(digits) >= 7:
        row[COLUMN["Phone"]] = digits
        row[COLUMN["Town"]], row[COLUMN["State"]] = person.city, person.region
        row[COLUMN["Pronouns"]] = "they/them"
        return row, "saved people by phone"
    row[COLUMN["Town"]], row[COLUMN["State"]] = person.city, person.region
    return row, "saved people by name and city"


# --- small helpers ----------------------------------------------------------------------


def _sizes(text: str, option: str, *, minimum: int = 0) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"{option} takes whole numbers separated by commas.") from None
    if not sizes or sizes[0] < minimum:
        raise CommandError(f"{option} needs at least one number, none below {minimum}.")
    return sizes


def _plain_static_storages() -> dict:
    return {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _describe_database() -> str:
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} at {name}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    host = connection.settings_dict.get("HOST") or "local socket"
    return f"{connection.display_name} {version}, database {name} on {host}"


# Run by _read_upload_in_child: read one file as the upload page does, print one JSON line.
_UPLOAD_CHILD = """
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sos_tracker.settings")
import django
django.setup()
from members.importing.reading import UnreadableFile, read_sheet
path = sys.argv[1]
data = open(path, "rb").read()
def kb():
    # VmHWM: this process's own peak. ru_maxrss would report the parent's peak if higher:
    # Linux carries it over fork and exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = kb()
started = time.perf_counter()
try:
    sheet = read_sheet(os.path.basename(path), data)
    outcome, detail = "read", f"{len(sheet.rows):,} rows; " + " ".join(sheet.notices)
except UnreadableFile as refusal:
    outcome, detail = "refused", str(refusal)
seconds = time.perf_counter() - started
print(json.dumps({"outcome": outcome, "detail": detail, "seconds": seconds,
                  "peak_mb": kb(), "base_mb": base}))
"""


def _read_upload_in_child(path: str) -> dict:
    """Read `path` in a new Python process; its outcome, seconds and peak memory (MB)."""
    done = subprocess.run(
        [sys.executable, "-c", _UPLOAD_CHILD, path],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
        check=False,
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"outcome": "FAILED", "detail": last, "seconds": 0.0, "peak_mb": 0, "base_mb": 0}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:  # not on every platform
        return "load average unknown"
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
