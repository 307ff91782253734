"""The core's own page: phases, milestones, queue, alignment, sectors and the funnel.

Everyone signed in with `cores.view_coregroup` reads any core's page; only the core's
own leads and superusers (sos_tracker.permissions.can_manage_core) move its phase and
tick its milestones. Those writes answer 403 to a role without the permission and 404
to a lead of another core. Nothing of review notes is read here.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cores import readiness, services, stats
from cores.forms.phases import AdvancePhaseForm, MilestoneDoneForm, ReturnPhaseForm
from cores.models import CoreGroup, InvitationStage, Milestone, Phase
from sos_tracker import kept_forms
from sos_tracker.charts import Bar, bar_chart
from sos_tracker.i18n import sentence_date, sentence_datetime
from sos_tracker.permissions import can_manage_core, can_review_tendency, led_core_ids
from sos_tracker.versioning import StaleEditError

PHASES = list(Phase)


# --- loading in scope -------------------------------------------------------------------


def _viewable_core(request, slug) -> CoreGroup:
    if not request.user.has_perm("cores.view_coregroup"):
        raise PermissionDenied
    return get_object_or_404(CoreGroup.objects.select_related("tendency"), slug=slug)


def _managed_core(request, slug, *perms) -> CoreGroup:
    """The core `slug` if the user may change it: 403 without the role's permissions,
    404 for a core they do not lead (superusers manage every core)."""
    if not request.user.has_perms(["cores.change_coregroup", *perms]):
        raise PermissionDenied
    core = get_object_or_404(CoreGroup.objects.select_related("tendency"), slug=slug)
    if not can_manage_core(request.user, core.pk):
        raise Http404("No core group matches the given query.")
    return core


# --- the list of cores ------------------------------------------------------------------


def _subquery_count(queryset, key: str):
    """A correlated count of `queryset` rows per `key`, 0 when none: each count is its own
    subquery, so the list never joins two many-valued relations."""
    counted = queryset.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def core_list(request):
    """Every core with its phase, people, milestones and queue; a fixed number of queries."""
    if not request.user.has_perm("cores.view_coregroup"):
        raise PermissionDenied
    through = CoreGroup.members.through
    cores = list(
        CoreGroup.objects.select_related("tendency")
        .prefetch_related("leads")
        .annotate(
            member_count=_subquery_count(
                through.objects.filter(coregroup=OuterRef("pk")), "coregroup"
            ),
            milestones_open=_subquery_count(
                Milestone.objects.filter(
                    core=OuterRef("pk"), phase=OuterRef("phase"), done_on__isnull=True
                ),
                "core",
            ),
            milestones_total=_subquery_count(
                Milestone.objects.filter(core=OuterRef("pk"), phase=OuterRef("phase")), "core"
            ),
        )
    )
    queues = stats.queue_sizes({core.tendency_id for core in cores})
    funnels = stats.funnel_counts([core.pk for core in cores])
    for core in cores:
        core.queue_size = queues[core.tendency_id]
        core.funnel = funnels[core.pk]
        core.milestones_done = core.milestones_total - core.milestones_open
    context = {"cores": cores, "led_ids": led_core_ids(request.user)}
    return render(request, "cores/core_list.html", context)


# --- the core page ----------------------------------------------------------------------


@dataclass
class PhaseStep:
    """One phase on the timeline: `state` is "done", "current" or "ahead"; `since` the
    latest decision that brought the core into it (for the first phase, when the core was
    made), None for a phase ahead."""

    phase: Phase
    state: str
    since: object = None


@dataclass
class FunnelRow:
    """One funnel bar in SVG units (see _funnel_chart)."""

    stage: str
    label: str
    count: int
    conversion: int | None
    x: float
    y: float
    width: float
    text_y: float


@dataclass
class FunnelChart:
    width: int
    height: int
    rows: list
    label_x: int
    value_x: int
    declined: int
    declined_x: int
    declined_y: float
    declined_height: float
    divider_x: int
    summary: str


# SVG geometry of the funnel picture, in user units (scaled to the width it gets).
FUNNEL_WIDTH = 436
FUNNEL_LEFT = 130
FUNNEL_AREA = 180
FUNNEL_ROW = 30
FUNNEL_BAR = 22
FUNNEL_TOP = 6


def _funnel_chart(funnel: stats.Funnel) -> FunnelChart:
    """Bars per stage, centred and narrowing, sized by how many reached at least that
    stage (so they never widen); declined as its own column beside them, on the scale."""
    largest = max(funnel.total, funnel.declined, 1)
    rows = []
    for index, step in enumerate(funnel.steps):
        width = max(FUNNEL_AREA * step.reached / largest, 1.0)
        y = FUNNEL_TOP + index * FUNNEL_ROW
        rows.append(
            FunnelRow(
                stage=step.stage,
                label=step.label,
                count=step.reached,
                conversion=step.conversion,
                x=FUNNEL_LEFT + (FUNNEL_AREA - width) / 2,
                y=y,
                width=width,
                text_y=y + FUNNEL_BAR / 2,
            )
        )
    height = FUNNEL_TOP * 2 + len(rows) * FUNNEL_ROW
    # The declined column stands on the same baseline, its height on the same scale.
    column = height - FUNNEL_TOP * 2 - 18
    declined_height = max(column * funnel.declined / largest, 1.0)
    joined = funnel.reached.get(InvitationStage.JOINED, 0)
    reached = ", ".join(
        _("%(count)s reached %(stage)s") % {"count": step.reached, "stage": step.label.lower()}
        for step in funnel.steps[1:]
    )
    summary = _(
        "Invitation funnel: %(total)s identified, %(reached)s; %(declined)s declined; "
        "%(joined)s joined."
    ) % {
        "total": funnel.total,
        "reached": reached,
        "declined": funnel.declined,
        "joined": joined,
    }
    return FunnelChart(
        width=FUNNEL_WIDTH,
        height=height,
        rows=rows,
        label_x=FUNNEL_LEFT - 6,
        value_x=FUNNEL_LEFT + FUNNEL_AREA + 6,
        declined=funnel.declined,
        declined_x=FUNNEL_WIDTH - 46,
        declined_y=height - FUNNEL_TOP - declined_height,
        declined_height=declined_height,
        divider_x=FUNNEL_WIDTH - 62,
        summary=summary,
    )


def _phase_steps(core, decisions) -> list[PhaseStep]:
    current = PHASES.index(Phase(core.phase))
    # A core starts in the first phase when it is made; no decision records that.
    entered = {PHASES[0].value: core.created_at}
    for decision in decisions:
        entered[decision.to_phase] = decision.decided_at
    steps = []
    for index, phase in enumerate(PHASES):
        state = "done" if index < current else "current" if index == current else "ahead"
        since = entered.get(phase.value) if index <= current else None
        steps.append(PhaseStep(phase, state, since))
    return steps


def core_detail(request, slug):
    """The core at a glance. The query count and the work do not grow with people or
    invitations: the core, its decisions, its milestones, its figures as the worker last
    counted them (one row: member count, alignment levels, sector coverage, funnel,
    readiness; cores.stats.core_figures) with the active sectors, and the queue live: its
    size (two index ranges) and oldest item (two index reads). Before the first count the
    page says the figures are being counted.
    """
    core = _viewable_core(request, slug)
    user = request.user
    decisions = list(core.phase_decisions.select_related("decided_by").order_by("decided_at", "pk"))
    for decision in decisions:
        decision.forward = PHASES.index(Phase(decision.to_phase)) > PHASES.index(
            Phase(decision.from_phase)
        )
    milestones = list(core.milestones.select_related("done_by"))
    next_phase = Phase.after(core.phase)
    this_phase = [m for m in milestones if m.phase == core.phase]
    next_milestones = [m for m in milestones if next_phase and m.phase == next_phase]
    counted = stats.core_figures([core])[core.pk]
    for milestone in this_phase + next_milestones:
        milestone.readiness = counted.readiness(milestone) if counted else None
        milestone.rule = readiness.rule_text(milestone)
    levels = counted.levels if counted else []
    coverage = counted.coverage() if counted else stats.SectorCoverage([], [], 0)
    funnel = counted.funnel if counted else stats.Funnel(core.pk)
    # Live, not as counted: a lead works the queue and must see each review leave it. Its
    # counts read two index ranges (Alignment.objects.queue_counts), not the rows.
    queue = stats.queue_summary(core.tendency_id)
    invitations_url = reverse("cores:invitation_list", args=[core.slug])
    context = {
        "core": core,
        "steps": _phase_steps(core, decisions),
        "decisions": decisions,
        "next_phase": next_phase,
        "previous_phase": Phase.before(core.phase),
        "this_phase_milestones": this_phase,
        "this_phase_done": sum(m.is_done for m in this_phase),
        "next_milestones": next_milestones,
        "queue": queue,
        "figures": counted,
        "levels_chart": bar_chart(
            [Bar(level.label, level.count, css=f"level-{level.level}") for level in levels],
            title=_("Alignment level"),
            slug="levels",
        ),
        "aligned_total": sum(level.count for level in levels),
        "coverage": coverage,
        "sectors_chart": bar_chart(
            [(item.sector.name, item.count) for item in coverage.covered],
            title=_("Sector"),
            slug="sectors",
        ),
        "funnel": funnel,
        "funnel_chart": _funnel_chart(funnel),
        "invitations_url": invitations_url,
        "stalled_url": f"{invitations_url}?stalled=1",
        "stalled_days": settings.INVITATION_STALLED_AFTER_DAYS,
        "can_manage": can_manage_core(user, core.pk),
        "can_review": can_review_tendency(user, core.tendency_id),
    }
    return render(request, "cores/core_detail.html", context)


# --- phases -----------------------------------------------------------------------------


def _no_move(request, core, message: str):
    """No phase to move to: say so on the page (GET), or back to the core (a POST)."""
    if request.method == "POST":
        messages.info(request, message)
        return redirect(core)
    return render(request, "cores/phase_none.html", {"core": core, "message": message})


def _open_milestones(core):
    return list(core.milestones.filter(phase=core.phase, done_on__isnull=True))


def _moved_meanwhile(request, core) -> str:
    """Why a form opened earlier no longer holds: who last moved the core, and when (the
    latest PhaseDecision; "you, in another tab" when it was the same user)."""
    latest = core.phase_decisions.select_related("decided_by").order_by("-decided_at", "-pk")
    decision = latest.first()
    if decision is None:
        return _("The core's phase changed while this form was open. It is now in “%(phase)s”.") % {
            "phase": core.get_phase_display()
        }
    if decision.decided_by_id == request.user.pk:
        who = _("you, in another tab,")
    elif decision.decided_by is not None:
        who = decision.decided_by.get_full_name() or str(decision.decided_by)
    else:
        who = _("someone")
    forward = PHASES.index(Phase(decision.to_phase)) > PHASES.index(Phase(decision.from_phase))
    if forward:
        moved = _(
            "While this form was open, %(who)s moved the core on to “%(phase)s” (%(when)s). "
            "Nothing was saved from this form. Your reason is kept below; check the "
            "milestones still open and confirm again."
        )
    else:
        moved = _(
            "While this form was open, %(who)s moved the core back to “%(phase)s” "
            "(%(when)s). Nothing was saved from this form. Your reason is kept below; check "
            "the milestones still open and confirm again."
        )
    return moved % {
        "who": who,
        "phase": decision.get_to_phase_display(),
        "when": sentence_datetime(timezone.localtime(decision.decided_at)),
    }


def phase_advance(request, slug):
    """Move the core on one phase: GET shows the form, POST calls advance_phase.

    A form opened before the core's phase changed (another tab, another lead) is not sent
    to the service: it comes back aimed at the phase that is next now, saying who moved
    the core and when, with the reason kept and the confirmation unticked.
    """
    core = _managed_core(request, slug, "cores.add_phasedecision")
    next_phase = Phase.after(core.phase)
    if next_phase is None:
        return _no_move(
            request, core, _("%(core)s has launched; there is no later phase.") % {"core": core}
        )
    open_milestones = _open_milestones(core)
    form = AdvancePhaseForm(
        request.POST or None,
        next_phase=next_phase,
        current_phase=core.phase,
        open_milestones=open_milestones,
    )
    kept_forms.refill(request, form)
    if request.method == "POST" and form.is_stale(core.phase):
        form = form.restarted(
            current_phase=core.phase,
            next_phase=next_phase,
            open_milestones=open_milestones,
            message=_moved_meanwhile(request, core),
        )
    elif request.method == "POST" and form.is_valid():
        try:
            decision = services.advance_phase(
                core,
                by=request.user,
                reason=form.cleaned_data["reason"],
                to_phase=form.cleaned_data["to_phase"],
                open_milestones_confirmed=form.cleaned_data.get("open_milestones_confirmed", False),
            )
        except ValidationError as error:
            form.add_service_error(error)
            form.point_at(next_phase)
        else:
            message = _("%(core)s moved on to “%(phase)s”.") % {
                "core": core,
                "phase": decision.get_to_phase_display(),
            }
            if decision.to_phase == Phase.LAUNCHED:
                message += " " + _("Launch date recorded: %(date)s.") % {
                    "date": sentence_date(core.launched_on)
                }
            messages.success(request, message)
            return redirect(core)
    return render(
        request,
        "cores/phase_advance.html",
        {"core": core, "form": form, "next_phase": next_phase, "open_milestones": open_milestones},
    )


def phase_back(request, slug):
    """Step the core back one phase: GET shows the form, POST calls return_to_previous_phase."""
    core = _managed_core(request, slug, "cores.add_phasedecision")
    previous = Phase.before(core.phase)
    if previous is None:
        return _no_move(
            request,
            core,
            _("%(core)s is in its first phase; there is none before.") % {"core": core},
        )
    form = ReturnPhaseForm(request.POST or None, current_phase=core.phase)
    kept_forms.refill(request, form)
    if request.method == "POST" and form.is_valid():
        try:
            decision = services.return_to_previous_phase(
                core,
                by=request.user,
                reason=form.cleaned_data["reason"],
                from_phase=form.cleaned_data["from_phase"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("%(core)s went back to “%(phase)s”.")
                % {"core": core, "phase": decision.get_to_phase_display()},
            )
            return redirect(core)
    return render(
        request,
        "cores/phase_back.html",
        {"core": core, "form": form, "previous_phase": previous},
    )


# --- milestones -------------------------------------------------------------------------


def _shown_milestones(core):
    """The milestones the core page shows, the only ones its forms act on: this phase's
    and the next one's. One two phases ahead (or of a phase left behind) is a 404, so it
    cannot be ticked by URL and then appear nowhere."""
    phases = [core.phase]
    if next_phase := Phase.after(core.phase):
        phases.append(next_phase)
    return core.milestones.filter(phase__in=phases)


def _milestone_side_by_side(current: Milestone, typed: dict) -> list[dict]:
    """The milestone as saved now beside what was typed, for a refused stale save."""
    who = (current.done_by.get_full_name() or str(current.done_by)) if current.done_by else ""
    saved_done = ""
    if current.done_on and who:
        saved_done = _("%(date)s by %(who)s") % {"date": sentence_date(current.done_on), "who": who}
    elif current.done_on:
        saved_done = sentence_date(current.done_on)
    typed_done = sentence_date(typed["done_on"]) if typed.get("done_on") else ""
    rows = [
        (_("Done on"), saved_done or _("Not done"), typed_done),
        (_("Note"), current.note, typed.get("note", "")),
    ]
    return [
        {"label": label, "saved": saved, "yours": yours, "differs": saved != yours}
        for label, saved, yours in rows
    ]


def milestone_done(request, slug, pk):
    """Tick a milestone off: GET shows the date and note, POST calls complete_milestone."""
    core = _managed_core(request, slug, "cores.change_milestone")
    milestone = get_object_or_404(_shown_milestones(core).select_related("done_by"), pk=pk)
    # The note is offered for editing even on an open milestone (reopening keeps it), so
    # saving never drops it unseen; emptying the box removes it.
    initial = {"note": milestone.note}
    if milestone.is_done:
        initial["done_on"] = milestone.done_on
    form = MilestoneDoneForm(request.POST or None, initial=initial, version=milestone.version)
    kept_forms.refill(request, form)
    was_done = milestone.is_done
    stale_rows = []
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_milestone(
                milestone,
                by=request.user,
                on=form.cleaned_data["done_on"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleEditError as error:
            form.add_service_error(error)
            form.show_saved(error.current)
            stale_rows = _milestone_side_by_side(error.current, form.cleaned_data)
            milestone = error.current
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if was_done:
                done = _("“%(milestone)s” now has the date and note saved.")
            else:
                done = _("“%(milestone)s” is done.")
            messages.success(request, done % {"milestone": milestone})
            return redirect(f"{core.get_absolute_url()}#milestones")
    milestone.rule = readiness.rule_text(milestone)
    milestone.core = core
    return render(
        request,
        "cores/milestone_done.html",
        {
            "core": core,
            "milestone": milestone,
            "form": form,
            "stale_rows": stale_rows,
            "readiness": readiness.evaluate(milestone),
        },
    )


def milestone_reopen(request, slug, pk):
    """Mark a done milestone as open again (its history keeps who had ticked it). POST only.

    Scope is checked before the method, so an outsider learns nothing more from a GET.
    """
    core = _managed_core(request, slug, "cores.change_milestone")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    milestone = get_object_or_404(_shown_milestones(core), pk=pk)
    seen = request.POST.get("version", "")
    try:
        # The version the core page showed: a tick made or changed since is not undone.
        expected = int(seen) if seen.isdigit() and len(seen) < 10 else None
        if milestone.is_done:
            services.reopen_milestone(milestone, by=request.user, expected_version=expected)
            messages.success(
                request, _("“%(milestone)s” is open again.") % {"milestone": milestone}
            )
    except StaleEditError as error:
        current = error.current
        if current.done_on:
            state = _("done on %(date)s") % {"date": sentence_date(current.done_on)}
        else:
            state = pgettext("milestone state", "open")
        messages.error(
            request,
            _(
                "“%(milestone)s” was saved by someone else after your page opened (it is now "
                "%(state)s); nothing was changed. Look at it again below."
            )
            % {"milestone": current, "state": state},
        )
    return redirect(f"{core.get_absolute_url()}#milestones")
