import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from members.importing import applying
from members.importing.columns import guess_mapping
from members.importing.planning import decision_choices
from members.importing.reading import UnreadableFile, read_sheet
from members.models import ImportRecord, ImportState, Member, Sector
from tests.factories import MemberFactory
from tests.members import messy_spreadsheet as messy


def import_file(content, *, by, filename="people.csv", mapping=None, sector_choices=None):
    record = applying.start_import(filename=filename, content=content, by=by)
    return applying.preview_import(record, mapping=mapping, sector_choices=sector_choices)


def counts(record):
    return applying.counts_by_action(record)


def apply(record, *, by, held="skip"):
    """Decide every possible duplicate still undecided as `held`, then apply."""
    applying.decide_undecided(record, held, by=by)
    return applying.apply_import(record, by=by)


# --- the messy spreadsheet -----------------------------------------------------------------


def test_messy_spreadsheet_preview_has_the_exact_outcome_and_writes_nothing(organizer):
    messy.existing_people()
    before = Member.objects.count()
    record = import_file(messy.build(), by=organizer)
    assert counts(record) == messy.EXPECTED
    assert Member.objects.count() == before
    assert record.unknown_sectors == {"disability justice": "Disability justice"}


def test_messy_spreadsheet_imports_exactly_and_a_second_import_creates_nothing(organizer):
    messy.existing_people()
    before = Member.objects.count()
    record = apply(import_file(messy.build(), by=organizer), by=organizer, held="skip")
    assert record.state == ImportState.APPLIED
    # The possible duplicates were decided "skip": they are skipped rows now.
    skipped = messy.EXPECTED["skip"] + messy.EXPECTED["hold"]
    assert counts(record) == {**messy.EXPECTED, "hold": 0, "skip": skipped}
    assert Member.objects.count() == before + messy.EXPECTED["create"]
    assert Member.objects.filter(imported_from=record).count() == messy.EXPECTED["create"]

    again = apply(import_file(messy.build(), by=organizer), by=organizer)
    assert Member.objects.count() == before + messy.EXPECTED["create"]
    assert counts(again)["create"] == 0
    assert counts(again)["update"] == 0
    assert counts(again)["reject"] == messy.EXPECTED["reject"]


def test_each_rejected_row_names_its_bad_field(organizer):
    messy.existing_people()
    record = import_file(messy.build(), by=organizer)
    rejected = list(applying.rejected_rows(record))
    assert [list(row.errors) for row in rejected] == [[f] for f in messy.REJECTED_ROWS_FIELDS]


def test_duplicates_are_skipped_or_held_with_whom_they_duplicate(organizer):
    existing = {m.name: m for m in messy.existing_people()}
    record = import_file(messy.build(), by=organizer)
    skipped = {row.values["name"]: row for row in record.rows.filter(action="skip")}
    held = {row.values["name"]: row for row in record.rows.filter(action="hold")}
    # Against the database, by similar name in the same city (no email in the file): weak
    # evidence, so held for a person to decide, with the evidence kept.
    assert held["Mei-Lin Chow"].member == existing["Mei Lin Chow"]
    assert held["Mei-Lin Chow"].evidence == [
        {"kind": "weak", "field": "name", "description": "same name in the same city"}
    ]
    assert held["Mei-Lin Chow"].decision == ""
    # Inside the file: the repeat points at the row it repeats.
    first_listing = record.rows.get(number=3)
    repeats = record.rows.filter(action="skip", duplicate_row=first_listing.number)
    assert repeats.count() == 1
    # Known people the row would not change.
    assert "already up to date" in skipped["Claudia Jones"].reasons[0]


