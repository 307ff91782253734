"""Writes about cores, alignments and invitations: each one named, atomic and attributed.

These are the one writer of each rule: the app's pages, the admin, the import and the
seeder all call them. Each raises django.core.exceptions.ValidationError keyed by the
form field it is about, and changes nothing when it raises.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_create_with_history

from cores.models import (
    DEFAULT_MILESTONES,
    OPEN_STAGES,
    STAGE_DATE_FIELDS,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Milestone,
    Phase,
    PhaseDecision,
    ReviewNote,
    ReviewState,
    Tendency,
)
from sos_tracker.i18n import sentence_date
from sos_tracker.versioning import check_version


def add_default_milestones(core: CoreGroup) -> list[Milestone]:
    """Give a new core the standard milestones of every phase (skipping ones it has)."""
    existing = set(core.milestones.values_list("phase", "title"))
    milestones = [
        Milestone(core=core, phase=phase, title=title, order=order)
        for order, (phase, title) in enumerate(
            (phase, title) for phase, titles in DEFAULT_MILESTONES.items() for title in titles
        )
        if (phase, title) not in existing
    ]
    # Milestones keep history (who ticked what); bulk_create alone would skip it.
    return bulk_create_with_history(milestones, Milestone)


@transaction.atomic
def create_core(*, name: str, slug: str, tendency: Tendency, leads=(), by=None) -> CoreGroup:
    """A new core in the first phase, with its leads and the default milestones.

    Raises ValidationError (name, slug) when either is taken or blank.
    """
    core = CoreGroup(name=name, slug=slug, tendency=tendency)
    core.full_clean()
    core.save()
    core.leads.set(leads)
    add_default_milestones(core)
    return core


# The longest milestone note accepted (characters): a note says what was decided and
# where the document lives, not the document itself.
MILESTONE_NOTE_MAX_LENGTH = 2000


def _refresh_from(stale, fresh) -> None:
    """Give the caller's instance the saved values, so it is never used stale afterwards."""
    for field in fresh._meta.concrete_fields:
        setattr(stale, field.attname, getattr(fresh, field.attname))


def _locked_core(core: CoreGroup) -> CoreGroup:
    return CoreGroup.objects.select_for_update().get(pk=core.pk)


def _clean_reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


@transaction.atomic
def advance_phase(
    core: CoreGroup,
    *,
    by,
    reason: str,
    to_phase: str | None = None,
    open_milestones_confirmed: bool = False,
    at: dt.datetime | None = None,
) -> PhaseDecision:
    """Move `core` to its next phase, recording who decided, when and why.

    `to_phase` is the phase the person saw on the form: when given it must still be the
    next one (a stale form, or a skip, is refused on `to_phase`). Milestones of the current
    phase still open refuse the move on `open_milestones_confirmed` unless it is True.
    Reaching "launched" records the launch date (`core.launched_on`). Raises
    ValidationError on `reason` (blank), `to_phase`, `open_milestones_confirmed` or
    `phase` (already launched).
    """
    reason = _clean_reason(reason, _("Say why the core is moving on."))
    given, core = core, _locked_core(core)
    next_phase = Phase.after(core.phase)
    if next_phase is None:
        raise ValidationError({"phase": _("This core has launched; there is no later phase.")})
    if to_phase is not None and to_phase != next_phase:
        raise ValidationError(
            {
                "to_phase": ValidationError(
                    _(
                        "The core is in “%(phase)s”; it can only move on to “%(next)s”, "
                        "one phase at a time."
                    ),
                    code="not_next",
                    params={"phase": core.get_phase_display(), "next": next_phase.label},
                )
            }
        )
    open_titles = list(
        core.milestones.filter(phase=core.phase, done_on__isnull=True).values_list(
            "title", flat=True
        )
    )
    if open_titles and not open_milestones_confirmed:
        raise ValidationError(
            {
                "open_milestones_confirmed": ValidationError(
                    ngettext(
                        "%(count)d milestone of this phase is still open (%(titles)s). "
                        "Confirm that the core moves on anyway.",
                        "%(count)d milestones of this phase are still open (%(titles)s). "
                        "Confirm that the core moves on anyway.",
                        len(open_titles),
                    ),
                    code="open_milestones",
                    params={"count": len(open_titles), "titles": ", ".join(open_titles)},
                )
            }
        )
    at = at or timezone.now()
    decision = PhaseDecision.objects.create(
        core=core,
        from_phase=core.phase,
        to_phase=next_phase,
        decided_by=by,
        decided_at=at,
        reason=reason,
    )
    core.phase = next_phase
    fields = ["phase"]
    if next_phase == Phase.LAUNCHED:
        core.launched_on = timezone.localdate(at)
        fields.append("launched_on")
    core.save(update_fields=fields)
    _refresh_from(given, core)
    return decision


