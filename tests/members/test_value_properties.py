"""Properties of the value parsers, for any text at all (hypothesis).

- no parser raises anything but its documented error (CellError, and LostValue, a
  CellError, for a phone in scientific notation), whatever the cell holds;
- cleaning is idempotent: a cleaned value cleaned again is the same;
- a value that goes out through the export and comes back through the import's reading
  and parsing is the value it was.
"""

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from members.exporting import neutralise_formula
from members.importing.reading import read_sheet
from members.importing.values import (
    EXCEL_EPOCH,
    CellError,
    date_column,
    parse_date,
    parse_email,
    parse_kind,
    parse_phone,
    parse_status,
    unneutralise,
)
from members.text import clean_text, fold, format_phone, name_words, phone_key

# Any text, invisible and control characters included, and text shaped like the values.
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
DATE_LIKE = st.from_regex(r"\s?[0-9]{1,8}([./ -][0-9]{1,4}){0,2}(T[0-9]{1,2}:[0-9]{2})?\s?")
PHONE_LIKE = st.from_regex(r"\+?[0-9 ().\-]{0,20}([eE][+-]?[0-9]{1,2})?( ?(ext|x)\.? ?[0-9]{1,4})?")
TODAY = dt.date.today()  # noqa: DTZ011 (a bound for generated dates, not a stored value)
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31))
# Names as people write them: letters of any script, accents, apostrophes, hyphens.
NAMES = st.text(
    st.characters(categories=["L", "M"], include_characters=" '\u2019-."), min_size=1, max_size=40
).filter(lambda name: name.strip(" '\u2019-.") != "")
PROPERTY = settings(max_examples=300, deadline=None)


def outcome(parse, text, **kwargs):
    """(value, "") or (None, the refusal's message): any other exception fails the test."""
    try:
        return parse(text, **kwargs), ""
    except CellError as error:
        message = str(error)
    assert message  # a refusal always says why
    return None, message


@PROPERTY
@given(ANY_TEXT, st.booleans())
@example("a\u200b\u200db", False)
@example("\u0645\u200c\u200b\u200c\u062e", True)
@example("e\u0301\u200b\u0301", False)
def test_cleaning_text_is_idempotent_and_leaves_nothing_invisible(text, multiline):
    once = clean_text(text, multiline=multiline)
    assert clean_text(once, multiline=multiline) == once
    for char in once:
        assert char in "\t\n\r" or ord(char) >= 32
        assert char not in "\u200b\ufeff\x00\x0b\u00ad\u2060"


@PROPERTY
@given(st.one_of(ANY_TEXT, DATE_LIKE))
@example("43466.75")
@example("20080901")
@example("2008-25-1")
@example("99999")
@example("0/0/0")
def test_dates_raise_only_cell_errors(text):
    for epoch in (EXCEL_EPOCH, dt.date(1904, 1, 1)):
        day, refused = outcome(parse_date, text, epoch=epoch)
        assert refused or day is None or dt.date(1900, 1, 1) <= day <= TODAY


@PROPERTY
@given(st.lists(st.one_of(DATE_LIKE, ANY_TEXT), max_size=8))
def test_a_date_column_reads_or_refuses_every_value(texts):
    column = date_column(list(enumerate(texts, 2)), column="Joined")
    for text in texts:
        outcome(column.parse, text)


@PROPERTY
@given(DATES, st.sampled_from(["iso", "us", "compact", "serial", "dotted"]))
def test_a_date_written_the_ways_spreadsheets_write_it_comes_back_the_same(day, style):
    written = {
        "iso": day.isoformat(),
        "us": f"{day.month}/{day.day}/{day.year}",
        "compact": f"{day:%Y%m%d}",
        "serial": str((day - EXCEL_EPOCH).days) + ".25",
        "dotted": f"{day:%d.%m.%Y}",
    }[style]
    assume(style != "serial" or (day - EXCEL_EPOCH).days >= 10000)  # 5-digit serials only
    assert parse_date(written) == day


@PROPERTY
@given(st.one_of(ANY_TEXT, PHONE_LIKE))
@example("1.55501E+10")
@example("020 7946 0958")
@example("0" * 40)
@example("+" + "9" * 30)
def test_phones_raise_only_cell_errors_and_their_stored_form_is_stable(text):
    stored, refused = outcome(parse_phone, text)
    if refused:
        return
    assert len(stored) <= 40
    assert parse_phone(stored) == stored
    assert format_phone(stored) == stored
    assert phone_key(stored) == phone_key(text)


@PROPERTY
@given(st.one_of(ANY_TEXT, st.emails()))
@example("\u200bana@example.org\ufeff")
@example("<ana@example.org>")
def test_emails_raise_only_cell_errors_and_cleaning_is_idempotent(text):
    email, refused = outcome(parse_email, text)
    if refused:
        return
    assert parse_email(email) == email
    assert email == email.strip()


@PROPERTY
@given(ANY_TEXT)
def test_status_and_kind_never_raise_anything_else(text):
    outcome(parse_status, text)
    kind, _understood = parse_kind(text)
    assert kind


@PROPERTY
@given(NAMES)
def test_names_fold_idempotently_and_their_words_are_folded(name):
    folded = fold(clean_text(name))
    assert fold(folded) == folded
    assert all(word == fold(word) for word in name_words(name))


def export_then_read(cells: list[str]) -> list[str]:
    """A row written as the export writes it (formula guard, CSV with a BOM), read back
    through the import's reading, cleaning and unneutralising."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Phone", "Joined on"])
    writer.writerow([neutralise_formula(cell) for cell in cells])
    sheet = read_sheet("export.csv", out.getvalue().encode())
    ((_, read),) = sheet.rows
    return [unneutralise(cell) for cell in read]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(NAMES, st.emails(), st.one_of(st.just(""), PHONE_LIKE), st.one_of(st.none(), DATES))
@example("=Ana O\u2019Neill", "ana@example.org", "+1 512 555 0123", dt.date(2019, 1, 1))
def test_a_person_exported_and_imported_comes_back_equal(name, email, phone, joined):
    name = " ".join(clean_text(name).split())
    assume(name)
    try:
        email = parse_email(email)
        phone = parse_phone(phone)
    except CellError:
        assume(False)
    read_name, read_email, read_phone, read_joined = export_then_read(
        [name, email, phone, joined.isoformat() if joined else ""]
    )
    assert " ".join(read_name.split()) == name
    assert parse_email(read_email) == email
    assert parse_phone(read_phone) == phone
    assert parse_date(read_joined) == joined


@pytest.mark.parametrize("text", ["", " ", "\u200b", "\ufeff\x00"])
def test_empty_and_invisible_cells_are_no_value(text):
    assert parse_date(text) is None
    assert parse_phone(text) == ""
    assert parse_email(text) == ""
