"""The organizer's import pages: upload → columns → preview → confirm → review or undo."""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from members import tasks
from members.exporting import neutralise_formula
from members.importing import applying
from members.importing.columns import field_label
from members.importing.forms import MappingForm, SectorChoicesForm, UploadForm
from members.importing.planning import CREATE, REJECT, SKIP, UPDATE
from members.importing.reading import UnreadableFile, read_sheet
from members.models import ImportRecord, ImportState
from members.paging import countless_page

ACTIONS = {CREATE: "Create", UPDATE: "Update", SKIP: "Skip", REJECT: "Reject"}
ROWS_PER_PAGE = 100
can_import = permission_required("members.import_people", raise_exception=True)


@can_import
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = applying.start_import(
                filename=upload.name, content=upload.read(), by=request.user
            )
        except UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            return redirect("members:import_mapping", record.pk)
    recent = ImportRecord.objects.select_related("uploaded_by").defer("content")[:10]
    return render(request, "members/import_start.html", {"form": form, "recent": recent})


@can_import
def import_mapping(request, pk):
    record = get_object_or_404(ImportRecord.objects.defer("content"), pk=pk)
    if record.state not in (ImportState.UPLOADED, ImportState.PREVIEWED):
        return redirect(record)
    record = ImportRecord.objects.get(pk=pk)  # the file is needed for the samples
    try:
        sheet = read_sheet(record.filename, bytes(record.content))
    except UnreadableFile:
        messages.error(request, "The uploaded file is no longer kept; upload it again.")
        return redirect("members:import_start")
    samples = [[cells[i] for _, cells in sheet.rows[:3]] for i in range(len(sheet.headers))]
    form = MappingForm(
        request.POST or None, headers=record.headers, mapping=record.mapping, samples=samples
    )
    if request.method == "POST" and form.is_valid():
        record = tasks.run_preview(
            record, mapping=form.cleaned_data["mapping"], sector_choices=record.sector_choices
        )
        return redirect(record)
    return render(request, "members/import_mapping.html", {"record": record, "form": form})


@can_import
def import_detail(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.select_related("uploaded_by", "undone_by").defer("content"), pk=pk
    )
    show = request.GET.get("show") if request.GET.get("show") in ACTIONS else None
    rows = record.rows.select_related("member").order_by("number")
    if show:
        rows = rows.filter(action=show)
    page = countless_page(rows, request, size=ROWS_PER_PAGE)
    for row in page.rows:
        row.error_items = [(field_label(name), message) for name, message in row.errors.items()]
        row.change_items = [(field_label(name), change) for name, change in row.changes.items()]
    sector_form = None
    if record.state == ImportState.PREVIEWED and record.unknown_sectors:
        sector_form = SectorChoicesForm(
            unknown=record.unknown_sectors, chosen=record.sector_choices
        )
    context = {
        "record": record,
        "rows": page.rows,
        "has_next": page.has_next,
        "page": page.number,
        "show": show,
        "actions": ACTIONS,
        "counts": applying.counts_by_action(record),
        "changed_fields": [
            (field_label(name), n) for name, n in record.counts.get("changed_fields", {}).items()
        ],
        "sector_form": sector_form,
        "working": record.state
        in (ImportState.PLANNING, ImportState.APPLYING, ImportState.UNDOING),
    }
    return render(request, "members/import_detail.html", context)


@can_import
@require_POST
def import_sectors(request, pk):
    record = get_object_or_404(ImportRecord, pk=pk, state=ImportState.PREVIEWED)
    form = SectorChoicesForm(
        request.POST, unknown=record.unknown_sectors, chosen=record.sector_choices
    )
    if form.is_valid():
        record.sector_choices = form.choices()
        record.save(update_fields=["sector_choices"])
        tasks.run_preview(record, mapping=record.mapping, sector_choices=record.sector_choices)
        messages.success(request, "Sector choices saved; the preview is updated.")
    return redirect(record)


@can_import
@require_POST
def import_apply(request, pk):
    record = get_object_or_404(ImportRecord.objects.defer("content"), pk=pk)
    try:
        record = tasks.run_apply(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if record.state == ImportState.APPLIED:
            counts = record.counts
            messages.success(
                request,
                f"Imported: {counts.get(CREATE, 0)} people created, "
                f"{counts.get(UPDATE, 0)} updated.",
            )
    return redirect(record)


@can_import
@require_POST
def import_undo(request, pk):
    record = get_object_or_404(ImportRecord.objects.defer("content"), pk=pk)
    try:
        record = tasks.run_undo(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if record.state != ImportState.UNDONE:
            return redirect(record)  # the worker undoes it; the page shows progress
        kept = len(record.undo_conflicts)
        messages.success(
            request,
            "The import is undone."
            + (f" {kept} changes made since were kept; see the list below." if kept else ""),
        )
    return redirect(record)


@can_import
@require_POST
def import_discard(request, pk):
    record = get_object_or_404(ImportRecord.objects.defer("content"), pk=pk)
    try:
        applying.discard_import(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(record)
    messages.success(request, f"Discarded {record.filename}; nothing was imported.")
    return redirect("members:import_start")


@can_import
def import_rejected_csv(request, pk):
    """The rejected rows as they were, plus an Errors column, to fix and upload again."""
    record = get_object_or_404(ImportRecord.objects.defer("content"), pk=pk)
    out = io.StringIO()
    out.write("\ufeff")  # so Excel reads the accents as UTF-8
    writer = csv.writer(out)
    writer.writerow([*record.headers, "Errors"])
    for row in applying.rejected_rows(record):
        errors = "; ".join(
            f"{field_label(name)}: {message}" for name, message in row.errors.items()
        )
        writer.writerow([neutralise_formula(cell) for cell in [*row.cells, errors]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stem = record.filename.rsplit(".", 1)[0]
    response["Content-Disposition"] = f'attachment; filename="{stem}-rejected-rows.csv"'
    response["Cache-Control"] = "no-store"
    return response