@transaction.atomic
def return_to_previous_phase(
    core: CoreGroup,
    *,
    by,
    reason: str,
    from_phase: str | None = None,
    at: dt.datetime | None = None,
) -> PhaseDecision:
    """Step `core` back one phase, recording who decided, when and why.

    `from_phase` is the phase the person saw: when given it must still be the current one.
    Leaving "launched" clears the launch date. Raises ValidationError on `reason` (blank),
    `from_phase` (stale form) or `phase` (already in the first phase).
    """
    reason = _clean_reason(reason, _("Say why the core is going back a phase."))
    given, core = core, _locked_core(core)
    if from_phase is not None and from_phase != core.phase:
        raise ValidationError(
            {
                "from_phase": ValidationError(
                    _("The core is now in “%(phase)s”; look again."),
                    code="stale",
                    params={"phase": core.get_phase_display()},
                )
            }
        )
    previous = Phase.before(core.phase)
    if previous is None:
        raise ValidationError(
            {"phase": _("This core is in its first phase; there is none before.")}
        )
    decision = PhaseDecision.objects.create(
        core=core,
        from_phase=core.phase,
        to_phase=previous,
        decided_by=by,
        decided_at=at or timezone.now(),
        reason=reason,
    )
    core.phase = previous
    core.launched_on = None
    core.save(update_fields=["phase", "launched_on"])
    _refresh_from(given, core)
    return decision


