"""Recording the level a person states toward a tendency (an organizer's job)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cores.models import AlignmentLevel, Tendency

EARLIEST_STATED_ON = dt.date(1900, 1, 1)


class StatedAlignmentForm(forms.Form):
    """Tendency, level and the date the person stated it (today unless given).

    `errors_from(error)` files a services.state_alignment ValidationError under these
    fields (the model's `stated_on` is this form's `stated_on`; `tendency` stays).
    """

    tendency = forms.ModelChoiceField(
        queryset=Tendency.objects.all(),
        label=_("Tendency"),
        empty_label=None,
        error_messages={
            "required": _("Choose the tendency the person spoke about."),
            "invalid_choice": _("Choose one of the tendencies."),
        },
    )
    level = forms.ChoiceField(
        label=_("Level they state"),
        choices=AlignmentLevel.choices,
        error_messages={
            "required": _("Choose the level the person states."),
            "invalid_choice": _("Choose one of the alignment levels."),
        },
    )
    stated_on = forms.DateField(
        label=_("Stated on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Give the date the person stated it."),
            "invalid": _("Enter a date like 2025-03-14."),
        },
    )

    def __init__(self, data=None, *, tendencies=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("stated_on", timezone.localdate())
        super().__init__(data, **kwargs)
        if tendencies is not None:
            # The caller's list (already read for the page): no second query for choices.
            field = self.fields["tendency"]
            field.queryset = Tendency.objects.filter(pk__in=[t.pk for t in tendencies])
            field.choices = [(t.pk, t.name) for t in tendencies]

    def clean_stated_on(self):
        stated_on = self.cleaned_data["stated_on"]
        if stated_on > timezone.localdate():
            raise ValidationError(_("The date stated cannot be in the future."), code="future")
        if stated_on < EARLIEST_STATED_ON:
            # No one alive stated a level before then: a mistyped year, not history.
            raise ValidationError(
                _("The date stated, %(date)s, is too early; give a date from 1900 on."),
                code="too_early",
                params={"date": stated_on.isoformat()},
            )
        return stated_on

    def errors_from(self, error: ValidationError) -> None:
        """File a service's ValidationError under this form's fields (unknown: form-wide)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)
