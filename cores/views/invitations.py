"""A core's invitations: the list, inviting someone (found or new), and one invitation's page.

Everyone with `cores.view_invitation` reads a core's invitations; only those who manage
the core (its leads, superusers: sos_tracker.permissions.can_manage_core) invite, move
and follow up. A write by anyone else is refused: 403 without the role's permission,
404 for a core they do not lead.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Subquery, Value, When
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cores import services
from cores.forms.invitations import (
    FollowUpForm,
    InvitationFilterForm,
    InviteForm,
    MoveForm,
    PersonSearchForm,
)
from cores.models import (
    FUNNEL_STAGES,
    OPEN_STAGES,
    STAGE_DATE_FIELDS,
    CoreGroup,
    Invitation,
    InvitationStage,
    stalled_after,
)
from members.duplicates import find_duplicates
from members.forms import PersonForm
from members.models import Member, MemberStatus
from members.paging import countless_page
from members.services import create_member
from members.timeline import TimelineEntry, display_user, field_changes
from sos_tracker import kept_forms
from sos_tracker.permissions import can_manage_core
from sos_tracker.versioning import StaleEditError

PAGE_SIZE = 50
SEARCH_LIMIT = 20


# --- reads -------------------------------------------------------------------------------


def managed_cores(user):
    """The cores `user` may invite into and work the invitations of, by name.

    All cores for a superuser; the cores they lead for a user whose role may change
    cores (the leads); none for anyone else. A QuerySet, not yet read.
    """
    if not (user.is_authenticated and user.is_active):
        return CoreGroup.objects.none()
    if user.is_superuser:
        return CoreGroup.objects.order_by("name")
    if not user.has_perm("cores.change_coregroup"):
        return CoreGroup.objects.none()
    return CoreGroup.objects.led_by(user).order_by("name")


def also_in_conversation():
    """An annotation: True when this invitation is in conversation and so is another core's.

    Says only that: the other core's name, stage dates and notes stay on its own pages.
    """
    other = Invitation.objects.filter(
        member=OuterRef("member"), stage=InvitationStage.IN_CONVERSATION
    ).exclude(core=OuterRef("core"))
    return Case(
        When(Q(stage=InvitationStage.IN_CONVERSATION) & Exists(other), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def mark_also_in_conversation(core: CoreGroup, invitations: list[Invitation]) -> None:
    """Set `also_in_conversation` on each of `invitations` (the core's, already read).

    The same rule as also_in_conversation(), for the rows of one page only: one query,
    and none when no row is in conversation. A per-row subquery in the list's query ran
    for every invitation of the core before the page was cut (about 5,000 at 100,000
    people). Says nothing of which core, nor anything else of it.
    """
    talking = {
        invitation.member_id
        for invitation in invitations
        if invitation.stage == InvitationStage.IN_CONVERSATION
    }
    elsewhere = set()
    if talking:
        elsewhere = set(
            Invitation.objects.filter(member_id__in=talking, stage=InvitationStage.IN_CONVERSATION)
            .exclude(core=core)
            .values_list("member_id", flat=True)
        )
    for invitation in invitations:
        invitation.also_in_conversation = (
            invitation.stage == InvitationStage.IN_CONVERSATION
            and invitation.member_id in elsewhere
        )


def stage_counts(core: CoreGroup, *, today=None) -> dict:
    """How many of the core's invitations are at each stage, and how many are stalled.

    One grouped query. Returns {"by_stage": {stage value: count}, "stalled": n, "total": n}.
    """
    cutoff = (today or timezone.localdate()) - stalled_after()
    rows = core.invitations.values("stage").annotate(
        n=Count("pk"),
        stalled=Count("pk", filter=Q(stage__in=OPEN_STAGES, moved_on__lt=cutoff)),
    )
    by_stage = dict.fromkeys(InvitationStage.values, 0)
    stalled = 0
    for row in rows.order_by():
        by_stage[row["stage"]] = row["n"]
        stalled += row["stalled"]
    return {"by_stage": by_stage, "stalled": stalled, "total": sum(by_stage.values())}


@dataclass
class StageStep:
    label: str
    value: str
    on: object  # the date it reached this stage, or None
    current: bool


def stage_steps(invitation: Invitation) -> list[StageStep]:
    """The funnel's stages and declined, each with the date this invitation reached it."""
    return [
        StageStep(
            label=stage.label,
            value=stage.value,
            on=getattr(invitation, STAGE_DATE_FIELDS[stage]),
            current=invitation.stage == stage,
        )
        for stage in (*FUNNEL_STAGES, InvitationStage.DECLINED)
    ]


# The fields an invitation's history shows, in order; the note and the reason for
# declining only to those who manage the core.
HISTORY_FIELDS = ("stage", "point_person", "next_step_on", *STAGE_DATE_FIELDS.values())
PRIVATE_HISTORY_FIELDS = ("declined_reason", "note")


def invitation_history(invitation: Invitation, *, private: bool) -> list[TimelineEntry]:
    """Who changed what on `invitation`, newest first. Two queries whatever its length.

    `private`: include changes to the core's note and the reason for declining.
    """
    records = list(
        invitation.history.select_related("history_user").order_by("history_date", "history_id")
    )
    names = dict(
        Member.objects.filter(
            pk__in={r.point_person_id for r in records if r.point_person_id}
        ).values_list("pk", "name")
    )
    fields = HISTORY_FIELDS + (PRIVATE_HISTORY_FIELDS if private else ())
    entries = []
    previous = None
    for record in records:
        entry = TimelineEntry(
            when=record.history_date,
            who=display_user(record.history_user),
            action={
                "+": _("started following this person"),
                "~": _("changed"),
                "-": _("deleted"),
            }[record.history_type],
        )
        if previous is not None:
            entry.changes = list(
                field_changes(Invitation, previous, record, fields, names, unknown="person #{}")
            )
            if not entry.changes and record.history_type == "~":
                previous = record
                continue  # nothing this reader may see changed
        previous = record
        entries.append(entry)
    entries.reverse()
    return entries


# --- access ------------------------------------------------------------------------------


def _load_core(slug: str) -> CoreGroup:
    return get_object_or_404(CoreGroup.objects.select_related("tendency"), slug=slug)


def _require_manager(user, core: CoreGroup, permission: str) -> None:
    """403 without the role's `permission`; 404 for a core `user` does not manage."""
    if not user.has_perm(permission):
        raise PermissionDenied
    if not can_manage_core(user, core.pk):
        raise Http404("No such core among the ones you lead.")


def _person_name(member: Member) -> str:
    return member.preferred_name or member.name


# --- pages -------------------------------------------------------------------------------


@permission_required("cores.view_invitation", raise_exception=True)
def invitation_list(request, slug):
    """The core's invitations, most recently moved first, 50 a page.

    `?stage=<stage>` keeps one stage; `?stalled=1` only open invitations that have not
    moved for INVITATION_STALLED_AFTER_DAYS days (oldest move first). Each row says
    whether it is stalled and whether another core is in conversation with the person.
    """
    core = _load_core(slug)
    filters = InvitationFilterForm(request.GET)
    invitations = core.invitations.select_related("member", "point_person")
    stalled_only = False
    if filters.is_valid():
        if filters.cleaned_data["stage"]:
            invitations = invitations.filter(stage=filters.cleaned_data["stage"])
        stalled_only = filters.cleaned_data["stalled"]
    else:
        invitations = invitations.none()
    if stalled_only:
        invitations = invitations.stalled().order_by("moved_on", "pk")
    else:
        invitations = invitations.order_by("-moved_on", "-pk")
    # Both orders are served by an index on (core, moved_on, id): the page reads its 51
    # rows off the index instead of sorting all of a core's invitations (thousands).
    page = countless_page(invitations, request, size=PAGE_SIZE)
    mark_also_in_conversation(core, page.rows)
    counts = stage_counts(core)
    return render(
        request,
        "cores/invitation_list.html",
        {
            "core": core,
            "filters": filters,
            "invitations": page.rows,
            "page": page,
            "counts": counts,
            "stage_tabs": [
                (stage, counts["by_stage"][stage.value])
                for stage in (*FUNNEL_STAGES, InvitationStage.DECLINED)
            ],
            "stalled_days": stalled_after().days,
            "today": timezone.localdate(),
            "can_manage": can_manage_core(request.user, core.pk)
            and request.user.has_perm("cores.add_invitation"),
            "query_string": urlencode(
                [(k, v) for k, values in request.GET.lists() for v in values if k != "page"]
            ),
        },
    )


def _follow_up_side_by_side(current: Invitation, typed: dict) -> list[dict]:
    """The follow-up as saved now beside what was typed, for a refused stale save."""
    rows = [
        (_("Point person"), current.point_person, typed.get("point_person")),
        (_("Next step on"), current.next_step_on, typed.get("next_step_on")),
        (_("Note for the core"), current.note, typed.get("note")),
    ]
    return [
        {"label": label, "saved": saved or "", "yours": yours or "", "differs": saved != yours}
        for label, saved, yours in rows
    ]


@permission_required("cores.view_invitation", raise_exception=True)
def invitation_detail(request, slug, pk):
    """One invitation: its stages with their dates, moves, follow-up and history.

    POST `action=move` (stage, on, reason, expected_stage) calls services.move_invitation;
    `action=follow_up` (point_person, next_step_on, note) calls services.update_follow_up.
    A refused move or follow-up comes back with the error on its field and the input kept.
    """
    core = _load_core(slug)
    invitation = get_object_or_404(
        core.invitations.select_related("member", "point_person", "invited_by").annotate(
            also_in_conversation=also_in_conversation()
        ),
        pk=pk,
    )
    can_manage = can_manage_core(request.user, core.pk) and request.user.has_perm(
        "cores.change_invitation"
    )
    move_form = MoveForm(invitation=invitation) if can_manage else None
    follow_up_form = FollowUpForm(core=core, invitation=invitation) if can_manage else None
    if can_manage:
        kept_forms.refill(request, move_form, action="move")
        kept_forms.refill(request, follow_up_form, action="follow_up")
    stale_rows = []
    if request.method == "POST":
        _require_manager(request.user, core, "cores.change_invitation")
        action = request.POST.get("action")
        if action == "move":
            move_form = MoveForm(request.POST, invitation=invitation)
            if move_form.is_valid():
                data = move_form.cleaned_data
                try:
                    services.move_invitation(
                        invitation,
                        data["stage"],
                        by=request.user,
                        on=data["on"],
                        reason=data["reason"],
                        expected_stage=data["expected_stage"],
                    )
                except ValidationError as error:
                    move_form.errors_from(error)
                    # The page now shows the current stage: a second try is judged on it.
                    move_form.data = move_form.data.copy()
                    move_form.data["expected_stage"] = invitation.stage
                else:
                    messages.success(
                        request,
                        _("%(person)s is now “%(stage)s” for %(core)s.")
                        % {
                            "person": _person_name(invitation.member),
                            "stage": invitation.get_stage_display(),
                            "core": core,
                        },
                    )
                    return redirect("cores:invitation_detail", core.slug, invitation.pk)
        elif action == "follow_up":
            follow_up_form = FollowUpForm(request.POST, core=core, invitation=invitation)
            if follow_up_form.is_valid():
                data = follow_up_form.cleaned_data
                try:
                    services.update_follow_up(
                        invitation,
                        by=request.user,
                        point_person=data["point_person"],
                        next_step_on=data["next_step_on"],
                        note=data["note"],
                        expected_version=data["version"],
                    )
                except StaleEditError as error:
                    follow_up_form.errors_from(error)
                    invitation.refresh_from_db()
                    stale_rows = _follow_up_side_by_side(error.current, data)
                    # The page now stands on the saved invitation: saving again is judged
                    # on it, and what was typed stays in the form.
                    follow_up_form.data = follow_up_form.data.copy()
                    follow_up_form.data["version"] = error.current.version
                except ValidationError as error:
                    follow_up_form.errors_from(error)
                    invitation.refresh_from_db()  # the form's values stay; the facts don't
                else:
                    messages.success(request, _("Saved the follow-up."))
                    return redirect("cores:invitation_detail", core.slug, invitation.pk)
        else:
            return HttpResponseBadRequest("Unknown action.", content_type="text/plain")
    return render(
        request,
        "cores/invitation_detail.html",
        {
            "core": core,
            "invitation": invitation,
            "steps": stage_steps(invitation),
            "can_manage": can_manage,
            "move_form": move_form,
            "follow_up_form": follow_up_form,
            "stale_rows": stale_rows,
            "history": invitation_history(invitation, private=can_manage),
            "today": timezone.localdate(),
            "stalled_days": stalled_after().days,
        },
    )


@permission_required("cores.add_invitation", raise_exception=True)
def invitation_add(request, slug):
    """Invite into the core someone already here (search) or a new prospect (quick add).

    GET `?q=` searches people (Member.objects.search), best matches first, each marked
    if this core invited them already. POST `action=invite` with `member` invites that
    person; POST `action=add` with the quick-add fields shows likely duplicates first
    (as People → Add does), then creates the person and invites them in one transaction.
    """
    core = _load_core(slug)
    _require_manager(request.user, core, "cores.add_invitation")
    search = PersonSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    action = request.POST.get("action") if request.method == "POST" else None
    if action not in (None, "invite", "add"):
        return HttpResponseBadRequest("Unknown action.", content_type="text/plain")

    if action == "invite":
        invite = InviteForm(request.POST)
        if not invite.is_valid():
            # Only a tampered or stale button gets here: the page offers real ids only.
            return HttpResponseBadRequest(
                " ".join(invite.errors["member"]), content_type="text/plain"
            )
        return _invite_and_redirect(request, core, invite.cleaned_data["member"])

    matches = []
    if query:
        matches = list(
            Member.objects.search(query, typed=True).annotate(
                invitation_here=Subquery(
                    core.invitations.filter(member=OuterRef("pk")).values("pk")[:1]
                ),
                # The core's own members are not invited to it: shown as "in the core".
                in_core=Exists(
                    CoreGroup.members.through.objects.filter(
                        coregroup_id=core.pk, member_id=OuterRef("pk")
                    )
                ),
            )[:SEARCH_LIMIT]
        )
    initial = {"status": MemberStatus.PROSPECT}
    if query and not matches:
        initial["name"] = query  # nobody found: they are likely adding that very name
    person_form = PersonForm(
        request.POST if action == "add" else None,
        quick=True,
        initial=initial,
        viewer=request.user,
    )
    kept_forms.refill(request, person_form, action="add")
    if action != "add":
        # The search box comes first on this page; the quick-add name waits its turn.
        person_form.fields["name"].widget.attrs.pop("autofocus", None)
    duplicates = []
    valid = False
    if action == "add":
        # Every hard stop of the save is a form error (PersonForm.can_be_saved), a taken
        # email among them: "add anyway" is offered only when it would work.
        valid = person_form.can_be_saved()
        found = find_duplicates(**person_form.contact_details())
        # A household sharing a phone under another name is two people: never stopped for.
        duplicates = [match for match in found if not match.only_shares_a_phone]
        confirmed = request.POST.get("confirm_different") == "yes"
        if valid and (not duplicates or confirmed):
            try:
                with transaction.atomic():
                    member = create_member(
                        by=request.user,
                        confirmed_different_from=[match.member for match in duplicates],
                        shares_phone_with=[m.member for m in found if m.only_shares_a_phone],
                        **person_form.person_fields(),
                    )
                    invitation = services.invite_to_core(core, member, by=request.user)
            except ValidationError as error:
                person_form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Added %(person)s and started following them for %(core)s: "
                        "choose a point person and a next step here."
                    )
                    % {"person": member, "core": core},
                )
                return redirect("cores:invitation_detail", core.slug, invitation.pk)

    return render(
        request,
        "cores/invitation_add.html",
        {
            "core": core,
            "can_add_anyway": valid,
            "search": search,
            "query": query,
            "matches": matches,
            "search_limit": SEARCH_LIMIT,
            "form": person_form,
            "duplicates": duplicates,
            "invited": _invitations_of(core, [match.member for match in duplicates]),
            "in_core": set(
                core.members.filter(pk__in=[match.member.pk for match in duplicates]).values_list(
                    "pk", flat=True
                )
            )
            if duplicates
            else set(),
        },
    )


