"""Writes about cores, alignments and invitations: each one named, atomic and attributed."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cores.models import (
    DEFAULT_MILESTONES,
    STAGE_DATE_FIELDS,
    Alignment,
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
    return Milestone.objects.bulk_create(milestones)


@transaction.atomic
def create_core(*, name: str, slug: str, tendency: Tendency, leads=(), by=None) -> CoreGroup:
    core = CoreGroup(name=name, slug=slug, tendency=tendency)
    core.full_clean()
    core.save()
    core.leads.set(leads)
    add_default_milestones(core)
    return core


@transaction.atomic
def advance_phase(core: CoreGroup, *, by, reason: str, at=None) -> PhaseDecision:
    """Move `core` to its next phase, recording who decided, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the core is moving on."})
    core = CoreGroup.objects.select_for_update().get(pk=core.pk)
    next_phase = Phase.after(core.phase)
    if next_phase is None:
        raise ValidationError({"phase": "This core has launched; there is no later phase."})
    decision = PhaseDecision.objects.create(
        core=core,
        from_phase=core.phase,
        to_phase=next_phase,
        decided_by=by,
        decided_at=at or timezone.now(),
        reason=reason,
    )
    core.phase = next_phase
    core.save(update_fields=["phase"])
    return decision


@transaction.atomic
def complete_milestone(milestone: Milestone, *, by, on=None, note: str = "") -> Milestone:
    milestone.done_on = on or timezone.localdate()
    milestone.done_by = by
    if note:
        milestone.note = note
    milestone.full_clean()
    milestone.save(update_fields=["done_on", "done_by", "note"])
    return milestone


@transaction.atomic
def state_alignment(member, tendency: Tendency, level: str, *, by, on=None) -> Alignment:
    """Record the level a person states toward a tendency.

    A new or changed level goes (back) into that tendency's review queue; restating the
    same level changes nothing.
    """
    alignment = (
        Alignment.objects.select_for_update().filter(member=member, tendency=tendency).first()
    )
    if alignment is None:
        alignment = Alignment(member=member, tendency=tendency)
    elif alignment.level == level:
        return alignment
    alignment.level = level
    alignment.stated_on = on or timezone.localdate()
    alignment.review_state = ReviewState.NEEDS_REVIEW
    alignment.reviewed_by = None
    alignment.reviewed_at = None
    alignment.full_clean()
    alignment._history_user = by
    alignment.save()
    return alignment


@transaction.atomic
def review_alignment(alignment: Alignment, *, by, note: str = "", at=None) -> Alignment:
    """Mark an alignment reviewed by a lead of its tendency, with an optional private note."""
    alignment.review_state = ReviewState.REVIEWED
    alignment.reviewed_by = by
    alignment.reviewed_at = at or timezone.now()
    alignment._history_user = by
    alignment.save(update_fields=["review_state", "reviewed_by", "reviewed_at"])
    if note.strip():
        add_review_note(alignment, by=by, body=note, at=at)
    return alignment


def add_review_note(alignment: Alignment, *, by, body: str, at=None) -> ReviewNote:
    note = ReviewNote(
        alignment=alignment, author=by, body=body.strip(), created_at=at or timezone.now()
    )
    note.full_clean()
    note.save()
    return note


@transaction.atomic
def move_invitation(invitation: Invitation, stage: str, *, by, on=None) -> Invitation:
    """Move an invitation to `stage`, stamping that stage's date."""
    stage = InvitationStage(stage)
    invitation.stage = stage
    date_field = STAGE_DATE_FIELDS[stage]
    if getattr(invitation, date_field) is None or stage != InvitationStage.IDENTIFIED:
        setattr(invitation, date_field, on or timezone.localdate())
    invitation.full_clean()
    invitation._history_user = by
    invitation.save()
    return invitation
