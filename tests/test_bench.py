"""`manage.py bench`: builds a database per size, measures every page at each, prints its
tables, and leaves the developer's database alone. Timings are never asserted."""

import io
import os
import random
import re
import shutil
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction

from cores.models import Alignment
from members.models import Member
from sos_tracker.bench_data import bulk_loading, copy_network, make_cast, make_network
from sos_tracker.load_wrk import RESULT_MARK, FlowResult, lua_script, parse_result
from sos_tracker.management.commands.bench import (
    CheckResult,
    PageResult,
    Site,
    _lift_time_limit,
    _limit_time,
    duplicate_check_table,
    summary_table,
)
from sos_tracker.management.commands.load import bare_per_second, load_table
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "bare view",  # the unit: an HttpResponse behind the same middleware and session
    "people list",
    "list, sector",
    'search "ana"',
    'search "da"',
    'search "nguyen"',
    'search "detroit"',
    "person page",
    "quick add, warned",  # a redirect (someone saved) would fail it: the warning stopped it
    "core page",
    "review queue",
    "review item",
    "invitations",
    "dashboard",
    "import page",
    "admin: people",  # as a superuser, two-factor verified
    "admin: alignments",
    "admin: invitations",
    "admin: check-ins",
    "admin: access log",
]
LABEL_WIDTH = 29  # a page's label, padded, and a space


def bench(*args):
    out = io.StringIO()
    call_command("bench", "--quick", *args, stdout=out)
    return out.getvalue()


