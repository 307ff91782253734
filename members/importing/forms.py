from django import forms

from members.importing.columns import TARGETS, mapping_errors
from members.importing.reading import MAX_UPLOAD_BYTES
from members.models import Sector


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text=(
            f"CSV or XLSX, up to {MAX_UPLOAD_BYTES // 1_048_576} MB. The first row names "
            "the columns. Nothing is saved until you confirm the preview."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class MappingForm(forms.Form):
    """One choice per column of the file: which field it fills."""

    def __init__(self, *args, headers, mapping, samples, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.samples = samples
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header,
                choices=list(TARGETS.items()),
                initial=mapping[index] if index < len(mapping) else "note",
                required=False,  # the empty choice means "ignore this column"
            )

    def columns(self):
        """(bound field, header, sample values) per column, for the template."""
        return [
            (self[f"column_{index}"], header, self.samples[index])
            for index, header in enumerate(self.headers)
        ]

    def clean(self):
        cleaned = super().clean()
        mapping = [cleaned.get(f"column_{i}", "") for i in range(len(self.headers))]
        for error in mapping_errors(self.headers, mapping):
            self.add_error(None, error)
        cleaned["mapping"] = mapping
        return cleaned


class SectorChoicesForm(forms.Form):
    """For each sector name no sector matches: create it, use an existing one, or leave it."""

    def __init__(self, *args, unknown, chosen, **kwargs):
        super().__init__(*args, **kwargs)
        existing = [(str(s.pk), f"Use “{s.name}”") for s in Sector.objects.order_by("name")]
        self.keys = list(unknown)
        for index, (key, written) in enumerate(unknown.items()):
            self.fields[f"sector_{index}"] = forms.ChoiceField(
                label=f"“{written}”",
                choices=[
                    ("create", f"Create the sector “{written}”"),
                    *existing,
                    ("", "Leave it out"),
                ],
                initial=chosen.get(key, "create"),
                required=False,
            )

    def choices(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"sector_{i}", "") for i, key in enumerate(self.keys)}
