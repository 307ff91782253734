"""The duplicate check's blocks (members/blocking.py) lose nothing the rules find, and the
quick-add checks stay index lookups: their query count and plans at any number of people.

The rules themselves: test_duplicates.py and test_evidence.py, unchanged.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from members import blocking
from members.duplicates import (
    Contact,
    Verdict,
    find_duplicates,
    find_duplicates_bulk,
    names_alike,
    verdict_of,
    weigh,
)
from members.models import Member
from members.text import name_words
from tests.factories import MemberFactory

# --- one change never leaves the block (a property) ---------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORD = st.text(alphabet=LETTERS, min_size=1, max_size=12)


@st.composite
def one_change(draw):
    """A name's words and the words of the same name after one change, maybe reordered.

    The changes the brief names: a typo anywhere in one word (a changed first letter is
    one), a missing or an added word, an initial for a word, two words joined or one
    split ("Van Damme"/"Vandamme", "de la Cruz"/"Delacruz", "Smith-Jones"/"Smithjones").
    Accents and punctuation are gone before this (name_words folds them).
    """
    words = draw(st.lists(WORD, min_size=1, max_size=4))
    new = list(words)
    at = draw(st.integers(0, len(new) - 1))
    change = draw(st.sampled_from(["typo", "drop", "add", "initial", "join", "split"]))
    if change == "typo":
        word = new[at]
        spot = draw(st.integers(0, len(word)))
        letter = draw(st.sampled_from(LETTERS))
        kind = draw(st.sampled_from(["substitute", "insert", "delete", "swap"]))
        if kind == "substitute" and spot < len(word):
            word = word[:spot] + letter + word[spot + 1 :]
        elif kind == "insert":
            word = word[:spot] + letter + word[spot:]
        elif kind == "delete":
            word = word[:spot] + word[spot + 1 :]
        elif kind == "swap" and spot + 1 < len(word):
            word = word[:spot] + word[spot + 1] + word[spot] + word[spot + 2 :]
        new[at] = word
    elif change == "drop" and len(new) > 1:
        del new[at]
    elif change == "add":
        new.insert(at, draw(WORD))
    elif change == "initial":
        new[at] = new[at][0]
    elif change == "join" and at + 1 < len(new):
        new[at : at + 2] = [new[at] + new[at + 1]]
    elif change == "split" and len(new[at]) > 1:
        cut = draw(st.integers(1, len(new[at]) - 1))
        new[at : at + 1] = [new[at][:cut], new[at][cut:]]
    new = [word for word in new if word]
    if draw(st.booleans()):
        new = draw(st.permutations(new))
    return words, new


@settings(max_examples=3000, deadline=None)
@given(one_change())
def test_a_saved_name_one_change_away_is_in_a_block_the_new_name_looks_in(pair):
    saved, new = pair
    if new and names_alike(saved, new):
        assert set(blocking.saved_keys(saved, "oakland")) & blocking.sought_keys(
            new, ["oakland"]
        ), (saved, new)


def test_a_block_is_a_city_and_a_sound():
    assert blocking.saved_keys(name_words("Catherine Jones"), "oakland") == (
        "oakland|K0R",
        "oakland|JNS",
    )
    assert "oakland|K0R" in blocking.sought_keys(name_words("Katherine Jones"), ["oakland"])
    # A one-word name: its first and last letters. No city, no block.
    assert blocking.saved_keys(["madonna"], "detroit") == ("detroit|<mad", "detroit|>nna")
    assert blocking.saved_keys(["madonna"], "") == ("", "")
    # Scripts Metaphone has no letters for are their own first letters.
    assert blocking.saved_keys(name_words("Иван Петров"), "x") == ("x|ива", "x|пет")


# --- blocked finds exactly what comparing with everyone finds -----------------------------

# (saved, new): each new contact is checked in a city of people with realistic names, some
# in its blocks, so the block query has to choose.
HARD_CASES = [
    ("Catherine Jones", "Katherine Jones"),
    ("Catherine Jones", "Jones, Katherine"),
    ("Ana María López", "Ana López"),
    ("Ana López", "Ana María López"),
    ("Jonathan Smith", "Jonathon Smith"),
    ("Jonathan Smith", "Jonathan Smiht"),
    ("Jonathan Smith", "Ionathan Smith"),
    ("Maria Lopez", "Maria Lopes"),
    ("Jon Smith", "John Smith"),
    ("Ann Lee", "Anne Lee"),
    ("Daniel Ortiz", "Daniela Ortiz"),
    ("José García", "Jose Garcia"),
    ("José García", "García, José"),
    ("José García", "J. García"),
    ("José García", "García, J."),
    ("Martin Luther King", "M L King"),
    ("Ana de la Cruz", "Ana Delacruz"),
    ("Ana Delacruz", "Ana de la Cruz"),
    ("Dela Cruz", "Delacruz"),
    ("Ana Smith-Jones", "Ana Smithjones"),
    ("Ana Smithjones", "Ana Smith Jones"),
    ("Mary Ann Smith", "Maryann Smith"),
    ("Van Damme", "Vandamme"),
    ("Vandamme", "Van Damme"),
    ("Madonna", "Madona"),
    ("Maximiliano", "Maximilano"),
    ("Nguyễn Thị Lan", "Nguyen Thi Lan"),
    ("Nguyễn Thị Lan", "Lan Nguyen Thi"),
    ("Siobhán O'Brien", "Siobhan OBrien"),
    ("Иван Петров", "Иван Петрова"),
    ("Mark Chen", "Mary Chen"),  # not alike: found by neither
    ("Maria Lopez", "Mario Lopes"),  # not alike: found by neither
]
CROWD = [
    "Katherine Jonas",
    "Kathryn Jones",
    "Catalina Jimenez",
    "John Smithers",
    "Jonathan Smythe",
    "Ana Lopes Cruz",
    "Anna Lopez",
    "José Garza",
    "Jose Gracia",
    "Mary Smith",
    "Maryanne Smithson",
    "Lan Nguyen",
    "Thi Lan Nguyen",
    "Nguyen Van Lan",
    "Ivan Petrov",
    "Madonna Ruiz",
    "Dan Ortiz",
    "Daniel Ortega",
    "Martin King",
    "Van Dam",
]


def everyone_finds(contact: Contact, *, exclude=()) -> set:
    """What the rules say against every saved person, one by one: the check before blocks."""
    found = set()
    for member in Member.objects.findable().exclude(pk__in=exclude):
        evidence = tuple(weigh(contact, Contact.of_member(member)))
        if verdict_of(evidence) != Verdict.NONE:
            found.add((member.pk, tuple(item.description for item in evidence)))
    return found


def found_by(matches) -> set:
    return {(match.member.pk, tuple(match.reasons)) for match in matches}


@pytest.fixture
def city():
    for number, name in enumerate(CROWD):
        MemberFactory(name=name, city="Oakland", region="CA" if number % 2 else "", email="")
    for name in {saved for saved, _new in HARD_CASES}:
        MemberFactory(name=name, city="Oakland", region="CA", email="", phone="")
    MemberFactory.create_batch(60, city="Oakland", email="")
    # Someone with a name the crowd has, elsewhere: never a candidate.
    MemberFactory(name="Katherine Jones", city="Detroit", email="")


@pytest.mark.django_db
@pytest.mark.usefixtures("city")
def test_the_blocked_check_finds_what_comparing_with_everyone_finds():
    for saved, new in HARD_CASES:
        contact = Contact.of(name=new, city="Oakland", region="CA")

        blocked = found_by(find_duplicates(name=new, city="Oakland", region="CA", limit=1000))

        assert blocked == everyone_finds(contact), (saved, new)
        assert any(
            pk == Member.objects.get(name=saved, city="Oakland").pk for pk, _ in blocked
        ) == names_alike(name_words(saved), name_words(new)), (saved, new)


@pytest.mark.django_db
@pytest.mark.usefixtures("city")
def test_the_batch_finds_what_comparing_with_everyone_finds():
    rows = [{"name": new, "city": "Oakland", "region": "CA"} for _saved, new in HARD_CASES]

    results = find_duplicates_bulk(rows, limit=1000)

    for row, result in zip(rows, results, strict=True):
        assert found_by(result.in_database) == everyone_finds(Contact.of(**row)), row["name"]


@pytest.mark.django_db
def test_earlier_rows_of_a_file_are_found_as_comparing_with_every_earlier_row():
    names = [name for pair in HARD_CASES for name in pair] + CROWD
    rows = [{"name": name, "city": "Oakland"} for name in names]
    contacts = [Contact.of(**row) for row in rows]

    results = find_duplicates_bulk(rows, limit=1000)

    for number, result in enumerate(results):
        every_earlier = set()
        for other in range(number):
            evidence = tuple(weigh(contacts[number], contacts[other]))
            if verdict_of(evidence) != Verdict.NONE:
                every_earlier.add((other, tuple(item.description for item in evidence)))
        assert {(m.row, tuple(m.reasons)) for m in result.earlier_rows} == every_earlier


# --- cost: queries and plans -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("crowd", [0, 300])
def test_one_check_costs_two_queries_and_compares_only_its_blocks(crowd, django_assert_num_queries):
    MemberFactory.create_batch(crowd, city="Oakland", email="")
    twin = MemberFactory(name="Jose Garcia", city="Oakland", email="", phone="")

    # 1. pk, folded name and block keys of the people in the name's blocks
    # 2. the full rows of the close names, same email, same phone
    with django_assert_num_queries(2):
        found = find_duplicates(name="José García", email="jg@example.org", city="Oakland")

    assert [match.member for match in found] == [twin]


@pytest.mark.django_db
@pytest.mark.parametrize("crowd", [0, 300])
def test_a_batch_costs_two_queries_however_many_people_are_saved(crowd, django_assert_num_queries):
    MemberFactory.create_batch(crowd, city="Oakland", email="")
    rows = [
        {"name": f"Person {word} Example", "city": city, "email": f"{word}@example.org"}
        for word in ["ana", "bea", "cruz", "dora", "eli", "fay", "gus", "hal"] * 5
        for city in ["Oakland", "Detroit"]
    ]

    # 1. the rows' blocks (and equal names where a city is missing)
    # 2. the full rows of the close names, same emails, same phones
    with django_assert_num_queries(2):
        find_duplicates_bulk(rows)


@pytest.mark.django_db
@pytest.mark.usefixtures("city")
def test_a_batch_past_the_parameter_limit_asks_in_parts_and_finds_the_same(
    monkeypatch, django_assert_max_num_queries
):
    rows = [{"name": new, "city": "Oakland", "region": "CA"} for _saved, new in HARD_CASES]
    whole = find_duplicates_bulk(rows, limit=1000)
    monkeypatch.setattr("members.duplicates._CHUNK", 7)

    with django_assert_max_num_queries(200) as queries:
        parts = find_duplicates_bulk(rows, limit=1000)

    assert len(queries) > 2
    assert [found_by(row.in_database) for row in parts] == [
        found_by(row.in_database) for row in whole
    ]


def query_plan(sql: str) -> str:
    """The database's plan for `sql`, as text; PostgreSQL told to prefer any usable index
    (on a table this small a scan is cheaper, and the question is whether one can serve)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
            return plan
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def full_scan(plan: str) -> bool:
    if connection.vendor == "postgresql":
        return "Seq Scan on members_member" in plan
    return any(line.strip() == "SCAN members_member" for line in plan.splitlines())


