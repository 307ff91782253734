"""What a request costs the database, counted rather than timed, so a test can compare it.

Time is noisy (a shared machine swung `make bench`'s ratios from 0.4 to 8.4); query counts
are exact but blind to how much each query reads: the old home page passed its pinned
count of 7 while one of them planned 1.7 billion rows at 100,000 people. This counts the
work itself, deterministically:

- SQLite: virtual-machine instructions. A progress handler on the connection is called
  every STEP instructions of every statement; each call adds STEP. The B-tree descent of
  an index seek is one instruction whatever the table's size, and each row a scan or a
  sort visits costs several, so a page served by index seeks and bounded ranges costs the
  same at 10 people and at 500, and a page that reads every person costs more with each.
- PostgreSQL: rows the executor touched. Each SELECT the request ran is run again under
  `EXPLAIN (ANALYZE, TIMING OFF)` (no clock in the figure), with sequential scans
  disabled so that the planner picks an index wherever one serves (at 500 people a
  whole table fits in a few pages and a scan looks cheaper than an index; at 100,000 it
  is not), and every plan node's rows (actual rows times loops, plus the rows its filters
  removed) are added up. A scan nothing can avoid still shows with all its rows.
"""

import json
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

# Instructions between two calls of the progress handler. 1 counts each one: exact, and
# a few hundred thousand Python calls a page at these sizes (well under a second).
STEP = 1
# Node fields of an EXPLAIN ANALYZE plan (per loop, like "Actual Rows") that count rows
# read and thrown away.
REMOVED = ("Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck")


@dataclass
class Cost:
    """One request's database cost: `queries` run, `work` (SQLite instructions or
    PostgreSQL rows touched, see the module docstring), `status` of the response, and the
    work per query (`per_query`: [(work, sql)], in the order run) to say which grew."""

    queries: int
    work: int
    status: int
    per_query: list[tuple[int, str]] = field(default_factory=list)


def measure(request) -> Cost:
    """Run `request` (a callable making one request, returning the response) cold: the
    cache is emptied first, so nothing the page counts is kept from an earlier request and
    the cost is the one some request has to pay. Returns its Cost."""
    cache.clear()
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return _sqlite_cost(request)
    return _postgresql_cost(request)


def _sqlite_cost(request) -> Cost:
    steps = [0]

    def count():
        steps[0] += STEP
        return 0  # go on

    per_query = []

    def each(execute, sql, params, many, context):
        before = steps[0]
        try:
            return execute(sql, params, many, context)
        finally:
            per_query.append((steps[0] - before, sql))

    raw = connection.connection
    raw.set_progress_handler(count, STEP)
    try:
        with connection.execute_wrapper(each):
            response = request()
    finally:
        raw.set_progress_handler(None, STEP)
    return Cost(
        queries=len(per_query), work=steps[0], status=response.status_code, per_query=per_query
    )


def _postgresql_cost(request) -> Cost:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    statements = [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))
    ]
    per_query = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    per_query.append((0, sql))
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
                (plan,) = cursor.fetchone()
                if isinstance(plan, str):
                    plan = json.loads(plan)
                per_query.append((_rows_touched(plan[0]["Plan"]), sql))
        finally:
            cursor.execute("RESET enable_seqscan")
    return Cost(
        queries=len(statements),
        work=sum(work for work, _sql in per_query),
        status=response.status_code,
        per_query=per_query,
    )


def _rows_touched(node: dict) -> int:
    loops = node.get("Actual Loops", 1)
    rows = node.get("Actual Rows", 0) + sum(node.get(key, 0) for key in REMOVED)
    return round(rows * loops) + sum(_rows_touched(child) for child in node.get("Plans", []))
