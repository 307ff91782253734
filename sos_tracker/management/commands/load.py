"""Requests per second under load, beside a bare view's, on PostgreSQL: `make load`.

    DATABASE_URL=postgres://… manage.py load                 # 100,000 people, 20 s per flow
    DATABASE_URL=postgres://… manage.py load --keep          # keep the database for next time
    manage.py load --people 1000 --duration 5 --flows bare,mixed

What it does, in order:

1. A throwaway PostgreSQL database beside the developer's (`test_<name>_load`, made with
   Django's test machinery) filled with --people people and all they carry
   (sos_tracker.bench_data, loaded with the members table's indexes off). With --keep it
   is left in place and reused by the next run with --keep when it holds that many
   people: that run starts in seconds. Without, it is dropped at the end.
2. gunicorn with the production settings (DEBUG off, SECURE_SSL_REDIRECT off: wrk speaks
   plain HTTP on loopback, ALLOWED_HOSTS 127.0.0.1) plus the bare view's URL
   (sos_tracker.load_settings), --workers sync workers on a free port, the static files
   collected into artifacts/load-static. Stopped at the end, also on Ctrl-C.
3. Signed-in sessions made directly in the database (SessionStore), two-factor marked
   done as a code would (tests.auth.log_in does the same for the test client): an
   organizer's, and the first core's lead's for the core page and the dashboard.
4. wrk on loopback, --duration seconds per flow, --connections connections over
   --threads threads: the bare view (the unit), each page alone (people list, search,
   person page, home, core page), the mixed flow of all five in turn, and the bare view
   again. Every answer outside 200-299 is an error, as are socket errors and timeouts.

The person page is counted against the hourly quota of different people opened
(ACCESS_PEOPLE_PER_HOUR, audit.quotas): the flow cycles through PERSON_PAGE_PEOPLE people,
under the production quota, so it measures the quota check and the access log's row
per view as production pays them. The session middleware rewrites a session at most once
a minute (accounts.session_middleware.LAST_SEEN_RESOLUTION), so sessions are read, not
written, on nearly every request, as in real use.

The summary gives per flow: requests per second, p50/p90/p99 latency, errors, and the
requests per second as a share of the bare view's (the mean of its two runs). Target
(issue 11): the mixed flow at 25 % of the bare view or more, p99 100 ms or less, no errors,
at 100,000 people.
"""

import contextlib
import copy
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker

from accounts.session_middleware import LAST_SEEN_AT, SIGNED_IN_AT
from cores.models import CoreGroup
from members.models import Member
from sos_tracker import figures
from sos_tracker.bench_data import Cast, bulk_loading, make_cast, make_network
from sos_tracker.load_wrk import FlowResult, lua_script, parse_result
from sos_tracker.permissions import two_factor_required

DEFAULT_PEOPLE = 100_000
DEFAULT_DURATION = 20
DEFAULT_CONNECTIONS = 6
DEFAULT_THREADS = 2
DEFAULT_WORKERS = 3
# Under the production quota of 200 different people an hour (ACCESS_PEOPLE_PER_HOUR).
PERSON_PAGE_PEOPLE = 100
SEARCH_TERMS = ["ana", "nguyen", "detroit", "maria garcia"]
SEED = 20_240_601
# Target of issue 11 for the mixed flow at 100,000 people.
TARGET_SHARE = 0.25
TARGET_P99_MS = 100
# The flows, in the order they run; "bare" runs first and again last.
FLOWS = ("bare", "list", "search", "person", "home", "core", "mixed")
WRK_HINT = (
    "wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk; on macOS: "
    "brew install wrk (https://github.com/wg/wrk)."
)


