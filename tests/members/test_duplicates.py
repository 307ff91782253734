"""Finding possible duplicates (members/duplicates.py): who is found with which evidence,
in which order, and the query cost. The rules themselves, pair by pair: test_evidence.py."""

import pytest
from django.urls import reverse

from members.duplicates import (
    DIFFERENT_EMAILS,
    SAME_EMAIL,
    SAME_NAME_NO_CITY,
    SAME_NAME_SAME_CITY,
    SAME_PHONE,
    SHARED_PHONE,
    SIMILAR_NAME_SAME_CITY,
    Verdict,
    find_duplicates,
    find_duplicates_bulk,
)
from members.models import Member
from tests.factories import MemberFactory


def saved(name, *, city="Oakland", email="", phone="", **fields):
    return MemberFactory(name=name, city=city, email=email, phone=phone, **fields)


# (saved person, new entry, evidence in words). Saved people and new entries have no email
# or phone unless given, so only the name rules can connect them. Every pair here is found
# (strong or weak); NOT_MATCHES are not.
MATCHES = [
    pytest.param(
        {"name": "Ana Ruiz", "email": "ana.ruiz@example.org"},
        {"name": "Someone Else", "city": "Detroit", "email": "  ANA.Ruiz@Example.ORG "},
        [SAME_EMAIL],
        id="same email, different case",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "+1 (555) 010-2233"},
        {"name": "Ana Ruiz", "city": "Detroit", "phone": "555.010.2233"},
        [SAME_PHONE],
        id="same phone, other formatting and country code",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "+44 20 7946 0958"},
        {"name": "Ana Ruiz", "city": "London", "phone": "+44 (0)20 7946 0958"},
        [SAME_PHONE],
        id="same phone, trunk zero written in brackets",
    ),
    pytest.param(
        {"name": "Marta Solis", "phone": "(512) 555-0123"},
        {"name": "Diego Solis", "city": "Austin", "phone": "512.555.0123"},
        [SHARED_PHONE],
        id="a household shares a phone: flagged, weak",
    ),
    pytest.param(
        {"name": "José García"},
        {"name": "Jose Garcia"},
        [SAME_NAME_SAME_CITY],
        id="accents and case",
    ),
    pytest.param(
        {"name": "José García"},
        {"name": "Garcia, José"},
        [SAME_NAME_SAME_CITY],
        id="surname first with a comma",
    ),
    pytest.param(
        {"name": "García José"},
        {"name": "Jose Garcia"},
        [SAME_NAME_SAME_CITY],
        id="swapped order",
    ),
    pytest.param(
        {"name": "José García", "city": "OAKLAND"},
        {"name": "José García", "city": "oakland"},
        [SAME_NAME_SAME_CITY],
        id="city compared folded",
    ),
    pytest.param(
        {"name": "José García", "city": "San José"},
        {"name": "José García", "city": "San Jose"},
        [SAME_NAME_SAME_CITY],
        id="city accents folded",
    ),
    pytest.param(
        {"name": "Sam Lee", "city": "New York", "region": "NY"},
        {"name": "Sam Lee", "city": "New York, N.Y."},
        [SAME_NAME_SAME_CITY],
        id="the state written in the city column",
    ),
    pytest.param(
        {"name": "Sam Lee", "city": "Portland, OR", "region": ""},
        {"name": "Sam Lee", "city": "Portland", "region": "Oregon"},
        [SAME_NAME_SAME_CITY],
        id="a saved city holding its state",
    ),
    pytest.param(
        {"name": "José García"},
        {"name": "J. Garcia"},
        [SIMILAR_NAME_SAME_CITY],
        id="initial for the first name",
    ),
    pytest.param(
        {"name": "Martin Luther King"},
        {"name": "M L King"},
        [SIMILAR_NAME_SAME_CITY],
        id="initials for two names",
    ),
    pytest.param(
        {"name": "José García"},
        {"name": "García, J."},
        [SIMILAR_NAME_SAME_CITY],
        id="initial, surname first",
    ),
    pytest.param(
        {"name": "Jon Smith"},
        {"name": "John Smith"},
        [SIMILAR_NAME_SAME_CITY],
        id="one letter missing (95)",
    ),
    pytest.param(
        {"name": "Maria Lopez"},
        {"name": "Maria Lopes"},
        [SIMILAR_NAME_SAME_CITY],
        id="one letter changed in a long name (91)",
    ),
    pytest.param(
        {"name": "Catherine Jones"},
        {"name": "Katherine Jones"},
        [SIMILAR_NAME_SAME_CITY],
        id="first letter changed (93 as written, 53 sorted)",
    ),
    pytest.param(
        {"name": "Ann Lee"},
        {"name": "Anne Lee"},
        [SIMILAR_NAME_SAME_CITY],
        id="one spelling changed (93)",
    ),
    pytest.param(
        # One letter apart is flagged even when it could be two people; the organizer
        # sees both and says "different person".
        {"name": "Daniel Ortiz"},
        {"name": "Daniela Ortiz"},
        [SIMILAR_NAME_SAME_CITY],
        id="one letter added (96): flagged",
    ),
    pytest.param(
        {"name": "Nguyễn Văn An"},
        {"name": "Nguyen Van An"},
        [SAME_NAME_SAME_CITY],
        id="vietnamese diacritics",
    ),
    pytest.param(
        {"name": "Siobhán O'Brien"},
        {"name": "Siobhan OBrien"},
        [SAME_NAME_SAME_CITY],
        id="apostrophe",
    ),
    pytest.param(
        {"name": "José García", "city": ""},
        {"name": "Jose Garcia"},
        [SAME_NAME_NO_CITY],
        id="same name, saved person has no city",
    ),
    pytest.param(
        {"name": "José García"},
        {"name": "José García", "city": ""},
        [SAME_NAME_NO_CITY],
        id="same name, new entry has no city",
    ),
    pytest.param(
        {"name": "José García", "email": "jg@example.org", "phone": "555 010 2233"},
        {"name": "Jose Garcia", "email": "JG@example.org", "phone": "(555) 010-2233"},
        [SAME_EMAIL, SAME_PHONE, SAME_NAME_SAME_CITY],
        id="every reason at once",
    ),
    pytest.param(
        # One of two surnames, or a middle name, left out (duplicates.words_dropped): as
        # often one person as two in a city, so a person decides.
        {"name": "José García"},
        {"name": "José García López"},
        [SIMILAR_NAME_SAME_CITY],
        id="an extra surname (79): a person decides",
    ),
    pytest.param(
        {"name": "Abelardo Rivera Aguilar", "phone": "881-555-4509", "city": "Dallas"},
        {"name": "Abelardo R.", "phone": "8815554509", "city": "Dallas"},
        [SAME_PHONE, SIMILAR_NAME_SAME_CITY],
        id="the same phone under a shortened name is one person",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "555 010 2233", "email": "ana@example.org"},
        {"name": "Ana Ruiz", "city": "Detroit", "phone": "5550102233", "email": "a@b.example"},
        [DIFFERENT_EMAILS, SAME_PHONE],
        id="same phone and name, other email: lowered to weak, still shown",
    ),
]

