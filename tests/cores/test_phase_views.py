"""Moving a core between phases and ticking milestones from the core page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cores import services
from cores.models import Milestone, Phase, PhaseDecision
from tests.factories import AlignmentFactory, MilestoneFactory

TODAY = timezone.localdate()


def url(name, core, *args):
    return reverse(f"cores:{name}", args=[core.slug, *args])


def finish_milestones(core, phase=None):
    core.milestones.filter(phase=phase or core.phase).update(done_on=TODAY)


# --- moving on ------------------------------------------------------------------------


def test_form_names_the_next_phase_and_lists_open_milestones(as_user, lead_a, core_a):
    response = as_user(lead_a).get(url("phase_advance", core_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Move Democratic Front core on to “Engaging the Left”" in html
    assert "4 milestones of “Cohering a core” still open" in html
    assert "Strategy drafted" in html
    assert 'name="open_milestones_confirmed"' in html
    assert 'name="to_phase" value="engaging"' in html


def test_advance_with_every_milestone_done_needs_no_confirmation(as_user, lead_a, core_a):
    finish_milestones(core_a)
    client = as_user(lead_a)
    assert (
        'name="open_milestones_confirmed"'
        not in client.get(url("phase_advance", core_a)).content.decode()
    )
    response = client.post(
        url("phase_advance", core_a), {"to_phase": "engaging", "reason": "Drafts adopted."}
    )
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    decision = PhaseDecision.objects.get(core=core_a)
    assert (decision.decided_by, decision.reason) == (lead_a, "Drafts adopted.")


def test_advance_with_open_milestones_is_refused_without_confirmation(as_user, lead_a, core_a):
    response = as_user(lead_a).post(
        url("phase_advance", core_a), {"to_phase": "engaging", "reason": "Ready enough."}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert (
        "4 milestones of this phase are still open" in form.errors["open_milestones_confirmed"][0]
    )
    # What was typed is still there; nothing was saved.
    assert "Ready enough." in response.content.decode()
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not PhaseDecision.objects.exists()


def test_advance_with_open_milestones_and_confirmation_moves_on(as_user, lead_a, core_a):
    response = as_user(lead_a).post(
        url("phase_advance", core_a),
        {"to_phase": "engaging", "reason": "Ready enough.", "open_milestones_confirmed": "on"},
    )
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    # The milestones stay as they were: open.
    assert core_a.milestones.filter(phase=Phase.COHERING, done_on__isnull=True).count() == 4


def test_empty_reason_is_refused_on_the_reason_field(as_user, lead_a, core_a):
    finish_milestones(core_a)
    response = as_user(lead_a).post(
        url("phase_advance", core_a), {"to_phase": "engaging", "reason": "   "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Say why the core is moving on."]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not PhaseDecision.objects.exists()


def test_skipping_a_phase_is_refused_on_to_phase(as_user, lead_a, core_a):
    finish_milestones(core_a)
    response = as_user(lead_a).post(
        url("phase_advance", core_a), {"to_phase": "launching", "reason": "Skip ahead."}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "one phase at a time" in form.errors["to_phase"][0]
    html = response.content.decode()
    assert "one phase at a time" in html
    assert "Skip ahead." in html
    # The form now points at the phase that really is next.
    assert 'name="to_phase" value="engaging"' in html
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not PhaseDecision.objects.exists()


def test_a_stale_form_does_not_move_the_core_twice(as_user, lead_a, core_a):
    finish_milestones(core_a)
    client = as_user(lead_a)
    data = {"to_phase": "engaging", "reason": "Drafts adopted.", "open_milestones_confirmed": "on"}
    assert client.post(url("phase_advance", core_a), data).status_code == 302
    # The same form sent again (a second tab, a double click).
    response = client.post(url("phase_advance", core_a), data)
    assert response.status_code == 200
    assert "you, in another tab," in response.context["form"].non_field_errors()[0]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING
    assert PhaseDecision.objects.count() == 1


def test_reaching_launched_records_the_launch_date(as_user, lead_a, core_a):
    core_a.phase = Phase.LAUNCHING
    core_a.save(update_fields=["phase"])
    finish_milestones(core_a)
    response = as_user(lead_a).post(
        url("phase_advance", core_a), {"to_phase": "launched", "reason": "Convening held."}
    )
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert (core_a.phase, core_a.launched_on) == (Phase.LAUNCHED, TODAY)
    page = as_user(lead_a).get(core_a.get_absolute_url()).content.decode()
    assert f"launched {TODAY:%b} {TODAY.day}, {TODAY.year}" in page


def test_a_launched_core_has_no_next_phase(as_user, lead_a, core_a):
    core_a.phase = Phase.LAUNCHED
    core_a.save(update_fields=["phase"])
    response = as_user(lead_a).get(url("phase_advance", core_a))
    assert response.status_code == 200
    assert "has launched; there is no later phase" in response.content.decode()
    response = as_user(lead_a).post(
        url("phase_advance", core_a), {"to_phase": "launched", "reason": "Again"}
    )
    assert response.status_code == 302
    assert not PhaseDecision.objects.exists()


# --- going back -----------------------------------------------------------------------


def test_going_back_needs_a_reason(as_user, lead_a, core_a):
    core_a.phase = Phase.ENGAGING
    core_a.save(update_fields=["phase"])
    client = as_user(lead_a)
    html = client.get(url("phase_back", core_a)).content.decode()
    assert "back to “Cohering a core”" in html
    response = client.post(url("phase_back", core_a), {"from_phase": "engaging", "reason": ""})
    assert response.context["form"].errors["reason"] == ["Say why the core is going back a phase."]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING

    response = client.post(
        url("phase_back", core_a), {"from_phase": "engaging", "reason": "Strategy reopened."}
    )
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    decision = PhaseDecision.objects.get()
    assert (decision.from_phase, decision.to_phase) == (Phase.ENGAGING, Phase.COHERING)


def test_going_back_from_launched_clears_the_launch_date(as_user, lead_a, core_a):
    core_a.phase = Phase.LAUNCHED
    core_a.launched_on = TODAY
    core_a.save(update_fields=["phase", "launched_on"])
    response = as_user(lead_a).post(
        url("phase_back", core_a), {"from_phase": "launched", "reason": "Launch postponed."}
    )
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert (core_a.phase, core_a.launched_on) == (Phase.LAUNCHING, None)


def test_going_back_on_a_stale_form_is_refused(as_user, lead_a, core_a):
    core_a.phase = Phase.LAUNCHING
    core_a.save(update_fields=["phase"])
    response = as_user(lead_a).post(
        url("phase_back", core_a), {"from_phase": "engaging", "reason": "Old tab."}
    )
    assert response.status_code == 200
    assert "look again" in response.context["form"].errors["from_phase"][0]
    core_a.refresh_from_db()
    assert core_a.phase == Phase.LAUNCHING


def test_the_first_phase_has_nothing_before_it(as_user, lead_a, core_a):
    response = as_user(lead_a).get(url("phase_back", core_a))
    assert response.status_code == 200
    assert "is in its first phase; there is none before" in response.content.decode()
    response = as_user(lead_a).post(url("phase_back", core_a), {"reason": "x"})
    assert response.status_code == 302
    assert not PhaseDecision.objects.exists()


# --- milestones -----------------------------------------------------------------------


def test_tick_a_milestone_with_date_and_note(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    client = as_user(lead_a)
    assert client.get(url("milestone_done", core_a, milestone.pk)).status_code == 200
    day = TODAY - dt.timedelta(days=3)
    response = client.post(
        url("milestone_done", core_a, milestone.pk),
        {"done_on": day.isoformat(), "note": "Adopted at the retreat."},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by, milestone.note) == (
        day,
        lead_a,
        "Adopted at the retreat.",
    )
    html = client.get(core_a.get_absolute_url()).content.decode()
    assert "Adopted at the retreat." in html
    assert "ticked by Alice Lead" in html


def test_a_milestone_cannot_be_done_in_the_future(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    response = as_user(lead_a).post(
        url("milestone_done", core_a, milestone.pk),
        {"done_on": (TODAY + dt.timedelta(days=2)).isoformat(), "note": "Soon."},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["done_on"] == [
        "A milestone cannot be done in the future."
    ]
    assert "Soon." in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.done_on is None


def test_reopen_a_milestone(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    milestone.done_on = TODAY
    milestone.save()
    client = as_user(lead_a)
    assert client.get(url("milestone_reopen", core_a, milestone.pk)).status_code == 405
    assert client.post(url("milestone_reopen", core_a, milestone.pk)).status_code == 302
    milestone.refresh_from_db()
    assert milestone.done_on is None


def test_milestone_form_shows_its_readiness_rule(as_user, lead_a, core_a):
    milestone = MilestoneFactory(core=core_a, title="Builders", rule_min_people=12)
    html = as_user(lead_a).get(url("milestone_done", core_a, milestone.pk)).content.decode()
    assert "Not met" in html
    assert "0 of the 12 needed, 12 more to go: at least 12 people aligned or above" in html


def test_a_milestone_of_another_core_is_404(as_user, lead_a, core_a, core_b):
    other = core_b.milestones.first()
    response = as_user(lead_a).post(
        url("milestone_done", core_a, other.pk), {"done_on": TODAY.isoformat()}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.done_on is None


# --- who may ---------------------------------------------------------------------------


WRITES = [
    ("phase_advance", {"to_phase": "engaging", "reason": "x", "open_milestones_confirmed": "on"}),
    ("phase_back", {"from_phase": "cohering", "reason": "x"}),
    ("milestone_done", {"done_on": TODAY.isoformat()}),
    ("milestone_reopen", {}),
]


def post_write(client, name, core, data):
    args = [core.milestones.first().pk] if name.startswith("milestone") else []
    return client.post(url(name, core, *args), data)


@pytest.mark.parametrize(("name", "data"), WRITES)
@pytest.mark.parametrize(
    ("user", "status"), [("organizer", 403), ("stranger", 403), ("lead_b", 404)]
)
def test_only_the_cores_leads_change_it(request, as_user, core_a, core_b, name, data, user, status):
    client = as_user(request.getfixturevalue(user))
    assert post_write(client, name, core_a, data).status_code == status
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING
    assert not PhaseDecision.objects.exists()
    assert not Milestone.objects.filter(core=core_a, done_on__isnull=False).exists()


@pytest.mark.parametrize("name", ["phase_advance", "phase_back", "milestone_done"])
def test_the_forms_are_closed_to_others_too(as_user, organizer, lead_b, core_a, core_b, name):
    args = [core_a.milestones.first().pk] if name.startswith("milestone") else []
    assert as_user(organizer).get(url(name, core_a, *args)).status_code == 403
    assert as_user(lead_b).get(url(name, core_a, *args)).status_code == 404


def test_superuser_moves_any_core(as_user, admin_user, core_a):
    response = post_write(as_user(admin_user), "phase_advance", core_a, WRITES[0][1])
    assert response.status_code == 302
    core_a.refresh_from_db()
    assert core_a.phase == Phase.ENGAGING


# --- fresh-user fixes: stale tabs, notes, refused dates, milestones out of view ----------


def move_to(core, phase):
    core.phase = phase
    core.save(update_fields=["phase"])


def test_a_stale_tab_with_the_box_ticked_is_not_one_click_from_launching(as_user, lead_a, core_a):
    move_to(core_a, Phase.ENGAGING)
    client = as_user(lead_a)
    # Both tabs were opened while engaging, with open milestones, and ticked "anyway".
    form_html = client.get(url("phase_advance", core_a)).content.decode()
    assert 'name="from_phase" value="engaging"' in form_html
    data = {
        "to_phase": "launching",
        "from_phase": "engaging",
        "reason": "Invitations out.",
        "open_milestones_confirmed": "on",
    }
    assert client.post(url("phase_advance", core_a), data).status_code == 302
    response = client.post(url("phase_advance", core_a), data)
    assert response.status_code == 200
    core_a.refresh_from_db()
    assert core_a.phase == Phase.LAUNCHING
    assert PhaseDecision.objects.count() == 1
    form = response.context["form"]
    (message,) = form.non_field_errors()
    assert "you, in another tab, moved the core on to “Launching a new formation”" in message
    assert "to_phase" not in form.errors
    html = response.content.decode()
    assert 'name="to_phase" value="launched"' in html
    assert 'name="from_phase" value="launching"' in html
    assert "Invitations out." in html  # the reason is kept
    assert 'name="open_milestones_confirmed"' in html
    assert "checked" not in html.split('name="open_milestones_confirmed"')[1].split(">")[0]
    # A straight resubmit of what is shown does not launch: the box is unticked.
    again = dict(form.data.items())
    assert client.post(url("phase_advance", core_a), again).status_code == 200
    core_a.refresh_from_db()
    assert core_a.phase == Phase.LAUNCHING


def test_a_stale_tab_names_the_other_person_who_moved_the_core(as_user, lead_a, admin_user, core_a):
    data = {"to_phase": "engaging", "from_phase": "cohering", "reason": "Drafts adopted."}
    finish_milestones(core_a)
    assert as_user(admin_user).post(url("phase_advance", core_a), data).status_code == 302
    response = as_user(lead_a).post(url("phase_advance", core_a), data)
    (message,) = response.context["form"].non_field_errors()
    assert message.startswith("While this form was open, Ada Admin moved the core on to")
    assert PhaseDecision.objects.count() == 1


def test_a_stale_tab_after_a_step_back_says_back(as_user, lead_a, admin_user, core_a):
    move_to(core_a, Phase.ENGAGING)
    data = {"to_phase": "launching", "from_phase": "engaging", "reason": "Ready."}
    as_user(admin_user).post(
        url("phase_back", core_a), {"from_phase": "engaging", "reason": "Too early."}
    )
    client = as_user(lead_a)
    response = client.post(url("phase_advance", core_a), data)
    (message,) = response.context["form"].non_field_errors()
    assert "Ada Admin moved the core back to “Cohering a core”" in message
    assert 'name="to_phase" value="engaging"' in response.content.decode()
    core_a.refresh_from_db()
    assert core_a.phase == Phase.COHERING


def tick(client, core, milestone, **data):
    data.setdefault("done_on", (TODAY - dt.timedelta(days=1)).isoformat())
    return client.post(url("milestone_done", core, milestone.pk), data)


def test_an_emptied_note_removes_it_and_reopening_keeps_it_prefilled(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    client = as_user(lead_a)
    assert tick(client, core_a, milestone, note="In the shared drive.").status_code == 302
    # Reopen keeps the note, and the tick-off form offers it for editing.
    assert client.post(url("milestone_reopen", core_a, milestone.pk)).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.note) == (None, "In the shared drive.")
    html = client.get(url("milestone_done", core_a, milestone.pk)).content.decode()
    assert "In the shared drive.</textarea>" in html
    assert tick(client, core_a, milestone, note="In the shared drive.").status_code == 302
    # "Change date or note" with the note emptied removes it.
    html = client.get(url("milestone_done", core_a, milestone.pk)).content.decode()
    assert "In the shared drive.</textarea>" in html
    assert tick(client, core_a, milestone, note="   ").status_code == 302
    milestone.refresh_from_db()
    assert milestone.note == ""
    assert milestone.is_done


def test_a_too_long_note_is_refused_on_the_form_and_in_the_service(as_user, lead_a, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    response = tick(as_user(lead_a), core_a, milestone, note="x" * 200_000)
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == [
        "Keep the note to 2,000 characters; it has 200000."
    ]
    assert "x" * 200_000 in response.content.decode()  # what was typed is not lost
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.note) == (None, "")
    with pytest.raises(ValidationError) as refused:
        services.complete_milestone(milestone, by=lead_a, note="y" * 2001)
    assert "note" in refused.value.error_dict
    milestone.refresh_from_db()
    assert milestone.done_on is None
    services.complete_milestone(milestone, by=lead_a, note="y" * 2000)
    # The admin's call (no note given) keeps the note.
    services.complete_milestone(milestone, by=lead_a, on=TODAY)
    milestone.refresh_from_db()
    assert milestone.note == "y" * 2000


def test_a_refused_date_leaves_the_milestone_and_the_page_as_saved(as_user, lead_a, lead_b, core_a):
    milestone = core_a.milestones.get(title="Strategy drafted")
    with pytest.raises(ValidationError):
        services.complete_milestone(milestone, by=lead_b, on=TODAY + dt.timedelta(days=9))
    # The caller's instance is untouched by the refusal.
    assert (milestone.done_on, milestone.done_by_id) == (None, None)
    response = tick(as_user(lead_a), core_a, milestone, done_on="2030-01-01", note="Adopted.")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tick off “Strategy drafted”" in html
    assert "Change “Strategy drafted”" not in html
    assert "saving records you instead" not in html
    assert ">Mark as done</button>" in html
    assert "Adopted." in html


def test_milestones_beyond_the_next_phase_cannot_be_ticked_or_reopened(as_user, lead_a, core_a):
    move_to(core_a, Phase.ENGAGING)
    client = as_user(lead_a)
    launched = core_a.milestones.get(phase=Phase.LAUNCHED)
    assert client.get(url("milestone_done", core_a, launched.pk)).status_code == 404
    assert tick(client, core_a, launched).status_code == 404
    launched.refresh_from_db()
    assert launched.done_on is None
    # One of the next phase (shown on the page) can be ticked; one left behind cannot be
    # reached, done or not.
    launching = core_a.milestones.filter(phase=Phase.LAUNCHING).first()
    assert tick(client, core_a, launching).status_code == 302
    cohering = core_a.milestones.filter(phase=Phase.COHERING).first()
    cohering.done_on = TODAY
    cohering.save()
    assert client.get(url("milestone_done", core_a, cohering.pk)).status_code == 404
    assert client.post(url("milestone_reopen", core_a, cohering.pk)).status_code == 404
    cohering.refresh_from_db()
    assert cohering.done_on == TODAY


def test_readiness_wording_when_met(as_user, lead_a, core_a):
    milestone = MilestoneFactory(core=core_a, title="Few builders", rule_min_people=1)
    AlignmentFactory(tendency=core_a.tendency, level="committed")
    AlignmentFactory(tendency=core_a.tendency, level="committed")
    html = as_user(lead_a).get(url("milestone_done", core_a, milestone.pk)).content.decode()
    assert "Met</span>" in html
    assert "2 people meet it (1 needed): at least 1 person aligned or above." in html
