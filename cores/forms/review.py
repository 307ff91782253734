"""The one-step review of an alignment: confirm or adjust the level, add a private note."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cores.models import Alignment, AlignmentLevel


class ReviewForm(forms.Form):
    """Bound to one alignment: the level preselected, the version the lead's page showed.

    `alignment` gives the initial level and version and the tendency named in the note's
    help text; `draft` ({"level", "note"}, from an earlier skip) overrides the initial
    level (when one is given) and note. `errors_from(error)` files a service's
    ValidationError under these fields.
    """

    level = forms.ChoiceField(
        label=_("Level"),
        choices=AlignmentLevel.choices,
        widget=forms.RadioSelect,
        help_text=_("Confirm the level as it is, or adjust it."),
        error_messages={
            "required": _("Choose the level you confirm."),
            "invalid_choice": _("Choose one of the levels."),
        },
    )
    note = forms.CharField(
        label=_("Private note"),
        required=False,
        strip=True,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # The alignment's version when the page was drawn: a review made on an out-of-date
    # page is refused by services.review_alignment instead of overwriting a colleague's.
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": _("The page was incomplete; open the item again.")},
    )

    def __init__(self, data=None, *, alignment: Alignment, draft: dict | None = None, **kwargs):
        initial = {"level": alignment.level, "expected_version": alignment.version}
        # A draft left by "skip for now": the lead's own level and note, filled in again.
        if draft:
            if draft.get("level") in AlignmentLevel.values:
                initial["level"] = draft["level"]
            initial["note"] = draft.get("note", "")
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, initial=initial, **kwargs)
        self.fields["note"].help_text = _(
            "Optional. Only the leads of %(tendency)s see it; it is saved with the review."
        ) % {"tendency": alignment.tendency}

    def errors_from(self, error: ValidationError) -> None:
        """File a service's ValidationError under this form's fields.

        The services key errors by model field; a note's `body` is this form's `note`, and
        anything else unknown becomes a form-wide error rather than being lost.
        """
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            field = {"body": "note"}.get(name, name)
            self.add_error(field if field in self.fields else None, errors)
