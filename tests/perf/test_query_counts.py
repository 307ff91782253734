"""Query counts of the main pages, the same at 10 and at 500 people who carry every
relation a page reads: people in cores, alignments toward both tendencies (some waiting
for review, some with notes), invitations in every stage (one person in conversation
with both cores), check-ins over two years (tests/perf/conftest.py).

The old pins were taken on data where nobody was in a core, so they could not see a
query made only for rows that exist (or a join that multiplies them). Each page is
requested cold (empty cache) as its usual user: a lead of core A for the home page and
the core's pages, an organizer for the people pages, a superuser for the admin.
"""

import pytest
from django.db import connection

from sos_tracker.admin_paging import EstimatedCountPaginator
from tests.perf.conftest import APP_PAGES as PAGES
from tests.perf.conftest import HUGE, LARGE, SMALL

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", PAGES)
def test_query_count_is_the_same_at_10_and_500_people(measured, page):
    counts = {size: cost.queries for size, cost in measured[page].items()}
    statuses = {size: cost.status for size, cost in measured[page].items()}

    assert set(statuses.values()) == {200}, statuses
    assert counts[SMALL] == counts[LARGE], counts
    assert counts[HUGE] == counts[LARGE] + estimate_queries(page), counts


def estimate_queries(page) -> int:
    """Queries a page makes at HUGE people and not at LARGE: an admin list past the
    paginator's exact count asks PostgreSQL for its estimate (one query, whatever the
    size; sos_tracker.admin_paging); SQLite just says "more than N"."""
    assert LARGE <= EstimatedCountPaginator.exact_up_to < HUGE
    if page.startswith("admin ") and connection.vendor == "postgresql":
        return 1
    return 0
