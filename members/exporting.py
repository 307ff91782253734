"""Export people to CSV or XLSX: the columns, formula neutralising and the export record.

django-import-export's PersonResource does the row work (headers, one row per person);
the files are written here, row by row, so a large export never holds every person (or a
full spreadsheet model) in memory at once.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from import_export import resources
from import_export.fields import Field
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from members.models import PERSON_FIELDS, ExportRecord, Member, Sector

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# People read per database round trip; each chunk costs one query for its sectors.
CHUNK_SIZE = 2000
# A spreadsheet treats a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The Member columns the export reads (the own words are added when asked for).
MEMBER_COLUMNS = tuple(name for name in PERSON_FIELDS if name != "joining_story")


def neutralise_formula(value):
    """Text a spreadsheet shows as text: a formula-like cell gets a leading `'` (OWASP).

    Applied to every text cell of both formats, so `=HYPERLINK(...)` typed into a note
    is shown, never run, when an organizer opens the file. Phone numbers such as
    "+1 555 010 2233" are prefixed too: that is the price of the rule.
    """
    # Text that already starts with quotes before a trigger ("'=x", "'@a.org") gets one
    # more, or the import (values.unneutralise, which takes one quote off) would read it
    # back shorter than it was written.
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


# The export's column headers, in the exporter's language. An export must import back
# whatever language it was written in: the import knows these headers, and the status and
# joining-story labels, in every language the site speaks (members.importing.columns and
# .values), so a file exported in Spanish imports as one exported in English.
COLUMN_NAMES = {
    "name": pgettext_lazy("spreadsheet column", "Name"),
    "preferred_name": pgettext_lazy("spreadsheet column", "Preferred name"),
    "pronouns": pgettext_lazy("spreadsheet column", "Pronouns"),
    "email": pgettext_lazy("spreadsheet column", "Email"),
    "phone": pgettext_lazy("spreadsheet column", "Phone"),
    "city": pgettext_lazy("spreadsheet column", "City"),
    "region": pgettext_lazy("spreadsheet column", "State / region"),
    "status": pgettext_lazy("spreadsheet column", "Status"),
    "joining_story_kind": pgettext_lazy("spreadsheet column", "Joining story"),
    "sectors": pgettext_lazy("spreadsheet column", "Sectors"),
    "joined_on": pgettext_lazy("spreadsheet column", "Joined on"),
    "note": pgettext_lazy("spreadsheet column", "Notes"),
    "joining_story": pgettext_lazy("spreadsheet column", "Why did you join?"),
}


class PersonResource(resources.ModelResource):
    """One row per person, under headers the import recognises (members/importing).

    Review notes are not a column and never can be: they live on cores' alignments, and
    this resource names its fields one by one. The joining story in the person's own
    words is added only when the exporter asks for it. Headers, statuses and joining-story
    kinds are written in the exporter's language (COLUMN_NAMES).
    """

    name = Field(attribute="name", column_name=COLUMN_NAMES["name"])
    preferred_name = Field(attribute="preferred_name", column_name=COLUMN_NAMES["preferred_name"])
    pronouns = Field(attribute="pronouns", column_name=COLUMN_NAMES["pronouns"])
    email = Field(attribute="email", column_name=COLUMN_NAMES["email"])
    phone = Field(attribute="phone", column_name=COLUMN_NAMES["phone"])
    city = Field(attribute="city", column_name=COLUMN_NAMES["city"])
    region = Field(attribute="region", column_name=COLUMN_NAMES["region"])
    status = Field(attribute="get_status_display", column_name=COLUMN_NAMES["status"])
    joining_story_kind = Field(
        attribute="get_joining_story_kind_display",
        column_name=COLUMN_NAMES["joining_story_kind"],
    )
    sectors = Field(column_name=COLUMN_NAMES["sectors"])
    joined_on = Field(column_name=COLUMN_NAMES["joined_on"])
    note = Field(attribute="note", column_name=COLUMN_NAMES["note"])
    joining_story = Field(attribute="joining_story", column_name=COLUMN_NAMES["joining_story"])

    class Meta:
        model = Member
        fields = (
            "name",
            "preferred_name",
            "pronouns",
            "email",
            "phone",
            "city",
            "region",
            "status",
            "joining_story_kind",
            "sectors",
            "joined_on",
            "note",
            "joining_story",
        )
        export_order = fields

    def __init__(self, *, include_joining_story: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not include_joining_story:
            del self.fields["joining_story"]

    def filter_export(self, queryset, **kwargs):
        """Only the exported columns, and the sectors read once per chunk of people."""
        columns = [*MEMBER_COLUMNS]
        if "joining_story" in self.fields:
            columns.append("joining_story")
        return queryset.only(*columns).prefetch_related(
            Prefetch("sectors", queryset=Sector.objects.only("name"))
        )

    def iter_queryset(self, queryset):
        # import-export pages a prefetching queryset with a Paginator: a COUNT and an
        # OFFSET query per page. Django (4.1+) prefetches per chunk of iterator() instead.
        yield from queryset.iterator(chunk_size=CHUNK_SIZE)

    def export_field(self, field, instance, **kwargs):
        return neutralise_formula(super().export_field(field, instance, **kwargs))

    def dehydrate_sectors(self, person: Member) -> str:
        return "; ".join(sector.name for sector in person.sectors.all())

    def dehydrate_joined_on(self, person: Member) -> str:
        return person.joined_on.isoformat() if person.joined_on else ""


def export_stamp(by, when) -> str:
    """The line every exported file starts with: who exported it and when (local time).

    A copy found later says whose it was. The import skips it: it looks for the header
    among the first rows, under a title line.
    """
    moment = timezone.localtime(when)
    params = {"when": f"{moment:%Y-%m-%d %H:%M}", "zone": moment.tzname()}
    if by is None:
        return (
            gettext(
                "Exported from SOS Tracker by the system on %(when)s (%(zone)s). "
                "Private: membership data."
            )
            % params
        )
    return gettext(
        "Exported from SOS Tracker by %(who)s (%(username)s) on %(when)s (%(zone)s). "
        "Private: membership data."
    ) % {**params, "who": by.get_full_name() or by.get_username(), "username": by.get_username()}


def _write_csv(headers: list[str], rows: Iterable[list], *, by, when) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    # UTF-8 with a byte order mark: Excel reads a CSV without one in the computer's
    # legacy code page, so "José" would open as "JosÃ©". Other programs skip the mark.
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow([neutralise_formula(export_stamp(by, when))])
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    content = buffer.getvalue()
    text.detach()
    return content, count


def _write_xlsx(headers: list[str], rows: Iterable[list], *, by, when) -> tuple[bytes, int]:
    # Write-only mode streams rows to a temporary file instead of keeping a cell object
    # per value in memory.
    workbook = Workbook(write_only=True)
    # Who and when in the file's properties too (File > Info), beside the first row.
    stamp = export_stamp(by, when)
    workbook.properties.creator = workbook.properties.lastModifiedBy = (
        by.get_username() if by else "SOS Tracker"
    )
    # The properties hold UTC without a zone.
    utc = when.astimezone(dt.UTC).replace(tzinfo=None)
    workbook.properties.created = workbook.properties.modified = utc
    workbook.properties.title = ILLEGAL_CHARACTERS_RE.sub("", stamp)
    sheet = workbook.create_sheet(gettext("People"))
    sheet.freeze_panes = "A3"
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", neutralise_formula(stamp))])
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        # Control characters (pasted from other systems) are not allowed in the XML.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx}


def recorded_filters(cleaned_data: dict) -> dict:
    """The people page's search and filters as the ExportRecord keeps them (JSON)."""
    return {name: getattr(value, "slug", value) or "" for name, value in cleaned_data.items()}


