from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.importing.columns import TARGETS, mapping_errors
from members.importing.reading import size_refusal
from members.models import Sector


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(
            "CSV, XLSX or Excel's Unicode Text (.txt). A row names the columns; a title "
            "above it is fine. Nothing is saved until you confirm the preview."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,.xlsm,.txt,.tsv,text/csv,text/plain"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        self.fields["file"].help_text = (
            str(self.fields["file"].help_text)
            + " "
            + gettext("Up to %(size)s MB.") % {"size": f"{limit / 1_048_576:.0f}"}
        )

    def clean_file(self):
        """Refuse a file over the size limit before it is read into memory."""
        upload = self.cleaned_data["file"]
        if refusal := size_refusal(upload.size):
            raise ValidationError(refusal)
        return upload


class MappingForm(forms.Form):
    """One choice per column of the file: which field it fills; and which row is the header.

    `header_rows` are (row number, what the row says) for the rows that could be the
    header (reading.Sheet.header_choices); `header_row` is the one read as the header now.
    Choosing another re-reads the kept sheet from that row (header_row_changed).
    """

    header_row = forms.TypedChoiceField(
        label=_("Header row"),
        coerce=int,
        required=False,  # left out, the header stays where it is
        empty_value=None,
        help_text=_(
            "The row that names the columns. Rows above it (a title, a date) are left out."
        ),
    )

    def __init__(self, *args, headers, mapping, samples, header_rows=(), header_row=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.samples = samples
        self.current_header_row = header_row
        self.fields["header_row"].choices = [
            (number, gettext("Row %(row)s: %(text)s") % {"row": number, "text": text})
            for number, text in header_rows
        ] or [(header_row, gettext("Row %(row)s") % {"row": header_row})]
        self.fields["header_row"].initial = header_row
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header,
                choices=list(TARGETS.items()),
                initial=mapping[index] if index < len(mapping) else "note",
                required=False,  # the empty choice means "ignore this column"
            )

    def header_row_changed(self) -> bool:
        """True when the person chose another header row (the columns are then re-read)."""
        field = self["header_row"]
        try:
            chosen = self.fields["header_row"].clean(field.data)
        except forms.ValidationError:
            return False
        if chosen in (None, self.current_header_row):
            return False
        self.is_valid()  # the columns' choices are moot, but cleaned_data is needed
        self.cleaned_data["header_row"] = chosen
        return True

    def columns(self):
        """(bound field, header, sample values) per column, for the template."""
        return [
            (self[f"column_{index}"], header, self.samples[index])
            for index, header in enumerate(self.headers)
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("header_row") not in (None, self.current_header_row):
            return cleaned  # another header row: these columns are about to change
        mapping = [cleaned.get(f"column_{i}", "") for i in range(len(self.headers))]
        for error in mapping_errors(self.headers, mapping):
            self.add_error(None, error)
        cleaned["mapping"] = mapping
        return cleaned


class SectorChoicesForm(forms.Form):
    """For each sector name no sector matches: create it, use an existing one, or leave it."""

    def __init__(self, *args, unknown, chosen, **kwargs):
        super().__init__(*args, **kwargs)
        existing = [
            (str(s.pk), gettext("Use “%(sector)s”") % {"sector": s.name})
            for s in Sector.objects.order_by("name")
        ]
        self.keys = list(unknown)
        for index, (key, written) in enumerate(unknown.items()):
            self.fields[f"sector_{index}"] = forms.ChoiceField(
                label=f"“{written}”",
                choices=[
                    ("create", gettext("Create the sector “%(sector)s”") % {"sector": written}),
                    *existing,
                    ("", gettext("Leave it out")),
                ],
                initial=chosen.get(key, "create"),
                required=False,
            )

    def choices(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"sector_{i}", "") for i, key in enumerate(self.keys)}


class DecisionsForm(forms.Form):
    """Decisions on possible duplicates: `decision_<row pk>` per held row shown, or
    `all_undecided` (add or skip) for every row still undecided. Which decision a row
    allows is checked by members.importing.applying.decide_rows."""

    all_undecided = forms.ChoiceField(
        required=False, choices=[("", "—"), ("add", _("Add")), ("skip", _("Skip"))]
    )
    # The page's own query string (?show=hold&page=2), to come back to the same rows.
    back = forms.CharField(required=False, max_length=200)
    DECISIONS = ("", "add", "update", "skip")

    def clean(self):
        cleaned = super().clean()
        decisions = {}
        for key, value in self.data.items():
            if not key.startswith("decision_"):
                continue
            pk = key.removeprefix("decision_")
            if not pk.isdigit() or value not in self.DECISIONS:
                raise ValidationError(
                    _("“%(value)s” is not a decision for row #%(row)s."),
                    code="invalid_decision",
                    params={"value": value, "row": pk},
                )
            decisions[int(pk)] = value
        cleaned["decisions"] = decisions
        return cleaned

    def decisions(self) -> dict[int, str]:
        """ImportRow pk -> "add", "update", "skip" or "" (undecided)."""
        return self.cleaned_data["decisions"]
