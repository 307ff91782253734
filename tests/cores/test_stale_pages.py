"""The core's pages refuse a save based on a version someone else has since replaced:
ticking a milestone, reopening it, and an invitation's follow-up (the phase moves, the
invitation's moves and the review have checks of their own, tested with them)."""

import datetime as dt

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cores import services
from tests.factories import InvitationFactory

TODAY = timezone.localdate()


def test_ticking_a_milestone_someone_ticked_meanwhile_is_refused_side_by_side(
    as_user, lead_a, admin_user, core_a
):
    milestone = core_a.milestones.get(title="Strategy drafted")
    url = reverse("cores:milestone_done", args=[core_a.slug, milestone.pk])
    client = as_user(lead_a)
    version = client.get(url).context["form"]["version"].value()
    services.complete_milestone(milestone, by=admin_user, note="Adopted at the assembly.")
    mine = {"done_on": TODAY.isoformat(), "note": "Drafted in March.", "version": version}

    response = client.post(url, mine)

    assert response.status_code == 200
    form = response.context["form"]
    assert "Someone else saved this milestone" in form.non_field_errors()[0]
    assert form["note"].value() == "Drafted in March."  # the input is kept
    rows = {row["label"]: row for row in response.context["stale_rows"]}
    assert rows["Note"]["saved"] == "Adopted at the assembly."
    assert rows["Note"]["yours"] == "Drafted in March."
    assert "Adopted at the assembly." in response.text
    milestone.refresh_from_db()
    assert (milestone.note, milestone.done_by) == ("Adopted at the assembly.", admin_user)

    # Saving again, on the version the page now shows, records it.
    again = {**mine, "version": form.data["version"]}
    assert client.post(url, again).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.note, milestone.done_by) == ("Drafted in March.", lead_a)


def test_reopening_a_milestone_changed_since_the_page_opened_is_refused(
    as_user, lead_a, admin_user, core_a
):
    milestone = core_a.milestones.get(title="Strategy drafted")
    services.complete_milestone(milestone, by=lead_a)
    milestone.refresh_from_db()
    seen = milestone.version
    services.complete_milestone(milestone, by=admin_user, note="Adopted.")
    client = as_user(lead_a)

    response = client.post(
        reverse("cores:milestone_reopen", args=[core_a.slug, milestone.pk]), {"version": seen}
    )

    assert response.status_code == 302
    assert "saved by someone else" in str(next(iter(get_messages(response.wsgi_request))))
    milestone.refresh_from_db()
    assert milestone.done_on == TODAY  # still done: nothing was changed


def test_the_core_page_reopens_a_milestone_with_the_version_it_shows(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    services.complete_milestone(milestone, by=lead_a)
    client = as_user(lead_a)
    page = client.get(core_a.get_absolute_url())
    milestone.refresh_from_db()
    assert f'name="version" value="{milestone.version}"' in page.text
    url = reverse("cores:milestone_reopen", args=[core_a.slug, milestone.pk])
    assert client.post(url, {"version": milestone.version}).status_code == 302
    milestone.refresh_from_db()
    assert milestone.done_on is None


def test_a_follow_up_saved_on_a_stale_invitation_page_is_refused_side_by_side(
    as_user, lead_a, admin_user, core_a
):
    invitation = InvitationFactory(core=core_a)
    url = reverse("cores:invitation_detail", args=[core_a.slug, invitation.pk])
    client = as_user(lead_a)
    version = client.get(url).context["follow_up_form"]["version"].value()
    services.update_follow_up(
        invitation, by=admin_user, next_step_on=TODAY + dt.timedelta(days=2), note="Call Friday."
    )
    mine = {"action": "follow_up", "note": "Email first.", "next_step_on": "", "version": version}

    response = client.post(url, mine)

    assert response.status_code == 200
    form = response.context["follow_up_form"]
    assert "Someone else saved this invitation" in form.non_field_errors()[0]
    assert form["note"].value() == "Email first."
    rows = {row["label"]: row for row in response.context["stale_rows"]}
    assert (rows["Note for the core"]["saved"], rows["Note for the core"]["yours"]) == (
        "Call Friday.",
        "Email first.",
    )
    invitation.refresh_from_db()
    assert invitation.note == "Call Friday."

    again = {**mine, "version": form.data["version"]}
    assert client.post(url, again).status_code == 302
    invitation.refresh_from_db()
    assert invitation.note == "Email first."
