import io

import pytest
from django.core.management import CommandError, call_command

from members.models import ImportRecord, ImportState, Member
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
    assert "190 created, 5 updated, 13 skipped as duplicate, 7 rejected" in out
    assert "row 213: Maria Broken — email: “maria@@import.example” is not a valid email" in out
    assert "row 205: Mei-Lin Chow — may be Mei Lin Chow (same name in the same city)" in out
    assert "Some rows were rejected" in str(error)  # exit status 1 for scripts
    assert ImportRecord.objects.get().state == ImportState.DISCARDED


def test_import_writes_and_fails_the_exit_status_only_for_rejected_rows(messy_file, organizer):
    messy.existing_people()
    before = Member.objects.count()
    out, error = run(messy_file, "--by", "olive")
    assert Member.objects.count() == before + 190
    assert error is not None
    clean = messy_file.with_name("clean.csv")
    clean.write_text("Name,Email\nNew Person,new.person@example.org\n")
    out, error = run(clean, "--by", "olive")
    assert error is None
    assert "1 created, 0 updated, 0 skipped as duplicate, 0 rejected" in out


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
