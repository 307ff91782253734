import io

import pytest
from django.core.management import CommandError, call_command

from members.models import ImportRecord, ImportState, Member
from tests.factories import MemberFactory
from tests.members import messy_spreadsheet as messy


@pytest.fixture
def messy_file(tmp_path):
    path = tmp_path / "old-list.csv"
    path.write_bytes(messy.build())
    return path


def run(*args):
    out = io.StringIO()
    try:
        call_command("import_people", *map(str, args), stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_dry_run_prints_every_outcome_and_writes_nothing(messy_file, organizer):
    messy.existing_people()
    before = Member.objects.count()
    out, error = run(messy_file, "--by", "olive", "--dry-run")
    assert Member.objects.count() == before
    assert (
        "190 created, 5 updated, 4 held as possible duplicates, 9 skipped as duplicate, "
        "7 rejected" in out
    )
    assert "row 213: Maria Broken — email: “maria@@import.example” is not a valid email" in out
    assert "row 205: Mei-Lin Chow — may be Mei Lin Chow (same name in the same city)" in out
    # Each update lists the fields it changes, old → new, as the preview page does.
    assert "row 195: Walter Rodney — same email; changes City: “Reno” → “Sparks”" in out
    assert "Some rows were rejected" in str(error)  # exit status 1 for scripts
    assert "4 possible duplicates were held" in str(error)
    assert ImportRecord.objects.get().state == ImportState.DISCARDED


def test_import_writes_and_fails_the_exit_status_only_for_rejected_or_held_rows(
    messy_file, organizer
):
    messy.existing_people()
    before = Member.objects.count()
    out, error = run(messy_file, "--by", "olive")
    assert Member.objects.count() == before + 190
    assert error is not None
    clean = messy_file.with_name("clean.csv")
    clean.write_text("Name,Email\nNew Person,new.person@example.org\n")
    out, error = run(clean, "--by", "olive")
    assert error is None
    assert "1 created, 0 updated, 0 held as possible duplicates, 0 skipped as duplicate" in out


def test_mapping_can_be_overridden_from_the_command_line(messy_file, organizer):
    out, _ = run(messy_file, "--by", "olive", "--dry-run", "--mapping", "Shirt size=,Town=note")
    assert "Shirt size → Ignore this column" in out
    assert "Town → Keep in notes" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "nobody"], "No user named 'nobody'"),
        (["--by", "olive", "--mapping", "Nope=city"], "No column named 'Nope'"),
        (["--by", "olive", "--mapping", "Town=planet"], "Unknown field 'planet'"),
    ],
)
def test_bad_arguments_say_what_is_wrong(messy_file, organizer, args, message):
    _, error = run(messy_file, *args)
    assert message in str(error)
    assert not Member.objects.filter(imported_from__isnull=False).exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused(tmp_path, organizer):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x00\x01binary\x00")
    _, error = run(path, "--by", "olive")
    assert "does not look like a CSV" in str(error)


# --- possible duplicates -----------------------------------------------------------------------


@pytest.fixture
def held_file(tmp_path, db):
    """Two saved people, and a file with each of them again (weak evidence: the same name
    in the same city, nothing else), plus one who shares Bo's phone under another name (a
    household: weak too, so held, never skipped)."""
    MemberFactory(name="Ana Ruiz", city="Tucson", region="AZ", email="", phone="", pronouns="")
    MemberFactory(
        name="Bo Chen", city="Tucson", region="AZ", email="", phone="(520) 555-0142", pronouns=""
    )
    path = tmp_path / "again.csv"
    path.write_text(
        "Name,Email,Phone,City,Pronouns\n"
        "Ana Ruiz,ana@example.org,,Tucson,she/her\n"
        "Bo Chen,bo@example.org,,Tucson,\n"
        "Cy Chen,cy@example.org,520.555.0142,Tucson,\n"
    )
    return path


def test_possible_duplicates_are_held_by_default_listed_and_fail_the_exit_status(
    held_file, organizer
):
    out, error = run(held_file, "--by", "olive")

    assert "0 created, 0 updated, 3 held as possible duplicates" in out
    assert "row 2: Ana Ruiz — may be Ana Ruiz (same name in the same city); updating would " in out
    assert "Pronouns: (empty) → “she/her”" in out
    assert "row 4: Cy Chen — may be Bo Chen (same phone number, different names)" in out
    assert "3 possible duplicates were held, not imported" in str(error)
    assert Member.objects.count() == 2
    record = ImportRecord.objects.get()
    assert record.state == ImportState.APPLIED
    assert record.rows.filter(action="hold", decision="").count() == 3


def test_possible_duplicates_can_all_be_added(held_file, organizer):
    out, error = run(held_file, "--by", "olive", "--possible-duplicates=add")

    assert error is None
    assert "3 created, 0 updated, 0 held as possible duplicates" in out
    assert "decided: add" in out
    assert Member.objects.filter(name="Ana Ruiz").count() == 2
    assert Member.objects.filter(name="Cy Chen").exists()


def test_possible_duplicates_can_all_be_skipped(held_file, organizer):
    out, error = run(held_file, "--by", "olive", "--possible-duplicates", "skip")

    assert error is None
    assert "0 created, 0 updated, 0 held as possible duplicates, 3 skipped as duplicate" in out
    assert Member.objects.filter(name="Ana Ruiz").count() == 1
    assert Member.objects.get(name="Ana Ruiz").email == ""


def test_a_dry_run_lists_the_possible_duplicates_and_what_an_update_would_change(
    held_file, organizer
):
    out, error = run(held_file, "--by", "olive", "--dry-run")

    assert "3 held as possible duplicates" in out
    assert "Email: (empty) → “ana@example.org”" in out
    assert "3 possible duplicates were held:" in str(error)
    assert Member.objects.count() == 2


def test_an_email_someone_has_is_never_added_and_stays_held(tmp_path, organizer):
    MemberFactory(name="Ana Ruiz", email="ana@example.org", city="Portland", region="OR")
    path = tmp_path / "moved.csv"
    path.write_text("Name,Email,City,State\nAna Ruiz,ana@example.org,Portland,ME\n")

    out, error = run(path, "--by", "olive", "--possible-duplicates=add")

    assert "1 held as possible duplicates" in out
    assert "different regions (ME, OR)" in out
    assert "1 possible duplicate was held" in str(error)
    assert Member.objects.count() == 1
