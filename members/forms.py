from django import forms
from django.core.exceptions import ValidationError

from members.models import Member


class VersionedMemberForm(forms.ModelForm):
    """A Member form that refuses to overwrite a save made since the form was opened.

    The form carries the version it was opened at. `clean()` locks the row (inside the
    request's transaction) and compares; on a mismatch the save is refused with a message
    naming what the other person changed, and everything typed stays in the form. The
    hidden version then moves on, so saving again knowingly replaces their change.
    """

    edit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = None
        if self.instance.pk:
            self.fields["edit_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        current = Member.objects.select_for_update().get(pk=self.instance.pk)
        if cleaned.get("edit_version") != current.version:
            self.current = current
            self.data = self.data.copy()
            self.data[self.add_prefix("edit_version")] = current.version
            raise ValidationError(self.stale_message(current), code="stale")
        self.instance.version = current.version + 1
        return cleaned

    def stale_message(self, current: Member) -> str:
        differing = [str(self.fields[name].label) for name in self.fields_differing_from(current)]
        detail = (
            f" The saved version differs from yours in: {', '.join(differing)}."
            if differing
            else ""
        )
        return (
            "Someone else saved this person while you were editing."
            + detail
            + " Your input is kept below; save again to replace their version with yours."
        )

    def fields_differing_from(self, current: Member):
        """Names of the fields whose submitted value is not what `current` holds."""
        saved = forms.models.model_to_dict(current, fields=list(self.cleaned_data))
        for name, value in self.cleaned_data.items():
            if name in saved and _comparable(saved[name]) != _comparable(value):
                yield name


def _comparable(value):
    if isinstance(value, list | tuple | set) or hasattr(value, "model"):
        return sorted(str(getattr(v, "pk", v)) for v in value)
    return "" if value is None else str(value)
