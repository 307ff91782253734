"""Figures the background worker counts, so that no request counts the whole network.

Some figures read a share of every person: the dashboard's people by status, story and
sector, check-ins per month and capacity growth; a core page's alignment levels, sector
coverage and readiness rules. However they are queried, their cost grows with the
network (at 100,000 people the dashboard's took 440 ms a request on SQLite; at 1,000,000
they would time out). A cache only moves that cost to whichever request finds it empty.
Here the worker (django-tasks' db_worker, started by `make run` and `make serve`) counts
them and keeps the result in one row (sos_tracker.models.CountedFigures); a page reads
that row in one query and says when it was counted.

When a page reads a set, its row also carries the newest change-history ids of what the
set reads ("marks", taken by the same query). Every writer of the app keeps that history
(members.history refuses bulk updates that would not), so a change anywhere shows as a
newer id. The page then asks for a new count: one conditional UPDATE that only one
request wins, and the task it enqueues. A set is asked for again when

- it was never counted (the page says its figures are being counted), or
- its marks are older than now: the count is asked for at once, to run no sooner than
  RECOUNT_AFTER_CHANGE seconds after the last one (so a busy network is recounted at most
  that often, and the page may say a newer count is on its way), or
- it was counted on another day (the months roll over), or more than
  settings.DASHBOARD_CACHE_SECONDS ago (what history does not cover: a sector renamed in
  the admin, a raw SQL write);

and not while a count asked for less than ASK_AGAIN_AFTER seconds ago is still pending
(a worker that is down is asked again later, not on every request).

Each kind of set is a counting function registered with `@counts(kind, watches=...)`:
it takes the key's argument (a string, "" for none) and keyword-only `now` (the aware
datetime it counts for) and returns plain JSON data.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.tasks import task
from django.utils import timezone

from sos_tracker.models import CountedFigures

# A set whose marks moved is recounted, at most this often (seconds).
RECOUNT_AFTER_CHANGE = 30
# A count asked for and not done within this long (seconds) is asked for again.
ASK_AGAIN_AFTER = 600


@dataclass(frozen=True)
class Kind:
    count: Callable[..., dict]  # (argument: str, *, now: datetime) -> dict
    watches: tuple  # models kept with django-simple-history


KINDS: dict[str, Kind] = {}


def counts(kind: str, *, watches: tuple) -> Callable:
    """Register the decorated function as the counting of `kind` sets: called with the
    key's argument (a string) and `now=` (an aware datetime), it returns plain JSON data.
    `watches` are the models (kept with history) whose changes make the set out of date."""

    def register(function):
        KINDS[kind] = Kind(count=function, watches=tuple(watches))
        return function

    return register


@dataclass(frozen=True)
class Counted:
    """A set as the worker last counted it: `data` (what its function returned),
    `counted_at` (an aware datetime), and `current`: False when a newer count was asked
    for because something changed since."""

    data: dict
    counted_at: dt.datetime
    current: bool


def key_of(kind: str, argument="") -> str:
    return f"{kind}:{argument}" if argument != "" else kind


def read(kind: str, argument="", *, now: dt.datetime | None = None) -> Counted | None:
    """The `kind` set for `argument` as last counted, or None if it never was.

    One query (the row, with the newest history ids of what the set watches, each the
    end of a primary-key index); when the set is out of date (module docstring), one
    conditional UPDATE more, and when that request wins it, the task's insert.
    `now` is an aware datetime (default: now).
    """
    return read_many(kind, [argument], now=now)[argument]


def read_many(kind: str, arguments, *, now: dt.datetime | None = None) -> dict:
    """{argument: Counted or None} for each of `arguments`, in one query (see `read`;
    each set out of date costs its own UPDATE and task)."""
    now = now or timezone.now()
    _register_kinds()
    watches = KINDS[kind].watches
    keys = {key_of(kind, argument): argument for argument in arguments}
    rows = {
        row.key: row
        for row in CountedFigures.objects.filter(key__in=list(keys)).annotate(
            **{f"mark{i}": Subquery(_newest(model)) for i, model in enumerate(watches)}
        )
    }
    today = timezone.localdate(now)
    found = {}
    for key, argument in keys.items():
        row = rows.get(key)
        found[argument] = None
        if row is None or row.counted_at is None:
            if row is None or _may_ask(row, now):
                _ask(key, now)
            continue
        marks = _marks(watches, [getattr(row, f"mark{i}") for i in range(len(watches))])
        age = (now - row.counted_at).total_seconds()
        changed = row.marks != marks
        old = row.day != today or age > settings.DASHBOARD_CACHE_SECONDS
        if (changed or old) and _may_ask(row, now):
            soonest = row.counted_at + dt.timedelta(seconds=RECOUNT_AFTER_CHANGE)
            _ask(key, now, run_after=soonest if not old and soonest > now else None)
        found[argument] = Counted(
            data=row.data,
            counted_at=row.counted_at,
            current=row.marks == marks and row.day == today,
        )
    return found


def _may_ask(row: CountedFigures, now: dt.datetime) -> bool:
    return row.requested_at is None or (now - row.requested_at).total_seconds() > ASK_AGAIN_AFTER


def recount(kind: str, argument="", *, now: dt.datetime | None = None) -> dict:
    """Count the `kind` set for `argument` now and keep it (what the worker's task does);
    returns the data. The marks are read before counting, so a change made while it
    counts makes the set out of date again."""
    now = now or timezone.now()
    _register_kinds()
    watches = KINDS[kind].watches
    # One short query per watched history table (a handful), in the worker only.
    marks = _marks(watches, [_newest(model).first() for model in watches])
    data = KINDS[kind].count(argument, now=now)
    CountedFigures.objects.update_or_create(
        key=key_of(kind, argument),
        defaults={
            "data": data,
            "marks": marks,
            "counted_at": now,
            "day": timezone.localdate(now),
            "requested_at": None,
        },
    )
    return data


def recount_all(*, cores=None) -> None:
    """Count every set the pages read now: the network's, and each core's (all cores, or
    `cores`). For tests, the bench and seeding, which have no worker running."""
    from cores.models import CoreGroup

    _register_kinds()
    recount("network")
    for core in cores if cores is not None else CoreGroup.objects.all():
        recount("core", str(core.pk))


@task
def recount_task(kind: str, argument: str = "") -> None:
    """The worker's side of `read`: count a set a request found out of date."""
    recount(kind, argument)


def _register_kinds() -> None:
    # The counting functions register where they are written, when imported; the worker
    # may not have imported them yet.
    import cores.stats  # noqa: F401
    import sos_tracker.dashboard  # noqa: F401


def _ask(key: str, now: dt.datetime, *, run_after: dt.datetime | None = None) -> None:
    """Ask the worker for a new count of `key`, unless another request just did; the
    worker runs it at `run_after` (an aware datetime) or later, when given and the task
    backend can defer (one that cannot runs it at once)."""
    kind, _, argument = key.partition(":")
    wait = now - dt.timedelta(seconds=ASK_AGAIN_AFTER)
    won = CountedFigures.objects.filter(
        Q(requested_at__isnull=True) | Q(requested_at__lt=wait), key=key
    ).update(requested_at=now)
    if not won:
        _row, won = CountedFigures.objects.get_or_create(key=key, defaults={"requested_at": now})
    if won:
        task = recount_task
        if run_after is not None and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(kind, argument)


def _newest(model) -> QuerySet:
    """The newest history id of `model`, as a one-value queryset (None when it has none).

    The end of the history table's primary-key index: one step, whatever its size. `read`
    puts it in a Subquery, `recount` evaluates it; one lookup for both.
    """
    return model.history.model.objects.order_by("-history_id").values_list("history_id", flat=True)[
        :1
    ]


def _marks(models, ids) -> dict:
    return {model._meta.label: newest for model, newest in zip(models, ids, strict=True)}