NOT_MATCHES = [
    pytest.param(
        {"name": "Sam Lee", "city": "New York", "region": "NY"},
        {"name": "Sam Lee", "city": "New York, MI"},
        id="New York, MI in one column is not New York, NY",
    ),
    pytest.param(
        {"name": "José García", "email": "jose@example.org", "phone": "555 010 2233"},
        {"name": "José García", "city": "Detroit", "email": "jg@b.org", "phone": "555 999 0000"},
        id="same name, different city, email and phone",
    ),
    pytest.param({"name": "John Smith"}, {"name": "Jane Smith"}, id="shared surname (80)"),
    pytest.param({"name": "Mark Chen"}, {"name": "Mary Chen"}, id="one letter changed (89)"),
    pytest.param({"name": "Jon Smith"}, {"name": "Jan Smith"}, id="short first names (89)"),
    pytest.param(
        # Two names changed: as often two people as one. A shared email or phone still
        # connects them.
        {"name": "Maria Lopez"},
        {"name": "Mario Lopes"},
        id="both names one letter off (82)",
    ),
    pytest.param(
        # Sounds the same, spelled apart: no phonetic rule (yet); email or phone catch it.
        {"name": "Ann Lee"},
        {"name": "Anne Leigh"},
        id="homophones spelled differently (71)",
    ),
    pytest.param({"name": "A. Smith"}, {"name": "J. Smith"}, id="different initials"),
    pytest.param({"name": "J. G."}, {"name": "José García"}, id="initials only"),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "123"},
        {"name": "Bea Soto", "phone": "123"},
        id="short phone is not compared",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "555 010 2233"},
        {"name": "Bea Soto", "phone": "556 010 2233"},
        id="phone one digit apart",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "city": "Portland", "region": "OR"},
        {"name": "Ana Ruiz", "city": "Portland", "region": "ME"},
        id="same name, Portland in another state",
    ),
    pytest.param(
        {"name": "José García", "email": "jose@example.org"},
        {"name": "Jose Garcia", "email": "pepe@example.org"},
        id="same name and city, different emails",
    ),
    pytest.param(
        {"name": "Marta Solis", "phone": "(512) 555-0123", "email": "marta@example.org"},
        {"name": "Diego Solis", "phone": "(512) 555-0123", "email": "diego@example.org"},
        id="a household with two emails",
    ),
    pytest.param(
        {"name": "Amaka Eze", "phone": "1.55501E+10"},
        {"name": "Bea Lund", "phone": "1.55501E+10"},
        id="phones in scientific notation are never compared",
    ),
    pytest.param(
        # Without a city only an equal name is worth a warning.
        {"name": "Ana Ruiz", "city": ""},
        {"name": "Ana Ruis", "city": ""},
        id="no city, similar name",
    ),
]


