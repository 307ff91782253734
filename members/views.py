"""The organizer's pages: find people, quick add, the person page, edit and check-ins."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit import log as access_log
from audit import quotas
from audit.models import Action
from members import exporting, merging, retention, services
from members.charts import capacity_charts
from members.duplicates import find_duplicates
from members.forms import CheckInForm, MergeForm, PeopleFilterForm, PersonForm
from members.models import ERASED_MESSAGE, CapacityCheckIn, Member, MergeRecord, Sector
from members.paging import countless_page
from members.timeline import person_timeline
from sos_tracker import kept_forms

PAGE_SIZE = 50
# The people list counts what it found up to this many, then says "500+": a LIMITed count
# costs the same at a thousand people as at a million, a full one does not.
FOUND_CAP = 500


@permission_required("members.view_member", raise_exception=True)
def people_list(request):
    """Search and filter people. Pages by offset without counting the whole table: how
    many were found is counted up to FOUND_CAP ("500+ people found")."""
    filters = PeopleFilterForm(request.GET, user=request.user)
    valid = filters.is_valid()
    people = filters.apply(Member.objects.all()) if valid else Member.objects.none()
    page = countless_page(
        people.prefetch_related(Prefetch("sectors", queryset=Sector.objects.only("name"))),
        request,
        size=PAGE_SIZE,
    )
    # One more than the cap: more than FOUND_CAP found reads as "500+".
    found = people.count_up_to(FOUND_CAP + 1) if valid else 0
    # Every list of people read is logged; the search text only as a keyed hash.
    access_log.record(
        request.user,
        Action.SEARCH,
        people=[person.pk for person in page.rows],
        query=filters.cleaned_data.get("q") if valid else None,
        request=request,
    )
    context = {
        "filters": filters,
        "people": page.rows,
        "page": page.number,
        "has_next": page.has_next,
        "first_number": page.first,
        "last_number": page.last,
        "query_string": _query_without_page(request),
        "found": min(found, FOUND_CAP),
        "found_more": found > FOUND_CAP,
        "add_url": _quick_add_url(request.user, filters.cleaned_data.get("q") if valid else ""),
    }
    template = "members/people_list.html"
    if request.htmx:
        template += "#results"
    response = render(request, template, context)
    # The same URL answers with the whole page or only the results.
    patch_vary_headers(response, ["HX-Request"])
    return response


@permission_required("members.add_member", raise_exception=True)
def person_add(request):
    """Quick add: possible duplicates, strong and weak, are shown before anything is saved.

    Someone who only shares a phone under another name (a household) is named after the
    save, never stopped for: they are two people.
    """
    form = PersonForm(
        request.POST or None,
        quick=True,
        viewer=request.user,
        initial=_quick_add_initial(request.GET),
    )
    # Back from signing in again: what was typed before the session ended.
    kept_forms.refill(request, form)
    duplicates, households = [], []
    # Every hard stop of the save is a form error (PersonForm.can_be_saved): "add anyway"
    # is offered only when it would work.
    valid = False
    if request.method == "POST":
        valid = form.can_be_saved()
        for match in find_duplicates(**form.contact_details()):
            (households if match.only_shares_a_phone else duplicates).append(match)
        confirmed = request.POST.get("confirm_different") == "yes"
        if valid and (not duplicates or confirmed):
            member = services.create_member(
                by=request.user,
                confirmed_different_from=[match.member for match in duplicates],
                shares_phone_with=[match.member for match in households],
                **form.person_fields(),
            )
            shared = ", ".join(str(match.member) for match in households)
            # "Abelardo R." ends its own sentence: no second full stop.
            added = _("Added %(person)s.") % {"person": str(member).removesuffix(".")}
            if shared:
                added += " " + _("They share a phone with %(others)s: kept as two people.") % {
                    "others": shared
                }
            messages.success(request, added)
            return redirect(member)
    context = {
        "form": form,
        "duplicates": duplicates,
        "strong": [match for match in duplicates if match.is_strong],
        "weak": [match for match in duplicates if not match.is_strong],
        "can_add_anyway": valid,
        # Who the duplicates are is shown only to a user who may see people.
        "may_view_people": request.user.has_perm("members.view_member"),
    }
    return render(request, "members/person_add.html", context)


@permission_required("members.view_member", raise_exception=True)
def person_detail(request, pk):
    member = (
        # The cores' part of the page (alignments, notes, invitations) is read by the
        # cores app's template tag: members never imports cores, nor names its relations.
        Member.objects.select_related("added_by").prefetch_related("sectors").filter(pk=pk).first()
    )
    if member is None:
        return _merged_away(request, pk)
    # Logs the opening, or refuses it (429) past the hourly quota of different people.
    if refused := quotas.open_person(request, member.pk):
        return refused
    check_ins = list(member.check_ins.select_related("assessed_by").order_by("checked_on", "pk"))
    charts, axis = capacity_charts(check_ins)
    return render(
        request,
        "members/person_detail.html",
        {
            "member": member,
            "check_ins": check_ins[::-1],
            "charts": charts,
            "axis": axis,
            "timeline": person_timeline(member, request.user),
            "merge_panel": _merge_panel(request.user, member),
        },
    )


@permission_required("members.change_member", raise_exception=True)
def person_edit(request, pk):
    member = get_object_or_404(Member, pk=pk)
    if member.erased_at is not None:
        # Nothing to edit: an erased record stays an anonymous stub (members.erasure).
        messages.error(request, ERASED_MESSAGE)
        return redirect(member)
    if request.method == "POST":
        with transaction.atomic():
            form = PersonForm(request.POST, instance=member)
            if form.is_valid():
                form.instance._history_user = request.user
                member = form.save()
                messages.success(request, _("Saved %(person)s.") % {"person": member})
                return redirect(member)
    else:
        form = kept_forms.refill(request, PersonForm(instance=member))
    return render(request, "members/person_edit.html", {"form": form, "member": member})


@permission_required("members.add_capacitycheckin", raise_exception=True)
def check_in_add(request, pk):
    """Record a capacity check-in; each score shows the person's last one beside it."""
    member = get_object_or_404(Member.objects.findable(), pk=pk)
    # The latest by date (the model's ordering): one query, off the member-and-date index.
    last = member.check_ins.first()
    form = CheckInForm(request.POST or None, instance=CapacityCheckIn(member=member), last=last)
    kept_forms.refill(request, form)
    if request.method == "POST" and form.is_valid():
        services.record_check_in(member, by=request.user, **form.cleaned_data)
        messages.success(request, _("Recorded a check-in for %(person)s.") % {"person": member})
        return redirect(reverse("members:person_detail", args=[member.pk]) + "#capacities")
    return render(request, "members/check_in_form.html", {"form": form, "member": member})


