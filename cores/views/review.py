"""A core's review queue: the list, one item at a time, review in one step, skip for now.

Only the core's leads with the review permission (and superusers) work a queue:
someone without the permission gets 403, a lead of another tendency 404 (the queue is
outside their scope). Alignments are always loaded through the core's tendency, so an
edited URL pointing at the other tendency's alignment answers 404 as well.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods

from audit import log as access_log
from audit import quotas
from audit.models import Action
from cores import services
from cores.forms.review import ReviewForm
from cores.models import (
    Alignment,
    AlignmentLevel,
    CoreGroup,
    ReviewNote,
    ReviewState,
    review_stale_after,
)
from members.charts import capacity_charts
from members.paging import countless_page
from sos_tracker import kept_forms
from sos_tracker.i18n import sentence_date
from sos_tracker.permissions import can_review_tendency

PAGE_SIZE = 25
# Skipped items are remembered per core for the session; a bound keeps the cookie small.
MAX_SKIPPED = 500
# Notes typed on skipped items are kept as drafts in the session, the newest 50 per core.
MAX_DRAFTS = 50


def _reviewable_core(request, slug: str) -> CoreGroup:
    """The core `slug` if `request.user` may work its queue.

    Raises PermissionDenied (403) without the review permission at all, Http404 for an
    unknown core or one of a tendency the user does not lead.
    """
    user = request.user
    if not (user.is_superuser or user.has_perm("cores.review_alignment")):
        raise PermissionDenied
    core = get_object_or_404(CoreGroup.objects.select_related("tendency"), slug=slug)
    if not can_review_tendency(user, core.tendency_id):
        raise Http404("No such review queue.")
    return core


def _skip_key(core: CoreGroup) -> str:
    return f"cores.review.skipped.{core.pk}"


def _skipped(request, core: CoreGroup) -> list[int]:
    """Ids of the alignments the lead skipped in this session, for this core."""
    return list(request.session.get(_skip_key(core), []))


def _set_skipped(request, core: CoreGroup, ids: list[int]) -> None:
    if ids:
        request.session[_skip_key(core)] = ids[-MAX_SKIPPED:]
    else:
        request.session.pop(_skip_key(core), None)


def _draft_key(core: CoreGroup) -> str:
    return f"cores.review.drafts.{core.pk}"


def _draft(request, core: CoreGroup, pk: int) -> dict | None:
    """The level and note the lead left on item `pk` when skipping it, or None.

    {"level": an AlignmentLevel value, "note": str}, kept in the session per core.
    """
    return request.session.get(_draft_key(core), {}).get(str(pk))


def _set_draft(request, core: CoreGroup, pk: int, draft: dict | None) -> None:
    """Keep (or with None, forget) the lead's unsaved level and note for item `pk`."""
    drafts = dict(request.session.get(_draft_key(core), {}))
    if draft is None:
        if str(pk) not in drafts:
            return
        drafts.pop(str(pk))
    else:
        drafts.pop(str(pk), None)  # re-inserted last: the newest survive the bound
        drafts[str(pk)] = draft
    if drafts:
        request.session[_draft_key(core)] = dict(list(drafts.items())[-MAX_DRAFTS:])
    else:
        request.session.pop(_draft_key(core), None)


def _item_url(core: CoreGroup, pk: int) -> str:
    return reverse("cores:review_item", args=[core.slug, pk])


def _next_item_pk(core: CoreGroup, *, skipped: list[int], after: Alignment | None = None):
    """The id of the item to show after `after`, or None when nothing is left to work.

    The next one in queue order (oldest waiting first, then id) not skipped in this
    session; when there is none after it, the first one not skipped from the start (an
    item that turned stale meanwhile may wait from earlier). `after` is a queue row
    (with `waiting_since`), read before it was reviewed, or None to start from the top.
    One query, or two when the end of the queue is reached.
    """
    queue = Alignment.objects
    if after is not None:
        pk = queue.next_waiting_pk(
            core.tendency_id, after=(after.waiting_since, after.pk), exclude=skipped
        )
        if pk is not None:
            return pk
        skipped = [*skipped, after.pk]
    return queue.next_waiting_pk(core.tendency_id, exclude=skipped)


def _queue_totals(core: CoreGroup) -> dict:
    """{"size": waiting items, "stale": those of them whose review went stale}."""
    needs, stale = Alignment.objects.queue_counts([core.tendency_id])[core.tendency_id]
    return {"size": needs + stale, "stale": stale}


