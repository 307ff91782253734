"""Possible duplicates in the browser: decided row by row on the import preview, and shown
with their evidence on quick add; both pages fit a phone."""

import pytest
from playwright.sync_api import expect

from members.models import Member
from tests.e2e.test_core_pages import LAPTOP, PHONE, assert_fits
from tests.factories import MemberFactory


@pytest.mark.e2e
def test_two_possible_duplicates_one_added_as_new_one_updating_the_person_here(
    page, tmp_path, screenshot
):
    blank = {"city": "Tucson", "region": "AZ", "email": "", "phone": "", "pronouns": ""}
    ana = MemberFactory(name="Ana Ruiz", **blank)
    bo = MemberFactory(name="Bo Chen", **blank)
    path = tmp_path / "tucson.csv"
    path.write_text(
        "Name,Email,City,State,Pronouns\n"
        "Ana Ruiz,ana.ruiz@example.org,Tucson,AZ,she/her\n"
        "Bo Chen,bo.chen@example.org,Tucson,AZ,he/him\n"
        "Cy Twombly,cy@example.org,Tucson,AZ,\n"
    )

    page.goto("/people/import/")
    page.get_by_label("Spreadsheet").set_input_files(path)
    page.get_by_role("button", name="Upload and choose columns").click()
    page.get_by_role("button", name="Preview the import").click()

    expect(page.get_by_role("heading", name="Possible duplicates: 2")).to_be_visible()
    expect(page.get_by_text("same name in the same city").first).to_be_visible()
    expect(page.get_by_role("button", name="Import 3 people now")).to_have_count(0)
    row_ana = page.get_by_role("group", name="Row 2: what to do")
    row_bo = page.get_by_role("group", name="Row 3: what to do")
    row_ana.get_by_label("Add as a new person").check()
    row_bo.get_by_label(f"Update {bo}").check()
    page.set_viewport_size(PHONE)
    screenshot(page, "import-possible-duplicates-390")
    assert_fits(page)
    page.set_viewport_size(LAPTOP)
    screenshot(page, "import-possible-duplicates-1280")
    page.get_by_role("button", name="Save the decisions on this page").first.click()

    expect(page.get_by_role("status")).to_contain_text("Saved 2 decisions")
    expect(page.get_by_role("group", name="Row 2: what to do").get_by_label(
        "Add as a new person"
    )).to_be_checked()  # fmt: skip
    page.get_by_role("button", name="Import 3 people now").click()

    expect(page.get_by_role("status")).to_contain_text("2 people created, 1 updated")
    assert Member.objects.filter(name="Ana Ruiz").count() == 2
    assert Member.objects.get(pk=ana.pk).email == ""
    bo.refresh_from_db()
    assert (bo.email, bo.pronouns) == ("bo.chen@example.org", "he/him")
    expect(page.get_by_text("1 added as new people · 1 updated · 0 skipped")).to_be_visible()
    screenshot(page, "import-possible-duplicates-decided")


@pytest.mark.e2e
def test_quick_add_shows_strong_then_weak_matches_with_their_evidence(page, screenshot):
    phone_twin = MemberFactory(
        name="Rosa Parks", city="Detroit", region="MI", phone="(313) 555-0142", email=""
    )
    MemberFactory(name="Rosa Parks", city="Detroit", region="MI", email="rp@example.org", phone="")

    page.goto("/people/add/")
    page.get_by_label("Name").fill("Rosa Parks")
    page.get_by_label("Phone").fill("313.555.0142")
    page.get_by_label("City").fill("Detroit")
    page.get_by_role("radio", name="Social-movement leftist").check()
    page.get_by_role("button", name="Add person").click()

    warning = page.locator("section.duplicates")
    expect(warning).to_contain_text("Already here: this looks like the same person")
    expect(warning).to_contain_text("same phone number and a compatible name")
    expect(warning).to_contain_text("Possibly the same person")
    expect(warning.get_by_role("link").first).to_have_text(
        f"Open {phone_twin} (opens in a new tab)"
    )
    page.set_viewport_size(PHONE)
    screenshot(page, "quick-add-duplicates-390")
    assert_fits(page)
    page.set_viewport_size(LAPTOP)
    assert Member.objects.count() == 2