def entry(new):
    return {"city": "Oakland", **new}


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "new", "reasons"), MATCHES)
def test_possible_duplicates_are_found(existing, new, reasons):
    person = saved(**existing)
    saved("Somebody Else", email="other@example.org", phone="555 777 1234")

    (match,) = find_duplicates(**entry(new))

    assert match.member == person
    assert match.reasons == reasons
    assert match.verdict in (Verdict.STRONG, Verdict.WEAK)


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "new"), NOT_MATCHES)
def test_different_people_are_not_flagged(existing, new):
    saved(**existing)

    assert find_duplicates(**entry(new)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("existing", "new", "reasons"), MATCHES)
def test_the_bulk_check_applies_the_same_rules(existing, new, reasons):
    person = saved(**existing)

    ((match,),) = [row.in_database for row in find_duplicates_bulk([entry(new)])]

    assert (match.member, match.reasons) == (person, reasons)


@pytest.mark.django_db
def test_the_person_being_edited_is_not_their_own_duplicate():
    person = saved("José García", email="jg@example.org")

    assert find_duplicates(name="José García", email="jg@example.org", city="Oakland") != []
    assert (
        find_duplicates(
            name="José García", email="jg@example.org", city="Oakland", exclude_pk=person.pk
        )
        == []
    )


@pytest.mark.django_db
def test_strong_first_then_most_evidence_then_closest_name_and_at_most_limit():
    by_name = saved("Jose Garcia")
    by_email = saved("Pepe García", email="jg@example.org")
    by_initial = saved("J. Garcia")
    elsewhere = saved("José Garcia", city="Detroit", email="other@example.org")
    by_phone_other_email = saved("Jose García", email="JG2@example.org", phone="(555) 010-2299")
    by_phone = saved("José García", city="Detroit", phone="(555) 010-2299")

    found = find_duplicates(
        name="José García", email="jg@example.org", phone="5550102299", city="Oakland"
    )

    assert [m.member for m in found] == [
        by_phone,
        by_email,
        by_phone_other_email,
        by_name,
        by_initial,
    ]
    assert [(m.verdict, m.reasons) for m in found] == [
        (Verdict.STRONG, [SAME_PHONE]),
        (Verdict.STRONG, [SAME_EMAIL]),
        # The phone and the name agree but the emails differ: lowered to weak.
        (Verdict.WEAK, [DIFFERENT_EMAILS, SAME_PHONE, SAME_NAME_SAME_CITY]),
        (Verdict.WEAK, [SAME_NAME_SAME_CITY]),
        (Verdict.WEAK, [SIMILAR_NAME_SAME_CITY]),
    ]
    assert [m.score for m in found] == [100, 73, 100, 100, 84]
    assert elsewhere not in [m.member for m in found]
    assert len(find_duplicates(name="José García", city="Oakland", limit=1)) == 1


