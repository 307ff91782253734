"""The admin's core, milestone and invitation forms refuse a stale save (the version
check of sos_tracker.versioning): nothing another admin saved meanwhile is undone."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cores import services
from tests.adminforms import changeform_data
from tests.auth import log_in
from tests.factories import InvitationFactory, MemberFactory

TODAY = timezone.localdate()


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def signed_in(user):
    client = Client()
    log_in(client, user)
    return client


def test_a_stale_core_page_does_not_remove_a_member_another_admin_just_added(
    staff_lead_a, admin_user, core_a
):
    kept, removed, added = MemberFactory(), MemberFactory(), MemberFactory()
    core_a.members.set([kept, removed])
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(core_a))
    # Meanwhile another admin adds a member, from their own page.
    admin = signed_in(admin_user)
    theirs = changeform_data(
        admin.get(change_url(core_a)), members=[str(kept.pk), str(removed.pk), str(added.pk)]
    )
    assert admin.post(change_url(core_a), theirs).status_code == 302
    # The lead renames the core and takes one member out, on the page opened before.
    mine = changeform_data(page, name="Renamed core", members=[str(kept.pk)])

    response = lead.post(change_url(core_a), mine)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Someone else saved this core" in form.non_field_errors()[0]
    core_a.refresh_from_db()
    assert core_a.name != "Renamed core"  # nothing of the stale page was saved
    assert set(core_a.members.all()) == {kept, removed, added}
    # Both versions side by side: theirs as saved, mine merged as a set.
    row = next(row for row in form.comparison if row["label"] == "Members")
    assert str(added) in row["saved"]
    assert str(added) in row["yours"]
    assert str(removed) not in row["yours"]
    assert form["name"].value() == "Renamed core"  # the input is kept

    # Saving the page as it came back keeps their member and my removal.
    again = changeform_data(response)
    assert lead.post(change_url(core_a), again).status_code == 302
    core_a.refresh_from_db()
    assert core_a.name == "Renamed core"
    assert set(core_a.members.all()) == {kept, added}


def test_a_member_added_outside_the_admin_also_makes_the_core_page_stale(staff_lead_a, core_a):
    leaving = MemberFactory()
    core_a.members.add(leaving)
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(core_a))
    newcomer = MemberFactory()
    core_a.members.add(newcomer)  # an accepted invitation, a merge, the person's admin

    response = lead.post(change_url(core_a), changeform_data(page, members=[]))

    assert response.status_code == 200
    assert set(core_a.members.all()) == {leaving, newcomer}
    assert lead.post(change_url(core_a), changeform_data(response)).status_code == 302
    assert list(core_a.members.all()) == [newcomer]


def test_a_stale_core_page_left_alone_saves_without_touching_the_members(staff_lead_a, core_a):
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(core_a))
    newcomer = MemberFactory()
    core_a.members.add(newcomer)
    # Nothing changed on the page, so nothing is written over: the save goes through.
    assert lead.post(change_url(core_a), changeform_data(page)).status_code == 302
    assert list(core_a.members.all()) == [newcomer]


def _inline_prefix(page, milestone):
    for inline in page.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if form.instance.pk == milestone.pk:
                return form.prefix
    raise AssertionError(f"{milestone} is not on the page")


def test_a_stale_milestone_row_edited_on_the_core_page_is_refused_and_keeps_the_tick(
    staff_lead_a, lead_b, core_a
):
    milestone = core_a.milestones.get(title="Strategy drafted")
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(core_a))
    prefix = _inline_prefix(page, milestone)
    services.complete_milestone(milestone, by=lead_b, note="Adopted at the assembly.")
    mine = changeform_data(page, **{f"{prefix}-title": "Strategy drafted and shared"})

    response = lead.post(change_url(core_a), mine)

    assert response.status_code == 200
    row = next(
        form
        for inline in response.context["inline_admin_formsets"]
        for form in inline.formset.forms
        if form.prefix == prefix
    )
    assert "Someone else saved this milestone" in row.non_field_errors()[0]
    assert row["title"].value() == "Strategy drafted and shared"
    assert row["done_on"].value() in (TODAY, TODAY.isoformat())  # theirs, filled in
    milestone.refresh_from_db()
    assert (milestone.title, milestone.done_on, milestone.done_by) == (
        "Strategy drafted",
        TODAY,
        lead_b,
    )

    assert lead.post(change_url(core_a), changeform_data(response)).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.title, milestone.done_on, milestone.note) == (
        "Strategy drafted and shared",
        TODAY,
        "Adopted at the assembly.",
    )


def test_a_stale_milestone_page_is_refused_not_reopening_it(staff_lead_a, lead_b, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(milestone))
    services.complete_milestone(milestone, by=lead_b)

    response = lead.post(change_url(milestone), changeform_data(page, note="Shared widely."))

    assert response.status_code == 200
    assert "Someone else saved this milestone" in str(response.context["adminform"].form.errors)
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.note) == (TODAY, "")


def test_a_stale_invitation_page_is_refused_keeping_the_follow_up_saved_meanwhile(
    staff_lead_a, lead_b, core_a
):
    invitation = InvitationFactory(core=core_a)
    lead = signed_in(staff_lead_a)
    page = lead.get(change_url(invitation))
    services.update_follow_up(
        invitation, by=lead_b, next_step_on=TODAY + dt.timedelta(days=3), note="Call Friday."
    )

    response = lead.post(change_url(invitation), changeform_data(page, note="Email first."))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Someone else saved this invitation" in form.non_field_errors()[0]
    assert form["note"].value() == "Email first."  # my input, kept beside theirs
    assert {row["label"]: row["saved"] for row in form.comparison}["Note"] == "Call Friday."
    invitation.refresh_from_db()
    assert (invitation.note, invitation.next_step_on) == (
        "Call Friday.",
        TODAY + dt.timedelta(days=3),
    )
