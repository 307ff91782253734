"""Member.objects.search(): matching, ranking, and the index behind it on each database."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
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


# --- names as people write them ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "query"),
    [
        # Apostrophes, straight, curly or left out; the modifier letter some keyboards make.
        ("Dónal O\u2019Neill", "O'Neill"),
        ("Dónal O\u2019Neill", "O\u2019Neill"),
        ("Dónal O\u2019Neill", "ONeill"),
        ("Dónal O\u2019Neill", "donal o'neill"),
        ("Dónal O'Neill", "O\u2019NEILL"),
        ("Dónal ONeill", "o'neill"),
        ("Dónal O'Neill", "o\u02bcneill"),
        ("Ana D'Angelo", "dangelo"),
        ("Ana D'Angelo", "d`angelo"),
        # Particles typed together or apart, either way round.
        ("Ana van der Berg", "vanderberg"),
        ("Ana van der Berg", "Van Der Berg"),
        ("Ana Vanderberg", "van der berg"),
        ("Rosa de la Cruz", "delacruz"),
        ("Rosa Delacruz", "de la cruz"),
        ("Rosa DeLaCruz", "De La Cruz"),
        ("Hugo de los Santos", "delossantos"),
        ("Lena von Trapp", "vontrapp"),
        ("Ian Mac Donald", "macdonald"),
        ("Ian MacDonald", "mac donald"),
        # Hyphens and other punctuation separate words; the words may run together.
        ("Pat Smith-Jones", "smith jones"),
        ("Pat Smith-Jones", "smithjones"),
        ("Pat Smith-Jones", "Smith-Jones"),
        ("Pat Smith Jones", "smith-jones"),
        ("Pat Smith Jones", "smithjones"),
        ("Jean-Luc Martin", "jeanluc"),
        ("Jean-Luc Martin", "jean luc martin"),
        ("Mary St. John", "st john"),
        ("Mary St. John", "stjohn"),
        ("Mary St John", "st. john"),
        ("García, José", "garcia jose"),
        ("Zoë Ann-Marie Ng", "annmarie"),
    ],
)
def test_names_are_found_however_punctuation_and_spaces_are_typed(stored, query):
    wanted = person(stored)
    person("Somebody Else")
    person("Jo Smithe")
    person("Al Jones")

    assert list(Member.objects.search(query)) == [wanted]


@pytest.mark.django_db
def test_the_same_name_written_another_way_is_still_the_exact_match():
    exact = person("Vanderberg")
    starts = person("Van der Berg Smith")
    later_word = person("Ana Van Der Berg")

    found = list(Member.objects.search("van der berg"))

    assert found == [exact, starts, later_word]
    assert [p.search_rank for p in found] == [
        SearchRank.EXACT,
        SearchRank.STARTS,
        SearchRank.WORD_STARTS,
    ]
    assert list(Member.objects.search("vanderberg"))[:2] == [exact, starts]


@pytest.mark.django_db
def test_an_email_in_the_query_keeps_its_dots_and_dashes():
    wanted = person("Ana Ruiz", email="ana.ruiz-lopez@union.example")
    person("Ana Lopez", email="lopez@ruiz.example")

    assert list(Member.objects.search("ana.ruiz-lopez@union")) == [wanted]
    assert list(Member.objects.search("o'ana.ruiz-lopez@union.example")) == []


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Dónal O\u2019Neill", "donal oneill"),
        ("  Smith-Jones  ", "smith jones"),
        ("García, José", "garcia jose"),
        ('Robert "Bob" Smith', "robert bob smith"),
        ("ÉMILE", "emile"),
        ("", ""),
        ("---", ""),
    ],
)
def test_search_key_is_the_name_as_search_and_sort_compare_it(written, key):
    assert search.search_key(written) == key


@given(st.text(max_size=40).filter(lambda text: "@" not in text))  # "@" makes an email word
def test_search_key_is_idempotent_and_a_name_is_found_by_itself(text):
    key = search.search_key(text)
    assert search.search_key(key) == key
    assert search.searchable(text).startswith(key)
    assert all(word in search.searchable(text) for word in search.search_words(text))


# --- the people list's order ----------------------------------------------------------------

LIST_ORDER = [
    "Amanda Ruiz",
    "Amélie Dubois",
    "amy chen",  # typed in lower case: still among the a's
    "Ávila Reyes",
    "Bea Lund",
    "de la Cruz, Rosa",
    "Dónal O\u2019Neill",
    "Jo Ann Zed",  # byte order keeps the space: "jo ann" before "joann"
    "Joann Zed",
    "Zoë Ng",
    "Zoe Park",
]


@pytest.mark.django_db
def test_the_people_list_sorts_accented_and_lower_case_names_among_the_others(as_user, organizer):
    for name in reversed(LIST_ORDER):
        person(name)

    page = as_user(organizer).get(reverse("members:people_list"))

    body = page.content.decode()
    positions = [body.index(escape(name)) for name in LIST_ORDER]
    assert positions == sorted(positions)
    assert names(Member.objects.in_name_order()) == LIST_ORDER
    assert names(Member.objects.all()) == LIST_ORDER  # the model's own default order
    assert names(Member.objects.search("")) == LIST_ORDER


@pytest.mark.django_db
def test_search_ties_follow_the_list_order():
    for name in reversed(LIST_ORDER):
        person(name, city="Same Town")

    assert names(Member.objects.search("same town")) == LIST_ORDER


@sqlite_only
@pytest.mark.django_db
def test_sqlite_pages_the_list_from_the_name_key_index():
    person("Amélie Dubois")
    sql, params = Member.objects.in_name_order()[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]

    assert plan == ["SCAN members_member USING INDEX member_name_key_order_idx"]


@postgres_only
@pytest.mark.django_db
def test_postgres_pages_the_list_from_the_byte_order_index():
    person("Amélie Dubois")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Member.objects.in_name_order()[:51].explain()

    assert "member_name_key_order_idx" in plan
    assert "Sort" not in plan


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["O'Neill", "oneill", "van der berg", "vanderberg"])
def test_the_people_page_finds_names_however_they_are_typed(as_user, organizer, query):
    person("Dónal O\u2019Neill van der Berg")
    person("Somebody Else")

    page = as_user(organizer).get(reverse("members:people_list"), {"q": query})

    assert names(page.context["people"]) == ["Dónal O\u2019Neill van der Berg"]


# --- the admin ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["O'Neill", "oneill", "O\u2019Neill", "vanderberg"])
def test_the_admin_finds_names_however_they_are_typed(as_user, admin_user, query):
    person("Dónal O\u2019Neill van der Berg")
    person("Somebody Else")

    page = as_user(admin_user).get(reverse("admin:members_member_changelist"), {"q": query})

    assert [m.name for m in page.context["cl"].result_list] == ["Dónal O\u2019Neill van der Berg"]


# --- the migration that fills the keys ---------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_fills_keys_and_search_text_of_existing_people():
    from importlib import import_module

    from django.db.migrations.executor import MigrationExecutor

    migration = import_module("members.migrations.0012_search_names_as_people_write_them")
    wanted = person("Dónal O\u2019Neill", city="Winston-Salem")
    Member._base_manager.filter(pk=wanted.pk).update(name_key="", search_text="stale")
    state = MigrationExecutor(connection).loader.project_state(
        ("members", "0012_search_names_as_people_write_them")
    )

    migration.fill_keys(state.apps, None)

    wanted.refresh_from_db()
    assert wanted.name_key == "donal oneill"
    assert list(Member.objects.search("winstonsalem oneill")) == [wanted]
