"""The cores' part of a person's page: alignments, private notes, invitations.

members never imports cores, so its person page asks for this part by template tag:
`{% load cores_person %}{% person_cores member %}`. The tag reads everything it shows in
a fixed number of queries, whatever the number of people, alignments or notes, and
decides who sees what with sos_tracker.permissions (never in the template):

- alignments (tendency, level, date stated, review state) are shown to everyone;
- a tendency's private review notes only to those who may review that tendency
  (its leads, superusers), and only through ReviewNote.objects.visible_to;
- invitations (core, stage and its date, point person) to everyone, with a link to the
  invitation page for those who may view invitations;
- "Record stated level" to those who may add and change alignments;
- the cores the person is a member of, to everyone;
- "Invite to <core>" for each core the user manages that has not invited the person and
  that the person is not a member of.
"""

from django import template
from django.utils import timezone

from cores.forms.alignments import StatedAlignmentForm
from cores.models import STAGE_DATE_FIELDS, Alignment, Invitation, ReviewNote, Tendency
from cores.views.invitations import managed_cores
from sos_tracker.permissions import can_review_tendency

register = template.Library()


@register.inclusion_tag("cores/_person_cores.html", takes_context=True)
def person_cores(context, member):
    """Render the Alignment and Invitations cards of `member` (a members.Member) for the
    request's user. Needs `request` in the context (the request context processor)."""
    user = context["request"].user
    alignments = list(
        Alignment.objects.filter(member=member)
        .select_related("tendency", "reviewed_by")
        .order_by("tendency__name", "pk")
    )
    reviewable = [a.pk for a in alignments if can_review_tendency(user, a.tendency_id)]
    notes_by_alignment = {pk: [] for pk in reviewable}
    if reviewable:
        notes = (
            ReviewNote.objects.visible_to(user)
            .filter(alignment__in=reviewable)
            .select_related("author")
            .order_by("created_at", "pk")
        )
        for note in notes:
            notes_by_alignment[note.alignment_id].append(note)
    for alignment in alignments:
        alignment.may_read_notes = alignment.pk in notes_by_alignment
        alignment.private_notes = notes_by_alignment.get(alignment.pk, [])

    invitations = list(
        Invitation.objects.filter(member=member)
        .select_related("core", "point_person")
        .order_by("core__name", "pk")
    )
    today = timezone.localdate()
    for invitation in invitations:
        invitation.stage_on = getattr(invitation, STAGE_DATE_FIELDS[invitation.stage])
        invitation.next_step_overdue = bool(
            invitation.is_open and invitation.next_step_on and invitation.next_step_on < today
        )

    can_state = user.has_perm("cores.add_alignment") and user.has_perm("cores.change_alignment")
    state_form = None
    if can_state:
        state_form = StatedAlignmentForm(tendencies=list(Tendency.objects.all()))
    member_of = list(member.cores.order_by("name", "pk"))
    invitable = []
    if user.has_perm("cores.add_invitation"):
        # A core does not invite its own members (services.invite_to_core refuses it).
        left_out = {invitation.core_id for invitation in invitations}
        left_out.update(core.pk for core in member_of)
        invitable = [core for core in managed_cores(user) if core.pk not in left_out]
    return {
        "member": member,
        "alignments": alignments,
        "invitations": invitations,
        "member_of": member_of,
        "state_form": state_form,
        "invitable": invitable,
        "may_view_invitations": user.has_perm("cores.view_invitation"),
        "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }
