"""An import never makes a record worse (members/importing/improvement.py): the table of
stored and incoming values, and whether writing the incoming one improves the record."""

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from members.importing.improvement import is_improvement
from members.text import fold

SAME = False  # already up to date: equivalent or less informative
BETTER = True

TABLE = [
    # names: case, accents, initials, word order
    pytest.param("name", "Ciara Walsh", "C. Walsh", SAME, id="an initial for the first name"),
    pytest.param("name", "Ciara Walsh", "C Walsh", SAME, id="an initial without its dot"),
    pytest.param("name", "Martin Luther King", "M. L. King", SAME, id="two initials"),
    pytest.param("name", "C. Walsh", "Ciara Walsh", BETTER, id="the full name for an initial"),
    pytest.param("name", "Ciara Máire Walsh", "Ciara Walsh", SAME, id="a middle name dropped"),
    pytest.param("name", "Ciara M. Walsh", "C. Walsh", SAME, id="initial, middle dropped"),
    pytest.param("name", "Ciara Walsh", "Ciara Máire Walsh", BETTER, id="a middle name added"),
    pytest.param("name", "Ciara Walsh", "Ciara", SAME, id="the first name alone"),
    pytest.param("name", "Renée Okafor", "Renee Okafor", SAME, id="accents stripped"),
    pytest.param("name", "Renée Okafor", "RENEE OKAFOR", SAME, id="capitals, no accents"),
    pytest.param("name", "Renée Okafor", "renée okafor", SAME, id="lower case"),
    pytest.param("name", "Renee Okafor", "Renée Okafor", BETTER, id="accents added"),
    pytest.param("name", "RENEE OKAFOR", "Renee Okafor", BETTER, id="proper case for capitals"),
    pytest.param("name", "Ciara Walsh", "Walsh, Ciara", SAME, id="surname first"),
    pytest.param("name", "Ciara Walsh", "Ciara  Walsh ", SAME, id="spaces"),
    pytest.param("name", "Ciara Walsh", "Ciara Walsh-Byrne", BETTER, id="a new surname"),
    pytest.param("name", "Ciara Walsh", "Aoife Walsh", BETTER, id="another first name"),
    pytest.param("name", "Dónal O'Neill", "Donal ONeill", SAME, id="accent and apostrophe"),
    # phones: the phone rule of members.text
    pytest.param("phone", "020 7946 0958", "2079460958", SAME, id="trunk zero lost"),
    pytest.param("phone", "(937) 555-0100", "9375550100", SAME, id="digits only"),
    pytest.param("phone", "(937) 555-0100", "+1 937 555 0100", SAME, id="country code"),
    pytest.param("phone", "(937) 555-0100", "937.555.0101", BETTER, id="another number"),
    pytest.param("phone", "", "937.555.0101", BETTER, id="a phone where none was"),
    pytest.param("phone", "(937) 555-0100", "9.37555E+09", SAME, id="scientific notation"),
    pytest.param("phone", "9.37555E+09", "(937) 555-0100", BETTER, id="a number for a lost one"),
    pytest.param("phone", "+44 20 7946 0958", "+44 (0)20 7946 0958", SAME, id="trunk zero"),
    pytest.param("phone", "+44 20 7946 0958", "2079460958", SAME, id="country code lost"),
    pytest.param("phone", "555-0100", "(937) 555-0100", BETTER, id="the area code added"),
    # emails: case only
    pytest.param("email", "ana@example.org", "ANA@Example.ORG", SAME, id="email case"),
    pytest.param("email", "ana@example.org", "ana.ruiz@example.org", BETTER, id="new email"),
    # places
    pytest.param("city", "San José", "San Jose", SAME, id="city accents stripped"),
    pytest.param("city", "san jose", "San José", BETTER, id="city written properly"),
    pytest.param("city", "Reno", "Sparks", BETTER, id="another city"),
    pytest.param("region", "Oregon", "OR", SAME, id="a state's abbreviation"),
    pytest.param("region", "OR", "Oregon", SAME, id="a state's name for its abbreviation"),
    pytest.param("region", "OR", "ME", BETTER, id="another state"),
    # free text and the rest
    pytest.param(
        "joining_story", "Came for housing, stayed for labor.", "Came for housing", SAME,
        id="a story cut short",
    ),
    pytest.param("joining_story", "Housing.", "Labor organizing.", BETTER, id="another story"),
    pytest.param("status", "member", "former", BETTER, id="a new status"),
    pytest.param("joined_on", dt.date(2021, 3, 4), dt.date(2021, 3, 4), SAME, id="same date"),
    pytest.param("joined_on", dt.date(2021, 3, 4), dt.date(2020, 1, 1), BETTER, id="new date"),
    pytest.param("joined_on", dt.date(2021, 3, 4), dt.date(2021, 1, 1), SAME, id="the year"),
    pytest.param("joined_on", dt.date(2021, 3, 4), dt.date(2021, 3, 1), SAME, id="the month"),
    pytest.param("joined_on", dt.date(2021, 1, 1), dt.date(2021, 3, 4), BETTER, id="the day"),
    pytest.param("pronouns", "she/her", "She/Her", SAME, id="pronouns in other case"),
    pytest.param("pronouns", "she/her", "she/they", BETTER, id="other pronouns"),
    pytest.param("city", "Reno", "", SAME, id="an empty cell never erases"),
    pytest.param("joined_on", dt.date(2021, 3, 4), None, SAME, id="no date never erases"),
    pytest.param("email", "rene@x.org", "RENÉ@x.org", BETTER, id="an email gaining its accent"),
    pytest.param("email", "rené@x.org", "rene@x.org", SAME, id="an email losing its accent"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "stored", "incoming", "better"), TABLE)
def test_an_import_replaces_a_value_only_with_a_better_one(field, stored, incoming, better):
    assert is_improvement(field, stored, incoming) is better


TEXT_FIELDS = ["name", "preferred_name", "pronouns", "email", "phone", "city", "region"]


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(TEXT_FIELDS), value=st.text(max_size=40))
def test_a_value_never_improves_itself_and_nothing_raises(field, value):
    assert is_improvement(field, value, value) is False


# What reaches the comparison has been through the one cleaning step (sos_tracker.cleaning,
# members.text.clean_text): no control characters, which fold() drops.
CLEANED_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(TEXT_FIELDS), stored=CLEANED_TEXT, new=CLEANED_TEXT)
def test_an_improvement_is_never_undone_by_its_own_reverse(field, stored, new):
    """If the file's value says more, the stored one cannot say more than it: an import
    and a re-import of the old list never flip a value back and forth."""
    assume(stored.strip() and new.strip())
    if is_improvement(field, stored, new) and is_improvement(field, new, stored):
        # Only two really different values may each replace the other.
        assert fold(stored) != fold(new)