def _go_on(request, core: CoreGroup, *, after=None) -> HttpResponseRedirect:
    """Redirect to the next item, or back to the queue saying it is done."""
    skipped = _skipped(request, core)
    pk = _next_item_pk(core, skipped=skipped, after=after)
    if pk is not None:
        return redirect(_item_url(core, pk))
    if skipped:
        messages.info(
            request,
            ngettext(
                "Queue done, apart from %(count)d skipped for now. Clear the skips to see "
                "it again.",
                "Queue done, apart from %(count)d skipped for now. Clear the skips to see "
                "them again.",
                len(skipped),
            )
            % {"count": len(skipped)},
        )
    else:
        messages.success(request, _("Queue done: nothing else is waiting for review."))
    return redirect("cores:review_queue", slug=core.slug)


class _WaitingRows:
    """The review queue of a tendency as countless_page slices it: `rows[a:b]`."""

    def __init__(self, tendency_id: int):
        self.tendency_id = tendency_id

    def __getitem__(self, bounds: slice) -> list[Alignment]:
        return Alignment.objects.waiting_page(
            self.tendency_id, offset=bounds.start, limit=bounds.stop - bounds.start
        )


@require_http_methods(["GET", "POST"])
def review_queue(request, slug):
    """The queue of a core: its size, the items oldest waiting first, a start button.

    GET shows it (`?page=N`, pages of PAGE_SIZE read without counting past the page);
    POST with `clear_skips` forgets the items skipped in this session.
    """
    core = _reviewable_core(request, slug)
    if request.method == "POST":
        if "clear_skips" in request.POST:
            _set_skipped(request, core, [])
            messages.success(request, _("Skipped items are back in the queue."))
        return redirect("cores:review_queue", slug=core.slug)

    skipped = _skipped(request, core)
    if skipped:
        # Items reviewed since (by a colleague, or restated and reviewed) are no longer
        # skipped: they left the queue. One query, only when something was skipped.
        waiting = set(
            Alignment.objects.review_queue(core.tendency)
            .filter(pk__in=skipped)
            .values_list("pk", flat=True)
        )
        if len(waiting) != len(skipped):
            skipped = [pk for pk in skipped if pk in waiting]
            _set_skipped(request, core, skipped)
    # The queue's size and stale share in one query of two index-range counts; the list
    # pages by reading one row more than it shows, from the queue's two slices.
    totals = _queue_totals(core)
    page = countless_page(_WaitingRows(core.tendency_id), request, size=PAGE_SIZE)
    # A page of the queue lists people by name, as a search page does: logged the same way.
    access_log.record(
        request.user, Action.LIST, people=[row.member_id for row in page.rows], request=request
    )
    return render(
        request,
        "cores/review_queue.html",
        {
            "core": core,
            "totals": totals,
            "page": page,
            "skipped": set(skipped),
            "skipped_count": len(skipped),
            "start_pk": _next_item_pk(core, skipped=skipped),
            "stale_after_days": review_stale_after().days,
        },
    )


@dataclass
class LevelEvent:
    """One line of an alignment's history: a level stated or changed, a review, a requeue."""

    when: object
    who: str
    event: str
    level: str
    level_label: str
    detail: str = ""


def alignment_history(alignment: Alignment) -> list[LevelEvent]:
    """The alignment's levels and reviews, newest first, from its change history.

    One query whatever the length. Saves that changed nothing a reader would see (such
    as a version bump alone) are left out.
    """
    records = list(
        alignment.history.select_related("history_user").order_by("history_date", "history_id")
    )
    labels = dict(AlignmentLevel.choices)
    events = []
    previous = None
    for record in records:
        name, detail = _level_event(previous, record, labels)
        if name:
            events.append(
                LevelEvent(
                    when=record.history_date,
                    who=_user_name(record.history_user),
                    event=name,
                    level=record.level,
                    level_label=labels.get(record.level, record.level),
                    detail=detail,
                )
            )
        previous = record
    events.reverse()
    return events