def test_quirks_are_read_cleanly(organizer):
    messy.existing_people()
    record = apply(import_file(messy.build(), by=organizer), by=organizer)
    jose = Member.objects.get(email="j.0@import.example")
    assert jose.name == "José Núñez"  # Windows-1252 accents
    assert jose.joined_on.isoformat() == "2021-03-04"
    assert {s.slug for s in jose.sectors.all()} == {"housing", "labor"}  # "housing; labor"
    assert jose.joining_story_kind == "ncm_veteran"  # "NCM vet"
    assert "Shirt size: S" in jose.note  # the extra column is kept
    ana = Member.objects.get(email="a.1@import.example")
    assert ana.joined_on.isoformat() == "2021-03-04"  # "03/04/2021"
    assert ana.joining_story_kind == "social_movement"  # "social movement"
    mid = Member.objects.get(email="j.7@import.example")
    assert mid.joining_story_kind == "other"  # "mid gen?" is not understood...
    assert "mid gen?" in mid.note  # ...so what was written is kept in the notes
    unknown = Member.objects.get(email="unknown0@import.example")
    assert {s.name for s in unknown.sectors.all()} == {"Disability justice", "Housing"}
    numbers = set(record.rows.values_list("number", flat=True))
    assert set(range(2, 220)) - numbers == {63, 94, 155}  # a blank row, two repeated headers


def test_updates_change_only_what_the_file_brings_and_are_attributed(organizer):
    messy.existing_people()
    record = apply(import_file(messy.build(), by=organizer), by=organizer)
    friend = Member.objects.get(email="existing0@old-list.example")
    assert friend.city == "Sparks"
    assert friend.region == "NV"
    assert [s.slug for s in friend.sectors.all()] == ["labor"]  # an empty cell never erases
    latest = friend.history.first()
    assert latest.history_user == organizer
    assert latest.history_change_reason == record.history_reason


def test_unknown_sector_can_be_mapped_to_an_existing_one_instead(organizer):
    messy.existing_people()
    housing = Sector.objects.get(slug="housing")
    record = import_file(messy.build(), by=organizer)
    record = applying.preview_import(record, sector_choices={"disability justice": str(housing.pk)})
    apply(record, by=organizer)
    assert not Sector.objects.filter(name="Disability justice").exists()
    unknown = Member.objects.get(email="unknown0@import.example")
    assert [s.name for s in unknown.sectors.all()] == ["Housing"]


def test_a_column_changing_many_existing_values_is_warned_about(organizer):
    people = MemberFactory.create_batch(6, city="Oakland")
    text = "Name,Email,Town\n" + "".join(f"{p.name},{p.email},Detroit\n" for p in people)
    record = import_file(text.encode(), by=organizer)
    assert record.counts["changed_fields"] == {"city": 6}
    assert record.warnings == [
        "The column “Town” would replace 6 existing city values. "
        "Check that it is mapped to the right field."
    ]


# --- reading files -------------------------------------------------------------------------


def test_utf8_with_bom_and_commas_reads_the_same_as_windows_1252_with_semicolons():
    utf8 = read_sheet("a.csv", "\ufeff".encode() + messy.build("utf-8", ",").decode().encode())
    cp1252 = read_sheet("b.csv", messy.build())
    assert (utf8.encoding, utf8.delimiter) == ("utf-8", ",")
    assert (cp1252.encoding, cp1252.delimiter) == ("windows-1252", ";")
    assert utf8.headers == cp1252.headers == messy.HEADERS
    assert utf8.rows == cp1252.rows


def test_xlsx_is_read_like_csv():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Full name", "Email", "Joined"])
    sheet.append([None, None, None])
    import datetime as dt

    sheet.append(["Thérèse Fontaine", "tf@example.org", dt.datetime(2020, 5, 1, tzinfo=None)])  # noqa: DTZ001 (Excel has no zones)
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = read_sheet("people.xlsx", buffer.getvalue())
    assert read.headers == ["Full name", "Email", "Joined"]
    assert read.rows == [(3, ["Thérèse Fontaine", "tf@example.org", "2020-05-01"])]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n  ", "The file is empty."),
        (b"Name,Email\n", "no people"),
        (b"\x00\x01\x02binary\x00", "does not look like a CSV"),
        (b"PK\x03\x04not really a zip", "could not be opened as an XLSX"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(content, message):
    with pytest.raises(UnreadableFile, match=message):
        read_sheet("upload.csv", content)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    with pytest.raises(UnreadableFile, match="the limit is"):
        read_sheet("big.csv", b"Name\n" + b"x" * 200)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["First name", "Last name", "E-mail", "Town"],
            ["first_name", "last_name", "email", "city"],
        ),
        (
            ["Sector(s)", "Why did you join?", "Member since"],
            ["sectors", "joining_story", "joined_on"],
        ),
        (["Name", "name", "Shirt size"], ["name", "note", "note"]),
        (["EMAIL ADDRESS", "Cell", "State/Province"], ["email", "phone", "region"]),
    ],
)
def test_columns_are_matched_from_their_headers(headers, expected):
    assert guess_mapping(headers) == expected