class Command(BaseCommand):
    help = (
        "Serve the app with gunicorn on a throwaway PostgreSQL database of 100,000 people "
        "and load it with wrk: requests per second, p50/p99 and errors of each page and of "
        "a mixed read flow, beside a bare view's requests per second from the same run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
        parser.add_argument(
            "--duration", type=int, default=DEFAULT_DURATION, help="Seconds per flow."
        )
        parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS)
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
        parser.add_argument(
            "--flows",
            default=",".join(FLOWS),
            help=f"Flows to run, comma-separated, among {', '.join(FLOWS)} (default all).",
        )
        parser.add_argument(
            "--keep",
            "--reuse",
            action="store_true",
            help="Reuse the load database if it holds --people people, and keep it after.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "make load runs on PostgreSQL, as production does: set DATABASE_URL="
                "postgres://user@host:5432/name (the load database is made beside it)."
            )
        wrk = shutil.which("wrk")
        if not wrk:
            raise CommandError(WRK_HINT)
        flows = [name.strip() for name in options["flows"].split(",") if name.strip()]
        if not flows or set(flows) - set(FLOWS):
            raise CommandError(f"--flows takes names among {', '.join(FLOWS)}.")
        for option in ("people", "duration", "connections", "threads", "workers"):
            if options[option] < 1:
                raise CommandError(f"--{option} must be at least 1.")
        if options["connections"] < options["threads"]:
            raise CommandError("--connections must be at least --threads (wrk's rule).")
        started = time.perf_counter()
        with self._load_database(options["people"], keep=options["keep"]) as cast:
            # What the background worker keeps counted beside a production server (make
            # serve runs it): the home and core pages read these figures, never count them.
            counting = time.perf_counter()
            figures.recount_all()
            self._say(
                f"Counted the figures the worker keeps in {time.perf_counter() - counting:.1f} s"
            )
            requests = self._requests(cast)
            static = self._collect_static()
            with self._gunicorn(options["workers"], static) as base:
                self._check(base, requests)
                results = self._run_flows(wrk, base, requests, flows, options)
        self._print(results, options)
        self._say(f"Total time: {time.perf_counter() - started:.0f} s; {_load_average()}")

    # --- the database ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _load_database(self, people: int, *, keep: bool):
        """Make (or with `keep` reuse) the load database, swapped in as the default one."""
        original = connections[DEFAULT_DB_ALIAS]
        original_name = settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"]
        settings_dict = copy.deepcopy(original.settings_dict)
        settings_dict.setdefault("TEST", {})["NAME"] = load_database_name(original_name)
        wrapper = original.__class__(settings_dict, DEFAULT_DB_ALIAS)
        connections[DEFAULT_DB_ALIAS] = wrapper
        try:
            started = time.perf_counter()
            name = settings_dict["TEST"]["NAME"]
            wrapper.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
            have = Member.objects.count()
            if (
                keep
                and have == people
                and get_user_model().objects.filter(username="bench-organizer").exists()
            ):
                took = time.perf_counter() - started
                self._say(f"Reusing {name}: {have:,} people ({took:.1f} s)")
                cast = _saved_cast()
            else:
                if have:
                    self._say(f"{name} holds {have:,} people, not {people:,}: making it again")
                    wrapper.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
                    wrapper.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
                self._say(f"Made {name} in {time.perf_counter() - started:.1f} s; filling it …")
                cast = self._fill(people)
            yield cast
        finally:
            wrapper.close()
            if not keep:
                with contextlib.suppress(Exception):
                    wrapper.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
            connections[DEFAULT_DB_ALIAS] = original
            settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"] = original_name

    def _fill(self, people: int) -> Cast:
        random.seed(SEED)
        Faker.seed(SEED)
        started = time.perf_counter()
        cast = make_cast()
        timings = {}
        with bulk_loading(timings):
            made = make_network(people, cast)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        took = time.perf_counter() - started
        self._say(
            f"Built {people:,} people and what they carry in {took:.0f} s (indexes made "
            f"again in {timings['rebuild']:.1f} s): "
            + ", ".join(f"{n:,} {kind}" for kind, n in made.items())
        )
        return cast

    # --- what is requested ----------------------------------------------------------------

    def _requests(self, cast: Cast) -> dict[str, list[tuple[str, str]]]:
        """Per flow, the (path, Cookie header) requests it walks through."""
        organizer = _session_cookie(cast.organizer)
        lead = _session_cookie(cast.leads[0])
        rng = random.Random(SEED)
        pks = list(Member.objects.order_by("pk").values_list("pk", flat=True)[:50_000])
        people = rng.sample(pks, k=min(PERSON_PAGE_PEOPLE, len(pks)))
        people_url = reverse("members:people_list")
        core_url = reverse("cores:core_detail", args=[cast.cores[0].slug])
        per_page = {
            "list": [(people_url, organizer)],
            "search": [(f"{people_url}?{urlencode({'q': t})}", organizer) for t in SEARCH_TERMS],
            "person": [(reverse("members:person_detail", args=[pk]), organizer) for pk in people],
            "home": [(reverse("home"), lead)],
            "core": [(core_url, lead)],
        }
        # The mixed flow: each page in turn, the next search term and person each time.
        mixed = []
        for i in range(len(people)):
            mixed += [entries[i % len(entries)] for entries in per_page.values()]
        bare = reverse("bench_bare", urlconf="sos_tracker.bench_urls")
        return {"bare": [(bare, organizer)], **per_page, "mixed": mixed}

    # --- the server -----------------------------------------------------------------------

    def _collect_static(self) -> str:
        folder = os.path.join(settings.BASE_DIR, "artifacts", "load-static")
        if not os.path.exists(os.path.join(folder, "staticfiles.json")):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=settings.BASE_DIR,
                env=self._server_env(folder),
                check=True,
            )
            self._say(f"Collected the static files in {time.perf_counter() - started:.1f} s")
        return folder

    def _server_env(self, static: str) -> dict:
        db = connection.settings_dict
        auth = urllib.parse.quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + urllib.parse.quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sos_tracker.load_settings",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"postgres://{auth}@{host}{port}/{db['NAME']}",
            "LOAD_STATIC_ROOT": static,
            "LOG_LEVEL": "WARNING",
        }

    @contextlib.contextmanager
    def _gunicorn(self, workers: int, static: str):
        """gunicorn on a free loopback port; yields its base URL; stopped on the way out."""
        port = _free_port()
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
        process = subprocess.Popen(
            [
                gunicorn,
                "sos_tracker.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            cwd=settings.BASE_DIR,
            env=self._server_env(static),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise CommandError("gunicorn stopped:\n" + log.read().decode()[-2000:])
                try:
                    urllib.request.urlopen(base + reverse("login"), timeout=30)
                    break
                except OSError:  # refused while it starts, or slow: URLError, timeouts
                    if time.monotonic() > deadline:
                        raise CommandError("gunicorn did not answer within 120 s.") from None
                    time.sleep(0.3)
            self._say(f"gunicorn: {workers} workers on {base}, production settings (DEBUG off)")
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()

    def _check(self, base: str, requests: dict):
        """Open each distinct page once: a flow of errors would measure nothing."""
        seen = set()
        for flow, entries in requests.items():
            for path, cookie in entries[:2]:
                if path in seen:
                    continue
                seen.add(path)
                request = urllib.request.Request(base + path, headers={"Cookie": cookie})
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:
                        status = response.status
                        final = response.url
                except urllib.error.HTTPError as error:
                    status, final = error.code, path
                took = (time.perf_counter() - started) * 1000
                if status != 200 or final != base + path:
                    raise CommandError(
                        f"{flow}: {path} answered {status} (ended at {final}), not 200."
                    )
                self._say(f"  first {flow:<7} {took:8.0f} ms  {path}")

    def _run_flows(self, wrk, base, requests, flows, options) -> list[tuple[str, FlowResult]]:
        order = [flow for flow in FLOWS if flow in flows]
        if "bare" in order and len(order) > 1:
            order.append("bare")  # again at the end: the unit before and after
        results = []
        with tempfile.TemporaryDirectory(prefix="sos-load-") as folder:
            for flow in order:
                script = os.path.join(folder, f"{flow}.lua")
                with open(script, "w") as file:
                    file.write(lua_script(requests[flow]))
                done = subprocess.run(
                    [
                        wrk,
                        f"-t{options['threads']}",
                        f"-c{options['connections']}",
                        f"-d{options['duration']}s",
                        "--timeout",
                        "10s",
                        "-s",
                        script,
                        base + "/",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                try:
                    result = parse_result(done.stdout)
                except ValueError as error:
                    raise CommandError(f"{flow}: {error}\n{done.stderr[-500:]}") from error
                results.append((flow, result))
                self._say(
                    f"  {flow:<7} {result.per_second:8.1f} requests/s, p99 "
                    f"{result.p99_ms:7.1f} ms, {result.errors} errors"
                )
        return results

    def _print(self, results, options):
        self._say("")
        self._say(
            f"wrk on loopback: {options['threads']} threads, {options['connections']} "
            f"connections, {options['duration']} s per flow; gunicorn {options['workers']} "
            f"sync workers; {options['people']:,} people on PostgreSQL"
        )
        for line in load_table(results):
            self._say(line)
        self._say("")
        mixed = dict(results).get("mixed")
        bare = bare_per_second(results)
        if mixed and bare:
            share = mixed.per_second / bare
            verdict = (
                "met"
                if share >= TARGET_SHARE and mixed.p99_ms <= TARGET_P99_MS and not mixed.errors
                else "missed"
            )
            self._say(
                f"Mixed flow: {mixed.per_second:.1f} requests/s = {share:.0%} of the bare "
                f"view's {bare:.1f}; p99 {mixed.p99_ms:.0f} ms; {mixed.errors} errors. "
                f"Target (>= {TARGET_SHARE:.0%}, p99 <= {TARGET_P99_MS} ms, 0 errors): {verdict}."
            )

    def _say(self, line: str):
        self.stdout.write(line)
        self.stdout.flush()


def load_table(results: list[tuple[str, FlowResult]]) -> list[str]:
    """One row per flow run: requests/s, latencies (ms), errors, share of the bare view.

    The share's unit is the mean requests/s of the bare view's runs (bare_per_second).
    """
    bare = bare_per_second(results)
    header = (
        f"{'flow':<8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'errors':>7} {'non-2xx':>8} {'of bare':>8}"
    )
    lines = [header, "-" * len(header)]
    for flow, r in results:
        share = f"{r.per_second / bare:.0%}" if bare else ""
        lines.append(
            f"{flow:<8} {r.requests:>9,} {r.per_second:>8.1f} {r.p50_ms:>8.1f} {r.p90_ms:>8.1f} "
            f"{r.p99_ms:>8.1f} {r.max_ms:>8.1f} {r.errors:>7} {r.non2xx:>8} {share:>8}"
        )
    return lines


def bare_per_second(results: list[tuple[str, FlowResult]]) -> float | None:
    """The bare view's requests per second: the mean of its runs, or None if none ran."""
    rates = [r.per_second for flow, r in results if flow == "bare"]
    return sum(rates) / len(rates) if rates else None


def load_database_name(name: str) -> str:
    """The load database's name beside the developer's `name`."""
    return f"test_{name}_load"


def _saved_cast() -> Cast:
    """The cast bench_data.make_cast made, read back from a reused load database."""
    users = get_user_model().objects
    cores = list(CoreGroup.objects.select_related("tendency").order_by("pk"))
    return Cast(
        organizer=users.get(username="bench-organizer"),
        leads=[users.get(username="bench-lead-a"), users.get(username="bench-lead-b")],
        tendencies=[core.tendency for core in cores],
        cores=cores,
        admin=users.filter(username="bench-admin").first(),
    )


def _session_cookie(user) -> str:
    """A Cookie header for a new signed-in session of `user`, two-factor verified when the
    user needs it (as tests.auth.log_in marks a test client's session)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    if two_factor_required(user):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Load phone", defaults={"confirmed": True}
        )
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) at the end"