def export_filename(file_format: str) -> str:
    return f"sos-people-{timezone.localdate():%Y-%m-%d}.{file_format}"


@transaction.atomic
def export_people(
    people: QuerySet[Member],
    *,
    by,
    file_format: str,
    include_joining_story: bool,
    filters: dict,
) -> tuple[bytes, str, ExportRecord]:
    """The file of `people` in `file_format`, and the ExportRecord saying who took it.

    `filters` are the search and filter values that chose `people`, as JSON-ready values.
    The record is written in the same transaction as the rows are read: no file leaves
    without its record.
    """
    if file_format not in WRITERS:
        raise ValueError(f"Unknown export format {file_format!r}; use one of {sorted(WRITERS)}.")
    resource = PersonResource(include_joining_story=include_joining_story)
    rows: Iterator[list] = (
        resource.export_resource(person)
        for person in resource.iter_queryset(resource.filter_export(people))
    )
    when = timezone.now()
    headers = resource.get_export_headers()
    # The file's first row names who exported it and when (export_stamp).
    content, row_count = WRITERS[file_format](headers, rows, by=by, when=when)
    record = ExportRecord(
        created_at=when,
        exported_by=by,
        file_format=file_format,
        filters=filters,
        row_count=row_count,
        included_joining_story=include_joining_story,
    )
    # An empty `filters` is a real value (everyone was exported), not a missing one.
    record.full_clean(exclude={"filters"})
    record.save()
    return content, export_filename(file_format), record