def rows_of(output, header_start):
    """The rows of the table whose header starts with `header_start`, up to a blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:  # past the header and its rule
        if not line.strip():
            break
        rows.append(line)
    return rows


def row_for(rows, label):
    matches = [row for row in rows if row.startswith(label)]
    assert matches, f"no row for {label!r}"
    return matches


def test_quick_bench_measures_every_page_at_both_sizes_and_leaves_the_database_alone():
    original = connections[DEFAULT_DB_ALIAS]
    name = settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"]

    output = bench("--sizes", "40,120", "--import-sizes", "60", "--repeat", "1")

    # Every page answered 200 at both sizes (anything else is printed as FAILED) and has
    # a query count, a median and a multiple of the bare view at each size, and a growth.
    summary = rows_of(output, "page                           queries       ms @40")
    assert "x bare @40    x bare @120  growth" in output
    for label in PAGES:
        (row,) = row_for(summary, label)
        assert "FAILED" not in row, row
        numbers = row[LABEL_WIDTH:].split()
        assert re.fullmatch(r"\d+/\d+", numbers[0]), row
        assert len([float(n) for n in numbers[1:6]]) == 5, row
    # The detail table: each page at both sizes, with what it covers.
    detail = rows_of(output, "page                           people    found  median ms")
    for label in PAGES:
        sizes = [row[LABEL_WIDTH:].split()[0] for row in row_for(detail, label)]
        assert sizes[-2:] == ["40", "120"], label
    (people_at_120,) = [row for row in detail if row.startswith("people list") and " 120 " in row]
    assert people_at_120.split()[3] == "120"  # found: everyone, in the grown copy

    # Both sizes were built with what people carry, the larger as a grown copy.
    assert "Built 40 people (now 40)" in output
    assert "Copied the 40-people database" in output
    assert "Built 80 people (now 120)" in output
    for kind in ["alignments", "review notes", "core members", "invitations", "check-ins"]:
        assert f" {kind}" in output, kind

    # The duplicate check of quick add, per kind of new contact at both sizes, each
    # answered as its kind says (proof the contacts exist in the grown copy too).
    checks = rows_of(output, "new contact")
    expected = {
        "similar name, same city": "1 weak",
        "existing email, other case": "1 strong",
        "shared phone, other name": "1 household",
        "brand-new person": "none",
        "all of them": None,
    }
    for kind, found in expected.items():
        (row,) = row_for(checks, kind)
        numbers = row[36:].split()
        assert len([float(n) for n in numbers[:5]]) == 5, row  # 2 x (median, p95), growth
        if found:
            assert row.endswith(f"  {found}"), row
    assert "before (issue 11's measurement): 10-18 ms per check" in output
    assert "before (issue 11's measurement): 450-860 rows per second" in output

    assert re.search(r"^\s+60 rows: ", output, re.MULTILINE)
    assert "Imported 60 rows against 120 people" in output
    assert "Total time:" in output

    # The developer's connection is back, nothing was written to it, the files are gone.
    assert connections[DEFAULT_DB_ALIAS] is original
    assert settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"] == name
    assert Member.objects.count() == 0
    if connection.vendor == "sqlite":
        made = re.search(r"Creating the throwaway database (\S+) ", output).group(1)
        assert not os.path.exists(os.path.dirname(made))


def result(label, people, *seconds, error=""):
    return PageResult(
        label=label, who="organizer", people=people, found=None, times=list(seconds), error=error
    )


def test_summary_gives_multiples_of_the_bare_view_and_marks_pages_not_flat_or_failed():
    results = [
        result("bare view", 1000, 0.010, 0.012, 0.011),
        result("bare view", 100_000, 0.012, 0.011, 0.013),
        result("people list", 1000, 0.010, 0.012, 0.011),
        result("people list", 100_000, 0.012, 0.011, 0.013),
        result("dashboard", 1000, 0.020, 0.022, 0.021),
        result("dashboard", 100_000, 0.060, 0.058, 0.062),
        result("core page", 1000, 0.030),
        result("core page", 100_000, error="stopped after 20 s (GET /cores/a/)"),
        result("review queue", 1000, 0.020),
        result("review queue", 100_000, 0.025),
    ]

    header, _rule, *rows = summary_table(results, [1000, 100_000])

    assert header.split() == [
        "page",
        "queries",
        "ms",
        "@1,000",
        "ms",
        "@100,000",
        "x",
        "bare",
        "@1,000",
        "x",
        "bare",
        "@100,000",
        "growth",
    ]
    bare, people, dashboard, core, queue = rows
    assert bare.split()[-5:] == ["11.0", "12.0", "1.0", "1.0", "1.09"]
    assert people.split()[-5:] == ["11.0", "12.0", "1.0", "1.0", "1.09"]
    # 21 ms against the bare view's 11 ms; 60 against 12: five bare views, 2.86x its size.
    assert dashboard.split()[-7:] == ["21.0", "60.0", "1.9", "5.0", "2.86", "not", "flat"]
    assert dashboard.endswith("  not flat")
    assert core.endswith("  FAILED at 100,000")
    assert "failed" in core.split()
    assert queue.split()[-1] == "1.25"  # within FLAT_LIMIT: no mark


def test_a_query_past_the_time_limit_is_interrupted():
    site = Site(size=1, wrapper=connections[DEFAULT_DB_ALIAS])
    _limit_time(site, 0.2)
    site.deadline = time.perf_counter() - 1  # already past: SQLite stops at its next check
    # Counting to fifty million: many seconds on either database.
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) "
        "SELECT count(*) FROM c"
    )
    try:
        started = time.perf_counter()
        with (
            pytest.raises(OperationalError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(endless)
        assert time.perf_counter() - started < 5
    finally:
        _lift_time_limit(site)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_duplicate_check_table_gives_median_p95_and_growth_per_contact_and_for_all():
    checks = [
        CheckResult("existing email, other case", 1000, [0.001, 0.002, 0.003], "1 strong"),
        CheckResult("existing email, other case", 100_000, [0.002, 0.004, 0.006], "1 strong"),
        CheckResult("brand-new person", 1000, [0.001], "none"),
        CheckResult("brand-new person", 100_000, [0.001], "none"),
    ]

    header, _rule, email, new, both = duplicate_check_table(checks, [1000, 100_000])

    assert header.split()[:3] == ["new", "contact", "ms"]
    assert "p95 @100,000" in header
    assert header.rstrip().endswith("growth  found")
    assert email.split()[-7:] == ["2.00", "3.00", "4.00", "6.00", "2.00", "1", "strong"]
    assert new.endswith("1.00  none")
    # All checks of a size together: 1, 1, 2, 3 ms and 1, 2, 4, 6 ms.
    assert both.startswith("all of them")
    assert both.split()[-5:] == ["1.50", "3.00", "3.00", "6.00", "2.00"]


def test_without_a_bare_view_the_multiples_are_of_the_people_list():
    results = [result("people list", 1000, 0.010), result("dashboard", 1000, 0.030)]

    header, _rule, _people, dashboard = summary_table(results, [1000])

    assert "x people @1,000" in header
    assert dashboard.split()[-1] == "3.0"


def test_only_runs_the_sections_named_and_refuses_others():
    output = bench("--sizes", "30", "--only", "pages", "--repeat", "1")

    assert "bare view" in output
    assert "new contact" not in output  # no duplicate checks
    assert "Import rows per second" not in output
    assert "Uploads:" not in output
    with pytest.raises(CommandError, match="--only takes sections among"):
        bench("--only", "pages,speed")


# --- make load ------------------------------------------------------------------------


def test_load_script_walks_the_flow_and_counts_every_answer_outside_2xx():
    script = lua_script([("/people/?q=ana", "sessionid=abc"), ('/x"y/', "sessionid=d\\e")])

    assert '{"/people/?q=ana", "sessionid=abc"}' in script
    assert '{"/x\\"y/", "sessionid=d\\\\e"}' in script  # quotes and backslashes escaped
    assert "status < 200 or status > 299" in script
    assert RESULT_MARK in script
    with pytest.raises(ValueError, match="at least one"):
        lua_script([])
    with pytest.raises(ValueError, match="starts with"):
        lua_script([("people/", "")])


def test_load_result_is_read_from_wrks_output():
    output = (
        "Running 20s test @ http://127.0.0.1:1/\n  2 threads and 6 connections\n"
        f'{RESULT_MARK}{{"requests": 1500, "duration_us": 20000000, "connect": 0, '
        '"read": 1, "write": 0, "timeout": 2, "status": 4, "non2xx": 7, "p50_us": 12000, '
        '"p90_us": 30000, "p99_us": 95500, "max_us": 140000}\n'
    )

    result = parse_result(output)

    assert result.per_second == 75
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (12, 95.5, 140)
    assert (result.socket_errors, result.non2xx, result.errors) == (3, 7, 10)
    with pytest.raises(ValueError, match="no result line"):
        parse_result("unable to connect to 127.0.0.1:1 Connection refused")


def test_load_table_gives_each_flow_as_a_share_of_the_bare_views_mean():
    def flow(per_second, errors=0):
        return FlowResult(
            requests=per_second * 10,
            seconds=10,
            p50_ms=5,
            p90_ms=8,
            p99_ms=20,
            max_ms=30,
            socket_errors=0,
            non2xx=errors,
        )

    results = [("bare", flow(600)), ("mixed", flow(200, errors=3)), ("bare", flow(400))]

    assert bare_per_second(results) == 500
    header, _rule, first, mixed, last = load_table(results)
    assert header.endswith("of bare")
    assert mixed.split()[-1] == "40%"
    assert mixed.split()[7:9] == ["3", "3"]  # errors, non-2xx
    assert (first.split()[-1], last.split()[-1]) == ("120%", "80%")


def test_load_needs_postgresql_and_wrk():
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("load", stdout=io.StringIO())
        return
    if shutil.which("wrk") is None:
        with pytest.raises(CommandError, match="apt-get install -y wrk"):
            call_command("load", stdout=io.StringIO())


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_load_serves_every_flow_without_errors_under_gunicorn():
    if connection.vendor != "postgresql":
        pytest.skip("make load runs on PostgreSQL")
    out = io.StringIO()

    call_command(
        "load",
        "--people",
        "60",
        "--duration",
        "1",
        "--connections",
        "2",
        "--workers",
        "1",
        stdout=out,
    )

    output = out.getvalue()
    rows = rows_of(output, "flow      requests")
    flows = [row.split()[0] for row in rows]
    assert flows == ["bare", "list", "search", "person", "home", "core", "mixed", "bare"]
    for row in rows:
        assert row.split()[7:9] == ["0", "0"], row  # no errors, no answer outside 2xx
    assert re.search(r"^Mixed flow: .* of the bare view's ", output, re.MULTILINE)


def test_a_million_is_built_as_copies_in_sql_with_the_indexes_off_and_made_again():
    random.seed(5)
    cast = make_cast()
    make_network(30, cast)
    core = cast.cores[0]
    before = (Member.objects.count(), Alignment.objects.count(), core.members.count())
    timings = {}

    with bulk_loading(timings):
        made = copy_network(2)

    assert (Member.objects.count(), Alignment.objects.count(), core.members.count()) == tuple(
        3 * n for n in before
    )
    assert made["members_member"] == 2 * before[0]
    assert timings["rebuild"] >= 0
    # Each copy is a network of its own: new emails and phones, its own alignments.
    copied = Member.objects.order_by("-pk").first()
    assert "@c2." in copied.email or not copied.email
    # The search index and the sequences are whole again: search finds the copies, and a
    # new person gets a new key.
    assert Member.objects.search(copied.name).filter(pk=copied.pk).exists()
    assert MemberFactory().pk > copied.pk
