"""Cell values (members.importing.values) and the shared text and phone rules (members.text),
and the same cleaning on the app's form and the admin's."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from members.importing.values import (
    DAY_FIRST,
    CellError,
    LostValue,
    date_column,
    parse_date,
    parse_email,
    parse_phone,
)
from members.models import Member
from members.text import clean_text, format_phone, phone_digits, phone_key, same_phone
from tests.factories import MemberFactory

# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("(512) 555-0123", "512.555.0123"),
        ("(512) 555-0123", "+1 512 555 0123"),
        ("1 512 555 0123", "5125550123"),
        ("(937) 555-0100", "9375550100"),
        # A number Excel stored as a number lost its leading zero: the same number.
        ("020 7946 0958", "2079460958"),
        # The fictional 555-01xx range is not "valid", but it is a possible US number.
        ("+1 (555) 010-2233", "555.010.2233"),
        ("512-555-0123 ext. 7", "(512) 555-0123"),
        ("\u200b(512) 555-0123\ufeff", "512 555 0123"),
    ],
)
def test_the_same_number_however_it_is_written(a, b):
    assert same_phone(a, b)
    assert phone_key(a) == phone_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("(512) 555-0123", "(512) 555-0124"),
        ("+44 20 7946 0958", "+1 207 946 0958"),
        ("1.55501E+10", "1.55501E+10"),  # lost digits match nobody, not even each other
        ("555-01", "555-01"),  # too short to tell
    ],
)
def test_different_or_unknowable_numbers_are_not_the_same(a, b):
    assert not same_phone(a, b)


@pytest.mark.parametrize(
    ("phone", "key", "stored"),
    [
        ("(512) 555-0123", "+15125550123", "(512) 555-0123"),
        ("512.555.0123", "+15125550123", "(512) 555-0123"),
        ("+1 512 555 0123", "+15125550123", "(512) 555-0123"),
        ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
        # Not a US number: stored as typed, its zero kept; keyed as the number it lost.
        ("020 7946 0958", "+12079460958", "020 7946 0958"),
        ("0123 4567 89", "0123456789", "0123 4567 89"),
        ("1.55501E+10", "", "1.55501E+10"),
        ("", "", ""),
    ],
)
def test_phone_key_and_stored_form(phone, key, stored):
    assert phone_key(phone) == key
    assert phone_digits(phone) == key.lstrip("+")
    assert format_phone(phone) == stored


def test_the_default_region_reads_numbers_without_a_country_code(settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    assert phone_key("020 7946 0958") == "+442079460958"
    assert format_phone("020 7946 0958") == "020 7946 0958"
    assert format_phone("+1 512 555 0123") == "+1 512-555-0123"


def test_member_keys_come_from_the_library(db):
    person = MemberFactory(phone="512.555.0123")
    assert (person.phone_key, person.phone_digits) == ("+15125550123", "15125550123")


def test_parse_phone_refuses_lost_digits_and_too_few():
    with pytest.raises(LostValue, match=r"Excel turned this number into 1\.55501E\+10"):
        parse_phone("1.55501E+10")
    with pytest.raises(CellError, match="too few digits"):
        parse_phone("555-01")
    with pytest.raises(CellError, match="longer than 40"):
        parse_phone("512 555 0123 " * 5)
    assert parse_phone(" 512.555.0123 ") == "(512) 555-0123"


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("43466", "2019-01-01"),
        ("43466.75", "2019-01-01"),
        ("43466,5", "2019-01-01"),
        ("20080901", "2008-09-01"),
        ("2008-9-1", "2008-09-01"),
        ("2008/9/1", "2008-09-01"),
        ("2019-01-01T18:00:00", "2019-01-01"),
        ("1/1/2019 6:00 PM", "2019-01-01"),
        ("09/01/2008", "2008-09-01"),
        ("09-01-2008", "2008-09-01"),
        ("25/08/2021", "2021-08-25"),
        ("25.08.1992", "1992-08-25"),
        ("3.4.2021", "2021-04-03"),
        ("9/1/08", "2008-09-01"),
        ("March 3rd, 2021", "2021-03-03"),
        ("3 Sept 2021", "2021-09-03"),
        ("Sep 2023", "2023-09-01"),
    ],
)
def test_dates_as_spreadsheets_write_them(written, expected):
    assert parse_date(written).isoformat() == expected


@pytest.mark.parametrize(
    "written", ["2008-25-1", "20081301", "31/31/2020", "Monday", "March", "12345678901", "1.5"]
)
def test_unreadable_dates_are_refused_naming_the_date(written):
    with pytest.raises(CellError, match=f"“{written}”"):
        parse_date(written)


def test_future_and_two_digit_years():
    next_year = timezone.localdate().year + 1
    with pytest.raises(CellError, match="in the future"):
        parse_date(f"{next_year}-01-01")
    # A two-digit year that would be in the future is last century's.
    assert parse_date(f"1/1/{str(next_year)[2:]}").year == next_year - 100


def test_1904_epoch():
    assert parse_date("42004", epoch=dt.date(1904, 1, 1)) == dt.date(2019, 1, 1)


def test_a_column_is_read_in_one_order():
    column = date_column([(2, "25/08/2021"), (3, "03/04/2021")], column="Joined")
    assert column.order == DAY_FIRST
    assert column.parse("03/04/2021") == dt.date(2021, 4, 3)
    # Without a day-first date, month first (the US habit).
    assert date_column([(2, "03/04/2021")], column="Joined").parse("03/04/2021") == dt.date(
        2021, 3, 4
    )
    mixed = date_column([(2, "25/08/2021"), (5, "08/25/2021")], column="Joined")
    with pytest.raises(CellError, match="“Joined” has dates written day first"):
        mixed.parse("03/04/2021")
    assert mixed.parse("05/05/2021") == dt.date(2021, 5, 5)  # either order, one date


# --- text and email ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("Ana\u200b Ruiz", "Ana Ruiz"),
        ("\ufeffName", "Name"),
        ("ana@example.org\u200b", "ana@example.org"),
        ("line\x0bbreak", "linebreak"),
        ("nul\x00here", "nulhere"),
        ("bell\x07", "bell"),
        ("e\u0301", "é"),  # composed
        ("\u200eleft-to-right mark", "left-to-right mark"),
        ("soft\u00adhyphen", "softhyphen"),
        ("ZWJ\u200dbeside ASCII", "ZWJbeside ASCII"),
        # A joiner between two Persian letters shapes the word: it stays.
        ("\u0645\u06cc\u200c\u062e", "\u0645\u06cc\u200c\u062e"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
    ],
)
def test_clean_text_removes_what_is_invisible(typed, clean):
    assert clean_text(typed) == clean


def test_multiline_text_keeps_exported_line_breaks():
    assert clean_text("first\x0bsecond\u2028third", multiline=True) == "first\nsecond\nthird"


def test_an_email_is_compared_after_cleaning():
    assert parse_email("\u200bAna.Ruiz@Example.org\ufeff") == "Ana.Ruiz@Example.org"
    assert parse_email("<mailto:ana@example.org>") == "ana@example.org"
    with pytest.raises(CellError, match="not a valid email"):
        parse_email("ana at example")


def test_an_import_matches_an_email_with_a_zero_width_space_to_the_saved_person(organizer):
    from members.importing import applying

    person = MemberFactory(name="Ana Ruiz", email="ana@example.org", city="Austin")
    content = "Name,Email,City\nAna Ruiz,ana@example.org\u200b,Austin\n".encode()
    record = applying.start_import(filename="a.csv", content=content, by=organizer)
    (row,) = applying.preview_import(record).rows.all()
    assert row.member == person
    assert row.action == "skip"  # already up to date
    assert "\u200b" not in "".join(row.cells)


# --- the app's form and the admin ----------------------------------------------------------

INVISIBLE = "\u200b\ufeff\x0b\x00"


def test_quick_add_cleans_every_text_field(as_user, organizer):
    data = {
        "name": f"Rosa{INVISIBLE} Parks",
        "email": f"rosa{INVISIBLE}@example.org",
        "phone": f"512.555.0123{INVISIBLE}",
        "city": f"Detroit{INVISIBLE}",
        "status": "member",
        "joining_story_kind": "social_movement",
        "joining_story": f"Why{INVISIBLE}",
    }
    response = as_user(organizer).post(reverse("members:person_add"), data)
    assert response.status_code == 302, response.context["form"].errors
    person = Member.objects.get()
    assert (person.name, person.email, person.phone, person.city) == (
        "Rosa Parks",
        "rosa@example.org",
        "(512) 555-0123",
        "Detroit",
    )
    assert person.joining_story == "Why"


def test_quick_add_refuses_a_phone_in_scientific_notation_naming_it(as_user, organizer):
    data = {
        "name": "Rosa Parks",
        "email": "rosa@example.org",
        "phone": "1.55501E+10",
        "city": "Detroit",
        "status": "member",
        "joining_story_kind": "social_movement",
    }
    response = as_user(organizer).post(reverse("members:person_add"), data)
    assert response.status_code == 200
    error = response.context["form"].errors["phone"][0]
    assert "Excel turned this number into 1.55501E+10" in error
    assert response.context["form"]["phone"].value() == "1.55501E+10"  # what was typed is kept
    assert not Member.objects.exists()


def test_the_admin_cleans_the_same_way(as_user, admin_user):
    from tests.adminforms import changeform_data

    client = as_user(admin_user)
    add = reverse("admin:members_member_add")
    form = changeform_data(
        client.get(add), name=f"Ana{INVISIBLE} Ruiz", email=f"ana{INVISIBLE}@example.org"
    )
    response = client.post(add, form)
    assert response.status_code == 302
    person = Member.objects.get()
    assert (person.name, person.email) == ("Ana Ruiz", "ana@example.org")
