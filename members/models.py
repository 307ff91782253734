import heapq
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members import blocking
from members import search as search_index
from members.history import HistoryKeepingQuerySet
from members.text import fold, name_words, phone_digits, phone_key, phone_problem


class Sector(models.Model):
    """A movement area people organize in. Data, not code: admins add and retire them."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Retired sectors stay on people but are not offered for new ones."),
    )

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MemberStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    MEMBER = "member", pgettext_lazy("member status", "Member")
    FORMER = "former", _("Former member")


class JoiningStoryKind(models.TextChoices):
    """The three stories the organization heard when it surveyed members, plus no box."""

    SOCIAL_MOVEMENT = "social_movement", _("Social-movement leftist")
    NCM_VETERAN = "ncm_veteran", _("New Communist Movement veteran")
    MIDDLE_GENERATION = "middle_generation", _("Middle generation")
    OTHER = "other", _("Other / not yet stated")


# A person's own fields, in the order forms, history, imports and exports list them.
PERSON_FIELDS = (
    "name",
    "preferred_name",
    "pronouns",
    "email",
    "phone",
    "city",
    "region",
    "status",
    "joining_story_kind",
    "joining_story",
    "joined_on",
    "note",
)

# Every form that would save an erased person says this (Member.clean).
ERASED_MESSAGE = _("This person was erased on request; their record cannot be edited.")

# The fields whose folded text makes up Member.search_text.
SEARCH_SOURCE_FIELDS = ("name", "preferred_name", "email", "city")
# Columns computed from the others by Member.refresh_derived_fields(); never typed in.
DERIVED_FIELDS = (
    "name_folded",
    "preferred_name_folded",
    "city_folded",
    "name_key",
    "preferred_name_key",
    "search_text",
    "phone_digits",
    "phone_key",
    "duplicate_key_1",
    "duplicate_key_2",
)


# The order people are listed in everywhere: the name key (members.search.search_key)
# byte by byte, then pk (MemberQuerySet.in_name_order); member_name_key_order_idx serves it.
NAME_ORDER = [search_index.ByteOrder("name_key").asc(), "pk"]


class SearchRank(models.IntegerChoices):
    """How well a person matches a search, best first (Member.objects.search)."""

    EXACT = 0, "name or preferred name is the query"
    STARTS = 1, "name or preferred name starts with the query"
    WORD_STARTS = 2, "a later word of the name or preferred name starts with the query"
    CONTAINS = 3, "name, preferred name, email or city contains every word"


@dataclass(frozen=True)
class SearchTier:
    """One tier of a search page: its rank, the rows in it (beyond the search's own
    filter, and not in an earlier tier), and how it checks the words (EveryWordContained:
    True by row, False through the search index, None to ask index_finds_many)."""

    rank: int
    condition: Q
    by_row: bool | None
    # Disjoint conditions whose union is `condition`, each read in name order on its own
    # and merged (_search_page): one of them can then walk an index in page order.
    parts: tuple["SearchPart", ...] = ()


@dataclass(frozen=True)
class SearchPart:
    """A part of a SearchTier. `words_implied`: every row of it contains the query's words,
    so EveryWordContained is left out of its SQL (search.WORDS_IMPLIED)."""

    condition: Q
    words_implied: bool = False


@dataclass(frozen=True)
class SearchTiers:
    """What search() leaves on its queryset, so that a slice of it is read tier by tier."""

    words: tuple[str, ...]
    tiers: tuple[SearchTier, ...]
    order: tuple  # the rank order search() set: any other order reads the plain way


def _tier_rows(base, condition: Q, rank: int, by_row: bool):
    """The rows of `base` meeting `condition`, in name order, each with `search_rank` `rank`."""
    chosen = base.filter(condition).order_by(*NAME_ORDER)
    # Every row of a tier has its rank: no CASE evaluated row by row.
    chosen.query.annotations["search_rank"] = Value(rank, output_field=IntegerField())
    setattr(chosen.query, search_index.BY_ROW, by_row)
    return chosen


def _name_order_key(row) -> tuple[str, int]:
    # NAME_ORDER in Python: code point order is UTF-8 byte order (ByteOrder's).
    return (row.search_name_key, row.pk)


class MemberQuerySet(HistoryKeepingQuerySet):
    _search_tiers = None

    def findable(self):
        """Everyone but the erased (members.erasure): their anonymous stubs stay only so that
        totals add up, and are never found, listed, matched as duplicates or merged."""
        return self.filter(erased_at=None)

    def search(self, query: str, *, typed: bool = False):
        """People whose name, preferred name, email or city contain every word of `query`.

        Names are compared as people write them (members/search.py, search_key): case,
        accents and apostrophes are ignored both ways ("oneill" finds "Dónal O'Neill"),
        other punctuation separates words ("smith jones" finds "Smith-Jones"), and words
        typed together or apart are the same ("vanderberg" finds "Ana van der Berg",
        "de la cruz" finds "Delacruz"). Every word of the query must appear somewhere in
        the four fields, in any order, so "garcia oakland" and "jose garcia" both work.
        The database answers from an index, and both databases return the same rows in
        the same order.

        Order: `search_rank` (a SearchRank) with the whole query q, then ties in name
        order (in_name_order: the name key byte by byte, then pk):
          0 EXACT        name or preferred name is q, spaces aside ("ann" -> "Ann", "Ánn")
          1 STARTS       name or preferred name starts with q ("ann" -> "Annabel Lee")
          2 WORD_STARTS  a later word of either starts with q ("ann" -> "Lee Ann Park")
          3 CONTAINS     any other match, including email and city ("ann" -> "Joann Ma")
        An empty query returns everyone in name order.

        `typed=True` is for a query a person typed in a search box (the people list, its
        export, the admin, the pickers): a term shorter than search.SHORT_TERM characters
        (its words written together) then finds only names and preferred names starting
        with it (ranks EXACT and STARTS), never a scan of every row for it.

        A slice of the result (a page: `[start:stop]`) is read tier by tier: one query per
        tier in name order with a LIMIT, the next only while the page is not full
        (_search_page). Counting, filtering further, iterating the whole result or
        ordering it otherwise works as on any queryset.
        """
        people = self.findable()
        words = search_index.search_words(query)
        if not words:
            return people.in_name_order()
        whole = " ".join(words)
        # "van der berg" and "vanderberg" are the same name for the rank too.
        joined = whole.replace(" ", "")
        low, high = search_index.prefix_range(joined)
        named = Q(name_joined=joined) | Q(preferred_name_joined=joined)
        starts = Q()
        for key in ("name_joined", "preferred_name_joined"):
            starts |= Q(**{f"{key}__gte": low}) & (Q(**{f"{key}__lt": high}) if high else Q())
        word_starts = Q(name_key__contains=" " + whole) | Q(
            preferred_name_key__contains=" " + whole
        )
        # The same test as `starts`, written so that no index holds it: the later tiers
        # leave out the rows starting with the query, and PostgreSQL would otherwise read
        # "everyone not starting with it" from the joined-name indexes (the whole table).
        # LIKE is case-insensitive on SQLite, which is no matter: keys are lower-case.
        starts_unindexed = Q(name_joined_text__startswith=joined) | Q(
            preferred_name_joined_text__startswith=joined
        )
        prefix_only = typed and search_index.is_short_term(words)
        found = people.filter(search_index.contains_every_word(words)).alias(
            name_joined=search_index.ByteOrder(search_index.Joined("name_key")),
            preferred_name_joined=search_index.ByteOrder(search_index.Joined("preferred_name_key")),
            name_joined_text=search_index.Joined("name_key"),
            name_key_bytes=search_index.ByteOrder("name_key"),
            preferred_name_joined_text=search_index.Joined("preferred_name_key"),
        )
        # STARTS is read in two parts (_search_page merges them in name order):
        # 1. a name key starting with q itself: a range of the name-order index, walked in
        #    page order and left at the end of the page, where the joined-name index would
        #    hand over every such name to be sorted (30,000 for "da" at a million people);
        #    every word of q is in such a key, so the words are not checked again (a check
        #    the planner cannot see through would make it sort the range after all);
        # 2. the few others: a name with a space inside q's span ("d angelo" for "da"),
        #    again ranges of the name key, or only the preferred name starting with q.
        key_starts = Q(name_key_bytes__gte=low) & (Q(name_key_bytes__lt=high) if high else Q())
        spaced = Q(pk__in=[])
        for cut in range(1, len(joined)):
            spaced |= Q(
                name_key_bytes__gte=joined[:cut] + " ", name_key_bytes__lt=joined[:cut] + "!"
            )
        name_joined_starts = Q(name_joined_text__startswith=joined)
        preferred_starts = Q(preferred_name_joined__gte=low) & (
            Q(preferred_name_joined__lt=high) if high else Q()
        )
        the_others = (spaced & name_joined_starts) | (preferred_starts & ~name_joined_starts)
        tiers = [
            SearchTier(SearchRank.EXACT, named, by_row=True),
            SearchTier(
                SearchRank.STARTS,
                starts & ~named,
                by_row=True,
                parts=(
                    SearchPart(key_starts & ~named, words_implied=True),
                    SearchPart(the_others & ~named),
                ),
            ),
        ]
        if not prefix_only:
            tiers += [
                SearchTier(SearchRank.WORD_STARTS, word_starts & ~starts_unindexed, by_row=False),
                SearchTier(SearchRank.CONTAINS, ~starts_unindexed & ~word_starts, by_row=None),
            ]
        ranked = found.annotate(
            search_rank=Case(
                When(named, then=Value(SearchRank.EXACT)),
                When(starts, then=Value(SearchRank.STARTS)),
                When(word_starts, then=Value(SearchRank.WORD_STARTS)),
                default=Value(SearchRank.CONTAINS),
                output_field=IntegerField(),
            )
        ).order_by("search_rank", *NAME_ORDER)
        if prefix_only:
            # Only names starting with q: said through the rank, which no index reads, as
            # the tiers say it again in their own conditions. Said with the ranges, the
            # planner counts it twice and, taking the matches to be few, sorts them all
            # instead of walking the name order (STARTS' first part).
            ranked = ranked.filter(search_rank__lte=SearchRank.STARTS)
        ranked._search_tiers = SearchTiers(tuple(words), tuple(tiers), ranked.query.order_by)
        return ranked

    def _clone(self):
        clone = super()._clone()
        clone._search_tiers = self._search_tiers
        return clone

    def _fetch_all(self):
        if self._result_cache is None and self._reads_by_tier():
            self._result_cache = self._search_page()
        super()._fetch_all()

    def _reads_by_tier(self) -> bool:
        """A slice of search()'s result in its own order: a page to read tier by tier."""
        plan, query = self._search_tiers, self.query
        return (
            plan is not None
            and query.high_mark is not None
            and query.order_by == plan.order
            and query.standard_ordering
            and not query.extra_order_by
            and not query.combinator
            and not query.distinct_fields
            and query.group_by is None
        )

    def _search_page(self) -> list:
        """Rows [low_mark:high_mark] of search()'s ranking, read tier by tier.

        Each tier is one LIMITed query in name order for the rows still wanted, after the
        rows of earlier tiers that come before the page: a tier wholly before it is
        counted (at most as many rows as are skipped) instead of read. Page 1 costs one
        query per tier read, at most four, and one more on SQLite to ask the index
        whether a term is common (index_finds_many).
        """
        plan = self._search_tiers
        base = self._chain()
        base._search_tiers = None
        base._prefetch_related_lookups = ()  # done once, for the whole page (_fetch_all)
        base.query.clear_limits()
        skip, wanted = self.query.low_mark, self.query.high_mark - self.query.low_mark
        rows = []
        for tier in plan.tiers:
            if len(rows) == wanted:
                break
            need = wanted - len(rows)
            by_row = tier.by_row
            if by_row is None:
                by_row = search_index.index_finds_many(list(plan.words), using=self.db)
            if not tier.parts:
                chosen = _tier_rows(base, tier.condition, tier.rank, by_row)
                found = list(chosen[skip : skip + need])
                if not found and skip:
                    skip -= chosen[:skip].count()
            else:
                # Each part's first skip + need rows hold the tier's first skip + need:
                # the parts are disjoint and each is in name order, so merging them is the
                # tier in name order.
                parts = []
                for part in tier.parts:
                    rows_of_part = _tier_rows(base, part.condition, tier.rank, by_row).annotate(
                        search_name_key=search_index.ByteOrder("name_key")
                    )
                    if part.words_implied:
                        setattr(rows_of_part.query, search_index.WORDS_IMPLIED, plan.words)
                    parts.append(rows_of_part[: skip + need])
                merged = list(
                    itertools.islice(heapq.merge(*parts, key=_name_order_key), skip + need)
                )
                found = merged[skip:]
                if not found:
                    skip -= len(merged)
            if found:
                rows += found
                skip = 0
        return rows

    def in_name_order(self):
        """Everyone by name as people read a list, then pk: accents, case and punctuation aside.

        "Amélie" comes between "Amanda" and "Amy" and "de la Cruz" among the d's, on either
        database: the name key compared byte by byte, served by member_name_key_order_idx.
        """
        return self.order_by(*NAME_ORDER)

    def in_sector(self, sector):
        """People in `sector` (a Sector or its pk), in whatever order the queryset has.

        How the database is asked depends on the sector's size, so that a page of a list in
        name order stays flat however large the network grows (issue 11). A sector of
        fewer than SECTOR_SORT_LIMIT people is read from the membership table's sector
        index and sorted: at most that many rows. A larger one is an EXISTS probe per person
        while the name-order index is walked: a sector holding one person in fifty
        needs about fifty probes per row shown. Joining and sorting a large sector instead
        (the planner's choice on SQLite, which keeps no statistics here) sorted 16,000 rows
        for each page at 100,000 people. One bounded COUNT (LIMIT SECTOR_SORT_LIMIT) decides.
        """
        pk = getattr(sector, "pk", sector)
        return self.among(Member.sectors.through.objects.filter(sector_id=pk))

    def among(self, links):
        """People named by `links`, a queryset of rows with a `member_id` column (a
        sector's links, a tendency's alignments at one level, a core's member links).

        The one way a list in name order is narrowed to a set of people held in another
        table, so that a page stays flat however large the set (in_sector says why): a
        set of fewer than SECTOR_SORT_LIMIT rows is read from its own index and sorted, a
        larger one is probed person by person along the name-order index. One bounded
        COUNT (LIMIT SECTOR_SORT_LIMIT) decides. Other apps pass their rows here
        (members never names their relations).
        """
        if links[:SECTOR_SORT_LIMIT].count() < SECTOR_SORT_LIMIT:
            return self.filter(pk__in=links.values("member_id"))
        return self.filter(Exists(links.filter(member_id=OuterRef("pk"))))

    def in_region(self, region: str):
        """People whose region is exactly `region` (as written: regions are free text);
        a page in name order reads member_region_order_idx."""
        return self.filter(region=region)

    def with_email(self, email: str):
        """The person who has `email` already, case aside (at most one: the unique index
        member_email_unique_ci). The one rule of "this email is taken": Member.clean
        refuses a save with it, and quick add links to the person who has it.

        Written as the index is (LOWER(email) where email <> ''), so the index answers
        it, not a scan of everyone (tests/members/test_blocking.py).
        """
        email = (email or "").strip()
        if not email:
            return self.none()
        return self.alias(email_lower=Lower("email")).filter(
            ~Q(email=""), email_lower=Lower(Value(email))
        )

    def count_up_to(self, limit: int) -> int:
        """How many rows there are, counting no further than `limit`: one COUNT over a
        LIMITed slice, in no particular order, so a list says "500+" without counting
        (or sorting) the whole table."""
        return self.order_by().values("pk")[:limit].count()

    def regions_in_use(self, limit: int = 200) -> list[str]:
        """The regions people have (blank aside), in order, at most `limit` of them.

        The region filters' choices (the people list's and the admin's). Read from the
        index member_region_order_idx, not from the people: a loose index scan (a
        recursive query asking "the first region after this one" until there is none)
        costs one index probe per region, the same at a thousand people as at a million,
        where SELECT DISTINCT region reads every row. The index is kept by the database on
        every write path (save, the import's bulk and COPY paths, merges, erasure), so the
        choices are never stale and no Python code has to keep a table of regions in
        step; regions are free text, so a fixed list would miss some. An erased person's
        region is blank. Ignores this queryset's filters: it reads the index.
        """
        table = Member._meta.db_table
        sql = f"""
            WITH RECURSIVE regions(region, n) AS (
                SELECT MIN(region), 1 FROM {table} WHERE region > ''
                UNION ALL
                SELECT (SELECT MIN(region) FROM {table} WHERE region > regions.region), n + 1
                FROM regions WHERE regions.region IS NOT NULL AND n < %s
            )
            SELECT region FROM regions WHERE region IS NOT NULL
        """
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, [limit])
            return [row[0] for row in cursor.fetchall()]