@transaction.atomic
def complete_milestone(
    milestone: Milestone,
    *,
    by,
    on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Milestone:
    """Tick `milestone` off as done on `on` (today by default) by `by`, with a note.

    `note` None keeps the note it has; a string replaces it, "" (or blanks) removes it.
    Works on a freshly locked copy and gives the caller's instance the saved values only
    once saved: on a refusal the caller's object is untouched. `expected_version` is the
    milestone's version when the person's page opened: saved since (ticked, reopened,
    noted by someone else), sos_tracker.versioning.StaleEditError is raised and nothing
    written. Raises ValidationError on `done_on` (a date in the future) or `note` (longer
    than MILESTONE_NOTE_MAX_LENGTH).
    """
    given = milestone
    milestone = check_version(Milestone, given.pk, expected_version, message=MILESTONE_STALE)
    milestone.done_on = on or timezone.localdate()
    milestone.done_by = by
    if note is not None:
        # Checked on a note given only: a call that keeps the note (the admin's date
        # column) must not fail on one saved before the limit existed.
        if len(note.strip()) > MILESTONE_NOTE_MAX_LENGTH:
            raise ValidationError(
                {
                    "note": ValidationError(
                        _("Keep the note to %(limit)s characters; it has %(count)s."),
                        code="max_length",
                        params={
                            "limit": f"{MILESTONE_NOTE_MAX_LENGTH:,}",
                            "count": f"{len(note.strip()):,}",
                        },
                    )
                }
            )
        milestone.note = note.strip()
    milestone.full_clean()
    milestone._history_user = by
    milestone.save(update_fields=["done_on", "done_by", "note"])
    _refresh_from(given, milestone)
    return given


# Why a milestone form opened before someone else's save is refused.
MILESTONE_STALE = _(
    "Someone else saved this milestone while your page was open; nothing of yours was "
    "saved. It is shown below as saved now, beside what you entered."
)


@transaction.atomic
def reopen_milestone(milestone: Milestone, *, by, expected_version: int | None = None) -> Milestone:
    """Mark a done milestone as not done again (its history keeps who had ticked it).

    The note stays: it is what was decided, and ticking off again offers it for editing.
    `expected_version` as for complete_milestone (StaleEditError when saved since).
    """
    current = check_version(Milestone, milestone.pk, expected_version, message=MILESTONE_STALE)
    current.done_on = None
    current.done_by = None
    current._history_user = by
    current.save(update_fields=["done_on", "done_by"])
    _refresh_from(milestone, current)
    return milestone


def _moment(day: dt.date) -> dt.datetime:
    """A time on `day` for its history record: now if `day` is today, else midday then."""
    if day >= timezone.localdate():
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _enter_queue(alignment: Alignment, at=None) -> None:
    alignment.review_state = ReviewState.NEEDS_REVIEW
    alignment.reviewed_by = None
    alignment.reviewed_at = None
    alignment.queued_at = at or timezone.now()


@transaction.atomic
def state_alignment(
    member, tendency: Tendency, level: str, *, by, on=None, at: dt.datetime | None = None
) -> Alignment:
    """Record the level a person states toward a tendency.

    A new or changed level goes (back) into that tendency's review queue; restating the
    same level changes nothing. `on` is the date stated (the date of `at`, or today, by
    default); `at` is when it entered the queue (now by default; the seeder passes past
    times). Raises ValidationError on `level` (not a level) or `stated_on` (in the future,
    or, for a changed level, earlier than the date of the level it would replace: an
    older statement must not become the current level).
    """
    if level not in AlignmentLevel.values:
        raise ValidationError({"level": _("Choose one of the alignment levels.")})
    alignment = (
        Alignment.objects.select_for_update().filter(member=member, tendency=tendency).first()
    )
    stated_on = on or timezone.localdate(at)
    if alignment is not None and alignment.level == level:
        return alignment
    if alignment is not None and alignment.stated_on and stated_on < alignment.stated_on:
        raise ValidationError(
            {
                "stated_on": ValidationError(
                    _(
                        "The current level (%(level)s) was stated on %(date)s; a level stated "
                        "earlier than that cannot replace it. Give that date or a later one."
                    ),
                    code="earlier",
                    params={
                        "level": alignment.get_level_display(),
                        "date": sentence_date(alignment.stated_on),
                    },
                )
            }
        )
    if alignment is None:
        alignment = Alignment(member=member, tendency=tendency)
    else:
        alignment.version += 1
    alignment.level = level
    alignment.stated_on = stated_on
    _enter_queue(alignment, at)
    alignment.full_clean()
    alignment._history_user = by
    if at is not None:
        alignment._history_date = at  # the level's history shows when it was stated
    alignment.save()
    return alignment


class AlreadyReviewed(ValidationError):
    """Someone (or the reviewer in another tab) reviewed or restated the alignment since
    the reviewer's page opened. `current` is the alignment as it now is (or None)."""

    current = None


@transaction.atomic
def review_alignment(
    alignment: Alignment,
    *,
    by,
    level: str | None = None,
    note: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> Alignment:
    """A lead of the tendency confirms (or adjusts to `level`) and marks it reviewed.

    One step: the level, the review and the optional private note are saved together or
    not at all. `expected_version` is the alignment's `version` when the lead's page
    opened: if it has changed since (another lead just reviewed it, or a new level was
    stated), AlreadyReviewed (a ValidationError on `level`) is raised and nothing is
    written. Who may review is the caller's check (sos_tracker.permissions).
    """
    # Lock the alignment row only: PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join to the reviewer.
    current = (
        Alignment.objects.select_for_update(of=("self",))
        .select_related("reviewed_by")
        .get(pk=alignment.pk)
    )
    if expected_version is not None and current.version != expected_version:
        if current.review_state == ReviewState.REVIEWED and current.reviewed_by_id == getattr(
            by, "pk", None
        ):
            # The same lead, from a second tab or a resubmitted page: not a colleague.
            message = _(
                "You reviewed this alignment in another tab a moment ago (%(level)s); "
                "this save was not recorded."
            ) % {"level": current.get_level_display()}
        elif current.review_state == ReviewState.REVIEWED and current.reviewed_by:
            who = current.reviewed_by.get_full_name() or current.reviewed_by.get_username()
            message = _(
                "%(who)s reviewed this alignment a moment ago (%(level)s); "
                "nothing of yours was saved."
            ) % {"who": who, "level": current.get_level_display()}
        else:
            message = _(
                "This alignment changed since you opened it (now %(level)s); "
                "nothing of yours was saved."
            ) % {"level": current.get_level_display()}
        error = AlreadyReviewed({"level": message})
        error.current = current
        raise error
    if level is not None:
        if level not in AlignmentLevel.values:
            raise ValidationError({"level": _("Choose one of the alignment levels.")})
        current.level = level
    current.review_state = ReviewState.REVIEWED
    current.reviewed_by = by
    current.reviewed_at = at or timezone.now()
    current.version += 1
    current._history_user = by
    if at is not None:
        current._history_date = at  # the history shows when the review happened
    current.save(update_fields=["level", "review_state", "reviewed_by", "reviewed_at", "version"])
    if note.strip():
        add_review_note(current, by=by, body=note, at=at)
    _refresh_from(alignment, current)
    return current


@transaction.atomic
def reopen_review(alignment: Alignment, *, by) -> Alignment:
    """Put a reviewed alignment back in its tendency's queue (the admin's "needs review").

    Reads the saved row under a lock: a version counted from a stale copy could go back
    to one a reviewer's page still holds, and that review would then pass.
    """
    current = Alignment.objects.select_for_update().get(pk=alignment.pk)
    _enter_queue(current)
    current.version += 1
    current._history_user = by
    current.save(
        update_fields=["review_state", "reviewed_by", "reviewed_at", "queued_at", "version"]
    )
    _refresh_from(alignment, current)
    return current


def add_review_note(alignment: Alignment, *, by, body: str, at=None) -> ReviewNote:
    """A private note of `by` on `alignment`, readable by that tendency's leads only.

    Raises ValidationError on `body` when it is blank.
    """
    note = ReviewNote(
        alignment=alignment, author=by, body=(body or "").strip(), created_at=at or timezone.now()
    )
    note.full_clean()
    note.save()
    return note


def _refuse_self_follow_up(member, point_person) -> None:
    """Raise ValidationError on `point_person` when it is the invited `member` themselves."""
    if point_person is not None and member is not None and point_person.pk == member.pk:
        raise ValidationError(
            {"point_person": _("The point person cannot be the invited person themselves.")},
            code="self",
        )


@transaction.atomic
def invite_to_core(
    core: CoreGroup,
    member,
    *,
    by,
    point_person=None,
    next_step_on: dt.date | None = None,
    note: str = "",
    on: dt.date | None = None,
) -> Invitation:
    """Start following `member` as identified by `core`, optionally with a point person.

    Raises ValidationError on `member` (the core already invited them, or they are
    already one of its members), `point_person` (not a member of the core, or the invited
    person themselves) or a date field.
    """
    # A member of the core is not a prospect of it: inviting them would count them twice
    # in its funnel and let them follow themselves up.
    if member.pk and core.members.filter(pk=member.pk).exists():
        raise ValidationError(
            {
                "member": ValidationError(
                    _("%(person)s is already a member of this core."),
                    code="core_member",
                    params={"person": member},
                )
            },
            code="core_member",
        )
    _refuse_self_follow_up(member, point_person)
    today = on or timezone.localdate()
    invitation = Invitation(
        core=core,
        member=member,
        stage=InvitationStage.IDENTIFIED,
        invited_by=by,
        point_person=point_person,
        next_step_on=next_step_on,
        note=(note or "").strip(),
        identified_on=today,
        moved_on=today,
    )
    invitation.full_clean()
    invitation._history_user = by
    invitation._history_date = _moment(today)  # a back-dated entry shows its own day
    invitation.save()
    return invitation


def allowed_moves(stage: str) -> list[InvitationStage]:
    """The stages an invitation in `stage` may move to.

    Open stages move to any other stage, back or forward (a correction); joined the
    process and declined are where an invitation ends, so nothing moves from them.
    """
    if stage not in OPEN_STAGES:
        return []
    return [choice for choice in InvitationStage if choice != stage]


@transaction.atomic
def move_invitation(
    invitation: Invitation,
    stage: str,
    *,
    by,
    on: dt.date | None = None,
    reason: str = "",
    expected_stage: str | None = None,
) -> Invitation:
    """Move an invitation to `stage`, stamping that stage's date (`on`, today by default).

    Each stage's date is kept when the invitation moves on; moving back to "identified"
    keeps the day the person was identified unless `on` is given. `reason` is kept as why a
    person declined. `expected_stage` is the stage the person saw: a move made on a stale
    page is refused. Raises ValidationError on `stage` (unknown, the same, a move out of
    joined or declined, or a stale page) and on a date field.
    """
    if stage not in InvitationStage.values:
        raise ValidationError({"stage": _("Choose one of the invitation stages.")})
    stage = InvitationStage(stage)
    current = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if expected_stage is not None and current.stage != expected_stage:
        raise ValidationError(
            {
                "stage": ValidationError(
                    _("Someone moved this invitation meanwhile: it is now “%(stage)s”."),
                    code="stale",
                    params={"stage": current.get_stage_display()},
                )
            }
        )
    if stage == current.stage:
        raise ValidationError(
            {
                "stage": ValidationError(
                    _("The invitation is already “%(stage)s”."),
                    code="same",
                    params={"stage": stage.label},
                )
            }
        )
    if stage not in allowed_moves(current.stage):
        raise ValidationError(
            {
                "stage": ValidationError(
                    _(
                        "“%(stage)s” is where this invitation ends; "
                        "it cannot move to another stage."
                    ),
                    code="ended",
                    params={"stage": current.get_stage_display()},
                )
            }
        )
    day = on or timezone.localdate()
    current.stage = stage
    if stage != InvitationStage.IDENTIFIED or on is not None:
        # Going back to "identified" (a correction) keeps the day they were identified,
        # which every later stage's date is checked against, unless a day is given.
        setattr(current, STAGE_DATE_FIELDS[stage], day)
    current.moved_on = day
    if stage == InvitationStage.DECLINED:
        current.declined_reason = (reason or "").strip()
    current.full_clean()
    current._history_user = by
    current._history_date = _moment(day)  # a back-dated move shows its own day
    current.save()
    _refresh_from(invitation, current)
    return current


@transaction.atomic
def update_follow_up(
    invitation: Invitation,
    *,
    by,
    point_person=None,
    next_step_on: dt.date | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Invitation:
    """Change who follows up an invitation, when, and its note; the stage stays.

    `expected_version` is the invitation's version when the person's page opened: saved
    since (moved, followed up by someone else), sos_tracker.versioning.StaleEditError is
    raised and nothing written. Raises ValidationError on `point_person` (not a member of
    the core, or the invited person themselves) or `next_step_on`.
    """
    check_version(
        Invitation,
        invitation.pk,
        expected_version,
        message=_(
            "Someone else saved this invitation while your page was open; nothing of "
            "yours was saved. Theirs is shown beside yours; check and save again."
        ),
    )
    _refuse_self_follow_up(invitation.member, point_person)
    invitation.point_person = point_person
    invitation.next_step_on = next_step_on
    if note is not None:
        invitation.note = note.strip()
    invitation.full_clean()
    invitation._history_user = by
    invitation.save(update_fields=["point_person", "next_step_on", "note"])
    return invitation
