"""The shared import cases of the value and file kinds, each with its right value, and at
least one more case of each kind written here (encodings, damaged phones, dates, header
rows, formatted XLSX, headers with commas).

The duplicate and re-import cases (household, re-imports) are in test_importing.py.
"""

import codecs
import datetime as dt
import io
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from members.importing import applying
from members.models import ImportRecord, Member

CASES = Path(settings.BASE_DIR).parent / "shared" / "cases" / "import"


def case(name: str) -> bytes:
    return (CASES / name).read_bytes()


def preview(content: bytes, *, by, filename="people.csv", mapping=None):
    record = applying.start_import(filename=filename, content=content, by=by)
    return applying.preview_import(record, mapping=mapping)


def apply(record, *, by):
    applying.decide_undecided(record, "add", by=by)
    return applying.apply_import(record, by=by)


def rows_by_name(record) -> dict:
    return {row.values["name"]: row for row in record.rows.all()}


def xlsx(rows, *, epoch_1904=False, title=None, styled_row=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if epoch_1904:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        workbook.epoch = CALENDAR_MAC_1904
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
        sheet.append([])
    for row in rows:
        sheet.append(row)
    if styled_row:
        from openpyxl.styles import Font

        sheet.cell(row=styled_row, column=3).font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- utf16-tab-excel-unicode-text.txt -------------------------------------------------------


def test_excel_unicode_text_is_two_people_with_their_accents(organizer):
    record = apply(
        preview(case("utf16-tab-excel-unicode-text.txt"), by=organizer, filename="x.txt"),
        by=organizer,
    )
    assert record.sheet == {}  # the kept copy goes once the import is done
    people = Member.objects.order_by("name")
    assert [(p.name, p.email, p.city) for p in people] == [
        ("Renée Okafor", "renee.okafor@example.org", "Dayton"),
        ("Tomás Ibarra", "tomas.ibarra@example.org", "Toledo"),
    ]


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),  # no byte-order mark: told apart by its NUL bytes
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
)
def test_other_utf16_and_utf32_files_read_the_same(organizer, codec, bom):
    text = "Name\tEmail\tCity\r\nZoë Ångström\tzoe@example.org\tMalmö\r\n"
    record = preview(bom + text.encode(codec), by=organizer, filename="x.txt")
    (row,) = record.rows.all()
    assert (row.values["name"], row.values["city"]) == ("Zoë Ångström", "Malmö")


@pytest.mark.parametrize(
    ("codec", "names"),
    [
        # Excel for Mac's "CSV": Mac Roman.
        ("mac_roman", ["Renée Okafor", "Tomás Ibarra"]),
        # Excel for Windows: Windows-1252, with letters Mac Roman puts elsewhere.
        ("cp1252", ["Renée Okafor", "Tomás Ibarra"]),
    ],
)
def test_legacy_single_byte_encodings_are_detected(organizer, codec, names):
    text = "Name,Email,City\r\n" + "".join(
        f"{name},{name.split()[0].lower()}@example.org,Dayton\r\n" for name in names
    )
    record = preview(text.encode(codec), by=organizer)
    assert sorted(rows_by_name(record)) == sorted(names)


def test_an_uncertain_encoding_guess_is_shown_on_the_columns_page(as_user, organizer):
    text = "Name,City\nŁukasz Wójcik,Kraków\nZofia Żółć,Łódź\n"
    record = applying.start_import(filename="pl.csv", content=text.encode("cp1250"), by=organizer)
    notices = record.sheet["notices"]
    assert len(notices) == 1
    assert "encoding is a guess" in notices[0]
    assert "UTF-8" in notices[0]  # says how to avoid the guess
    page = as_user(organizer).get(reverse("members:import_mapping", args=[record.pk]))
    assert notices[0] in page.content.decode()
    # ...and on the preview.
    record = applying.preview_import(record)
    assert notices[0] in record.warnings


# --- phone-scientific-notation.csv ----------------------------------------------------------


def test_phones_in_scientific_notation_are_refused_and_both_people_imported(organizer):
    record = preview(case("phone-scientific-notation.csv"), by=organizer)
    rows = rows_by_name(record)
    for name in ("Amaka Eze", "Bea Lund"):
        row = rows[name]
        assert row.action == "create"
        assert "Excel turned this number into 1.55501E+10" in row.errors["phone"]
        assert "digits are lost" in row.errors["phone"]
        assert row.values["phone"] == ""
    apply(record, by=organizer)
    people = Member.objects.order_by("name")
    assert [(p.name, p.phone, p.phone_key) for p in people] == [
        ("Amaka Eze", "", ""),
        ("Bea Lund", "", ""),
    ]


@pytest.mark.parametrize("written", ["5.12555E+09", "9.37555E9", "1,55501E+10", "2.07946e+10"])
def test_other_scientific_phones_never_match_a_saved_person(organizer, written):
    Member.objects.create(name="Saved Person", email="saved@example.org", phone="15550100000")
    content = f'Name,Email,Phone\nNew Person,new@example.org,"{written}"\n'.encode()
    (row,) = preview(content, by=organizer).rows.all()
    assert row.action == "create"
    assert row.member is None
    assert "digits are lost" in row.errors["phone"]


