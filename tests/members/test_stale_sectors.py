"""A person's sectors merge as a set in the person edit's three-way merge."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth import log_in
from tests.factories import MemberFactory, SectorFactory


def edit_data(client, person, *, snapshot=True, **changes):
    """The edit form as a browser posts it: every field, the hidden version and (unless
    `snapshot` is False, as a page served before it existed) the values it was opened with."""
    form = client.get(reverse("members:person_edit", args=[person.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["sectors"] = [s.pk for s in data.get("sectors", [])]
    data["edit_version"] = form["edit_version"].value()
    if snapshot:
        data["edit_opened"] = form["edit_opened"].value()
    data.update(changes)
    return data


@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "history"])
def test_a_sector_i_add_and_one_a_colleague_added_meanwhile_both_stay(
    client, organizer, lead_a, snapshot
):
    housing, labor, tenants, students = (
        SectorFactory(name=name) for name in ("Zz Housing", "Zz Labor", "Zz Tenants", "Zz Students")
    )
    person = MemberFactory(sectors=[tenants, students])
    url = reverse("members:person_edit", args=[person.pk])
    log_in(client, organizer)
    # I add Housing and remove Students, which my colleague leaves alone.
    mine = edit_data(client, person, snapshot=snapshot, sectors=[tenants.pk, housing.pk])

    other = Client()
    log_in(other, lead_a)
    theirs = edit_data(
        other, person, snapshot=snapshot, sectors=[tenants.pk, students.pk, labor.pk]
    )
    assert other.post(url, theirs).status_code == 302

    response = client.post(url, mine)
    assert response.status_code == 200  # refused: the save was based on an older version
    form = response.context["form"]
    assert "Someone else saved this person" in form.non_field_errors()[0]
    person.refresh_from_db()
    assert set(person.sectors.all()) == {tenants, students, labor}  # nothing overwritten
    merged = {int(pk) for pk in form.data.getlist("sectors")}
    assert merged == {tenants.pk, housing.pk, labor.pk}
    row = next(row for row in form.comparison if row["label"] == "Sectors")
    assert row["conflict"] is False
    assert row["saved"] == "Zz Labor, Zz Students, Zz Tenants"

    # Saving the form as it came back keeps both additions and my removal.
    again = {**mine, "sectors": sorted(merged), "edit_version": form.data["edit_version"]}
    if snapshot:
        again["edit_opened"] = form.data["edit_opened"]
    assert client.post(url, again).status_code == 302
    person.refresh_from_db()
    assert set(person.sectors.all()) == {tenants, housing, labor}


def test_a_stale_edit_that_leaves_the_sectors_alone_keeps_the_colleagues_sector(
    client, organizer, lead_a
):
    tenants, labor = SectorFactory(name="Zz Tenants"), SectorFactory(name="Zz Labor")
    person = MemberFactory(sectors=[tenants], city="Oakland")
    url = reverse("members:person_edit", args=[person.pk])
    log_in(client, organizer)
    mine = edit_data(client, person, city="Berkeley")
    other = Client()
    log_in(other, lead_a)
    assert (
        other.post(url, edit_data(other, person, sectors=[tenants.pk, labor.pk])).status_code == 302
    )

    form = client.post(url, mine).context["form"]
    again = {**mine, **{k: form.data[k] for k in ("edit_version", "edit_opened")}}
    again["sectors"] = form.data.getlist("sectors")
    assert client.post(url, again).status_code == 302
    person.refresh_from_db()
    assert (person.city, set(person.sectors.all())) == ("Berkeley", {tenants, labor})
