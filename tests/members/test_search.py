"""Member.objects.search(): matching, ranking, and the index behind it on each database."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import search
from members.models import Member, SearchRank
from tests.factories import MemberFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 table exists on SQLite only"
)


def person(name, **fields):
    fields.setdefault("email", "")
    fields.setdefault("city", "Oakland")
    return MemberFactory(name=name, **fields)


def names(people):
    return [p.name for p in people]


def like_scan(query):
    """The answer without any index: every query word contained in search_text."""
    rows = Member.objects.all()
    for word in search.search_words(query):
        rows = rows.filter(search_text__contains=word)
    return set(rows.values_list("pk", flat=True))


@pytest.mark.django_db
def test_best_matches_come_first_exact_then_starts_then_word_then_contains():
    person("Joann Ma")  # contains
    person("Zed Young", city="Annapolis")  # contains, in the city
    person("Bob Stone", email="hannah@example.org")  # contains, in the email
    person("Lee Ann Park")  # a later word starts with it
    person("Ánnie Zed")  # starts with it, accent folded
    person("Annabel Lee")  # starts with it
    person("Mary Smith", preferred_name="Ann")  # preferred name is it
    person("Ann")  # name is it
    person("Peter Pan")  # no match

    found = list(Member.objects.search("ann"))

    assert names(found) == [
        "Ann",
        "Mary Smith",
        "Annabel Lee",
        "Ánnie Zed",
        "Lee Ann Park",
        "Bob Stone",
        "Joann Ma",
        "Zed Young",
    ]
    assert [p.search_rank for p in found] == [
        SearchRank.EXACT,
        SearchRank.EXACT,
        SearchRank.STARTS,
        SearchRank.STARTS,
        SearchRank.WORD_STARTS,
        SearchRank.CONTAINS,
        SearchRank.CONTAINS,
        SearchRank.CONTAINS,
    ]


@pytest.mark.django_db
def test_ties_are_broken_by_folded_name_in_byte_order_then_pk():
    # A locale collation would skip the space and put "joann" before "jo ann zed".
    second = person("Joann Zed")
    first = person("Jo Ann Zed")
    twin_a = person("José Zed")
    twin_b = person("Jose Zed")

    found = list(Member.objects.search("zed"))

    assert found == [first, second, twin_a, twin_b]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("José Martí", "jose"),
        ("Jose Marti", "JOSÉ"),
        ("Ana García", "garcia"),
        ("ANA GARCIA", "García"),
        ("Đặng Thị Ánh", "dang thi"),
        ("Søren Kierkegaard", "soren"),
        ("Straße Person", "strasse"),
    ],
)
def test_case_and_accents_are_ignored_both_ways(stored, query):
    wanted = person(stored)
    person("Somebody Else")

    assert list(Member.objects.search(query)) == [wanted]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "query"),
    [
        ({"preferred_name": "Chuy"}, "chuy"),
        ({"email": "jgarcia@union.example"}, "jgarcia@union"),
        ({"email": "jgarcia@union.example"}, "UNION.EXAMPLE"),
        ({"city": "San José"}, "san jose"),
        ({"city": "Albuquerque"}, "querq"),
    ],
)
def test_preferred_name_email_and_city_match(fields, query):
    wanted = person("Jesús García", **fields)
    person("Somebody Else", city="Detroit")

    assert list(Member.objects.search(query)) == [wanted]


@pytest.mark.django_db
def test_every_word_must_match_in_any_field_and_order():
    wanted = person("García, José", city="Oakland")
    person("José Ruiz", city="Oakland")
    person("Ana García", city="Detroit")

    assert list(Member.objects.search("jose garcia")) == [wanted]
    assert list(Member.objects.search("oakland garcia")) == [wanted]


@pytest.mark.django_db
def test_short_words_match_too():
    wanted = person("Li Wu")
    person("Somebody Else")

    assert list(Member.objects.search("wu")) == [wanted]
    assert list(Member.objects.search("li w")) == [wanted]


@pytest.mark.django_db
def test_empty_query_lists_everyone_by_name():
    b, a = person("Bea"), person("Ávila")

    assert list(Member.objects.search("   ")) == [a, b]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ['"', '""', '"bob"', "*", "bo*", "AND", "OR", "NOT", "-", "-bob", "NEAR(", "bob NEAR",
     "(", ")", "^bob", "name:bob", "{", "+", "%", "_", "o'brien", "'", "\\", "bob AND smith"],
)  # fmt: skip
def test_search_syntax_in_the_query_is_plain_text(query):
    person('Robert "Bob" O\'Brien-Smith', email="bob_and%co@example.org")
    person("Somebody Else")

    found = {p.pk for p in Member.objects.search(query)}

    assert found == like_scan(query)


@pytest.mark.django_db
def test_quotes_in_the_query_are_punctuation_like_any_other():
    nickname = person('Robert "Bob" Smith')
    first_name = person("Bob Jones")
    person("Somebody Else")

    assert list(Member.objects.search('"bob"')) == [first_name, nickname]


@pytest.mark.django_db
def test_the_index_follows_updates_and_deletes():
    member = person("Ana Torres")
    member.name = "Ana Zelaya"
    member.save()

    assert list(Member.objects.search("zelaya")) == [member]
    assert list(Member.objects.search("torres")) == []

    member.delete()

    assert list(Member.objects.search("zelaya")) == []


@pytest.mark.django_db
def test_the_index_follows_bulk_create():
    people = [MemberFactory.build(name=f"Bulk Person {n}", email="") for n in range(3)]
    for built in people:
        built.refresh_derived_fields()
    Member.objects.bulk_create(people)

    assert Member.objects.search("bulk person").count() == 3


@postgres_only
@pytest.mark.django_db
def test_postgres_answers_from_the_trigram_index():
    person("José García")
    with connection.cursor() as cursor:
        # A handful of rows is cheaper to scan; ask whether the index *can* serve it.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Member.objects.search("garcia").explain()

    assert search.TRIGRAM_INDEX in plan


@sqlite_only
@pytest.mark.django_db
def test_sqlite_answers_from_the_fts_table_and_short_words_from_like():
    person("José García")

    with CaptureQueriesContext(connection) as long_word:
        assert len(Member.objects.search("garcia")) == 1
    with CaptureQueriesContext(connection) as short_word:
        assert len(Member.objects.search("ga")) == 1

    (sql,) = [q["sql"] for q in long_word.captured_queries]
    assert f"FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH" in sql
    assert 'search_text" LIKE' not in sql
    (sql,) = [q["sql"] for q in short_word.captured_queries]
    assert search.FTS_TABLE not in sql
    assert "search_text\" LIKE '%ga%'" in sql


@sqlite_only
@pytest.mark.django_db
def test_sqlite_uses_the_fts_index_not_a_table_scan():
    person("José García")
    queryset = Member.objects.search("garcia")
    with connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]

    assert "SEARCH members_member USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert f"SCAN {search.FTS_TABLE} VIRTUAL TABLE INDEX 0:M1" in plan
    assert "SCAN members_member" not in plan


@sqlite_only
@pytest.mark.django_db
def test_lost_triggers_are_put_back_and_the_index_refilled():
    member = person("Ana Torres")
    with connection.cursor() as cursor:
        for name in search.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    member.name = "Ana Zelaya"  # written while the index is blind
    member.save()

    assert search.repair_sqlite_search_index(using="default") is True
    assert search.repair_sqlite_search_index(using="default") is False

    assert list(Member.objects.search("zelaya")) == [member]
    member.name = "Ana Quispe"
    member.save()
    assert list(Member.objects.search("quispe")) == [member]
    assert list(Member.objects.search("zelaya")) == []


@sqlite_only
@pytest.mark.django_db
def test_migrate_puts_back_triggers_a_table_rebuild_dropped():
    # What Django's SQLite schema editor does when a migration alters the members table.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_update")

    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)

    member = person("Ana Torres")
    member.name = "Ana Zelaya"
    member.save()
    assert list(Member.objects.search("zelaya")) == [member]


WORDS = st.text(alphabet=st.sampled_from('abcdeéjosñ "*-()^:%_'), min_size=0, max_size=12)


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=WORDS)
def test_any_query_gives_what_a_plain_scan_gives(query):
    if not Member.objects.exists():  # hypothesis runs every example in one test transaction
        for name in ["José Sánchez", 'Bea "Jo" Dee', "Cass O'Neal-Jones", "Ñoño Abad"]:
            person(name, email=f"{name[:3].lower()}_x%@example.org")

    found = {p.pk for p in Member.objects.search(query)}

    assert found == like_scan(query)