def _level_event(previous, record, labels) -> tuple[str, str]:
    """What one history record did, as (event, detail); ("", "") for nothing visible."""
    if previous is None:
        return pgettext("alignment history", "Stated"), ""
    level_changed = record.level != previous.level
    was = labels.get(previous.level, previous.level)
    if record.review_state == ReviewState.REVIEWED and (
        previous.review_state != ReviewState.REVIEWED or record.reviewed_at != previous.reviewed_at
    ):
        detail = _("adjusted from %(level)s") % {"level": was} if level_changed else _("confirmed")
        return pgettext("alignment history", "Reviewed"), detail
    if level_changed:
        return _("Level changed"), _("was %(level)s") % {"level": was}
    if (
        record.review_state == ReviewState.NEEDS_REVIEW
        and previous.review_state == ReviewState.REVIEWED
    ):
        return _("Back in the queue"), ""
    return "", ""


def _user_name(user) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def _item_context(
    request,
    core: CoreGroup,
    alignment: Alignment,
    form: ReviewForm,
    *,
    draft: dict | None = None,
    conflict: str = "",
) -> dict:
    """Everything the item page shows about one alignment: a fixed number of queries.

    `draft` is the unsaved level and note filled in from an earlier skip; `conflict` the
    message shown above the form when a review was refused as out of date.
    """
    member = alignment.member
    check_ins = list(member.check_ins.order_by("checked_on", "pk"))
    charts, axis = capacity_charts(check_ins)
    notes = (
        ReviewNote.objects.visible_to(request.user)
        .filter(alignment=alignment)
        .select_related("author")
        .order_by("-created_at", "-pk")
    )
    # Levels are visible to everyone; the other tendency's notes never are, so only its
    # level is read here.
    elsewhere = member.alignments.exclude(tendency_id=core.tendency_id).select_related("tendency")
    return {
        "core": core,
        "alignment": alignment,
        "member": member,
        "form": form,
        "sectors": list(member.sectors.all()),
        "check_ins": check_ins[::-1],
        "charts": charts,
        "axis": axis,
        "history": alignment_history(alignment),
        "notes": list(notes),
        "elsewhere": list(elsewhere),
        "invitation": core.invitations.filter(member=member).first(),
        "in_core": core.members.filter(pk=member.pk).exists(),
        "queue_size": _queue_totals(core)["size"],
        # An item that no longer waits (reviewed since) is not "skipped for now".
        "skipped": alignment.waiting_since is not None and alignment.pk in _skipped(request, core),
        "stale_after_days": review_stale_after().days,
        "draft": draft,
        "conflict": conflict,
    }


def _load_item(core: CoreGroup, pk: int) -> Alignment:
    """The alignment `pk` of the core's tendency, with its queue standing.

    Annotated `waiting_since` and `is_stale` when it waits in the queue; when it does not
    (reviewed recently), `waiting_since` is None. Raises Http404 for any other alignment.
    """
    alignment = Alignment.objects.review_queue(core.tendency).filter(pk=pk).first()
    if alignment is None:
        alignment = get_object_or_404(
            Alignment.objects.filter(tendency=core.tendency).select_related(
                "member", "tendency", "reviewed_by"
            ),
            pk=pk,
        )
        alignment.waiting_since = None
        alignment.is_stale = False
    return alignment