def _invitations_of(core: CoreGroup, people) -> dict[int, int]:
    """{member id: invitation id} for those of `people` the core already follows."""
    if not people:
        return {}
    return dict(core.invitations.filter(member__in=people).values_list("member_id", "pk"))


def _invite_and_redirect(request, core: CoreGroup, member: Member):
    existing = core.invitations.filter(member=member).first()
    if existing is not None:
        messages.info(
            request,
            _("%(core)s already follows %(person)s; here is that invitation.")
            % {"core": core, "person": member},
        )
        return redirect("cores:invitation_detail", core.slug, existing.pk)
    try:
        invitation = services.invite_to_core(core, member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("cores:invitation_add", core.slug)
    messages.success(
        request,
        _("%(person)s is now identified by %(core)s: choose a point person and a next step here.")
        % {"person": member, "core": core},
    )
    return redirect("cores:invitation_detail", core.slug, invitation.pk)


@permission_required("cores.add_invitation", raise_exception=True)
def invite_person(request, pk):
    """“Invite to <core>” from the person page: one of the cores the user manages.

    `?core=<slug>` (POST: `core`) picks the core; without it, the page lists the user's
    cores that have not invited the person yet (or goes straight on when there is one).
    POST takes the follow-up fields (point person, next step, note) and calls
    services.invite_to_core; a core that already follows the person sends the user to
    that invitation. 404 for a person who does not exist or a core the user does not lead.
    """
    member = get_object_or_404(Member, pk=pk)
    cores = list(managed_cores(request.user))
    invited = dict(
        Invitation.objects.filter(member=member, core__in=cores).values_list("core_id", "pk")
    )
    slug = request.POST.get("core") if request.method == "POST" else request.GET.get("core")
    if not slug and (kept := kept_forms.kept_data(request)):
        slug = kept.get("core")  # back from signing in: the core the form was sent for
    member_of = set(
        CoreGroup.members.through.objects.filter(member=member, coregroup__in=cores).values_list(
            "coregroup_id", flat=True
        )
    )
    # A core the person is a member of does not invite them (services.invite_to_core).
    open_cores = [core for core in cores if core.pk not in invited and core.pk not in member_of]
    if not slug and len(open_cores) == 1:
        slug = open_cores[0].slug
    if not slug:
        return render(
            request,
            "cores/invitation_invite.html",
            {"member": member, "core": None, "open_cores": open_cores, "cores": cores},
        )
    core = next((core for core in cores if core.slug == slug), None)
    if core is None:
        raise Http404("No such core among the ones you lead.")
    if core.pk in invited:
        messages.info(
            request,
            _("%(core)s already follows %(person)s; here is that invitation.")
            % {"core": core, "person": member},
        )
        return redirect("cores:invitation_detail", core.slug, invited[core.pk])
    if core.pk in member_of:
        messages.info(
            request,
            _("%(person)s is already a member of %(core)s.") % {"person": member, "core": core},
        )
        return redirect(member.get_absolute_url() + "#invitations")
    form = FollowUpForm(request.POST if request.method == "POST" else None, core=core)
    kept_forms.refill(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.invite_to_core(
                core,
                member,
                by=request.user,
                point_person=data["point_person"],
                next_step_on=data["next_step_on"],
                note=data["note"],
            )
        except ValidationError as error:
            form.errors_from(error)
        else:
            messages.success(
                request,
                _("%(person)s is now identified by %(core)s.") % {"person": member, "core": core},
            )
            return redirect(member.get_absolute_url() + "#invitations")
    return render(
        request,
        "cores/invitation_invite.html",
        {"member": member, "core": core, "form": form, "open_cores": open_cores},
    )