# --- undo ----------------------------------------------------------------------------------


def test_undo_removes_created_people_and_restores_changed_fields(organizer, lead_a):
    messy.existing_people()
    before = set(Member.objects.values_list("pk", flat=True))
    record = apply(import_file(messy.build(), by=organizer), by=organizer)
    created = Member.objects.filter(imported_from=record)
    edited = created.get(email="j.0@import.example")
    edited.city = "Edited Since"
    edited._history_user = lead_a
    edited.save()
    friend = Member.objects.get(email="existing1@old-list.example")
    friend.city = "Moved Again"
    friend.save()

    record = applying.undo_import(record, by=lead_a)
    assert record.state == ImportState.UNDONE
    remaining = set(Member.objects.values_list("pk", flat=True))
    assert remaining == before | {edited.pk}  # the one edited since is kept
    assert Member.objects.get(email="existing0@old-list.example").city == "Reno"  # restored
    assert Member.objects.get(pk=friend.pk).city == "Moved Again"  # edited since: kept
    assert len(record.undo_conflicts) == 2
    assert any("José Núñez" in line for line in record.undo_conflicts)
    assert any("city was changed after the import" in line for line in record.undo_conflicts)


def test_an_import_is_applied_once_and_undone_once(organizer):
    record = applying.apply_import(
        import_file(b"Name,Email\nA Person,a@x.org\n", by=organizer), by=organizer
    )
    with pytest.raises(Exception, match="Only a previewed import"):
        applying.apply_import(record, by=organizer)
    applying.undo_import(record, by=organizer)
    with pytest.raises(Exception, match="Only an applied import"):
        applying.undo_import(record, by=organizer)


def test_a_failed_import_writes_nothing(organizer):
    record = import_file(
        b"Name,Email\nFirst Person,first@x.org\nSecond Person,taken@x.org\n", by=organizer
    )
    MemberFactory(email="TAKEN@x.org")  # saved after the preview: the apply must fail whole
    with pytest.raises(Exception):  # noqa: B017, PT011 (an IntegrityError from either database)
        applying.apply_import(record, by=organizer)
    assert not Member.objects.filter(email="first@x.org").exists()
    assert ImportRecord.objects.get(pk=record.pk).state == ImportState.PREVIEWED


# --- round trip --------------------------------------------------------------------------------


def test_export_then_import_into_an_empty_database_gives_the_same_people(as_user, admin_user):
    from members.models import Sector as S

    labor, housing = S.objects.get(slug="labor"), S.objects.get(slug="housing")
    MemberFactory(
        name="José García",
        email="jg@x.org",
        phone="+1 555 010 2233",
        sectors=[labor, housing],
        note="=not a formula",
    )
    MemberFactory(name="Ana Li", email="", phone="555 010 9999", sectors=[])
    MemberFactory(name="Thérèse O'Neil", email="t@x.org", sectors=[housing])
    fields = [
        "name",
        "email",
        "phone",
        "city",
        "region",
        "status",
        "joining_story_kind",
        "joined_on",
        "note",
        "pronouns",
        "preferred_name",
    ]

    def snapshot():
        return sorted(
            (tuple(getattr(m, f) for f in fields), tuple(sorted(s.slug for s in m.sectors.all())))
            for m in Member.objects.prefetch_related("sectors")
        )

    before = snapshot()
    response = as_user(admin_user).get(reverse("members:people_export"), {"format": "csv"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    Member.objects.all().delete()
    record = applying.apply_import(import_file(content, by=admin_user), by=admin_user)
    assert counts(record)["reject"] == 0
    assert snapshot() == before


# --- pages ---------------------------------------------------------------------------------


def test_import_pages_need_the_import_permission(as_user, stranger):
    assert as_user(stranger).get(reverse("members:import_start")).status_code == 403


def test_upload_map_preview_confirm_and_download_rejected_rows(as_user, organizer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(organizer)
    before = len(messy.existing_people())
    upload = SimpleUploadedFile("list.csv", messy.build(), content_type="text/csv")
    response = client.post(reverse("members:import_start"), {"file": upload})
    record = ImportRecord.objects.get()
    assert response.url == reverse("members:import_mapping", args=[record.pk])

    mapping_page = client.get(response.url)
    form = mapping_page.context["form"]
    data = {name: field.initial for name, field in form.fields.items()}
    data["column_11"] = ""  # ignore "Shirt size" after all
    response = client.post(reverse("members:import_mapping", args=[record.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == record.get_absolute_url()
    preview = client.get(response.url)
    assert preview.context["counts"] == messy.EXPECTED
    assert Member.objects.count() == before

    response = client.post(reverse("members:import_apply", args=[record.pk]))
    assert Member.objects.count() == before  # the possible duplicates need a decision first
    client.post(reverse("members:import_decide", args=[record.pk]), {"all_undecided": "skip"})
    response = client.post(reverse("members:import_apply", args=[record.pk]))
    assert Member.objects.count() == before + messy.EXPECTED["create"]
    assert "Shirt size" not in Member.objects.get(email="j.0@import.example").note

    rejected = client.get(reverse("members:import_rejected_csv", args=[record.pk]))
    lines = list(csv.reader(io.StringIO(rejected.content.decode("utf-8-sig"))))
    assert lines[0] == [*messy.HEADERS, "Errors"]
    assert len(lines) == 1 + messy.EXPECTED["reject"]
    assert "email" in lines[1][-1]


def test_mapping_without_a_name_column_is_refused_on_the_page(as_user, organizer):
    client = as_user(organizer)
    record = applying.start_import(
        filename="x.csv", content=b"Name,Email\nA B,a@b.org\n", by=organizer
    )
    response = client.post(
        reverse("members:import_mapping", args=[record.pk]),
        {"column_0": "note", "column_1": "email"},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "No column gives the person's name: choose Name, or First and Last name."
    ]


def test_bad_upload_names_the_file_field(as_user, organizer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_user(organizer).post(
        reverse("members:import_start"), {"file": SimpleUploadedFile("x.csv", b"\x00\x01\x00")}
    )
    assert response.status_code == 200
    assert "does not look like a CSV" in response.context["form"].errors["file"][0]
    assert not ImportRecord.objects.exists()


def test_a_known_sector_whose_name_has_a_slash_stays_whole(organizer):
    Sector.objects.create(name="Housing / Tenants", slug="housing-tenants")
    record = import_file(
        b"Name,Email,Sectors\nA Person,a@x.org,Housing / Tenants; climate / labor\n", by=organizer
    )
    applying.apply_import(record, by=organizer)
    person = Member.objects.get(email="a@x.org")
    assert {s.slug for s in person.sectors.all()} == {"housing-tenants", "climate", "labor"}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("September 30, 2023", "2023-09-30"),
        ("Sept 30, 2023", "2023-09-30"),
        ("30 Sep 2023", "2023-09-30"),
        ("9/30/2023", "2023-09-30"),
        ("30.09.2023", "2023-09-30"),
        ("2nd March 2021", "2021-03-02"),
        ("45199", "2023-09-30"),  # an Excel serial date saved into a CSV
    ],
)
def test_dates_in_the_formats_people_write_them(written, expected):
    from members.importing.values import parse_date

    assert parse_date(written).isoformat() == expected


def test_undo_removes_the_sectors_an_import_added_even_with_commas_in_their_names(organizer):
    labor = Sector.objects.get(slug="labor")
    arts = Sector.objects.create(name="Arts, culture", slug="arts-culture")
    person = MemberFactory(email="p@x.org", sectors=[labor])
    record = import_file(b"Name,Email,Sectors\nSomeone,p@x.org,Arts; housing\n", by=organizer)
    # "Arts" is unknown; the organizer maps it to the existing "Arts, culture".
    record = applying.preview_import(record, sector_choices={"arts": str(arts.pk)})
    applying.apply_import(record, by=organizer)
    assert {s.slug for s in person.sectors.all()} == {"labor", "arts-culture", "housing"}

    applying.undo_import(record, by=organizer)

    assert [s.slug for s in person.sectors.all()] == ["labor"]


# --- the shared import cases: duplicates and re-imports -------------------------------------

CASES = Path(settings.BASE_DIR).parent / "shared" / "cases" / "import"


def import_case(name, *, by):
    path = CASES / name
    return import_file(path.read_bytes(), by=by, filename=path.name)


def rows_by_name(record):
    return {row.values["name"]: row for row in record.rows.order_by("number")}


def test_case_household_sharing_a_phone_is_two_people(organizer):
    """household-shared-phone.csv: same phone and city, different names and emails."""
    record = apply(import_case("household-shared-phone.csv", by=organizer), by=organizer)

    assert counts(record)["create"] == 2
    marta, diego = Member.objects.filter(imported_from=record).order_by("name").reverse()
    assert (marta.name, diego.name) == ("Marta Solis", "Diego Solis")
    assert marta.phone_key == diego.phone_key != ""


def test_a_household_without_emails_is_held_and_can_be_added(organizer):
    """The same kind with nothing to tell them apart but the names: held, never skipped."""
    MemberFactory(name="Ngozi Adeyemi", phone="(614) 555-0142", city="Columbus", email="")
    content = (
        b"Name,Phone,City\n"
        b"Chidi Adeyemi,614.555.0142,Columbus\n"  # shares the saved person's phone
        b"Ada Adeyemi,+1 614 555 0142,Columbus\n"  # and this one both
    )
    record = import_file(content, by=organizer)

    chidi, ada = record.rows.order_by("number")
    assert (chidi.action, ada.action) == ("hold", "hold")
    assert chidi.evidence == [
        {"kind": "weak", "field": "phone", "description": "same phone number, different names"}
    ]
    assert [value for value, _ in decision_choices(chidi)] == ["add", "update", "skip"]

    record = apply(record, by=organizer, held="add")
    assert Member.objects.filter(name__endswith="Adeyemi").count() == 3


def test_case_phones_in_scientific_notation_never_match_people(organizer):
    """phone-scientific-notation.csv: two people whose phone Excel turned into 1.55501E+10."""
    record = apply(import_case("phone-scientific-notation.csv", by=organizer), by=organizer)

    rows = rows_by_name(record)
    assert rows["Bea Lund"].duplicate_row is None
    assert not rows["Bea Lund"].evidence
    assert Member.objects.filter(name__in=["Amaka Eze", "Bea Lund"]).count() == 2


def test_scientific_notation_phones_do_not_connect_a_row_to_a_saved_person(organizer):
    MemberFactory(name="Olu Bello", phone="1.2125E+10", city="Akron", email="olu@example.org")
    content = b"Name,Email,Phone,City\nTunde Bello,tunde@example.org,1.2125E+10,Akron\n"

    record = import_file(content, by=organizer)

    (row,) = record.rows.all()
    assert row.action in ("create", "reject")
    assert row.member is None
    assert row.evidence == []


def test_case_reimport_with_degraded_values_leaves_the_people_up_to_date(organizer):
    """reimport-degraded-values.xlsx: "C. Walsh, 2079460958" and "Renee Okafor, 9375550100"."""
    ciara = MemberFactory(name="Ciara Walsh", phone="020 7946 0958", city="Boston")
    renee = MemberFactory(name="Renée Okafor", phone="(937) 555-0100", city="Dayton")

    record = apply(import_case("reimport-degraded-values.xlsx", by=organizer), by=organizer)

    rows = rows_by_name(record)
    for name, person in (("C. Walsh", ciara), ("Renee Okafor", renee)):
        assert rows[name].action == "skip"
        assert rows[name].member == person
        assert rows[name].reasons == [f"{person} is already up to date"]
    ciara.refresh_from_db()
    renee.refresh_from_db()
    assert (ciara.name, ciara.phone) == ("Ciara Walsh", "020 7946 0958")
    assert (renee.name, renee.phone) == ("Renée Okafor", "(937) 555-0100")
    assert ciara.history.count() == renee.history.count() == 1


def test_case_reimport_without_accents_leaves_the_name_alone(organizer):
    """reimport-accent-stripped.csv: "Renee Okafor" with Renée's email."""
    renee = MemberFactory(
        name="Renée Okafor", email="renee.okafor@example.org", city="Dayton", region="OH"
    )

    record = apply(import_case("reimport-accent-stripped.csv", by=organizer), by=organizer)

    (row,) = record.rows.all()
    assert (row.action, row.member) == ("skip", renee)
    renee.refresh_from_db()
    assert renee.name == "Renée Okafor"


def test_other_degraded_values_are_already_up_to_date_and_better_ones_are_taken(organizer):
    """More of the same kind: case, word order, email case, a region's abbreviation, the
    phone written with its country code; and the other way round, values that say more."""
    kept = MemberFactory(
        name="Siobhán Ní Bhriain",
        email="Siobhan@Example.org",
        phone="+1 (503) 555-0199",
        city="Portland",
        region="Oregon",
        pronouns="she/her",
    )
    improved = MemberFactory(
        name="T. Nguyen", email="t.nguyen@example.org", city="san jose", region="", phone=""
    )
    content = (
        "Name,Email,Phone,City,State\n"
        "NÍ BHRIAIN SIOBHÁN,siobhan@example.org,503-555-0199,PORTLAND,OR\n"
        "Thảo Nguyen,T.Nguyen@example.org,408 555 0111,San José,CA\n"
    ).encode()

    record = import_file(content, by=organizer)

    first, second = record.rows.order_by("number")
    assert first.action == "skip"
    assert first.reasons == [f"{kept} is already up to date"]
    assert second.action == "update"
    assert set(second.changes) == {"name", "phone", "city", "region"}
    assert second.changes["name"] == ["T. Nguyen", "Thảo Nguyen"]
    assert improved.pk == second.member_id


# --- possible duplicates: decisions on the preview ------------------------------------------


def held_import(organizer):
    """Three saved people and a file holding each of them as a possible duplicate."""
    blank = {"city": "Tucson", "region": "AZ", "email": "", "phone": "", "pronouns": ""}
    people = {
        "ana": MemberFactory(name="Ana Ruiz", **blank),
        "bo": MemberFactory(name="Bo Chen", **blank),
        "cy": MemberFactory(name="Cy Twombly", **blank),
    }
    content = (
        b"Name,Email,City,State,Pronouns\n"
        b"Ana Ruiz,ana.ruiz@example.org,Tucson,AZ,she/her\n"
        b"Bo Chen,bo.chen@example.org,Tucson,AZ,he/him\n"
        b"Cy Twombly,cy@example.org,Tucson,,they/them\n"
    )
    return people, import_file(content, by=organizer)


def test_weak_matches_are_held_and_nothing_is_written_until_each_is_decided(organizer):
    people, record = held_import(organizer)

    assert counts(record) == {"create": 0, "update": 0, "hold": 3, "skip": 0, "reject": 0}
    with pytest.raises(applying.UndecidedRows, match="3 possible duplicates still need"):
        applying.apply_import(record, by=organizer)
    assert Member.objects.count() == 3
    ana = record.rows.get(number=2)
    assert ana.member == people["ana"]
    assert ana.changes == {"email": ["", "ana.ruiz@example.org"], "pronouns": ["", "she/her"]}


def test_each_decision_is_carried_out_add_update_or_skip(organizer):
    people, record = held_import(organizer)
    rows = {row.number: row for row in record.rows.all()}

    applying.decide_rows(
        record, {rows[2].pk: "add", rows[3].pk: "update", rows[4].pk: "skip"}, by=organizer
    )
    record = applying.apply_import(record, by=organizer)

    assert counts(record) == {"create": 1, "update": 1, "hold": 0, "skip": 1, "reject": 0}
    added = Member.objects.get(email="ana.ruiz@example.org")
    assert added != people["ana"]
    assert added.imported_from == record
    people["bo"].refresh_from_db()
    assert (people["bo"].email, people["bo"].pronouns) == ("bo.chen@example.org", "he/him")
    assert people["bo"].history.first().history_change_reason == record.history_reason
    people["cy"].refresh_from_db()
    assert people["cy"].email == ""
    assert applying.held_counts(record) == {
        "undecided": 0, "add": 1, "update": 1, "skip": 1, "total": 3,
    }  # fmt: skip

    record = applying.undo_import(record, by=organizer)
    assert not Member.objects.filter(email="ana.ruiz@example.org").exists()
    people["bo"].refresh_from_db()
    assert people["bo"].email == ""


def test_decisions_survive_a_new_preview_and_bad_ones_are_refused(organizer):
    _, record = held_import(organizer)
    ana = record.rows.get(number=2)
    applying.decide_rows(record, {ana.pk: "skip"}, by=organizer)

    record = applying.preview_import(record, sector_choices={})

    assert record.rows.get(number=2).decision == "skip"
    with pytest.raises(ValidationError, match="not a possible duplicate"):
        applying.decide_rows(record, {10**9: "add"}, by=organizer)
    with pytest.raises(ValidationError, match="Row 3: “merge” is not possible"):
        applying.decide_rows(record, {record.rows.get(number=3).pk: "merge"}, by=organizer)


def test_adding_is_not_offered_for_an_email_someone_already_has(organizer):
    # The same email, but another state: lowered to weak, so held; the email is hers.
    person = MemberFactory(
        name="Ana Ruiz", email="ana@example.org", city="Portland", region="OR", phone=""
    )
    content = b"Name,Email,City,State\nAna Ruiz,ana@example.org,Portland,ME\n"
    record = import_file(content, by=organizer)

    (row,) = record.rows.all()
    assert (row.action, row.member) == ("hold", person)
    assert [item["kind"] for item in row.evidence] == ["strong", "weak", "conflicting"]
    assert [value for value, _ in decision_choices(row)] == ["update", "skip"]
    with pytest.raises(ValidationError, match="not possible here"):
        applying.decide_rows(record, {row.pk: "add"}, by=organizer)
    assert applying.decide_undecided(record, "add", by=organizer) == 0


def test_different_states_and_different_emails_are_different_people(organizer):
    MemberFactory(name="Sam Lee", city="Portland", region="OR", email="", phone="")
    MemberFactory(name="Kim Park", city="New York", region="NY", email="", phone="")
    MemberFactory(name="Jo March", city="Concord", region="MA", email="jo@example.org")
    content = (
        b"Name,Email,City,State\n"
        b"Sam Lee,,Portland,ME\n"
        b"Kim Park,,New York,Michigan\n"
        b"Jo March,josephine@example.org,Concord,MA\n"
    )

    record = import_file(content, by=organizer)

    assert [row.action for row in record.rows.order_by("number")] == ["create"] * 3


def test_the_preview_page_offers_each_decision_with_the_evidence_and_stores_it(as_user, organizer):
    people, record = held_import(organizer)
    client = as_user(organizer)
    page = client.get(record.get_absolute_url())
    html = page.content.decode()
    assert "Possible duplicates: 3" in html
    assert "same name in the same city" in html
    assert f"Update {people['bo']}" in html
    assert "Add as a new person" in html
    assert reverse("members:import_apply", args=[record.pk]) not in html  # decide first
    rows = {row.number: row for row in record.rows.all()}

    response = client.post(
        reverse("members:import_decide", args=[record.pk]),
        {
            f"decision_{rows[2].pk}": "add",
            f"decision_{rows[3].pk}": "update",
            f"decision_{rows[4].pk}": "",
            "back": "show=hold",
        },
    )
    assert response.url == record.get_absolute_url() + "?show=hold"
    assert [r.decision for r in record.rows.order_by("number")] == ["add", "update", ""]
    response = client.post(reverse("members:import_apply", args=[record.pk]))
    assert Member.objects.count() == 3  # one still undecided: refused, nothing written

    client.post(reverse("members:import_decide", args=[record.pk]), {"all_undecided": "skip"})
    page = client.get(record.get_absolute_url())
    assert "Import 2 people now" in page.content.decode()
    client.post(reverse("members:import_apply", args=[record.pk]))
    assert Member.objects.count() == 4
    assert (
        "1 added as new people · 1 updated · 1 skipped"
        in client.get(record.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize("size", [10, 60])
def test_the_preview_page_costs_the_same_queries_however_many_rows_are_held(
    as_user, organizer, size, django_assert_num_queries
):
    names = [f"Person Number{n}" for n in range(size)]
    for name in names:
        MemberFactory(name=name, city="Tucson", region="AZ", email="", phone="")
    content = ("Name,City\n" + "".join(f"{name},Tucson\n" for name in names)).encode()
    record = import_file(content, by=organizer)
    client = as_user(organizer)
    client.get(record.get_absolute_url())  # warm the session and permission caches

    # 1 session, 2 user, 3 the user's role group (the menu), 4-5 the user's and the
    # groups' permissions, 6 the import, 7 a page of rows with their saved person (one
    # more row fetched to see if there is a next page), 8 held rows by decision,
    # 9 rows by action
    with django_assert_num_queries(9):
        client.get(record.get_absolute_url())


def test_a_row_that_may_repeat_an_earlier_row_is_held_with_add_or_skip(organizer):
    content = (
        "Name,City,State\n"
        "José García,Oakland,CA\n"
        "J. Garcia,Oakland,CA\n"  # weak: an initial, the same city
        "Jose Garcia,Oakland,NV\n"  # another state: another person
    ).encode()
    record = import_file(content, by=organizer)

    first, second, third = record.rows.order_by("number")
    assert (first.action, second.action, third.action) == ("create", "hold", "create")
    assert (second.duplicate_row, second.member) == (2, None)
    assert [value for value, _ in decision_choices(second)] == ["add", "skip"]
    assert second.reasons == ["may repeat row 2 (similar name in the same city)"]

    applying.decide_rows(record, {second.pk: "add"}, by=organizer)
    applying.apply_import(record, by=organizer)
    assert Member.objects.filter(city="Oakland").count() == 3


def test_decisions_are_refused_once_the_import_is_applied(organizer):
    _, record = held_import(organizer)
    row = record.rows.get(number=2)
    applying.decide_undecided(record, "skip", by=organizer)
    applying.apply_import(record, by=organizer)

    with pytest.raises(ValidationError, match="Decisions are taken before importing"):
        applying.decide_rows(record, {row.pk: "add"}, by=organizer)


def test_a_row_added_or_skipped_keeps_no_changes_it_did_not_make(organizer):
    _, record = held_import(organizer)
    rows = {row.number: row for row in record.rows.all()}
    applying.decide_rows(record, {rows[2].pk: "add", rows[3].pk: "skip"}, by=organizer)
    applying.decide_undecided(record, "skip", by=organizer)

    applying.apply_import(record, by=organizer)

    assert [row.changes for row in record.rows.order_by("number")] == [{}, {}, {}]


def test_an_update_that_replaces_an_email_keeps_the_old_one_in_the_notes(organizer):
    ciara = MemberFactory(
        name="Ciara Walsh",
        email="ciara.walsh@example.org",
        phone="(617) 555-0177",
        city="Boston",
        region="MA",
        note="",
    )
    content = b"Name,Email,Phone,City,State\nC Walsh,c.walsh@other.org,617 555 0177,Boston,MA\n"
    record = import_file(content, by=organizer)
    held = record.rows.get(number=2)
    assert held.action == "hold"
    applying.decide_rows(record, {held.pk: "update"}, by=organizer)
    record = applying.apply_import(record, by=organizer)

    ciara.refresh_from_db()
    assert ciara.email == "c.walsh@other.org"
    assert "ciara.walsh@example.org" in ciara.note  # not lost: the person may use both

    applying.undo_import(record, by=organizer)
    ciara.refresh_from_db()
    assert ciara.email == "ciara.walsh@example.org"
    assert ciara.note == ""


# --- a name written otherwise on a strong match ------------------------------------------


@pytest.mark.parametrize(
    ("saved", "written", "action"),
    [
        ("Brenda Barrett", "Brenda Barret", "hold"),  # one of them misspelt: a person decides
        ("Brenda Barret", "Brenda Barrett", "hold"),
        ("B. Barrett", "Brenda Barrett", "update"),  # a fuller name improves it
        ("Brenda Barrett", "BRENDA BARRETT", "skip"),  # the same name, already up to date
    ],
)
def test_a_strong_match_with_a_respelt_name_is_held_not_renamed(organizer, saved, written, action):
    person = MemberFactory(
        name=saved, phone="639.555.4891", email="", city="New Orleans", region="LA"
    )
    content = f"name,phone,city,region\n{written},(639) 555-4891,New Orleans,LA\n".encode()

    record = import_file(content, by=organizer)

    (row,) = record.rows.all()
    assert row.action == action
    if action == "hold":
        assert row.member == person
        assert f"the name is written “{written}” here" in row.reasons[0]
        apply(record, by=organizer, held="skip")
        person.refresh_from_db()
        assert person.name == saved
