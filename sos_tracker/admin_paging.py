"""Admin lists that cost the same at a thousand people as at a million.

Django's changelist counts every row it could show on every view (the paginator's
COUNT(*), and "N total" beside a search), offers facet counts over the whole table, and
builds some filters' choices by reading every row. At 100,000 people those reads are most
of a page's time, and they grow with the table. `LargeListAdmin`, mixed into the admin of
every model whose rows grow with people (people, alignments, invitations, check-ins, the
access log...), replaces them:

- the count is exact up to `EstimatedCountPaginator.exact_up_to` rows (or one page past
  the page being viewed), counted with a LIMIT so it reads no more rows than that; past
  it, PostgreSQL's estimate (pg_class.reltuples for the whole table, the planner's row
  estimate from EXPLAIN for a filtered or searched list), shown as "about N", and on
  SQLite "more than N". The page links reach as far as the count does; the list says
  which kind of count it shows (templates/admin/pagination.html, search_form.html);
- no "N total" count of the unfiltered table, and no facet counts;
- the default order comes from the model or the admin and must be one an index serves.
"""

import json

from django.contrib.admin import ShowFacets
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator
from django.db import connections
from django.utils.formats import number_format
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is exact for small results and an estimate for large ones.

    `object_list` is a QuerySet. `reach` is how many rows the page being viewed needs
    (page number times per page): the exact count goes at least one page past it, so the
    next page's link is right even deep into a long list. After `count` is read,
    `count_is_estimate` says whether it is exact, and `count_words` says it in words
    ("about 100,000", "more than 1,000"; "" when exact).
    """

    # Counting this many rows costs about as much as showing one page of them.
    exact_up_to = 1000

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, reach=0):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.reach = reach
        self.count_is_estimate = False
        self.count_words = ""

    @cached_property
    def count(self):
        limit = max(self.exact_up_to, self.reach + self.per_page)
        # COUNT(*) over a LIMIT subquery: reads at most limit + 1 rows.
        counted = self.object_list.order_by()[: limit + 1].count()
        if counted <= limit:
            return counted
        self.count_is_estimate = True
        estimate = estimated_count(self.object_list)
        if estimate is not None and estimate > limit:
            self.count_words = f"about {number_format(estimate, force_grouping=True)}"
            return estimate
        self.count_words = f"more than {number_format(limit, force_grouping=True)}"
        return limit + 1

    def page(self, number):
        if not self.count_is_estimate:
            return super().page(number)
        # An estimate may fall short of the real count: the last page linked is sliced a
        # whole page long rather than cut at the estimate.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def estimated_count(queryset) -> int | None:
    """The database's estimate of how many rows `queryset` returns, without counting them.

    PostgreSQL only: the table's pg_class.reltuples when the query has no condition (kept
    by VACUUM and ANALYZE), else the planner's estimate of the query's rows (EXPLAIN, no
    rows read). None on other databases, or when the table was never analysed.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.query
    if not query.where and not query.distinct and not query.combinator:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 (never analysed) or 0 (analysed empty, or not yet): no estimate to give.
        return row[0] if row and row[0] > 0 else None
    plan = json.loads(queryset.order_by().explain(format="json"))
    rows = plan[0]["Plan"]["Plan Rows"]
    return int(rows) if rows > 0 else None


def page_number(request) -> int:
    """The changelist page the request asks for (Django's "p" parameter), 1 if none."""
    try:
        return max(1, int(request.GET.get(PAGE_VAR, 1)))
    except ValueError:
        return 1


class LargeListAdmin:
    """Mixed into a ModelAdmin (before it in the bases) whose rows grow with people.

    Counts with EstimatedCountPaginator, shows no "N total" count of the whole table and
    no facet counts. Its default order (`ordering`, else the model's) must be one an
    index serves; sortable columns reaching through a join belong out of `sortable_by`.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            reach=page_number(request) * per_page,
        )
