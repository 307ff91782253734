"""The database work of each main page may not grow as fast as the network does.

Query counts miss a query that reads more rows as the network grows: the home page before
issue 9 kept its pinned count of 7 while one of its queries planned 1.7 billion rows at
100,000 people. This measures the work itself (tests.perf.cost): SQLite's
virtual-machine instructions, or on PostgreSQL the rows the executor touched (EXPLAIN
ANALYZE of each SELECT, sequential scans disabled). Both are exact counts, not times, so
the test is deterministic on a loaded machine: the same data (seeded) gives the same
figure every run.

The sizes and the bound. Each page is requested cold at LARGE (500) and HUGE (5,000)
people: ten times the rows. At 500 every list is already full (a people page of 25, a
queue and a core's invitations longer than a page), so what a page shows does not grow
between the two; only what it reads besides can. A page that reads each person, alignment
or check-in once (a whole-table count, a scan) costs 8 to 10 times as much at 5,000: the
home page counting the network's figures on request measured 8.0, the old home page
(a3c0fe4) far more. A page that reads by index only what it shows costs the same (the
people list: 1.0, search 1.2). Between them are pages that count a slice of the network
through an index range: a tendency's review queue, a core's invitations by stage, the
people of one city for the duplicate check; the slice grows with the network, at a few
instructions an entry, and those pages measured 2.5 to 3.5. MAX_GROWTH = 4 sits between
the two groups: it fails a page that visits the whole network (or multiplies two
relations) and passes one that stays within its slices. The issue's aim for time,
1.3 times from 1,000 to 100,000 people, is `make bench`'s to measure.
"""

import pytest

from tests.perf.conftest import APP_PAGES as PAGES
from tests.perf.conftest import HUGE, LARGE

pytestmark = pytest.mark.django_db

# Work at HUGE people over work at LARGE people (10 times the rows); see the docstring.
MAX_GROWTH = 4.0


def growth(measured, page) -> float:
    costs = measured[page]
    return costs[HUGE].work / costs[LARGE].work


def grew(measured, page) -> str:
    """The queries whose work grew most, for the failure message."""
    costs = measured[page]
    pairs = zip(costs[LARGE].per_query, costs[HUGE].per_query, strict=False)
    worst = sorted(pairs, key=lambda pair: pair[1][0] - pair[0][0], reverse=True)[:3]
    return "\n".join(f"  {small} -> {large}: {sql[:300]}" for (small, _), (large, sql) in worst)


@pytest.mark.parametrize("page", PAGES)
def test_database_work_grows_slower_than_the_network(measured, page):
    costs = measured[page]
    assert costs[LARGE].status == costs[HUGE].status == 200
    assert growth(measured, page) < MAX_GROWTH, (
        f"{page}: {costs[LARGE].work} at {LARGE} people, {costs[HUGE].work} at {HUGE} "
        f"(x{growth(measured, page):.2f}); grew most:\n{grew(measured, page)}"
    )


def test_the_cost_check_fails_the_home_page_before_issue_9(measured):
    # The old home page (tests/perf/old_home.py): 7 queries at every size, so a pinned
    # count passed it; its work grows far faster than the network.
    costs = measured["old home (a3c0fe4)"]
    assert costs[LARGE].queries == costs[HUGE].queries
    assert growth(measured, "old home (a3c0fe4)") > MAX_GROWTH
