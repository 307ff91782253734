"""Pages of results without counting the whole table.

A COUNT over 100,000 people costs more than the page itself, so a page reads one row
more than it shows: if that row exists, there is a next page.
"""

from dataclasses import dataclass


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
    """The page `?page=N` of `queryset` (1 for anything else), `size` rows at most."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size, first=offset + 1)
