"""Moving a core between phases and ticking milestones from the core page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cores.models import Milestone, Phase, PhaseDecision
from tests.factories import MilestoneFactory

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
    assert "to_phase" in response.context["form"].errors
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
    assert "0 of 12: at least 12 people aligned or above" in html


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