@pytest.mark.django_db
@pytest.mark.parametrize("editing", [False, True])
def test_the_email_check_is_answered_by_the_lower_case_unique_index(editing):
    MemberFactory.create_batch(5, email="")
    MemberFactory(email="ana@example.org")
    person = MemberFactory(email="bea@example.org") if editing else Member(name="Bea")
    person.email = " ANA@Example.org "

    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as error:
        person.clean()

    assert error.value.message_dict == {"email": ["Another person already has this email address."]}
    (query,) = queries.captured_queries
    plan = query_plan(query["sql"])
    assert "member_email_unique_ci" in plan, plan
    assert not full_scan(plan), plan


@pytest.mark.django_db
def test_the_email_check_still_passes_a_free_address_and_the_person_s_own():
    person = MemberFactory(email="bea@example.org")
    MemberFactory(email="")

    person.email = "BEA@example.org"
    person.clean()
    Member(name="Cy", email="cy@example.org").clean()
    Member(name="Dee", email="").clean()


@pytest.mark.django_db
def test_the_duplicate_check_reads_blocks_through_their_indexes():
    MemberFactory.create_batch(5, city="Oakland", email="")

    with CaptureQueriesContext(connection) as queries:
        find_duplicates(name="José García", email="jg@example.org", city="Oakland")

    blocks, rows = (query["sql"] for query in queries.captured_queries)
    plan = query_plan(blocks)
    assert "member_duplicate_key_1_idx" in plan, plan
    assert "member_duplicate_key_2_idx" in plan, plan
    assert not full_scan(plan), plan
    plan = query_plan(rows)
    assert "member_email_unique_ci" in plan, plan
    assert not full_scan(plan), plan


@pytest.mark.django_db
def test_every_writer_files_a_person_under_their_blocks():
    person = MemberFactory(name="Catherine Jones", city="Oakland")
    assert (person.duplicate_key_1, person.duplicate_key_2) == ("oakland|K0R", "oakland|JNS")

    person.name, person.city = "Ana Ruiz", "San José"
    person.save(update_fields=["name", "city"])
    person.refresh_from_db()
    assert (person.duplicate_key_1, person.duplicate_key_2) == ("san jose|AN", "san jose|RS")
