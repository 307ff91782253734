"""Forms for moving a core between phases and ticking its milestones off.

They only shape the input; the rules (one phase at a time, a reason, confirming open
milestones, no date in the future) are the services' (cores/services.py), whose
ValidationErrors come back onto these forms through `add_service_error`.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cores.models import Phase
from cores.services import MILESTONE_NOTE_MAX_LENGTH


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form, each message on the field it names.

    Services key their errors by field name; a key the form has no field for (such as
    "phase") becomes a form-wide error, so no message is ever lost.
    """

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class AdvancePhaseForm(ServiceErrorsMixin, forms.Form):
    """Move on to the next phase: why, and (when milestones are open) an explicit yes.

    `to_phase` is the phase the form was opened for, hidden: advance_phase refuses it
    when the core is no longer one step before it (a stale form, or a URL edited to skip).
    `from_phase` (hidden, optional for forms served before it existed) is the phase the
    core was in when the form was opened: the view compares it to tell a stale tab.
    """

    to_phase = forms.ChoiceField(choices=Phase.choices, widget=forms.HiddenInput)
    from_phase = forms.ChoiceField(choices=Phase.choices, widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Why the core is moving on"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why the core is moving on.")},
        help_text=_("Recorded with your name and the date; everyone who sees the core reads it."),
    )
    open_milestones_confirmed = forms.BooleanField(
        label=_("Move on anyway, with the milestones above still open"),
        required=False,
    )

    def __init__(
        self, *args, next_phase: str, current_phase: str = "", open_milestones=(), **kwargs
    ):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["to_phase"].initial = next_phase
        self.fields["from_phase"].initial = current_phase
        self.open_milestones = list(open_milestones)
        if not self.open_milestones:
            # Nothing to confirm: the box would only be noise.
            del self.fields["open_milestones_confirmed"]

    def is_stale(self, current_phase: str) -> bool:
        """Whether the core's phase changed since this form was opened: `from_phase`
        differs from `current_phase`, or (a form without it) `to_phase` is not ahead of it.
        Only meaningful on a bound form."""
        seen = self.data.get(self.add_prefix("from_phase"))
        if seen:
            return seen != current_phase
        target = self.data.get(self.add_prefix("to_phase"))
        order = list(Phase.values)
        return target in order and order.index(target) <= order.index(current_phase)

    def restarted(self, *, current_phase: str, next_phase: str, open_milestones, message: str):
        """A fresh form for the phase that is next now, keeping only the typed reason: the
        "move on anyway" box starts unticked, since the open milestones it confirmed were
        another phase's. `message` is shown as a form-wide error (nothing was saved)."""
        reason = self.data.get(self.add_prefix("reason"), "")
        form = type(self)(
            {self.add_prefix("reason"): reason},
            next_phase=next_phase,
            current_phase=current_phase,
            open_milestones=open_milestones,
            prefix=self.prefix,
        )
        form.data = form.data.copy()
        form.data[form.add_prefix("to_phase")] = next_phase
        form.data[form.add_prefix("from_phase")] = current_phase
        form.is_valid()
        form.add_error(None, message)
        return form

    def point_at(self, next_phase: str) -> None:
        """After a refused form, aim it at the phase that is next now, keeping what was
        typed (used when the phase did not change, so what was confirmed still holds)."""
        data = self.data.copy()
        data[self.add_prefix("to_phase")] = next_phase
        self.data = data


class ReturnPhaseForm(ServiceErrorsMixin, forms.Form):
    """Go back one phase, with a reason. `from_phase` (hidden) is the phase the person saw."""

    from_phase = forms.ChoiceField(choices=Phase.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why the core is going back"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why the core is going back a phase.")},
        help_text=_("Recorded with your name and the date."),
    )

    def __init__(self, *args, current_phase: str, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["from_phase"].initial = current_phase


class MilestoneDoneForm(ServiceErrorsMixin, forms.Form):
    """Tick a milestone off: the day it was done (today by default) and an optional note."""

    done_on = forms.DateField(
        label=_("Done on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the day it was done."), "invalid": _("Enter a date.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=MILESTONE_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        # {limit} is filled in now (with its thousands separator); %(show_value)d by the
        # length check when it fails.
        help_text=format_lazy(
            _(
                "Optional: what was decided, where the document lives "
                "(at most {limit} characters). Empty it to remove the note."
            ),
            limit=f"{MILESTONE_NOTE_MAX_LENGTH:,}",
        ),
        error_messages={
            "max_length": format_lazy(
                _("Keep the note to {limit} characters; it has %(show_value)d."),
                limit=f"{MILESTONE_NOTE_MAX_LENGTH:,}",
            )
        },
    )

    # The milestone's version when the page opened (sos_tracker.versioning): a save made
    # meanwhile (ticked, reopened, noted by someone else) is refused, not overwritten.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, version: int | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["done_on"].initial = timezone.localdate
        self.fields["version"].initial = version

    def show_saved(self, milestone) -> None:
        """After a refusal for a save made meanwhile: the next submit is judged against
        the milestone as saved now (what was typed stays)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = milestone.version