@pytest.mark.django_db
def test_nothing_to_compare_finds_nothing_and_asks_nothing(django_assert_num_queries):
    saved("Ana Ruiz", city="")

    with django_assert_num_queries(0):
        assert find_duplicates(name="", email="", phone="12", city="") == []


@pytest.mark.django_db
@pytest.mark.parametrize("crowd", [1, 40])
def test_one_check_costs_two_queries_however_many_people(crowd, django_assert_num_queries):
    MemberFactory.create_batch(crowd, city="Oakland", email="")
    saved("José García", email="jg@example.org", phone="555 010 2233")

    # 1. pk and folded name of the Oakland people (and same-name people without a city)
    # 2. the full rows of name candidates, same email, same phone
    with django_assert_num_queries(2):
        found = find_duplicates(
            name="Jose Garcia", email="jg@example.org", phone="5550102233", city="Oakland"
        )

    assert found[0].reasons == [SAME_EMAIL, SAME_PHONE, SAME_NAME_SAME_CITY]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 100])
def test_a_batch_costs_two_queries_whatever_its_size(size, django_assert_num_queries):
    cities = ["Oakland", "Detroit", "Atlanta", ""]
    people = [
        MemberFactory(city=cities[n % 4], email=f"p{n}@example.org", phone=f"555 010 {n:04}")
        for n in range(size)
    ]
    rows = [
        {
            "name": person.name,
            "email": person.email.upper() if n % 3 == 0 else "",
            "phone": person.phone if n % 3 == 1 else "",
            "city": person.city,
        }
        for n, person in enumerate(people)
    ]

    # 1. pk and folded names in the rows' cities, and same names where a city is missing
    # 2. the full rows of name candidates, same emails, same phone keys
    with django_assert_num_queries(2):
        results = find_duplicates_bulk(rows)

    for person, row in zip(people, results, strict=True):
        assert person in [match.member for match in row.in_database]


@pytest.mark.django_db
def test_a_file_listing_someone_twice_points_the_second_row_at_the_first():
    rows = [
        {"name": "José García", "city": "Oakland"},
        {"name": "Ana Ruiz", "email": "ana@example.org"},
        {"name": "Bea Soto", "city": "Oakland", "phone": "555 010 2233"},
        {"name": "Garcia, J.", "city": "oakland"},
        {"name": "Someone Else", "email": "ANA@example.org", "phone": "+1 555-010-2233"},
        {"name": "Jane Smith", "city": "Oakland"},
        {"name": "John Smith", "city": "Oakland"},
    ]

    results = find_duplicates_bulk(rows)

    earlier = [sorted((m.row, m.reasons) for m in row.earlier_rows) for row in results]
    assert earlier == [
        [],
        [],
        [],
        [(0, [SIMILAR_NAME_SAME_CITY])],
        [(1, [SAME_EMAIL]), (2, [SHARED_PHONE])],
        [],
        [],
    ]
    assert all(row.in_database == [] for row in results)


@pytest.mark.django_db
def test_a_batch_finds_people_already_saved_and_repeats_within_itself():
    saved_person = saved("Ana Ruiz", email="ana@example.org")
    rows = [
        {"name": "Ana Ruiz", "email": "ANA@example.org", "city": "Oakland"},
        {"name": "Ana Ruiz", "city": "Oakland"},
    ]

    first, second = find_duplicates_bulk(rows)

    assert [(m.member, m.reasons) for m in first.in_database] == [
        (saved_person, [SAME_EMAIL, SAME_NAME_SAME_CITY])
    ]
    assert [(m.member, m.reasons) for m in second.in_database] == [
        (saved_person, [SAME_NAME_SAME_CITY])
    ]
    assert [(m.row, m.reasons) for m in second.earlier_rows] == [(0, [SAME_NAME_SAME_CITY])]


