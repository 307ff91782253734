"""Inviting a person into a core's process and following the invitation through its stages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cores.models import FUNNEL_STAGES, STAGE_DATE_FIELDS, CoreGroup, Invitation, InvitationStage
from cores.services import allowed_moves
from members.models import Member

POINT_PERSON_NOT_IN_CORE = _("The point person must be a member of this core.")


class _ServiceErrorsMixin:
    # Model field names a service may key its errors by, and the form field they belong to.
    FIELD_FOR = {}

    def errors_from(self, error: ValidationError) -> None:
        """File a service's ValidationError under this form's fields (unknown: form-wide)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            field = self.FIELD_FOR.get(name, name)
            self.add_error(field if field in self.fields else None, errors)


class PointPersonField(forms.ModelChoiceField):
    """A member of the core, by name; anyone else is refused with a message that says why."""

    def __init__(self, core: CoreGroup, **kwargs):
        super().__init__(
            queryset=core.members.order_by("name", "pk"),
            required=False,
            empty_label=_("Nobody yet"),
            help_text=_("The member of the core who follows up with this person."),
            error_messages={"invalid_choice": POINT_PERSON_NOT_IN_CORE},
            **kwargs,
        )
        # Read the choices once, not once per rendering of the select; iter() first, as
        # list() would ask the iterator its length (a COUNT query) before reading it.
        # Sorted by the name shown (a nickname when there is one), casefolded, so that
        # "ana" and "Ben" sort as a reader expects; "Nobody yet" stays first.
        empty, *people = list(iter(self.choices))
        self.choices = [empty, *sorted(people, key=lambda choice: str(choice[1]).casefold())]

    def label_from_instance(self, obj: Member) -> str:
        return obj.preferred_name or obj.name


class FollowUpForm(_ServiceErrorsMixin, forms.Form):
    """Who follows up an invitation (a member of its core), when next, and the core's note.

    `core` gives the point person's choices. Initial values come from `invitation` when
    given. Used both when inviting and on the invitation page (services.update_follow_up).
    """

    next_step_on = forms.DateField(
        label=_("Next step on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional: when the point person follows up next."),
        error_messages={"invalid": _("Enter a date like 2025-03-14.")},
    )
    note = forms.CharField(
        label=_("Note for the core"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by this core's leads only."),
    )

    # The invitation's version when the page opened (sos_tracker.versioning): a follow-up
    # saved on a page someone has since overtaken is refused, not overwritten.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, core: CoreGroup, invitation: Invitation | None = None, **kw):
        kw.setdefault("label_suffix", "")
        if invitation is not None:
            kw["initial"] = {
                "point_person": invitation.point_person_id,
                "next_step_on": invitation.next_step_on,
                "note": invitation.note,
                "version": invitation.version,
            }
        super().__init__(data, **kw)
        # Its choices depend on the core, so the field is made here and put first.
        self.fields["point_person"] = PointPersonField(core, label=_("Point person"))
        self.order_fields(["point_person", "next_step_on", "note", "version"])
        self.core_has_members = len(self.fields["point_person"].choices) > 1


class MoveForm(_ServiceErrorsMixin, forms.Form):
    """Move an invitation to another stage on a date, with a reason when they decline.

    The select offers the moves services.allowed_moves permits from the stage the page
    showed (`expected_stage`); any stage is accepted as input so that a refused move (out
    of "joined the process" or "declined", or a stale page) is answered by the service
    with its own message on `stage`, not a generic "not a valid choice".
    """

    # The model's stage date fields and its declined reason, as this form names them.
    FIELD_FOR = {
        **dict.fromkeys(STAGE_DATE_FIELDS.values(), "on"),
        "declined_reason": "reason",
        "moved_on": "on",
    }

    stage = forms.ChoiceField(
        label=_("Move to"),
        choices=InvitationStage.choices,
        error_messages={
            "required": _("Choose the stage to move to."),
            "invalid_choice": _("Choose one of the invitation stages."),
        },
    )
    on = forms.DateField(
        label=pgettext_lazy("date of a move", "On"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day it happened; kept as that stage's date."),
        error_messages={
            "required": _("Give the day it happened."),
            "invalid": _("Enter a date like 2025-03-14."),
        },
    )
    reason = forms.CharField(
        label=_("Why they declined"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional, only when moving to “Declined”."),
    )
    expected_stage = forms.ChoiceField(choices=InvitationStage.choices, widget=forms.HiddenInput)

    def __init__(self, data=None, *, invitation: Invitation, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs["initial"] = {
            "on": timezone.localdate(),
            "expected_stage": invitation.stage,
            **kwargs.get("initial", {}),
        }
        moves = allowed_moves(invitation.stage)
        # Positions in the funnel; declined stands beside it, neither back nor ahead.
        position = {stage: index for index, stage in enumerate(FUNNEL_STAGES)}
        here = position.get(invitation.stage, len(position))
        ahead = [stage for stage in moves if position.get(stage, -1) > here]
        if ahead:
            # The next stage of the funnel is the likely move; going back is a correction.
            kwargs["initial"].setdefault("stage", ahead[0].value)
        super().__init__(data, **kwargs)
        # Only the permitted moves are offered; the field still accepts every stage.
        self.fields["stage"].widget.choices = [
            (
                stage.value,
                gettext("%(stage)s (back: a correction)") % {"stage": stage.label}
                if position.get(stage, here) < here
                else stage.label,
            )
            for stage in moves
        ]
        self.has_moves = bool(moves)

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise ValidationError(_("This date cannot be in the future."), code="future")
        return on

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") and cleaned.get("stage") != InvitationStage.DECLINED:
            self.add_error(
                "reason",
                ValidationError(
                    _("A reason is kept only when the person declines; leave it empty."),
                    code="not_declined",
                ),
            )
        return cleaned


class InviteForm(forms.Form):
    """The hidden `member` of an "Invite" button: an id that names an existing person.

    A tampered value ("abc", "1e3", someone deleted meanwhile) is a form error, not a
    server error.
    """

    member = forms.ModelChoiceField(
        queryset=Member.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose the person to invite."),
            "invalid_choice": _("That person is not here any more; search again."),
        },
    )


class InvitationFilterForm(forms.Form):
    """The invitation list's filters: one stage, or only the stalled ones."""

    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Every stage")), *InvitationStage.choices]
    )
    stalled = forms.BooleanField(required=False, label=_("Stalled only"))


class PersonSearchForm(forms.Form):
    """The search box that finds an existing person to invite."""

    q = forms.CharField(
        label=_("Find a person"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, email or city"), "autocomplete": "off"}
        ),
    )
