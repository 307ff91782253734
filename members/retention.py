"""Retention: prospects who stayed "identified" with no activity, listed for an admin to
erase (members.erasure) or keep.

A prospect is listed when all of these hold:

- their status is prospect and they were not erased;
- no core took them past "identified": never invited, in conversation, joined or declined
  (the cores register that rule; a prospect nobody has invited at all is listed too);
- nothing happened about them for PROSPECT_REVIEW_AFTER_DAYS (default 365), where
  "something" is any of the activity sources below, each answering "since when?":

    record changed   a history row of the person: added, edited, sectors changed, imported,
                     merged (reading the page is not activity)
    check-in         a capacity check-in recorded (entered, whatever its date)
    kept on review   an admin kept them from this list (keep_prospect)
    and the cores'   an invitation made, moved or edited; an alignment stated or reviewed; a
                     review note written

members never imports cores, so the cores register their sources here from
CoresConfig.ready() (register_activity_source), as they register their merge steps.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from members.models import CapacityCheckIn, Member, MemberStatus, RetentionReview


@dataclass(frozen=True)
class ActivitySource:
    """One kind of activity about a person, for the retention list.

    since(moment) -> Q
        A condition on Member: the person had this kind of activity at or after `moment`
        (an aware datetime). Usually Q(Exists(...OuterRef("pk")...)).
    latest(pks) -> dict[int, datetime.date]
        For the people with these pks, the day of their latest activity of this kind
        (people with none are left out). Read for one page of the list.
    moved_on() -> Q | None
        A condition on Member for people this source says are past "identified" (and so
        never listed); None when the source has no such rule.
    """

    name: str
    since: Callable[[dt.datetime], Q]
    latest: Callable[[list[int]], dict[int, dt.date]]
    moved_on: Callable[[], Q] | None = None


# By name, in registration order.
activity_sources: dict[str, ActivitySource] = {}


def register_activity_source(source: ActivitySource) -> None:
    """Add (or replace, by name) a kind of activity. Call from AppConfig.ready()."""
    activity_sources[source.name] = source


def review_after() -> dt.timedelta:
    """How long a prospect may stay identified with no activity before review."""
    return dt.timedelta(days=settings.PROSPECT_REVIEW_AFTER_DAYS)


def prospects_for_review(*, now: dt.datetime | None = None) -> QuerySet[Member]:
    """The prospects to review at `now` (default: now), oldest record first.

    One query; each activity source is a NOT EXISTS on its own index, so the list costs the
    same on a page of 50 whatever the number of people.
    """
    cutoff = (now or timezone.now()) - review_after()
    people = Member.objects.findable().filter(status=MemberStatus.PROSPECT)
    for source in activity_sources.values():
        if source.moved_on is not None:
            people = people.exclude(source.moved_on())
        people = people.exclude(source.since(cutoff))
    return people.order_by("created_at", "pk")


def last_activity(people: list[Member]) -> None:
    """Set `person.last_activity` (a date) and `person.last_activity_kind` on each of
    `people` (one page of the list): one query per activity source."""
    pks = [person.pk for person in people]
    latest: dict[int, tuple[dt.date, str]] = {}
    for source in activity_sources.values():
        for pk, day in source.latest(pks).items():
            if pk not in latest or day > latest[pk][0]:
                latest[pk] = (day, source.name)
    for person in people:
        person.last_activity, person.last_activity_kind = latest.get(person.pk, (None, ""))


@transaction.atomic
def keep_prospect(member: Member, *, by) -> RetentionReview:
    """Keep `member` after review, as `by`: they leave the list until another
    PROSPECT_REVIEW_AFTER_DAYS pass with no activity. Returns the RetentionReview."""
    return RetentionReview.objects.create(member=member, reviewed_by=by)


# --- the members app's own sources ----------------------------------------------------------


def _day(moment) -> dt.date:
    return timezone.localdate(moment) if isinstance(moment, dt.datetime) else moment


def latest_by_person(queryset, person_field: str, date_field: str, pks) -> dict[int, dt.date]:
    """The day of the latest `date_field` per person (`person_field` holds their pk) among
    `queryset`'s rows for the pks `pks`: for ActivitySource.latest."""
    rows = (
        queryset.filter(**{f"{person_field}__in": pks})
        .values(person_field)
        .annotate(latest=Max(date_field))
        .values_list(person_field, "latest")
        .order_by()
    )
    return {pk: _day(latest) for pk, latest in rows if latest is not None}


def _record_changed_since(moment) -> Q:
    history = Member.history.model.objects.filter(id=OuterRef("pk"), history_date__gte=moment)
    return Q(Exists(history))


def _check_in_since(moment) -> Q:
    check_ins = CapacityCheckIn.objects.filter(member=OuterRef("pk"), created_at__gte=moment)
    return Q(Exists(check_ins))


def _kept_since(moment) -> Q:
    kept = RetentionReview.objects.filter(member=OuterRef("pk"), reviewed_at__gte=moment)
    return Q(Exists(kept))


register_activity_source(
    ActivitySource(
        name="record changed",
        since=_record_changed_since,
        latest=lambda pks: latest_by_person(
            Member.history.model.objects, "id", "history_date", pks
        ),
    )
)
register_activity_source(
    ActivitySource(
        name="check-in",
        since=_check_in_since,
        latest=lambda pks: latest_by_person(CapacityCheckIn.objects, "member", "created_at", pks),
    )
)
register_activity_source(
    ActivitySource(
        name="kept on review",
        since=_kept_since,
        latest=lambda pks: latest_by_person(RetentionReview.objects, "member", "reviewed_at", pks),
    )
)