@require_http_methods(["GET", "POST"])
def review_item(request, slug, pk):
    """One alignment of the queue: GET shows it, POST reviews it and goes to the next.

    POST takes `level` (an AlignmentLevel value), `note` (optional, private to this
    tendency's leads) and `expected_version`; it calls services.review_alignment once, so
    the level, the review and the note are saved together or not at all, and any draft
    kept from a skip is forgotten. A review made on an out-of-date page re-renders with
    one message above the form saying what happened and what the alignment now is, the
    typed level and note kept. GET fills in a draft left by "skip for now".
    """
    core = _reviewable_core(request, slug)
    alignment = _load_item(core, pk)
    if request.method == "GET":
        # Opening an item shows the person: logged and counted as opening their page is.
        if refused := quotas.open_person(request, alignment.member_id):
            return refused
        draft = _draft(request, core, alignment.pk)
        form = kept_forms.refill(request, ReviewForm(alignment=alignment, draft=draft))
        return render(
            request,
            "cores/review_item.html",
            _item_context(request, core, alignment, form, draft=draft),
        )

    form = ReviewForm(request.POST, alignment=alignment)
    if form.is_valid():
        try:
            services.review_alignment(
                alignment,
                by=request.user,
                level=form.cleaned_data["level"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except services.AlreadyReviewed:
            # Show the alignment as it now is; the lead's level and note stay as typed,
            # and the form now carries the fresh version, so a second submit is deliberate.
            # The clash is told once, above the form: it is not a mistake in a field.
            alignment = _load_item(core, pk)
            data = request.POST.copy()
            data["expected_version"] = alignment.version
            form = ReviewForm(data, alignment=alignment)
            form.is_valid()
            context = _item_context(
                request, core, alignment, form, conflict=_conflict_message(request, alignment)
            )
            return render(request, "cores/review_item.html", context)
        except ValidationError as error:
            form.errors_from(error)
        else:
            skipped = _skipped(request, core)
            if alignment.pk in skipped:
                _set_skipped(request, core, [i for i in skipped if i != alignment.pk])
            _set_draft(request, core, alignment.pk, None)
            if form.cleaned_data["note"]:
                reviewed = _("Reviewed %(person)s: %(level)s with a note.")
            else:
                reviewed = _("Reviewed %(person)s: %(level)s.")
            messages.success(
                request,
                reviewed % {"person": alignment.member, "level": alignment.get_level_display()},
            )
            return _go_on(request, core, after=_queue_row(alignment))
    return render(request, "cores/review_item.html", _item_context(request, core, alignment, form))


def _conflict_message(request, alignment: Alignment) -> str:
    """What a refused, out-of-date review tells the lead, true to what the page now shows.

    `alignment` is as it now is. Says "you … in another tab" when the review that got
    there first was the same lead's own.
    """
    level = alignment.get_level_display()
    kept = _("Your choice and note are kept below; save again to review it once more.")
    reviewer = alignment.reviewed_by
    if alignment.review_state == ReviewState.REVIEWED and reviewer is not None:
        when = timezone.localtime(alignment.reviewed_at)
        if when.date() != timezone.localdate():
            at = _("%(day)s, %(time)s") % {
                "day": date_format(when, "MONTH_DAY_FORMAT"),
                "time": time_format(when, "H:i"),
            }
        else:
            at = time_format(when, "H:i")
        if reviewer.pk == request.user.pk:
            return _(
                "You reviewed this in another tab a moment ago: it is now %(level)s, "
                "reviewed by you at %(at)s. This save was not recorded. %(kept)s"
            ) % {"level": level, "at": at, "kept": kept}
        name = _user_name(reviewer)
        return _(
            "%(name)s reviewed this a moment ago: it is now %(level)s, reviewed by %(name)s "
            "at %(at)s. Nothing of yours was saved. %(kept)s"
        ) % {"name": name, "level": level, "at": at, "kept": kept}
    return _(
        "This alignment changed since you opened it: it is now %(level)s, stated on "
        "%(date)s, and waits for review. Nothing of yours was saved. %(kept)s"
    ) % {"level": level, "date": sentence_date(alignment.stated_on), "kept": kept}


def _queue_row(alignment: Alignment) -> Alignment | None:
    """`alignment` as a position in the queue (None when it was not waiting in it)."""
    return alignment if getattr(alignment, "waiting_since", None) is not None else None


def review_skip(request, slug, pk):
    """Skip for now: the item stays in the queue; the lead goes on to the next one. POST only.

    Skips are remembered in the session per core until cleared on the queue page. A
    `note` typed, or a `level` changed, in the posted form is kept as a draft in the
    session and filled in when the item is opened again; reviewing it clears it. Scope
    is checked before the method, so an outsider learns nothing more from a GET.
    """
    core = _reviewable_core(request, slug)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    alignment = _load_item(core, pk)
    skipped = _skipped(request, core)
    if alignment.pk not in skipped:
        skipped.append(alignment.pk)
    _set_skipped(request, core, skipped)
    # Nothing typed is saved by a skip, and nothing typed is lost either: a note or a
    # changed level waits in the session and is filled in when the lead comes back.
    note = request.POST.get("note", "").strip()
    level = request.POST.get("level", "")
    changed_level = level in AlignmentLevel.values and level != alignment.level
    if note or changed_level:
        _set_draft(
            request, core, alignment.pk, {"level": level if changed_level else "", "note": note}
        )
        kept = _("your note") if note else _("your choice of level")
        if note and changed_level:
            kept = _("your note and choice of level")
        messages.info(
            request,
            _(
                "Skipped %(person)s for now; it stays in the queue, and %(kept)s will be "
                "filled in when you come back to it (not saved until you save the review)."
            )
            % {"person": alignment.member, "kept": kept},
        )
    else:
        messages.info(
            request,
            _("Skipped %(person)s for now; it stays in the queue.") % {"person": alignment.member},
        )
    return _go_on(request, core, after=_queue_row(alignment))
