"""The organizer's import pages: upload → columns → preview → confirm → review or undo."""

import csv
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from audit import log as access_log
from members import tasks
from members.duplicates import describe, kind_label
from members.exporting import neutralise_formula
from members.importing import applying
from members.importing.columns import field_label
from members.importing.forms import DecisionsForm, MappingForm, SectorChoicesForm, UploadForm
from members.importing.planning import (
    ADD,
    CREATE,
    HOLD,
    REJECT,
    SKIP,
    UPDATE,
    decision_choices,
)
from members.importing.reading import UnreadableFile, sheet_of
from members.models import ImportRecord, ImportState
from members.paging import countless_page

ACTIONS = {
    CREATE: gettext_lazy("Create"),
    UPDATE: gettext_lazy("Update"),
    HOLD: gettext_lazy("Possible duplicate"),
    SKIP: gettext_lazy("Skip"),
    REJECT: gettext_lazy("Reject"),
}
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
    recent = (
        ImportRecord.objects.visible_to(request.user)
        .select_related("uploaded_by")
        .defer("content")[:10]
    )
    return render(request, "members/import_start.html", {"form": form, "recent": recent})


@can_import
def import_mapping(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"), pk=pk
    )
    if record.state not in (ImportState.UPLOADED, ImportState.PREVIEWED):
        return redirect(record)
    try:
        sheet = sheet_of(record)  # as read at upload: the file is not parsed again
    except UnreadableFile:
        messages.error(request, _("The uploaded file is no longer kept; upload it again."))
        return redirect("members:import_start")
    samples = [[cells[i] for _, cells in sheet.rows[:3]] for i in range(len(sheet.headers))]
    form = MappingForm(
        request.POST or None,
        headers=record.headers,
        mapping=record.mapping,
        samples=samples,
        header_rows=sheet.header_choices,
        header_row=sheet.header_row,
    )
    if request.method == "POST" and form.header_row_changed():
        try:
            applying.choose_header_row(
                record, header_row=form.cleaned_data["header_row"], by=request.user
            )
        except (UnreadableFile, ValidationError) as error:
            form.add_error("header_row", " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(
                request,
                _("Row %(row)s is now the header. Check what each column holds.")
                % {"row": form.cleaned_data["header_row"]},
            )
            return redirect("members:import_mapping", record.pk)
    elif request.method == "POST" and form.is_valid():
        record = tasks.run_preview(
            record, mapping=form.cleaned_data["mapping"], sector_choices=record.sector_choices
        )
        return redirect(record)
    context = {"record": record, "form": form, "notices": sheet.notices}
    return render(request, "members/import_mapping.html", context)


@can_import
def import_detail(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user)
        .select_related("uploaded_by", "undone_by")
        .defer("content"),
        pk=pk,
    )
    show = request.GET.get("show") if request.GET.get("show") in ACTIONS else None
    rows = record.rows.select_related("member").order_by("number")
    if show:
        rows = rows.filter(action=show)
    page = countless_page(rows, request, size=ROWS_PER_PAGE)
    deciding = record.state == ImportState.PREVIEWED
    for row in page.rows:
        row.error_items = [(field_label(name), message) for name, message in row.errors.items()]
        row.change_items = [(field_label(name), change) for name, change in row.changes.items()]
        if row.evidence:
            # Kept in English (the rules compare it); `text` and `kind_label` are for reading.
            evidence = [
                {**e, "text": describe(e["description"]), "kind_label": kind_label(e["kind"])}
                for e in row.evidence
            ]
            row.evidence_for = [e for e in evidence if e["kind"] != "conflicting"]
            row.evidence_against = [e for e in evidence if e["kind"] == "conflicting"]
        if row.action == HOLD or row.decision:
            row.choices = dict(decision_choices(row))
            row.decision_label = row.choices.get(row.decision, "")
    sector_form = None
    if record.state == ImportState.PREVIEWED and record.unknown_sectors:
        sector_form = SectorChoicesForm(
            unknown=record.unknown_sectors, chosen=record.sector_choices
        )
    held = applying.held_counts(record)
    counts = applying.counts_by_action(record)
    if record.row_data_deleted_at:  # the rows are gone; the counts kept at apply remain
        counts = {action: record.counts.get(action, 0) for action in counts}
    context = {
        "record": record,
        "rows": page.rows,
        "deciding": deciding and held["total"] > 0,
        "held": held,
        "to_import": counts[CREATE] + counts[UPDATE] + held[ADD] + held[UPDATE],
        "query_string": request.GET.urlencode(),
        "has_next": page.has_next,
        "page": page.number,
        "show": show,
        "actions": ACTIONS,
        "counts": counts,
        "changed_fields": [
            (field_label(name), n) for name, n in record.counts.get("changed_fields", {}).items()
        ],
        "sector_form": sector_form,
        "working": record.state
        in (ImportState.PLANNING, ImportState.APPLYING, ImportState.UNDOING),
        "row_data_days": settings.IMPORT_ROW_DATA_DAYS,
    }
    return render(request, "members/import_detail.html", context)


