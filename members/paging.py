"""Pages of results without counting the whole table.

A COUNT over 100,000 people costs more than the page itself, so a page reads one row
more than it shows: if that row exists, there is a next page.
"""

from dataclasses import dataclass

from django.http import Http404

# The last page number anyone can ask for: 5 million rows at 50 a page, far past any list
# here. A larger one would be an offset past what the database takes (SQLite's and
# PostgreSQL's 64-bit integers), which was a server error; it is "no such page" now.
MAX_PAGE = 100_000


@dataclass
class Page:
    rows: list
    number: int
    has_next: bool
    first: int  # position of the first row shown, from 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def countless_page(queryset, request, *, size: int) -> Page:
    """The page `?page=N` of `queryset` (1 for anything that is not a number), `size` rows
    at most. A page past the end is empty. Raises Http404 for a number over MAX_PAGE."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:  # not a number, or more digits than Python reads (4,300)
        number = 1
    if number > MAX_PAGE:
        raise Http404(f"There is no page {number}.")
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size, first=offset + 1)