def _quick_add_url(user, query: str | None) -> str:
    """Quick add with what a search that found nobody typed filled in: as the email when
    it is one, else as the name. "" for a user who may not add people, or no search."""
    query = " ".join((query or "").split())
    if not query or not user.has_perm("members.add_member"):
        return ""
    try:
        validate_email(query)
    except ValidationError:
        field = "name"
    else:
        field = "email"
    return f"{reverse('members:person_add')}?{urlencode({field: query})}"


def _quick_add_initial(params) -> dict[str, str]:
    """The name or email a search passed to quick add (_quick_add_url), as typed."""
    return {name: params[name][:200] for name in ("name", "email") if params.get(name)}


def _query_without_page(request) -> str:
    params = [(k, v) for k, values in request.GET.lists() for v in values if k != "page"]
    return urlencode(params)


@require_GET
@never_cache  # the file is private data: no browser or proxy may keep a copy
@permission_required("members.export_people", raise_exception=True)
def people_export(request):
    """The people the list's search and filters find, as a CSV or XLSX file.

    Takes the people page's parameters plus `format` (csv, the default, or xlsx) and
    `include_story=1` for the joining story in the person's own words. Every export is
    recorded (members.exporting.export_people).
    """
    file_format = request.GET.get("format", "csv")
    if file_format not in exporting.FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”. Choose csv or xlsx.") % {"format": file_format},
            content_type="text/plain; charset=utf-8",
        )
    filters = PeopleFilterForm(request.GET, user=request.user)
    if not filters.is_valid():
        # Exporting everyone (or no one) in place of a filter that did not apply would
        # hand out a different list from the one on screen.
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in filters.errors.items()
        )
        return HttpResponseBadRequest(
            _("The search or filters are not valid (%(problems)s); nothing was exported.")
            % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    people = filters.apply(Member.objects.all())
    if refused := quotas.export_refusal(request, people.count()):
        return refused
    content, filename, record = exporting.export_people(
        people,
        by=request.user,
        file_format=file_format,
        include_joining_story=request.GET.get("include_story") == "1",
        filters=exporting.recorded_filters(filters.cleaned_data),
    )
    access_log.record(
        request.user, Action.EXPORT, record_id=record.pk, count=record.row_count, request=request
    )
    response = HttpResponse(content, content_type=exporting.FORMATS[file_format])
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- merging two records of one person ------------------------------------------------------

can_merge = permission_required("members.merge_people", raise_exception=True)
# How many people a search on the merge picker lists.
MERGE_PICK_LIMIT = 20


def _merge_panel(user, member) -> dict | None:
    """The person page's "possible duplicates" panel: likely duplicates with their
    evidence, and the merges into this person that can still be undone. Three queries;
    nothing for a user who may not merge."""
    if not user.has_perm("members.merge_people"):
        return None
    merges = list(
        MergeRecord.objects.filter(survivor_pk=member.pk, undone_at=None).select_related(
            "merged_by"
        )[:5]
    )
    for record in merges:
        record.may_undo = _may_undo(user, record)
    return {"duplicates": merging.possible_duplicates(member), "merges": merges}


def _merged_away(request, pk):
    """A person merged into another: their old address leads to the person they are now
    (links in imports, bookmarks); anyone else missing is 404."""
    survivor = merging.merged_into(pk)
    if survivor is None:
        raise Http404("No such person.")
    messages.info(
        request,
        _("Person #%(number)s was merged into %(person)s; this is their record now.")
        % {"number": pk, "person": survivor},
    )
    return redirect(survivor)


def _may_undo(user, record) -> bool:
    return user.is_superuser or record.merged_by_id == user.pk


@can_merge
def person_merge_pick(request, pk):
    """Choose the person to merge with: the likely duplicates, or anyone found by search."""
    member = get_object_or_404(Member, pk=pk)
    query = request.GET.get("q", "").strip()[:200]
    found = []
    if query:
        found = list(
            Member.objects.search(query, typed=True).exclude(pk=member.pk)[:MERGE_PICK_LIMIT]
        )
        access_log.record(
            request.user,
            Action.SEARCH,
            people=[person.pk for person in found],
            query=query,
            request=request,
        )
    return render(
        request,
        "members/person_merge_pick.html",
        {
            "member": member,
            "duplicates": merging.possible_duplicates(member),
            "query": query,
            "found": found,
        },
    )


@can_merge
def person_merge(request, pk, other_pk):
    """Both records side by side, a choice per differing field, then the merge.

    404 for a person who does not exist (merged away meanwhile) and for one person twice.
    A refusal (a record saved meanwhile, values not valid together) re-renders the page
    with the records as they are now and the choices made kept.
    """
    if pk == other_pk:
        raise Http404("A person cannot be merged with themselves.")
    people = (
        Member.objects.findable()
        .select_related("added_by")
        .prefetch_related("sectors")
        .in_bulk([pk, other_pk])
    )
    if len(people) < 2:
        raise Http404("No such person.")
    a, b = people[pk], people[other_pk]
    form = MergeForm(request.POST or None, a=a, b=b)
    if request.method == "POST" and form.is_valid():
        arguments = form.merge_arguments()
        try:
            record = merging.merge_people(by=request.user, **arguments)
        except ValidationError as error:
            form.add_service_error(error)
            form.show_current_versions()
        else:
            survivor = arguments["survivor"]
            messages.success(
                request,
                _(
                    "Merged %(merged)s (#%(number)s) into %(person)s. If this was a mistake, "
                    "undo it below."
                )
                % {"merged": record.merged_name, "number": record.merged_pk, "person": survivor},
            )
            return redirect(survivor)
    return render(
        request,
        "members/person_merge.html",
        {
            "form": form,
            "a": a,
            "b": b,
            "sides": [("a", a), ("b", b)],
            "preview": merging.merge_preview(a, b),
        },
    )


@can_merge
@require_POST
def merge_undo(request, pk):
    """Undo a merge: for the person who made it and for superusers (404 to others)."""
    record = get_object_or_404(MergeRecord, pk=pk)
    if not _may_undo(request.user, record):
        raise Http404("No such merge.")
    try:
        restored = merging.undo_merge(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        survivor = Member.objects.filter(pk=record.survivor_pk).first()
        return redirect(survivor or "members:people_list")
    messages.success(
        request,
        _(
            "Undid merge #%(number)s: %(restored)s is back with their own records, and "
            "%(kept)s has their values from before the merge."
        )
        % {"number": record.pk, "restored": restored, "kept": record.survivor_name},
    )
    return redirect(restored)


# --- retention: prospects who stayed identified with no activity ----------------------------

can_erase = permission_required("members.erase_person", raise_exception=True)


@can_erase
@require_GET
def retention_list(request):
    """Prospects no core took past "identified" and with no activity for
    PROSPECT_REVIEW_AFTER_DAYS (members.retention), for an admin to erase or keep."""
    page = countless_page(retention.prospects_for_review(), request, size=PAGE_SIZE)
    retention.last_activity(page.rows)
    return render(
        request,
        "members/retention_list.html",
        {
            "people": page.rows,
            "page": page.number,
            "has_next": page.has_next,
            "first_number": page.first,
            "last_number": page.last,
            "days": retention.review_after().days,
        },
    )


@can_erase
@require_POST
def retention_keep(request, pk):
    """Keep a prospect after review: off the list until another period passes quietly."""
    member = get_object_or_404(Member.objects.findable(), pk=pk)
    retention.keep_prospect(member, by=request.user)
    messages.success(
        request,
        ngettext(
            "Kept %(person)s; they come back to this list after another %(days)d day "
            "without activity.",
            "Kept %(person)s; they come back to this list after another %(days)d days "
            "without activity.",
            retention.review_after().days,
        )
        % {"person": member, "days": retention.review_after().days},
    )
    return redirect("members:retention_list")
