"""The evidence rules (members/duplicates.py) as a table of pairs: what each pair's
comparison says (strong, weak, conflicting) and the verdict (strong, weak, none).

No database: weigh() compares two contacts as typed, imported or saved.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from members.duplicates import (
    DIFFERENT_EMAILS,
    SAME_EMAIL,
    SAME_NAME_NO_CITY,
    SAME_NAME_SAME_CITY,
    SAME_PHONE,
    SHARED_PHONE,
    SIMILAR_NAME_SAME_CITY,
    Contact,
    Evidence,
    Kind,
    Verdict,
    region_key,
    verdict_of,
    weigh,
)

STRONG, WEAK, CONFLICTING = Kind.STRONG, Kind.WEAK, Kind.CONFLICTING

# (a, b, the kinds of evidence in weigh()'s order, the verdict)
PAIRS = [
    # --- strong --------------------------------------------------------------------------
    pytest.param(
        {"name": "Ana Ruiz", "email": "ana.ruiz@example.org"},
        {"name": "Ana Ruiz", "email": "ANA.RUIZ@example.org "},
        [STRONG, WEAK],
        Verdict.STRONG,
        id="same email in other case",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "email": "ana@example.org"},
        {"name": "Somebody Else", "email": "ana@example.org"},
        [STRONG],
        Verdict.STRONG,
        id="same email, other name: the email decides",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "(512) 555-0123"},
        {"name": "Ana Ruiz", "phone": "+1 512 555 0123", "city": "Austin"},
        [STRONG, WEAK],
        Verdict.STRONG,
        id="same phone by the phone rule and the same name",
    ),
    pytest.param(
        {"name": "José García", "phone": "512.555.0123"},
        {"name": "J. Garcia", "phone": "5125550123"},
        [STRONG],
        Verdict.STRONG,
        id="same phone and an initial for the first name",
    ),
    pytest.param(
        {
            "name": "José García",
            "email": "jg@example.org",
            "phone": "512 555 0123",
            "city": "Oakland",
            "region": "CA",
        },
        {
            "name": "Jose Garcia",
            "email": "JG@example.org",
            "phone": "(512) 555-0123",
            "city": "oakland",
            "region": "California",
        },
        [STRONG, STRONG, WEAK],
        Verdict.STRONG,
        id="everything agrees; CA is California",
    ),
    # --- weak ----------------------------------------------------------------------------
    pytest.param(
        {"name": "José García", "city": "Oakland", "region": "CA"},
        {"name": "Jose Garcia", "city": "Oakland", "region": "CA"},
        [WEAK],
        Verdict.WEAK,
        id="same name in the same city and region",
    ),
    pytest.param(
        {"name": "Sam Lee", "city": "New York, NY"},
        {"name": "Sam Lee", "city": "new york", "region": "New York"},
        [WEAK],
        Verdict.WEAK,
        id="City, ST in one column is the city and the state",
    ),
    pytest.param(
        {"name": "Jon Smith", "city": "Oakland"},
        {"name": "John Smith", "city": "Oakland", "region": "CA"},
        [WEAK],
        Verdict.WEAK,
        id="similar name in the same city, one region missing",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "city": ""},
        {"name": "Ana Ruiz", "city": "Oakland"},
        [WEAK],
        Verdict.WEAK,
        id="same name, no city to compare",
    ),
    pytest.param(
        {"name": "Marta Solis", "phone": "(512) 555-0123", "city": "Austin"},
        {"name": "Diego Solis", "phone": "512-555-0123", "city": "Austin"},
        [WEAK],
        Verdict.WEAK,
        id="a household: shared phone, different names",
    ),
    # --- strong lowered to weak by a conflict ----------------------------------------------
    pytest.param(
        {"name": "Ana Ruiz", "phone": "(512) 555-0123", "email": "ana@example.org"},
        {"name": "Ana Ruiz", "phone": "512 555 0123", "email": "ana.ruiz@work.example"},
        [CONFLICTING, STRONG, WEAK],
        Verdict.WEAK,
        id="same phone and name, different emails: lowered",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "email": "ana@example.org", "city": "Portland", "region": "OR"},
        {"name": "Ana Ruiz", "email": "ana@example.org", "city": "Portland", "region": "ME"},
        [STRONG, WEAK, CONFLICTING],
        Verdict.WEAK,
        id="same email, different regions: lowered",
    ),
    # --- weak vetoed by a conflict ---------------------------------------------------------
    pytest.param(
        {"name": "Ana Ruiz", "city": "Portland", "region": "OR"},
        {"name": "Ana Ruiz", "city": "Portland", "region": "ME"},
        [WEAK, CONFLICTING],
        Verdict.NONE,
        id="Portland, OR is not Portland, ME",
    ),
    pytest.param(
        {"name": "Sam Lee", "city": "New York", "region": "NY"},
        {"name": "Sam Lee", "city": "New York", "region": "Michigan"},
        [WEAK, CONFLICTING],
        Verdict.NONE,
        id="New York, NY is not New York, MI",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "city": "Portland, OR"},
        {"name": "Ana Ruiz", "city": "Portland", "region": "Maine"},
        [WEAK, CONFLICTING],
        Verdict.NONE,
        id="the state written in the city column",
    ),
    pytest.param(
        {"name": "José García", "city": "Oakland", "email": "jose@example.org"},
        {"name": "Jose Garcia", "city": "Oakland", "email": "pepe@example.org"},
        [CONFLICTING, WEAK],
        Verdict.NONE,
        id="same name and city, different emails",
    ),
    pytest.param(
        {"name": "Marta Solis", "email": "marta.solis@example.org", "phone": "(512) 555-0123"},
        {"name": "Diego Solis", "email": "diego.solis@example.org", "phone": "(512) 555-0123"},
        [CONFLICTING, WEAK],
        Verdict.NONE,
        id="a household with two emails: two people",
    ),
    # --- nothing -------------------------------------------------------------------------
    pytest.param(
        {"name": "John Smith", "city": "Oakland"},
        {"name": "Jane Smith", "city": "Oakland"},
        [],
        Verdict.NONE,
        id="shared surname",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "city": "Oakland"},
        {"name": "Ana Ruiz", "city": "Detroit"},
        [],
        Verdict.NONE,
        id="same name, different city",
    ),
    pytest.param(
        {"name": "Amaka Eze", "phone": "1.55501E+10"},
        {"name": "Bea Lund", "phone": "1.55501E+10"},
        [],
        Verdict.NONE,
        id="a phone in scientific notation never matches",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "phone": "123"},
        {"name": "Ana Ruiz", "phone": "123", "city": "Oakland"},
        [WEAK],
        Verdict.WEAK,
        id="a short phone is not compared, the name still is",
    ),
    pytest.param(
        {"name": "Ana Ruiz", "email": "ana@example.org"},
        {"name": "Bea Soto", "email": "bea@example.org"},
        [CONFLICTING],
        Verdict.NONE,
        id="only a conflict",
    ),
]


@pytest.mark.parametrize(("a", "b", "kinds", "verdict"), PAIRS)
def test_evidence_and_verdict_of_a_pair(a, b, kinds, verdict):
    evidence = weigh(Contact.of(**a), Contact.of(**b))

    assert [item.kind for item in evidence] == kinds
    assert verdict_of(evidence) == verdict


@pytest.mark.parametrize(("a", "b", "kinds", "verdict"), PAIRS)
def test_the_rules_are_symmetric(a, b, kinds, verdict):
    there = weigh(Contact.of(**a), Contact.of(**b))
    back = weigh(Contact.of(**b), Contact.of(**a))

    assert sorted(item.kind for item in there) == sorted(item.kind for item in back)
    assert verdict_of(there) == verdict_of(back)


def test_each_piece_of_evidence_names_its_field_and_says_why():
    evidence = weigh(
        Contact.of(
            name="Ana Ruiz", email="a@x.example", phone="(512) 555-0123", city="Portland",
            region="OR",
        ),
        Contact.of(
            name="Ana Ruiz", email="b@x.example", phone="512 555 0123", city="Portland",
            region="Maine",
        ),
    )  # fmt: skip

    assert [(item.field, item.description) for item in evidence] == [
        ("email", DIFFERENT_EMAILS),
        ("phone", SAME_PHONE),
        ("name", SAME_NAME_SAME_CITY),
        ("region", "different regions (OR, Maine)"),
    ]
    assert evidence[0].as_dict() == {
        "kind": "conflicting",
        "field": "email",
        "description": DIFFERENT_EMAILS,
    }


@pytest.mark.parametrize(
    ("description", "a", "b"),
    [
        (SAME_EMAIL, {"email": "x@y.example"}, {"email": "X@Y.example"}),
        (SHARED_PHONE, {"phone": "555 010 2233"}, {"phone": "5550102233", "name": "Bo Li"}),
        (SIMILAR_NAME_SAME_CITY, {"name": "Ann Lee"}, {"name": "Anne Lee"}),
        (SAME_NAME_NO_CITY, {"city": ""}, {}),
    ],
)
def test_the_descriptions_say_what_agrees(description, a, b):
    base = {"name": "Ana Ruiz", "city": "Oakland"}
    evidence = weigh(Contact.of(**{**base, **a}), Contact.of(**{**base, **b}))

    assert description in [item.description for item in evidence]


def test_verdicts_combine_as_the_table_says():
    strong = Evidence(STRONG, "email", SAME_EMAIL)
    weak = Evidence(WEAK, "name", SAME_NAME_SAME_CITY)
    conflict = Evidence(CONFLICTING, "region", "different regions (OR, ME)")

    assert verdict_of([strong]) == Verdict.STRONG
    assert verdict_of([strong, weak]) == Verdict.STRONG
    assert verdict_of([strong, conflict]) == Verdict.WEAK
    assert verdict_of([weak]) == Verdict.WEAK
    assert verdict_of([weak, conflict]) == Verdict.NONE
    assert verdict_of([conflict]) == Verdict.NONE
    assert verdict_of([]) == Verdict.NONE


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("OR", "or"),
        ("Ore.", "or"),
        ("oregon", "or"),
        ("N.Y.", "ny"),
        ("New York", "ny"),
        ("Québec", "qc"),
        ("Bavaria", "bavaria"),
        ("", ""),
    ],
)
def test_regions_are_compared_by_what_they_name(written, key):
    assert region_key(written) == key


contacts = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Ana Ruiz", "A. Ruiz", "Ana Ruíz", "Bo Chen", "", "Ruiz, Ana"]),
        "email": st.sampled_from(["", "ana@example.org", "ANA@example.org", "bo@example.org"]),
        "phone": st.sampled_from(["", "(512) 555-0123", "+1 512 555 0123", "1.55501E+10"]),
        "city": st.sampled_from(["", "Portland", "portland", "Portland, OR", "Austin"]),
        "region": st.sampled_from(["", "OR", "Oregon", "ME"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(a=contacts, b=contacts)
def test_any_two_contacts_get_the_same_verdict_both_ways(a, b):
    there = weigh(Contact.of(**a), Contact.of(**b))
    back = weigh(Contact.of(**b), Contact.of(**a))

    assert verdict_of(there) == verdict_of(back)
    assert sorted(item.kind for item in there) == sorted(item.kind for item in back)
