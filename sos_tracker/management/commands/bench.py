"""Server times of the main pages as the list grows, and import speed: `make bench`.

    manage.py bench                    # 1,000 then 100,000 people; imports of 1,000 and 50,000
    manage.py bench --quick            # a smoke run in a few seconds
    DATABASE_URL=postgres://… manage.py bench

A measurement that prints figures; it asserts nothing about them. It never touches the
developer's database: Django's test machinery creates a throwaway one (a file in a new
temporary folder on SQLite, `test_<name>_bench` on PostgreSQL) and drops it at the end,
also on Ctrl-C.

Pages are served through Django's test Client, so a figure is the whole server side of a
request (middleware, session, view, queries, template) for a signed-in organizer, without
the network. Each measurement is warmed up, then repeated; the median and 95th percentile
are printed with the query count of one request. People are seeded once and grown:
the smallest size is measured, the difference is added, the next size is measured.

Imports read a realistic CSV made here (messy dates and sectors, about 2% people already
saved, some rows repeated in the file, a few broken rows) and go through the same
functions as the import pages: start_import + preview_import (read, plan, duplicate
checks, store the plan), then apply_import (one transaction, with history).
"""

import contextlib
import csv
import datetime as dt
import io
import math
import os
import platform
import random
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import Counter
from dataclasses import dataclass, field

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import (
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from faker import Faker

from members.importing import applying
from members.importing.reading import MAX_UPLOAD_BYTES
from members.models import Member, Sector
from members.text import name_words
from sos_tracker.bench_data import make_people
from tests.factories import CapacityCheckInFactory, MemberFactory, OrganizerFactory

DEFAULT_SIZES = "1000,100000"
DEFAULT_IMPORT_SIZES = "1000,50000"
DEFAULT_REPEAT = 30
QUICK = {"sizes": "100,400", "import_sizes": "50,200", "repeat": 3}
WARM_UP = 3
# People whose page is measured: each gets check-ins and a few history rows, as a real
# person page has; requests cycle through them.
PERSON_PAGE_PEOPLE = 10
SEED = 20_240_601

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


@dataclass
class PageResult:
    label: str
    people: int
    found: int | None
    median_ms: float
    p95_ms: float
    queries: int


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
        "Print server times of search, the people list and the person page at 1,000 and "
        "100,000 people, and import rows per second, on a throwaway database."
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
            help=f"Requests per page measurement after the warm-up (default {DEFAULT_REPEAT}).",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="Small sizes and few repetitions: a smoke run of a few seconds.",
        )
        parser.add_argument(
            "--trace-memory",
            action="store_true",
            help="Also report each import step's peak Python allocations (tracemalloc); "
            "slows the imports down, so their times are not comparable.",
        )
        parser.add_argument(
            "--use-current-db",
            action="store_true",
            help="Run in the database already connected, which must be a test database "
            "(the test suite passes this); by default a throwaway one is created.",
        )

    def handle(self, *args, **options):
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
        repeat = options["repeat"]
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")

        started = time.perf_counter()
        random.seed(SEED)
        Faker.seed(SEED)
        with (
            warnings.catch_warnings(),
            self._throwaway_database(use_current=options["use_current_db"]) as database,
            override_settings(
                # The test client speaks plain HTTP; static URLs are made without
                # collectstatic's manifest (a dictionary lookup in production).
                SECURE_SSL_REDIRECT=False,
                STORAGES=_plain_static_storages(),
            ),
        ):
            # Hence whitenoise's warning that there is no collected static folder.
            warnings.filterwarnings("ignore", "No directory at", UserWarning)
            self._say(f"Database: {database}")
            self._say(
                f"Python {platform.python_version()}, Django {django.get_version()}, "
                f"{os.cpu_count()} CPUs, {platform.machine()}; {_load()}"
            )
            organizer = OrganizerFactory(username="bench-organizer")
            client = Client()
            client.force_login(organizer)

            pages = self._measure_pages(client, sizes, repeat)
            imports = [
                self._measure_import(n, by=organizer, trace=options["trace_memory"])
                for n in import_sizes
            ]
            self._say("")
            self._print_pages(pages, sizes, repeat)
            if imports:
                self._print_imports(imports, trace=options["trace_memory"])
        elapsed = time.perf_counter() - started
        self._say("")
        self._say(f"Peak memory of the process (ru_maxrss): {_peak_rss_mb():,.0f} MB")
        self._say(f"Total time: {_duration(elapsed)} (seeding, measuring and the database)")
        self._say(
            f"{_load()} at the end; other processes share the CPUs, and the figures are "
            "noisy while the load is near or above the CPU count."
        )

    # --- the database ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _throwaway_database(self, *, use_current: bool):
        """A fresh migrated database for the run, dropped afterwards; never the developer's."""
        if use_current:
            if not _is_test_database():
                raise CommandError(
                    "--use-current-db is for the test suite: the connected database "
                    f"({connection.settings_dict['NAME']}) is not a test database."
                )
            yield _describe_database() + " (the current test database)"
            return
        test_settings = connection.settings_dict.setdefault("TEST", {})
        saved_name = test_settings.get("NAME")
        folder = None
        if connection.vendor == "sqlite":
            # A file, not memory: the page cache and the journal are part of the cost.
            folder = tempfile.mkdtemp(prefix="sos-bench-")
            test_settings["NAME"] = os.path.join(folder, "bench.sqlite3")
        else:
            test_settings["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
        setup_test_environment(debug=False)
        self._say(f"Creating the throwaway database {test_settings['NAME']} …")
        started = time.perf_counter()
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
        try:
            self._say(f"  migrated in {time.perf_counter() - started:.1f} s")
            yield _describe_database() + " (throwaway, dropped at the end)"
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
            test_settings["NAME"] = saved_name
            teardown_test_environment()
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    # --- pages ----------------------------------------------------------------------------

    def _measure_pages(self, client, sizes, repeat) -> list[PageResult]:
        results = []
        terms = None
        for size in sizes:
            have = Member.objects.count()
            if size > have:
                started = time.perf_counter()
                make_people(size - have)
                _refresh_statistics()
                took = time.perf_counter() - started
                self._say(
                    f"Seeded {size - have:,} people (now {size:,}) in {took:.1f} s "
                    f"({(size - have) / took:,.0f} per second); peak RSS {_peak_rss_mb():,.0f} MB"
                )
            if terms is None:
                terms = _search_terms()
                for term, meaning in terms:
                    self._say(f'  search "{term}": {meaning}')
            started = time.perf_counter()
            results += self._measure_size(client, size, repeat, terms)
            took = time.perf_counter() - started
            self._say(f"  measured the pages at {size:,} people in {took:.1f} s")
        return results

    def _measure_size(self, client, size, repeat, terms) -> list[PageResult]:
        people_url = reverse("members:people_list")
        sector = Sector.objects.filter(active=True).order_by("name").first()
        measurements = [
            ("people list", [people_url], Member.objects.count()),
        ]
        if sector:
            measurements.append(
                (
                    f"list, sector {sector.slug}",
                    [f"{people_url}?{urlencode({'sector': sector.slug})}"],
                    Member.objects.filter(sectors=sector).count(),
                )
            )
        for term, _meaning in terms:
            measurements.append(
                (
                    f'search "{term}"',
                    [f"{people_url}?{urlencode({'q': term})}"],
                    Member.objects.search(term).count(),
                )
            )
        person_pages = [reverse("members:person_detail", args=[pk]) for pk in _person_page_people()]
        measurements.append(("person page", person_pages, None))

        results = []
        for label, urls, found in measurements:
            times, queries = _time_requests(client, urls, repeat)
            results.append(
                PageResult(
                    label=label,
                    people=size,
                    found=found,
                    median_ms=statistics.median(times) * 1000,
                    p95_ms=_percentile(times, 95) * 1000,
                    queries=queries,
                )
            )
        return results

    def _print_pages(self, results: list[PageResult], sizes, repeat):
        self._say(
            f"Server time per request, test Client, signed-in organizer; {repeat} requests "
            f"each after {WARM_UP} warm-up; ratio = median at that size / median at {sizes[0]:,}"
        )
        header = (
            f"{'page':<30} {'people':>8} {'found':>8} {'median ms':>10} {'p95 ms':>8} "
            f"{'queries':>8} {'ratio':>7}"
        )
        self._say(header)
        self._say("-" * len(header))
        first = {r.label: r for r in results if r.people == sizes[0]}
        labels = list(dict.fromkeys(r.label for r in results))
        for label in labels:
            for r in (r for r in results if r.label == label):
                base = first.get(label)
                ratio = (
                    f"{r.median_ms / base.median_ms:.1f}"
                    if base and r.people != sizes[0] and base.median_ms
                    else ""
                )
                found = "" if r.found is None else f"{r.found:,}"
                self._say(
                    f"{label:<30} {r.people:>8,} {found:>8} {r.median_ms:>10.1f} "
                    f"{r.p95_ms:>8.1f} {r.queries:>8} {ratio:>7}"
                )

    # --- imports --------------------------------------------------------------------------

    def _measure_import(self, rows: int, *, by, trace: bool) -> ImportResult:
        existing = Member.objects.count()
        content, planted = import_file(rows, existing_sample=_sample_people(rows), rng=random)
        if len(content) > MAX_UPLOAD_BYTES:
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
                record = applying.apply_import(record, by=by)
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

    def _say(self, line: str):
        self.stdout.write(line)
        self.stdout.flush()


# --- measuring --------------------------------------------------------------------------


def _time_requests(client, urls, repeat) -> tuple[list[float], int]:
    """Seconds per request (after a warm-up) and the query count of one request."""
    for i in range(WARM_UP):
        _get(client, urls[i % len(urls)])
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        _get(client, urls[0])
    times = []
    for i in range(repeat):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        _get(client, url)
        times.append(time.perf_counter() - started)
    return times, counter.count


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise CommandError(f"GET {url} answered {response.status_code}, not 200.")
    return response


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


def _is_test_database() -> bool:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(name):
        return True
    return os.path.basename(name).startswith("test")


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
