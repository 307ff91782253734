"""The organizer's pages: find people, quick add, the person page, edit and check-ins."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from members import exporting, services
from members.charts import capacity_charts
from members.duplicates import find_duplicates
from members.forms import CheckInForm, PeopleFilterForm, PersonForm
from members.models import CapacityCheckIn, Member, Sector
from members.paging import countless_page
from members.timeline import member_timeline

PAGE_SIZE = 50


@permission_required("members.view_member", raise_exception=True)
def people_list(request):
    """Search and filter people. Pages by offset without counting the whole table."""
    filters = PeopleFilterForm(request.GET)
    people = filters.apply(Member.objects.all()) if filters.is_valid() else Member.objects.none()
    page = countless_page(
        people.prefetch_related(Prefetch("sectors", queryset=Sector.objects.only("name"))),
        request,
        size=PAGE_SIZE,
    )
    context = {
        "filters": filters,
        "people": page.rows,
        "page": page.number,
        "has_next": page.has_next,
        "first_number": page.first,
        "last_number": page.last,
        "query_string": _query_without_page(request),
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
    """Quick add: likely duplicates are shown before anything is saved."""
    form = PersonForm(request.POST or None, quick=True)
    duplicates = []
    if request.method == "POST":
        valid = form.is_valid()
        duplicates = find_duplicates(**form.contact_details())
        confirmed = request.POST.get("confirm_different") == "yes"
        if valid and (not duplicates or confirmed):
            member = services.create_member(
                by=request.user,
                confirmed_different_from=[match.member for match in duplicates],
                **form.person_fields(),
            )
            messages.success(request, f"Added {member}.")
            return redirect(member)
    return render(request, "members/person_add.html", {"form": form, "duplicates": duplicates})


@permission_required("members.view_member", raise_exception=True)
def person_detail(request, pk):
    member = get_object_or_404(
        # The cores' part of the page (alignments, notes, invitations) is read by the
        # cores app's template tag: members never imports cores, nor names its relations.
        Member.objects.select_related("added_by").prefetch_related("sectors"),
        pk=pk,
    )
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
            "timeline": member_timeline(member),
        },
    )


@permission_required("members.change_member", raise_exception=True)
def person_edit(request, pk):
    member = get_object_or_404(Member, pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            form = PersonForm(request.POST, instance=member)
            if form.is_valid():
                form.instance._history_user = request.user
                member = form.save()
                messages.success(request, f"Saved {member}.")
                return redirect(member)
    else:
        form = PersonForm(instance=member)
    return render(request, "members/person_edit.html", {"form": form, "member": member})


@permission_required("members.add_capacitycheckin", raise_exception=True)
def check_in_add(request, pk):
    member = get_object_or_404(Member, pk=pk)
    form = CheckInForm(request.POST or None, instance=CapacityCheckIn(member=member))
    if request.method == "POST" and form.is_valid():
        services.record_check_in(member, by=request.user, **form.cleaned_data)
        messages.success(request, f"Recorded a check-in for {member}.")
        return redirect(reverse("members:person_detail", args=[member.pk]) + "#capacities")
    return render(request, "members/check_in_form.html", {"form": form, "member": member})


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
            f"Unknown export format “{file_format}”. Choose csv or xlsx.",
            content_type="text/plain; charset=utf-8",
        )
    filters = PeopleFilterForm(request.GET)
    if not filters.is_valid():
        # Exporting everyone (or no one) in place of a filter that did not apply would
        # hand out a different list from the one on screen.
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in filters.errors.items()
        )
        return HttpResponseBadRequest(
            f"The search or filters are not valid ({problems}); nothing was exported.",
            content_type="text/plain; charset=utf-8",
        )
    content, filename, _record = exporting.export_people(
        filters.apply(Member.objects.all()),
        by=request.user,
        file_format=file_format,
        include_joining_story=request.GET.get("include_story") == "1",
        filters=exporting.recorded_filters(filters.cleaned_data),
    )
    response = HttpResponse(content, content_type=exporting.FORMATS[file_format])
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
