"""A page of search results read tier by tier (Member.objects.search, MemberQuerySet.
_search_page): the same rows in the same order as the whole ranking, a bounded number of
queries, and short terms typed in a search box matched at the start of names only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import search
from members.models import Member, SearchRank
from tests.factories import SectorFactory
from tests.members.test_search import names, person


def ranking(query, **options):
    """The whole ranking, one query with the rank computed per row: the order before tiers."""
    return list(Member.objects.search(query, **options))


# People for "ann" in every tier, with ties inside each (same name key, then pk).
ANN_PEOPLE = [
    ("Ann", {}),  # exact
    ("Ann", {}),  # exact, tied with the one before: pk decides
    ("Mary Smith", {"preferred_name": "Ann"}),  # exact on the preferred name
    ("An N", {}),  # exact once the spaces are out
    ("Annabel Lee", {}),  # starts
    ("Ánnie Zed", {}),  # starts, accent folded
    ("An Nguyen", {}),  # starts once the spaces are out
    ("Bo Diaz", {"preferred_name": "Annie"}),  # starts on the preferred name
    ("Lee Ann Park", {}),  # a later word starts with it
    ("Zed Ann", {}),  # a later word starts with it
    ("Joann Ma", {}),  # contains
    ("Zed Young", {"city": "Annapolis"}),  # contains, in the city
    ("Bob Stone", {"email": "hannah@example.org"}),  # contains, in the email
    ("Peter Pan", {}),  # no match
]


@pytest.fixture
def ann_people(db):
    return [person(name, **fields) for name, fields in ANN_PEOPLE]


@pytest.mark.django_db
def test_every_window_of_the_ranking_is_what_the_whole_ranking_has_there(ann_people):
    whole = ranking("ann")
    assert [p.search_rank for p in whole] == [0] * 4 + [1] * 4 + [2] * 2 + [3] * 3

    for start in range(len(whole) + 2):
        for stop in range(start, len(whole) + 3):
            page = list(Member.objects.search("ann")[start:stop])
            assert page == whole[start:stop], (start, stop)
            assert [p.search_rank for p in page] == [p.search_rank for p in whole[start:stop]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["an", "ann", "an n", "annie", "lee", "zed", "oakland", "ann@", "nobody"]
)
def test_pages_follow_the_ranking_for_many_queries(ann_people, query):
    whole = ranking(query)

    pages = [list(Member.objects.search(query)[n : n + 3]) for n in range(0, len(whole) + 3, 3)]

    assert [p for page in pages for p in page] == whole


@pytest.mark.django_db
def test_a_page_and_its_filters_and_annotations_read_by_tier(ann_people):
    sector = SectorFactory()
    for member in ann_people[::2]:
        member.sectors.add(sector)
    whole = list(Member.objects.search("ann").filter(sectors=sector).exclude(name="Zed Ann"))

    page = Member.objects.search("ann").filter(sectors=sector).exclude(name="Zed Ann")[1:4]

    assert list(page) == whole[1:4]
    assert Member.objects.search("ann")[4] == ranking("ann")[4]
    assert Member.objects.search("ann").first() == ranking("ann")[0]


@pytest.mark.django_db
def test_the_people_list_pages_across_tier_boundaries(as_user, organizer, ann_people, monkeypatch):
    monkeypatch.setattr("members.views.PAGE_SIZE", 3)
    client = as_user(organizer)
    whole = names(ranking("ann", typed=True))

    shown = []
    for number in range(1, 6):
        page = client.get(reverse("members:people_list"), {"q": "ann", "page": number})
        shown += names(page.context["people"])
        assert page.context["has_next"] == (number * 3 < len(whole))

    assert shown == whole


@pytest.mark.django_db
def test_a_page_costs_one_query_per_tier_at_most(ann_people):
    # Page 1, a query whose page needs all four tiers: exact, starts (two parts: names
    # walked in name order, preferred names), word starts, contains, plus on SQLite the
    # capped count that asks the index whether the term is common.
    with CaptureQueriesContext(connection) as first_page:
        assert len(Member.objects.search("ann")[:50]) == 13
    # A page after the first: each earlier tier wholly before it is counted, not read.
    with CaptureQueriesContext(connection) as later_page:
        assert len(Member.objects.search("ann")[11:20]) == 2

    assert len(first_page.captured_queries) <= 6
    assert len(later_page.captured_queries) <= 9


@pytest.mark.django_db
def test_a_full_page_reads_no_further_tier(ann_people):
    with CaptureQueriesContext(connection) as queries:
        page = list(Member.objects.search("ann")[:4])

    assert {p.search_rank for p in page} == {SearchRank.EXACT}
    assert len(queries.captured_queries) == 1


@pytest.mark.django_db
def test_the_people_list_with_a_search_has_a_bounded_query_count(
    as_user, organizer, ann_people, django_assert_max_num_queries
):
    client = as_user(organizer)
    client.get(reverse("members:people_list"))  # session and permissions cached
    with CaptureQueriesContext(connection) as plain:
        client.get(reverse("members:people_list"))

    # The plain list's queries, the four tiers, SQLite's common-term count.
    with django_assert_max_num_queries(len(plain.captured_queries) + 5):
        client.get(reverse("members:people_list"), {"q": "ann"})


# --- short terms -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_short_typed_term_finds_only_names_that_start_with_it():
    li_wu = person("Li Wu")
    wu_li = person("Wu Li")
    nickname = person("Pat Ng", preferred_name="Wuzzy")
    person("Ana Ruiz", city="Wuhan")

    assert ranking("wu", typed=True) == [nickname, wu_li]
    assert list(Member.objects.search("wu", typed=True)[:50]) == [nickname, wu_li]
    assert Member.objects.search("wu", typed=True).count() == 2
    # Not typed, or three characters: anywhere, as before.
    assert li_wu in ranking("wu")
    assert ranking("wuh", typed=True)[0].city == "Wuhan"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["a", "A", "á", "a b", "a-b", "ab", "o'b"])
def test_short_typed_terms_of_one_or_two_characters_are_prefixes(query):
    person("Ab Zed")
    person("Zed Ab")
    person("Al Bo", city="Abilene")

    found = names(ranking(query, typed=True))

    words = search.search_words(query)
    assert search.is_short_term(words)
    assert found == [
        name
        for name in ["Ab Zed", "Al Bo"]
        if search.search_key(name).replace(" ", "").startswith("".join(words))
    ]


@pytest.mark.django_db
def test_a_short_term_is_answered_from_the_joined_name_index():
    person("Wu Li")
    query = Member.objects.search("wu", typed=True)[:51]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        # The starts tier, as _search_page sends it.
        tier = query._search_tiers.tiers[1]
        sql, params = (
            Member.objects.search("wu", typed=True)
            .filter(tier.condition)
            .order_by("pk")
            .query.sql_with_params()
        )
        explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
        cursor.execute(f"{explain} {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())

    assert search.JOINED_NAME_INDEXES["name_key"] in plan
    assert search.JOINED_NAME_INDEXES["preferred_name_key"] in plan


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["members:people_list", "members:people_export"])
def test_the_people_page_and_its_export_match_short_terms_at_the_start(as_user, admin_user, path):
    person("Li Wu")
    person("Wu Li")

    response = as_user(admin_user).get(reverse(path), {"q": "wu"})

    body = response.content.decode()
    assert "Wu Li" in body
    assert "Li Wu" not in body


@pytest.mark.django_db
def test_the_people_page_says_a_short_term_only_matched_name_beginnings(as_user, organizer):
    person("Wu Li")
    client = as_user(organizer)

    short = client.get(reverse("members:people_list"), {"q": "wu"}).content.decode()
    nobody = client.get(reverse("members:people_list"), {"q": "xq"}).content.decode()
    longer = client.get(reverse("members:people_list"), {"q": "wul"}).content.decode()

    assert "name or preferred name begins with it" in short
    assert "Type three or more letters" in short
    assert "Nobody matches “xq” at the start of a name" in nobody
    assert "only names that start with it" not in longer


@pytest.mark.django_db
def test_the_admin_matches_short_terms_at_the_start(as_user, admin_user):
    person("Li Wu")
    person("Wu Li")

    page = as_user(admin_user).get(reverse("admin:members_member_changelist"), {"q": "wu"})

    assert names(page.context["cl"].result_list) == ["Wu Li"]


# --- the prefix as a range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "bounds"),
    [
        ("ann", ("ann", "ano")),
        ("a", ("a", "b")),
        ("jo@", ("jo@", "joA")),
        ("z\U0010ffff", ("z\U0010ffff", "{")),
        ("\U0010ffff", ("\U0010ffff", None)),
        ("a\ud7ff", ("a\ud7ff", "a\ue000")),
    ],
)
def test_a_prefix_is_a_byte_range(prefix, bounds):
    assert search.prefix_range(prefix) == bounds


@given(st.text(min_size=1, max_size=6).filter(lambda t: "\x00" not in t), st.text(max_size=8))
def test_a_text_is_in_the_range_exactly_when_it_starts_with_the_prefix(prefix, text):
    low, high = search.prefix_range(prefix)
    encoded = text.encode("utf-8", "surrogatepass")
    inside = low.encode("utf-8", "surrogatepass") <= encoded and (
        high is None or encoded < high.encode("utf-8", "surrogatepass")
    )
    assert inside == text.startswith(prefix)


WINDOWS = st.tuples(st.integers(0, 16), st.integers(0, 6))
QUERIES = st.sampled_from(["an", "ann", "a", "n", "zed", "lee", "ann zed", "ma", "oak", "e"])


@pytest.mark.django_db
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERIES, window=WINDOWS, typed=st.booleans())
def test_any_window_of_any_query_matches_the_whole_ranking(query, window, typed):
    if not Member.objects.exists():  # hypothesis runs every example in one test transaction
        for name, fields in ANN_PEOPLE:
            person(name, **fields)
    start, size = window

    page = list(Member.objects.search(query, typed=typed)[start : start + size])

    assert page == ranking(query, typed=typed)[start : start + size]