@can_import
@require_POST
def import_sectors(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user), pk=pk, state=ImportState.PREVIEWED
    )
    form = SectorChoicesForm(
        request.POST, unknown=record.unknown_sectors, chosen=record.sector_choices
    )
    if form.is_valid():
        record.sector_choices = form.choices()
        record.save(update_fields=["sector_choices"])
        tasks.run_preview(record, mapping=record.mapping, sector_choices=record.sector_choices)
        messages.success(request, _("Sector choices saved; the preview is updated."))
    return redirect(record)


@can_import
@require_POST
def import_decide(request, pk):
    """Store the decisions on possible duplicates: per row, or for every undecided row."""
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"),
        pk=pk,
        state=ImportState.PREVIEWED,
    )
    form = DecisionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect(record)
    try:
        if form.cleaned_data["all_undecided"]:
            decided = applying.decide_undecided(
                record, form.cleaned_data["all_undecided"], by=request.user
            )
        else:
            decided = applying.decide_rows(record, form.decisions(), by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        waiting = applying.held_counts(record)["undecided"]
        messages.success(
            request,
            ngettext("Saved %(count)d decision.", "Saved %(count)d decisions.", decided)
            % {"count": decided}
            + (
                " "
                + ngettext(
                    "%(count)d possible duplicate still waits for one.",
                    "%(count)d possible duplicates still wait for one.",
                    waiting,
                )
                % {"count": waiting}
                if waiting
                else ""
            ),
        )
    back = form.cleaned_data.get("back", "")
    return redirect(record.get_absolute_url() + (f"?{back}" if back else ""))


@can_import
@require_POST
def import_apply(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"), pk=pk
    )
    waiting = applying.held_counts(record)["undecided"]
    if record.state == ImportState.PREVIEWED and waiting:
        # Checked here too: a large import goes to the worker, which cannot ask anyone.
        messages.error(
            request,
            ngettext(
                "%(count)d possible duplicate still waits for a decision: add as a new "
                "person, update the person already here, or skip.",
                "%(count)d possible duplicates still wait for a decision: add as a new "
                "person, update the person already here, or skip.",
                waiting,
            )
            % {"count": waiting},
        )
        return redirect(record.get_absolute_url() + f"?show={HOLD}")
    try:
        record = tasks.run_apply(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        access_log.record(
            request.user, "import", record_id=record.pk, count=record.total_rows, request=request
        )
        if record.state == ImportState.APPLIED:
            counts = record.counts
            messages.success(
                request,
                _("Imported: %(created)s people created, %(updated)s updated.")
                % {"created": counts.get(CREATE, 0), "updated": counts.get(UPDATE, 0)},
            )
    return redirect(record)


@can_import
@require_POST
def import_undo(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"), pk=pk
    )
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
            _("The import is undone.")
            + (
                " "
                + ngettext(
                    "%(count)d change made since was kept; see the list below.",
                    "%(count)d changes made since were kept; see the list below.",
                    kept,
                )
                % {"count": kept}
                if kept
                else ""
            ),
        )
    return redirect(record)


@can_import
@require_POST
def import_discard(request, pk):
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"), pk=pk
    )
    try:
        applying.discard_import(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(record)
    messages.success(
        request,
        _("Discarded %(file)s; nothing was imported.") % {"file": record.filename},
    )
    return redirect("members:import_start")


@can_import
def import_rejected_csv(request, pk):
    """The rejected rows as they were, plus an Errors column, to fix and upload again."""
    record = get_object_or_404(
        ImportRecord.objects.visible_to(request.user).defer("content"), pk=pk
    )
    out = io.StringIO()
    out.write("\ufeff")  # so Excel reads the accents as UTF-8
    writer = csv.writer(out)
    writer.writerow([*record.headers, _("Errors")])
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