def test_scientific_notation_in_the_command_line_report_names_the_phone(tmp_path, organizer):
    path = tmp_path / "phones.csv"
    path.write_bytes(case("phone-scientific-notation.csv"))
    out = io.StringIO()
    call_command("import_people", str(path), "--by", "olive", stdout=out)
    assert "phone: Excel turned this number into 1.55501E+10" in out.getvalue()
    assert Member.objects.count() == 2


# --- dates-serial-with-time.csv ------------------------------------------------------------


def test_excel_serials_with_and_without_a_time_are_the_same_day(organizer):
    apply(preview(case("dates-serial-with-time.csv"), by=organizer), by=organizer)
    assert {p.name: p.joined_on for p in Member.objects.all()} == {
        "Kofi Mensah": dt.date(2019, 1, 1),
        "Lena Vogel": dt.date(2019, 1, 1),
    }


def test_an_xlsx_in_the_1904_date_system_counts_its_serials_from_1904(organizer):
    # Number cells (not formatted as dates) holding serials: 1904 system, 2019-01-01.
    content = xlsx(
        [["Name", "Email", "Joined"], ["Ada", "ada@example.org", 42004]], epoch_1904=True
    )
    (row,) = preview(content, by=organizer, filename="mac.xlsx").rows.all()
    assert row.values["joined_on"] == "2019-01-01"


def test_date_cells_of_an_xlsx_with_a_time_keep_the_day(organizer):
    content = xlsx(
        [["Name", "Email", "Joined"], ["Ada", "ada@example.org", dt.datetime(2019, 1, 1, 18)]]  # noqa: DTZ001 (Excel has no zones)
    )
    (row,) = preview(content, by=organizer, filename="times.xlsx").rows.all()
    assert row.values["joined_on"] == "2019-01-01"


# --- dates-compact-and-invalid.csv ---------------------------------------------------------


def test_each_join_date_is_read_as_expected_and_the_invalid_one_refused(organizer):
    record = preview(case("dates-compact-and-invalid.csv"), by=organizer)
    assert record.rows.count() == 8
    for row in record.rows.all():
        expected = row.cells[-1]
        if expected == "invalid":
            assert row.action == "reject"
            assert "2008-25-1" in row.errors["joined_on"]
            assert "not a date" in row.errors["joined_on"]
        else:
            assert row.values["joined_on"] == expected, row.cells


def test_a_column_with_a_day_first_date_reads_its_ambiguous_dates_day_first(organizer):
    content = (
        b"Name,Email,Joined\n"
        b"A,a@example.org,25/08/2021\n"
        b"B,b@example.org,03/04/2021\n"
        b"C,c@example.org,3-4-2021\n"
    )
    rows = rows_by_name(preview(content, by=organizer))
    assert rows["A"].values["joined_on"] == "2021-08-25"
    assert rows["B"].values["joined_on"] == "2021-04-03"
    assert rows["C"].values["joined_on"] == "2021-04-03"


def test_a_column_mixing_day_first_and_month_first_is_flagged_not_guessed(organizer):
    content = (
        b"Name,Email,Member since\n"
        b"A,a@example.org,25/08/2021\n"
        b"B,b@example.org,08/25/2021\n"
        b"C,c@example.org,03/04/2021\n"
        b"D,d@example.org,2021-03-04\n"
    )
    rows = rows_by_name(preview(content, by=organizer))
    # The unambiguous ones can only be read one way; the ambiguous one is refused.
    assert rows["A"].values["joined_on"] == "2021-08-25"
    assert rows["B"].values["joined_on"] == "2021-08-25"
    assert rows["D"].values["joined_on"] == "2021-03-04"
    assert rows["C"].action == "reject"
    message = rows["C"].errors["joined_on"]
    assert "“Member since”" in message
    assert "row 2" in message
    assert "row 3" in message


# --- xlsx-styled-last-row.xlsx -------------------------------------------------------------


def test_an_xlsx_formatted_far_below_its_data_is_read_quickly(organizer):
    started = time.monotonic()
    record = preview(case("xlsx-styled-last-row.xlsx"), by=organizer, filename="s.xlsx")
    assert time.monotonic() - started < 2  # 10-20 s when all 1,048,576 rows were read
    assert sorted(rows_by_name(record)) == ["Kwame Asante", "Lucía Ferreyra"]
    assert record.total_rows == 2