# Sectors smaller than this are sorted whole (MemberQuerySet.in_sector); sorting this many
# rows takes a few milliseconds on either database.
SECTOR_SORT_LIMIT = 2000


class Member(models.Model):
    """A person in the network, or a prospect invited into the SOS process."""

    name = models.CharField(_("name"), max_length=200)
    preferred_name = models.CharField(_("preferred name"), max_length=120, blank=True)
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(
        _("region"), max_length=120, blank=True, help_text=_("State, province or region.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.MEMBER
    )
    joining_story_kind = models.CharField(
        _("joining story"),
        max_length=30,
        choices=JoiningStoryKind.choices,
        default=JoiningStoryKind.OTHER,
    )
    joining_story = models.TextField(
        _("in their own words"), blank=True, help_text=_("Why they joined, as they put it.")
    )
    sectors = models.ManyToManyField(
        Sector, blank=True, related_name="members", verbose_name=_("sectors")
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    note = models.TextField(
        _("notes"),
        blank=True,
        help_text=_("Anything else worth keeping; imports put extra columns here."),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_from = models.ForeignKey(
        "ImportRecord",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="created_people",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Optimistic locking: a save based on an older version is refused, not merged.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Set when the person was erased on request (members.erasure): the row stays as an
    # anonymous stub so counts hold, and can never be edited back to life.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Folded copies kept by save() (DERIVED_FIELDS): searchable and comparable without
    # accents or case on any database. search_text is indexed per database by a migration
    # (trigram GIN on PostgreSQL, FTS5 on SQLite; see members/search.py).
    name_folded = models.CharField(max_length=200, editable=False, default="")
    preferred_name_folded = models.CharField(max_length=120, editable=False, default="")
    city_folded = models.CharField(max_length=120, editable=False, default="")
    # Names as search and the list's order compare them (members.search.search_key):
    # "Dónal O'Neill" -> "donal oneill".
    name_key = models.CharField(max_length=200, editable=False, default="")
    preferred_name_key = models.CharField(max_length=120, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    phone_digits = models.CharField(max_length=40, editable=False, default="", db_index=True)
    # The duplicate check's key (members.text.phone_key): E.164 where the phone library
    # knows the number, else its digits; "" under seven digits or in scientific notation.
    phone_key = models.CharField(max_length=40, editable=False, default="")
    # The duplicate check's blocks (members.blocking): "<folded city>|<sound of the first
    # name word>" and of the last; "" without a city. Each indexed on its own.
    duplicate_key_1 = models.CharField(
        max_length=blocking.KEY_MAX_LENGTH, editable=False, default=""
    )
    duplicate_key_2 = models.CharField(
        max_length=blocking.KEY_MAX_LENGTH, editable=False, default=""
    )

    history = HistoricalRecords(m2m_fields=[sectors], excluded_fields=list(DERIVED_FIELDS))
    # Recomputed by members.history.bulk_update_with_history, which skips save().
    DERIVED_FIELDS = DERIVED_FIELDS
    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = NAME_ORDER
        permissions = [
            ("import_people", "Can import people from a spreadsheet"),
            ("export_people", "Can export people to a spreadsheet"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="member_email_unique_ci",
                violation_error_message=_("Another person already has this email address."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=MemberStatus.values), name="member_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(joining_story_kind__in=JoiningStoryKind.values),
                name="member_joining_story_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="member_name_not_blank"),
        ]
        indexes = [
            # The people list pages in this order; without it each page sorts everyone.
            models.Index(
                search_index.ByteOrder("name_key"), F("id"), name="member_name_key_order_idx"
            ),
            models.Index(fields=["name_folded"], name="member_name_folded_idx"),
            # Search's first tiers: a name or preferred name that is, or starts with, the
            # query is an equality or a range of these (members.search.JOINED_NAME_INDEXES).
            *(
                models.Index(search_index.ByteOrder(search_index.Joined(key)), name=index_name)
                for key, index_name in search_index.JOINED_NAME_INDEXES.items()
            ),
            # Duplicate checks look people up by city (then compare names) and by phone.
            models.Index(fields=["city_folded", "name_folded"], name="member_city_name_idx"),
            models.Index(fields=["phone_key"], name="member_phone_key_idx"),
            # A name is compared only with its blocks (members.blocking), by either key.
            models.Index(fields=["duplicate_key_1"], name="member_duplicate_key_1_idx"),
            models.Index(fields=["duplicate_key_2"], name="member_duplicate_key_2_idx"),
            # The dashboard counts everyone by status and story from this index alone,
            # without reading the wide people rows (members.stats.people_counts).
            models.Index(fields=["status", "joining_story_kind"], name="member_status_story_idx"),
            # The admin's region filter: its choices one probe per region (members.admin.
            # regions_in_use), and a region's people a page at a time in name order.
            models.Index(
                F("region"),
                search_index.ByteOrder("name_key"),
                F("id"),
                name="member_region_order_idx",
            ),
            # The people list filtered by status, a page in name order: most of a network
            # shares one status, so without this a page sorted them all.
            models.Index(
                F("status"),
                search_index.ByteOrder("name_key"),
                F("id"),
                name="member_status_order_idx",
            ),
        ]

    def __str__(self):
        if self.preferred_name and self.preferred_name != self.name:
            return f"{self.name} ({self.preferred_name})"
        return self.name

    def save(self, *args, **kwargs):
        # Derived columns are refreshed on every save so no write path can leave them stale.
        self.refresh_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *DERIVED_FIELDS, "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("members:person_detail", args=[self.pk])

    def clean(self):
        if self.erased_at is not None:
            raise ValidationError(ERASED_MESSAGE, code="erased")
        typed = self.name
        self.name = " ".join(self.name.split())
        # An empty name is already refused as blank; only say so once.
        if typed and not self.name:
            raise ValidationError(
                {"name": _("Enter a name; spaces alone are not a name.")}, code="blank"
            )
        self.email = self.email.strip()
        if self.email and Member.objects.with_email(self.email).exclude(pk=self.pk).exists():
            # code="unique" on the field's own error: quick add finds it there and links
            # to the person who has the email (PersonForm.email_holder).
            raise ValidationError(
                {
                    "email": ValidationError(
                        _("Another person already has this email address."), code="unique"
                    )
                }
            )
        if problem := phone_problem(self.phone):
            raise ValidationError({"phone": problem})
        if self.joined_on and self.joined_on > timezone.localdate():
            raise ValidationError(
                {"joined_on": _("The joining date cannot be in the future.")}, code="future"
            )

    def validate_constraints(self, exclude=None):
        # clean() checks email uniqueness so its message names the field; the database
        # constraint alone would report it as a form-wide error.
        super().validate_constraints(exclude={*(exclude or ()), "email"})

    def refresh_derived_fields(self):
        """Recompute the folded copies from the fields they come from."""
        self.name_folded = fold(self.name)
        self.preferred_name_folded = fold(self.preferred_name)
        self.city_folded = fold(self.city)
        self.name_key = search_index.search_key(self.name)
        self.preferred_name_key = search_index.search_key(self.preferred_name)
        self.search_text = search_index.search_text_for(
            **{name: getattr(self, name) for name in SEARCH_SOURCE_FIELDS}
        )
        self.phone_digits = phone_digits(self.phone)
        self.phone_key = phone_key(self.phone)
        self.duplicate_key_1, self.duplicate_key_2 = blocking.saved_keys(
            name_words(self.name), self.city_folded
        )


# The four cadrefication capacities, in the order the organization names them.
CAPACITY_FIELDS = (
    "strategic_skills",
    "political_organizing_skills",
    "social_emotional_capacities",
    "organization_building_skills",
)
# Their names as a choice (a milestone's readiness rule) and in a check's message, in the
# language of the page. (The check-in's own field names are its verbose names.)
CAPACITY_LABELS = {
    "strategic_skills": _("Strategic skills"),
    "political_organizing_skills": _("Political organizing skills"),
    "social_emotional_capacities": _("Social emotional capacities"),
    "organization_building_skills": _("Organization building skills"),
}


def _capacity_range_message(field: str) -> str:
    return gettext("%(capacity)s must be 1 to 5.") % {"capacity": CAPACITY_LABELS[field]}


# Evaluated when the check fails, in the language of the request then.
_capacity_range_message = lazy(_capacity_range_message, str)


class CapacityCheckIn(models.Model):
    """A dated assessment of the four cadrefication capacities, each 1 to 5."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("person")
    )
    checked_on = models.DateField(_("date"), default=timezone.localdate)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    strategic_skills = models.PositiveSmallIntegerField(
        _("strategic skills"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    political_organizing_skills = models.PositiveSmallIntegerField(
        _("political organizing skills"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    social_emotional_capacities = models.PositiveSmallIntegerField(
        _("social-emotional capacities"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    organization_building_skills = models.PositiveSmallIntegerField(
        _("organization-building skills"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()
    objects = HistoryKeepingQuerySet.as_manager()

    class Meta:
        verbose_name = _("capacity check-in")
        verbose_name_plural = _("capacity check-ins")
        ordering = ["-checked_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5}),
                name=f"checkin_{field}_1_to_5",
                violation_error_message=_capacity_range_message(field),
            )
            for field in CAPACITY_FIELDS
        ]
        indexes = [
            models.Index(fields=["member", "checked_on"], name="checkin_member_date_idx"),
            # Check-ins per month on the dashboard: a date range, counted per day.
            models.Index(fields=["checked_on"], name="checkin_date_idx"),
        ]

    def __str__(self):
        return f"{self.member} on {self.checked_on:%Y-%m-%d}"

    def clean(self):
        if self.checked_on and self.checked_on > timezone.localdate():
            raise ValidationError(
                {"checked_on": _("A check-in cannot be dated in the future.")}, code="future"
            )

    @property
    def scores(self):
        return {field: getattr(self, field) for field in CAPACITY_FIELDS}


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded: choose the columns")
    PLANNING = "planning", _("Preparing the preview")
    PREVIEWED = "previewed", _("Previewed: waiting for confirmation")
    APPLYING = "applying", _("Importing")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Failed")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")
    DISCARDED = "discarded", _("Discarded without importing")


class ImportRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The imports `user` may open, undo and download rows of: those they uploaded.

        A superuser sees every import. Every import page and the admin load through this,
        so anyone else's import answers 404.
        """
        if user.is_superuser:
            return self
        return self.filter(uploaded_by=user)


class ImportRecord(models.Model):
    """One spreadsheet brought in: who, when, which file, and what each row became."""

    filename = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=20, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    # The upload itself is kept only until it is imported or discarded: a copy of the
    # membership list should not outlive its use.
    content = models.BinaryField(editable=False, default=b"")
    sha256 = models.CharField(max_length=64, editable=False)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=list)
    sector_choices = models.JSONField(default=dict)
    unknown_sectors = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What an undo could not restore because someone edited it since: shown, not overwritten.
    undo_conflicts = models.JSONField(default=list, blank=True)
    # When its row data (the ImportRows) was deleted, IMPORT_ROW_DATA_DAYS after the import
    # finished (members.importing.retention): it then keeps only its counts and cannot be
    # undone.
    row_data_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The upload as read once (members.importing.reading.Sheet.as_json): every non-blank
    # row with its number, which row is the header, the encoding and what to warn about.
    # Later steps read this instead of parsing the file again.
    sheet = models.JSONField(default=dict, blank=True, editable=False)

    objects = ImportRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ImportState.values), name="import_state_valid"
            ),
        ]

    def __str__(self):
        return gettext("Import #%(number)s: %(file)s") % {"number": self.pk, "file": self.filename}

    def get_absolute_url(self):
        return reverse("members:import_detail", args=[self.pk])

    @property
    def history_reason(self) -> str:
        return f"Import #{self.pk} ({self.filename})"


class ImportRow(models.Model):
    """What importing one row of the file would do (previewed) or did (applied)."""

    record = models.ForeignKey(ImportRecord, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"), help_text=_("Row number in the spreadsheet."))
    cells = models.JSONField(default=list)
    action = models.CharField(max_length=10)
    values = models.JSONField(default=dict)
    sector_keys = models.JSONField(default=list)
    note = models.TextField(blank=True)
    errors = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    # The existing person a row updates or may duplicate; the new person once created.
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_row = models.PositiveIntegerField(null=True, blank=True)
    # field -> [value before, value the import set]: what an undo restores. For a held
    # row, what its "update" decision would change.
    changes = models.JSONField(default=dict)
    # A held row (action "hold", a possible duplicate): the evidence for and against
    # (members.duplicates.Evidence.as_dict()), and what the person importing decided:
    # "add", "update", "skip", or "" while undecided (members.importing.planning).
    evidence = models.JSONField(default=list, blank=True)
    decision = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        ordering = ["record", "number"]
        indexes = [
            models.Index(fields=["record", "action", "number"], name="import_row_action_idx")
        ]

    def __str__(self):
        return gettext("Row %(row)s of %(import)s: %(action)s") % {
            "row": self.number,
            "import": self.record,
            "action": self.action,
        }


class ExportRecord(models.Model):
    """Every export of people: who took which rows out, when."""

    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)
    file_format = models.CharField(_("file format"), max_length=10)
    filters = models.JSONField(
        _("filters"), default=dict, help_text=_("The search and filters exported.")
    )
    row_count = models.PositiveIntegerField(_("rows"))
    included_joining_story = models.BooleanField(_("included joining stories"), default=False)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return gettext("Export of %(count)s people by %(user)s on %(date)s") % {
            "count": self.row_count,
            "user": self.exported_by,
            "date": f"{self.created_at:%Y-%m-%d}",
        }


class MergeRecord(models.Model):
    """Two records of one person made one (members.merging): who, when, and what an undo
    needs to put both back exactly.

    The two people are kept by pk and name, not by foreign key: the merged-away person no
    longer exists, and the survivor may itself be merged later; the record must outlive both.
    """

    survivor_pk = models.PositiveIntegerField(_("kept person"), db_index=True)
    merged_pk = models.PositiveIntegerField(_("merged-away person"), db_index=True)
    survivor_name = models.CharField(_("kept person's name"), max_length=200)
    merged_name = models.CharField(_("merged-away person's name"), max_length=200)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)
    # The merged-away person's fields and sectors, the survivor's values before and after,
    # and the ids and fields of every row moved or deleted (members.merging.merge_people).
    snapshot = models.JSONField(default=dict, editable=False)
    # The survivor's history row as the merge left it: a later change refuses the undo.
    survivor_history_id = models.PositiveIntegerField(null=True, editable=False)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at", "-pk"]
        permissions = [("merge_people", "Can merge two records of one person, and undo it")]

    def __str__(self):
        return gettext("Merge #%(number)s: %(merged)s into %(kept)s") % {
            "number": self.pk,
            "merged": self.merged_name,
            "kept": self.survivor_name,
        }

    @property
    def history_reason(self) -> str:
        return f"Merge #{self.pk}"

    @property
    def undo_reason(self) -> str:
        return f"Undo of merge #{self.pk}"


class Erasure(models.Model):
    """A person erased on request (members.erasure.erase_person): who, when and why.

    The person is kept by pk, not by foreign key: the anonymous stub may be deleted later
    (an import undone) and this record must outlive it. `reason` is as typed, with the
    person's names, emails and phones taken out; `counts` says how many rows of each kind
    were anonymised.
    """

    member_pk = models.PositiveBigIntegerField(_("person"), db_index=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    counts = models.JSONField(_("counts"), default=dict, editable=False)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at", "-pk"]
        permissions = [("erase_person", "Can erase a person on request")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="erasure_has_reason"),
        ]

    def __str__(self):
        return gettext("Erasure #%(number)s of person #%(person)s") % {
            "number": self.pk,
            "person": self.member_pk,
        }

    @property
    def history_reason(self) -> str:
        return f"Erased on request (erasure #{self.pk})"


class RetentionReview(models.Model):
    """A prospect reviewed for retention and kept (members.retention): they leave the
    review list until PROSPECT_REVIEW_AFTER_DAYS pass again without activity."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("retention review")
        verbose_name_plural = _("retention reviews")
        ordering = ["-reviewed_at", "-pk"]
        indexes = [models.Index(fields=["member", "reviewed_at"], name="retention_member_date_idx")]

    def __str__(self):
        return gettext("Kept #%(person)s on %(date)s") % {
            "person": self.member_id,
            "date": f"{self.reviewed_at:%Y-%m-%d}",
        }