@pytest.mark.django_db
def test_a_large_file_reading_its_cities_finds_what_block_keys_find(monkeypatch):
    # A file past _KEYS_BEFORE_CITIES reads the people of its cities instead of listing
    # block keys; rows outside the blocks are dropped, so both paths find the same people.
    saved("José García", city="Oakland")
    saved("Jose Garcia", city="Portland, OR")
    saved("Ana Ruiz", city="Detroit", email="ana@example.org")
    saved("Bea Soto", city="", phone="555 010 2233")
    saved("Jane Smith", city="Oakland")
    saved("Jon Smith", city="Oakland", region="CA")
    saved("Carla Mendes", city="Atlanta")
    saved("Someone Else", city="Oakland")
    saved("Ana Ruiz", city="")
    rows = [
        {"name": "Garcia, J.", "city": "oakland"},
        {"name": "Jose Garcia", "city": "Portland", "region": "Oregon"},
        {"name": "Ana Ruiz", "email": "ANA@example.org"},
        {"name": "Ana Ruiz", "city": "Chicago"},
        {"name": "Bea Soto", "city": "Oakland", "phone": "+1 555-010-2233"},
        {"name": "John Smith", "city": "Oakland"},
        {"name": "Jane Smith", "city": "Oakland, CA"},
        {"name": "Karla Mendez", "city": "Atlanta"},
        {"name": "Nobody Known", "city": "Oakland"},
        {"name": "", "city": "Oakland", "email": "ana@example.org"},
    ]

    def found():
        return [
            [(m.member.pk, m.reasons, m.score) for m in row.in_database]
            for row in find_duplicates_bulk(rows)
        ]

    by_keys = found()
    monkeypatch.setattr("members.duplicates._KEYS_BEFORE_CITIES", 0)
    by_cities = found()

    assert by_cities == by_keys
    assert sum(bool(row) for row in by_keys) >= 6


# --- quick add: the same rules on the page ---------------------------------------------------


def quick_add(client, **fields):
    data = {
        "name": "Rosa Parks Jr",
        "email": "",
        "phone": "",
        "city": "Detroit",
        "status": "member",
        "joining_story_kind": "social_movement",
        "joining_story": "",
        **fields,
    }
    return client.post(reverse("members:person_add"), data)


@pytest.mark.django_db
def test_quick_add_shows_a_strong_match_first_with_open_as_the_first_action(as_user, organizer):
    phone_twin = saved("Rosa Parks", city="Detroit", phone="(313) 555-0142")
    name_twin = saved("Rosa Parks", city="Detroit", email="rp@example.org")

    response = quick_add(as_user(organizer), name="Rosa Parks", phone="313.555.0142")

    assert [m.member for m in response.context["strong"]] == [phone_twin]
    assert [m.member for m in response.context["weak"]] == [name_twin]
    html = response.content.decode()
    assert html.index(f"Open {phone_twin}") < html.index("same phone number and a compatible")
    assert "This is a different person — add them" in html
    assert not Member.objects.filter(phone="(313) 555-0142").exclude(pk=phone_twin.pk).exists()


@pytest.mark.django_db
def test_quick_add_never_stops_for_a_household_sharing_a_phone(as_user, organizer):
    marta = saved("Marta Solis", city="Austin", phone="(512) 555-0123")

    client = as_user(organizer)
    response = quick_add(client, name="Diego Solis", city="Austin", phone="512-555-0123")

    diego = Member.objects.get(name="Diego Solis")
    assert response.url == diego.get_absolute_url()
    assert "Shares a phone with Marta Solis" in diego.history.earliest().history_change_reason
    assert marta.pk != diego.pk


@pytest.mark.django_db
def test_quick_add_does_not_warn_across_states_or_for_different_emails(as_user, organizer):
    saved("Sam Lee", city="Portland", region="OR")
    saved("Ana Ruiz", city="Detroit", email="ana@example.org")
    client = as_user(organizer)

    response = quick_add(client, name="Sam Lee", city="Portland", email="sam@example.org")
    assert [m.member.name for m in response.context["weak"]] == ["Sam Lee"]  # no state typed
    response = quick_add(
        client, name="Sam Lee", city="Portland", region="ME", email="sam@example.org"
    )
    assert response.status_code == 302

    response = quick_add(client, name="Ana Ruiz", email="ana.ruiz@work.example")
    assert response.status_code == 302
    assert Member.objects.filter(name__in=["Sam Lee", "Ana Ruiz"]).count() == 4