def test_the_upload_is_parsed_once_and_kept(as_user, organizer, monkeypatch):
    from members.importing import reading

    record = applying.start_import(
        filename="s.xlsx", content=case("xlsx-styled-last-row.xlsx"), by=organizer
    )
    assert [number for number, _ in record.sheet["grid"]] == [1, 2, 3]

    def no_second_read(*args, **kwargs):
        raise AssertionError("the upload was parsed again")

    monkeypatch.setattr(reading, "read_sheet", no_second_read)
    client = as_user(organizer)
    page = client.get(reverse("members:import_mapping", args=[record.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: field.initial for name, field in form.fields.items()}
    client.post(reverse("members:import_mapping", args=[record.pk]), data)
    record.refresh_from_db()
    assert record.state == "previewed"
    assert record.rows.count() == 2


def test_a_second_styled_sheet_with_data_after_a_gap_keeps_the_gap_rows(organizer):
    rows = [["Name", "Email", "City"], ["One", "one@example.org", "Denver"]]
    content = xlsx(rows + [[None, None, None]] * 50 + [["Two", "two@example.org", "Boise"]])
    record = preview(content, by=organizer, filename="gap.xlsx")
    assert sorted(rows_by_name(record)) == ["One", "Two"]
    content = xlsx(rows, styled_row=1_048_576)
    record = preview(content, by=organizer, filename="styled.xlsx")
    assert list(rows_by_name(record)) == ["One"]


# --- header rows ---------------------------------------------------------------------------


def test_the_header_is_found_under_a_title_row_and_merged_cells(organizer):
    content = xlsx(
        [["Name", "Email", "City"], ["Wen Li", "wen@example.org", "Akron"]],
        title="SOS members, spring list",
    )
    record = preview(content, by=organizer, filename="titled.xlsx")
    assert record.headers == ["Name", "Email", "City"]
    assert record.sheet["header_row"] == 3
    (row,) = record.rows.all()
    assert (row.number, row.values["name"]) == (4, "Wen Li")


def test_the_person_picks_the_header_row_on_the_columns_page(as_user, organizer):
    # Headers no rule knows: the first row is taken, and the person corrects it.
    content = b"Exported 2024-03-01,\nWho,Reach at\nWen Li,wen@example.org\n"
    record = applying.start_import(filename="odd.csv", content=content, by=organizer)
    assert record.headers == ["Exported 2024-03-01", "Column 2"]
    client = as_user(organizer)
    url = reverse("members:import_mapping", args=[record.pk])
    page = client.get(url)
    assert [value for value, _ in page.context["form"].fields["header_row"].choices] == [1, 2, 3]

    response = client.post(url, {"header_row": "2", "column_0": "note", "column_1": "note"})

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.headers == ["Who", "Reach at"]
    assert record.total_rows == 1
    page = client.get(url)
    assert page.context["form"].fields["header_row"].initial == 2
    response = client.post(url, {"header_row": "2", "column_0": "name", "column_1": "email"})
    record.refresh_from_db()
    (row,) = record.rows.all()
    assert (row.values["name"], row.values["email"]) == ("Wen Li", "wen@example.org")


def test_a_header_row_with_nothing_below_is_refused_on_its_field(as_user, organizer):
    content = b"Name,Email\nWen Li,wen@example.org\n"
    record = applying.start_import(filename="a.csv", content=content, by=organizer)
    url = reverse("members:import_mapping", args=[record.pk])
    response = as_user(organizer).post(url, {"header_row": "2", "column_0": "name"})
    assert response.status_code == 200
    assert "no people below it" in response.context["form"].errors["header_row"][0]
    record.refresh_from_db()
    assert record.headers == ["Name", "Email"]


# --- header-with-comma.csv -----------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("import_people", *map(str, args), stdout=out)
    return out.getvalue()


def test_a_column_whose_name_has_a_comma_is_mapped_with_map(tmp_path, organizer):
    path = tmp_path / "comma.csv"
    path.write_bytes(case("header-with-comma.csv"))
    run(path, "--by", "olive", "--map", "City, State=city")
    person = Member.objects.get()
    assert (person.name, person.city) == ("Wen Li", "Akron, OH")


def test_map_is_repeatable_and_works_beside_mapping(tmp_path, organizer):
    path = tmp_path / "more.csv"
    path.write_bytes(
        b'"City, State","Name","Notes, private","Email"\n"Akron, OH",Wen Li,tall,w@example.org\n'
    )
    run(
        path,
        "--by",
        "olive",
        "--mapping",
        "Email=email",
        "--map",
        "City, State=city",
        "--map",
        "Notes, private=",
    )
    person = Member.objects.get()
    assert (person.city, person.email, person.note) == ("Akron, OH", "w@example.org", "")


def test_map_names_an_unknown_column_and_keeps_nothing(tmp_path, organizer):
    path = tmp_path / "comma.csv"
    path.write_bytes(case("header-with-comma.csv"))
    with pytest.raises(CommandError, match="No column named 'City'"):
        run(path, "--by", "olive", "--map", "City=city")
    with pytest.raises(CommandError, match="HEADER=field"):
        run(path, "--by", "olive", "--map", "City, State")
    assert not ImportRecord.objects.exclude(state="discarded").exists()
    assert not Member.objects.exists()
