from django import forms
from django.core.exceptions import ValidationError

from members.models import (
    CAPACITY_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)
from members.text import phone_digits


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

    @property
    def comparison(self):
        """Rows of (label, saved, yours, differs) for showing both versions side by side."""
        if self.current is None:
            return []
        saved_values = forms.models.model_to_dict(self.current, fields=list(self.fields))
        differing = set(self.fields_differing_from(self.current))
        rows = []
        for name, field in self.fields.items():
            if name == "edit_version" or name not in saved_values:
                continue
            rows.append(
                {
                    "label": field.label,
                    "saved": _readable(field, saved_values[name]),
                    "yours": _readable(field, self.cleaned_data.get(name)),
                    "differs": name in differing,
                }
            )
        return rows

    def fields_differing_from(self, current: Member):
        """Names of the fields whose submitted value is not what `current` holds."""
        saved = forms.models.model_to_dict(current, fields=list(self.cleaned_data))
        for name, value in self.cleaned_data.items():
            if name in saved and _comparable(saved[name]) != _comparable(value):
                yield name


def _readable(field, value) -> str:
    """A value as the person would recognise it: choice labels, sector names."""
    if value in (None, ""):
        return ""
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = {str(getattr(v, "pk", v)) for v in value}
        return ", ".join(label for pk, label in field.choices if str(pk) in pks)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    return str(value)


def _comparable(value):
    if isinstance(value, list | tuple | set) or hasattr(value, "model"):
        return sorted(str(getattr(v, "pk", v)) for v in value)
    return "" if value is None else str(value)


class PersonForm(VersionedMemberForm):
    """The organizer's form for a person: short for quick add, complete for editing."""

    QUICK_FIELDS = [
        "name",
        "email",
        "phone",
        "city",
        "status",
        "sectors",
        "joining_story_kind",
        "joining_story",
    ]

    class Meta:
        model = Member
        fields = [
            "name",
            "preferred_name",
            "pronouns",
            "email",
            "phone",
            "city",
            "region",
            "status",
            "sectors",
            "joining_story_kind",
            "joining_story",
            "joined_on",
            "note",
        ]
        widgets = {
            "sectors": forms.CheckboxSelectMultiple,
            "joining_story_kind": forms.RadioSelect,
            "joining_story": forms.Textarea(attrs={"rows": 3}),
            "joined_on": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 3}),
            "name": forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
            "city": forms.TextInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {"joining_story": "Why they joined, as they put it. Their words, not ours."}

    def __init__(self, *args, quick=False, **kwargs):
        super().__init__(*args, **kwargs)
        if quick:
            for name in list(self.fields):
                if name not in self.QUICK_FIELDS:
                    del self.fields[name]
        if "sectors" in self.fields:
            # Retired sectors stay on the people who have them but are not offered anew.
            sectors = self.fields["sectors"]
            sectors.queryset = Sector.objects.filter(active=True) | Sector.objects.filter(
                pk__in=self.instance.sectors.all() if self.instance.pk else []
            )
            # Read the checkbox choices once, not once per rendering of the widget.
            sectors.choices = list(sectors.choices)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Enter a name; spaces alone are not a name.", code="blank")
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and len(phone_digits(phone)) < 7:
            raise ValidationError(
                "A phone number needs at least 7 digits, like (555) 010-2233.", code="short"
            )
        return phone

    def clean(self):
        cleaned = super().clean()
        if (
            "email" in self.fields
            and "phone" in self.fields
            and not self.instance.pk
            and not cleaned.get("email")
            and not cleaned.get("phone")
            and "email" not in self.errors
            and "phone" not in self.errors
        ):
            self.add_error(
                "email", "Give an email or a phone number, so the person can be reached."
            )
        return cleaned


class CheckInForm(forms.ModelForm):
    SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]

    class Meta:
        model = CapacityCheckIn
        fields = ["checked_on", *CAPACITY_FIELDS, "note"]
        widgets = {
            "checked_on": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"checked_on": "Date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CAPACITY_FIELDS:
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=self.SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose a score from 1 to 5.",
                    "invalid_choice": "Choose a score from 1 to 5; %(value)s is not one.",
                },
            )


class PeopleFilterForm(forms.Form):
    """The people page's one search box and its filters; every field optional."""

    q = forms.CharField(
        label="Search people",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, email or city",
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *MemberStatus.choices])
    sector = forms.ModelChoiceField(
        required=False,
        queryset=Sector.objects.all(),
        to_field_name="slug",
        empty_label="Any sector",
    )
    kind = forms.ChoiceField(
        label="Joining story",
        required=False,
        choices=[("", "Any joining story"), *JoiningStoryKind.choices],
    )

    def apply(self, people):
        data = self.cleaned_data
        people = people.search(data["q"]) if data.get("q") else people.order_by("name", "pk")
        if data.get("status"):
            people = people.filter(status=data["status"])
        if data.get("sector"):
            people = people.filter(sectors=data["sector"])
        if data.get("kind"):
            people = people.filter(joining_story_kind=data["kind"])
        return people
