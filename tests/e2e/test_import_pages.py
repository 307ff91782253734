"""Bringing a spreadsheet in through the browser: upload, fix a column, preview, confirm."""

import csv
import io

import pytest
from playwright.sync_api import expect

from members.models import ImportRecord, Member
from tests.members import messy_spreadsheet as messy


@pytest.mark.e2e
def test_upload_fix_a_mapping_preview_confirm_and_download_rejected_rows(
    page, tmp_path, screenshot
):
    existing = len(messy.existing_people())
    path = tmp_path / "old-membership-list.csv"
    path.write_bytes(messy.build())

    page.goto("/people/import/")
    page.get_by_label("Spreadsheet").set_input_files(path)
    page.get_by_role("button", name="Upload and choose columns").click()
    expect(page.get_by_role("heading", name="2. What does each column hold?")).to_be_visible()

    # The guess keeps "Shirt size" in the notes; this organizer would rather drop it.
    shirt = page.get_by_label("Shirt size")
    expect(shirt).to_have_value("note")
    shirt.select_option(label="Ignore this column")
    screenshot(page, "import-columns")
    page.get_by_role("button", name="Preview the import").click()

    expect(page.get_by_role("heading", name="3. What will happen")).to_be_visible()
    for label, count in [
        ("Create", 190),
        ("Update", 5),
        ("Possible duplicate", 4),
        ("Skip", 9),
        ("Reject", 7),
    ]:
        expect(page.locator(".stat", has_text=label).locator("dd")).to_have_text(str(count))
    expect(page.get_by_text("Sector names we do not know yet")).to_be_visible()
    assert Member.objects.count() == existing  # a preview writes nobody
    screenshot(page, "import-preview")

    # The four people known by name and city only wait for a decision; skip them all.
    expect(page.get_by_role("button", name="Import 195 people now")).to_have_count(0)
    page.get_by_role("button", name="Skip every undecided row").click()
    expect(page.get_by_role("status")).to_contain_text("Saved 4 decisions")

    page.get_by_role("button", name="Import 195 people now").click()
    expect(page.get_by_role("status")).to_contain_text("190 people created, 5 updated")
    assert Member.objects.count() == existing + 190
    assert "Shirt size" not in Member.objects.get(email="j.0@import.example").note

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the 7 rejected rows").click()
    download = download_info.value
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][-1] == "Errors"
    assert [row[0] for row in rows[1:]] == ["Maria", "Short", "Future", "", "Odd", "No", "Bad"]
    assert download.suggested_filename == "old-membership-list-rejected-rows.csv"
    screenshot(page, "import-applied")

    page.get_by_role("button", name="Undo this import").click()
    expect(page.get_by_role("status")).to_contain_text("The import is undone.")
    assert Member.objects.count() == existing
    assert ImportRecord.objects.get().state == "undone"
