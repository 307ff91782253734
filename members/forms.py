from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from members import merging
from members.models import (
    CAPACITY_FIELDS,
    PERSON_FIELDS,
    CapacityCheckIn,
    JoiningStoryKind,
    Member,
    MemberStatus,
    Sector,
)
from members.search import is_short_term, search_words
from members.text import clean_text, format_phone, is_scientific_notation, phone_problem
from sos_tracker.versioning import HIDDEN_FIELDS, VersionedModelForm


class VersionedMemberForm(VersionedModelForm):
    """A Member form that refuses to overwrite a save made since the form was opened.

    The version check and the three-way merge are sos_tracker.versioning's, the same as
    the cores' and the admin's: a stale save is refused, fields this person left alone
    take the other person's saved value, sectors merge as a set (an added sector and one a
    colleague added meanwhile both stay), and fields both changed are conflicts, shown
    side by side with this person's input kept.
    """

    noun = _("this person")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = _without_invisible_characters(self.data, self)

    def stale_message(self, conflicts) -> str:
        if conflicts:
            return gettext(
                "Someone else saved this person while you were editing. You both changed: "
                "%(fields)s; your input is kept there. Check the form and save again."
            ) % {"fields": ", ".join(map(str, conflicts))}
        return gettext(
            "Someone else saved this person while you were editing. You changed different "
            "fields; theirs are filled in below. Check the form and save again."
        )


def _without_invisible_characters(data, form):
    """A copy of `data` with every text field cleaned (members.text.clean_text): a
    zero-width space or NUL pasted into a name or email never reaches the checks or the
    database. The person sees no difference: the removed characters were invisible."""
    data = data.copy()
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if isinstance(field, forms.CharField) and isinstance(data.get(key), str):
            multiline = isinstance(field.widget, forms.Textarea)
            data[key] = clean_text(data[key], multiline=multiline)
    return data


class PersonForm(VersionedMemberForm):
    """The organizer's form for a person: short for quick add, complete for editing."""

    QUICK_FIELDS = [
        "name",
        "email",
        "phone",
        "city",
        # The duplicate check tells Portland, OR from Portland, ME only if it is given.
        "region",
        "status",
        "sectors",
        "joining_story_kind",
        "joining_story",
    ]

    class Meta:
        model = Member
        fields = [*PERSON_FIELDS, "sectors"]
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
        help_texts = {"joining_story": _("Why they joined, as they put it. Their words, not ours.")}

    def __init__(self, *args, quick=False, viewer=None, **kwargs):
        """`viewer`: the user filling the form in. A taken email's error then names and
        links the person who has it, when the viewer may see people (email_holder)."""
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        # The findable person who has the typed email, when the viewer may open them.
        self.email_holder = None
        # clean_name() says why a name of spaces is refused, and the input keeps them.
        self.fields["name"].strip = False
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

    def _post_clean(self):
        # Member.clean (run here, and again by the service that saves) refuses an email
        # someone has (MemberQuerySet.with_email). Say who, beside the field, to a viewer
        # who may see them; to anyone else only that the email is in use.
        super()._post_clean()
        if self.viewer is None or not self.has_error("email", code="unique"):
            return
        holder = (
            Member.objects.findable().with_email(self.instance.email).exclude(pk=self.instance.pk)
        ).first()
        if holder is None or not self.viewer.has_perm("members.view_member"):
            return  # the model's own message says the email is taken, and nothing more
        self.email_holder = holder
        link = format_html('<a href="{}">{}</a>', holder.get_absolute_url(), holder)
        del self._errors["email"]
        self.add_error(
            "email",
            ValidationError(
                format_html(
                    _(
                        "This email is already on file for {person}. Two people cannot "
                        "share an email: open their record to update it, or correct the "
                        "email."
                    ),
                    person=link,
                ),
                code="unique",
            ),
        )

    def can_be_saved(self) -> bool:
        """Whether members.services.create_member would save what was typed.

        The form runs the same checks as the service (the fields' own and Member.clean:
        a taken email, a phone too short, a date in the future), so every hard stop is a
        form error and this is the form's validity. Quick add offers "add anyway" only
        when it is true: a button that can never succeed is not offered.
        """
        return self.is_valid()

    def full_clean(self):
        """Validate, then move the cursor (autofocus) to the first field with an error:
        the person fixes it straight away instead of tabbing down from the name."""
        super().full_clean()
        wrong = next((name for name in self.fields if name in self._errors), None)
        if wrong is not None:
            for field in self.fields.values():
                field.widget.attrs.pop("autofocus", None)
            self.fields[wrong].widget.attrs["autofocus"] = True

    def contact_details(self) -> dict[str, str]:
        """What the duplicate check compares, cleaned where the field is valid."""
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: cleaned.get(name) or self.data.get(self.add_prefix(name), "").strip()
            for name in ("name", "email", "phone", "city", "region")
        }

    def person_fields(self) -> dict:
        """The cleaned fields of the person, sectors included, for members.services."""
        return {k: v for k, v in self.cleaned_data.items() if k not in HIDDEN_FIELDS}

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Enter a name; spaces alone are not a name."), code="blank")
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_phone(self):
        """Stored as the phone library writes it ("(512) 555-0123"); see format_phone."""
        phone = self.cleaned_data["phone"].strip()
        if is_scientific_notation(phone):
            raise ValidationError(phone_problem(phone), code="lost")
        if phone_problem(phone):
            raise ValidationError(
                _("A phone number needs at least 7 digits, like (555) 010-2233."), code="short"
            )
        return format_phone(phone)

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
                "email",
                ValidationError(
                    _("Give an email or a phone number, so the person can be reached."),
                    code="unreachable",
                ),
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
        labels = {"checked_on": _("Date")}

    def __init__(self, *args, last=None, **kwargs):
        """`last`: the person's latest earlier check-in (or None), shown beside each score
        so the assessor sees where the person stood."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in CAPACITY_FIELDS:
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                help_text=_last_score(last, name),
                choices=self.SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a score from 1 to 5."),
                    "invalid_choice": _("Choose a score from 1 to 5; %(value)s is not one."),
                },
            )


def _last_score(last, name: str) -> str:
    """The help text beside one capacity: its score at the last check-in, and when."""
    if last is None:
        return gettext("No earlier check-in.")
    return gettext("Last check-in: %(score)s on %(date)s.") % {
        "score": getattr(last, name),
        "date": date_format(last.checked_on),  # DATE_FORMAT, per language
    }


class PeopleFilterForm(forms.Form):
    """The people page's one search box and its filters; every field optional."""

    q = forms.CharField(
        label=_("Search people"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, email or city"),
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    status = forms.ChoiceField(
        label=pgettext_lazy("membership", "Status"),
        required=False,
        choices=[("", _("Any status")), *MemberStatus.choices],
    )
    sector = forms.ModelChoiceField(
        label=_("Sector"),
        required=False,
        queryset=Sector.objects.all(),
        to_field_name="slug",
        empty_label=_("Any sector"),
    )
    kind = forms.ChoiceField(
        label=_("Joining story"),
        required=False,
        choices=[("", _("Any joining story")), *JoiningStoryKind.choices],
    )

    @property
    def short_term(self) -> bool:
        """True when the search is a term too short to look inside names (one or two
        characters): it found only names and preferred names starting with it."""
        words = search_words(self.cleaned_data.get("q") or "") if self.is_valid() else []
        return bool(words) and is_short_term(words)

    @property
    def no_words(self) -> bool:
        """True when a search was typed but holds nothing to search for (only symbols or
        punctuation): everyone is listed, and the page says why."""
        query = (self.cleaned_data.get("q") or "") if self.is_valid() else ""
        return bool(query.strip()) and not search_words(query)

    def __init__(self, data=None, *, user=None, **kwargs):
        """`user`: whose list this is. The filters other apps add (people_filters) are
        offered only to a user with their permission; without one (tests, scripts) none
        are, and their parameters are ignored like any unknown one."""
        super().__init__(data, **kwargs)
        for name in ("status", "sector", "kind"):
            self.fields[name].error_messages["invalid_choice"] = _CHOOSE_FROM_THE_LIST
        # Regions are free text: the ones in use, read from the region index.
        self.fields["region"] = forms.ChoiceField(
            label=_("Region"),
            required=False,
            choices=[("", _("Any region")), *_region_choices()],
            error_messages={"invalid_choice": _CHOOSE_FROM_THE_LIST},
        )
        self.extra_filters = [
            extra
            for extra in people_filters.values()
            if user is not None and user.has_perm(extra.permission)
        ]
        for extra in self.extra_filters:
            for name, field in extra.fields().items():
                field.error_messages["invalid_choice"] = _CHOOSE_FROM_THE_LIST
                self.fields[name] = field

    def invalid_fields(self) -> list[tuple[str, str]]:
        """(label, message) of each filter whose value is not one of its choices, for the
        page to say which field to change; empty when the form is valid."""
        if self.is_valid():
            return []
        return [
            (str(self[name].label), message)
            for name, messages in self.errors.items()
            if name in self.fields
            for message in messages
        ]

    def apply(self, people):
        """Narrow `people` (a MemberQuerySet) to the search and every filter given: each
        one a QuerySet method, so they combine with the search and its paging."""
        data = self.cleaned_data
        people = people.findable()
        people = people.search(data["q"], typed=True) if data.get("q") else people.in_name_order()
        if data.get("status"):
            people = people.filter(status=data["status"])
        if data.get("sector"):
            people = people.in_sector(data["sector"])
        if data.get("kind"):
            people = people.filter(joining_story_kind=data["kind"])
        if data.get("region"):
            people = people.in_region(data["region"])
        for extra in self.extra_filters:
            people = extra.apply(people, data)
        return people


# Shown for a filter value that is not offered (an edited or stale link); the page puts
# the field's label before it.
_CHOOSE_FROM_THE_LIST = _("Choose one from the list; “%(value)s” is not one of them.")


def _region_choices() -> list[tuple[str, str]]:
    return [(region, region) for region in Member.objects.regions_in_use()]


@dataclass(frozen=True)
class PeopleFilter:
    """A filter of the people list that another app adds: members never imports cores,
    so the cores register theirs (tendency, alignment level, core) from their
    AppConfig.ready(), as they register their merge steps.

    permission
        The permission a user needs to be offered the filter ("app.codename"): what a
        list can be filtered by, its reader learns, so a filter is offered only to those
        who may see what it filters on.
    fields() -> dict[str, forms.Field]
        The form fields, made anew for each form; choices from small tables.
    apply(people, cleaned_data) -> MemberQuerySet
        Narrows the people by the cleaned values (unset ones are ""/None), through
        MemberQuerySet.among, so a page in name order stays flat.
    """

    name: str
    permission: str
    fields: Callable[[], dict[str, forms.Field]]
    apply: Callable


# By name, in registration order.
people_filters: dict[str, PeopleFilter] = {}


def register_people_filter(people_filter: PeopleFilter) -> None:
    """Add (or replace, by name) a filter of the people list. Call from AppConfig.ready()."""
    people_filters[people_filter.name] = people_filter


class MergeForm(forms.Form):
    """Merging two people: which record stays, and per differing field whose value.

    The two people are sides "a" (the page's person) and "b". Each field whose values
    differ is a choice of "a" or "b" (or "both" for long text), initially the survivor's
    value unless it is empty (members.merging.default_choices, with "a" surviving). The
    choices name the side whose *value* stays, so choosing the other survivor does not
    silently swap the values chosen. Hidden versions refuse a merge of records saved
    since the page was shown.
    """

    survivor = forms.ChoiceField(
        label=_("Keep which record"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose which record stays.")},
    )
    version_a = forms.IntegerField(widget=forms.HiddenInput)
    version_b = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, a: Member, b: Member):
        super().__init__(data, label_suffix="")
        self.a, self.b = a, b
        self.fields["survivor"].choices = [
            ("a", f"{a} (#{a.pk})"),
            ("b", f"{b} (#{b.pk})"),
        ]
        self.fields["survivor"].initial = "a"
        self.fields["version_a"].initial = a.version
        self.fields["version_b"].initial = b.version
        defaults = merging.default_choices(a, b)
        side = {merging.SURVIVOR: "a", merging.OTHER: "b", merging.BOTH: "both"}
        self.differing = merging.differing_fields(a, b)
        for name in self.differing:
            model_field = Member._meta.get_field(name)
            choices = [("a", display_value(model_field, a)), ("b", display_value(model_field, b))]
            if name in merging.JOINABLE_FIELDS:
                choices.append(("both", gettext("Both, joined")))
            self.fields[name] = forms.ChoiceField(
                label=str(model_field.verbose_name).capitalize(),
                choices=choices,
                initial=side[defaults[name]],
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose which value stays."),
                    "invalid_choice": _("Choose one of the values shown."),
                },
            )

    def clean(self):
        cleaned = super().clean()
        # The service checks again under a row lock; this says so before any other error,
        # since a field that differs only now has no choice in what was submitted.
        seen = (cleaned.get("version_a"), cleaned.get("version_b"))
        if seen != (self.a.version, self.b.version):
            self.show_current_versions()
            raise ValidationError(
                _(
                    "Someone saved one of these people since this page was opened; the values "
                    "below are as saved now. Look at them again and merge."
                ),
                code="stale",
            )
        return cleaned

    def rows(self) -> list[dict]:
        """Every person field side by side: the differing ones with their choice."""
        rows = []
        for model_field in merging.merge_fields():
            name = model_field.name
            row = {
                "name": name,
                "label": str(model_field.verbose_name).capitalize(),
                "a": display_value(model_field, self.a),
                "b": display_value(model_field, self.b),
                "field": self[name] if name in self.fields else None,
                "joinable": name in merging.JOINABLE_FIELDS,
            }
            if row["field"] is not None:
                row["chosen"] = str(row["field"].value())
            rows.append(row)
        return rows

    def merge_arguments(self) -> dict:
        """The keyword arguments of members.merging.merge_people for the cleaned form."""
        data = self.cleaned_data
        kept = data["survivor"]
        survivor, other = (self.a, self.b) if kept == "a" else (self.b, self.a)
        versions = {"a": data["version_a"], "b": data["version_b"]}
        choices = {}
        for name in self.differing:
            side = data[name]
            if side == "both":
                choices[name] = merging.BOTH
            else:
                choices[name] = merging.SURVIVOR if side == kept else merging.OTHER
        return {
            "survivor": survivor,
            "other": other,
            "choices": choices,
            "expected_versions": (versions[kept], versions["b" if kept == "a" else "a"]),
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Attach the service's refusal to the field it names, or to the whole form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            if name in self.fields:
                self.add_error(name, messages)
            elif name == forms.forms.NON_FIELD_ERRORS:
                self.add_error(None, messages)
            else:
                label = str(Member._meta.get_field(name).verbose_name).capitalize()
                self.add_error(None, [f"{label}: {message}" for message in messages])

    def show_current_versions(self) -> None:
        """After a refusal for a save made meanwhile: the page shows the records as they
        are now, so the next submit compares with those."""
        self.data = self.data.copy()
        self.data["version_a"] = self.a.version
        self.data["version_b"] = self.b.version


def display_value(model_field, member: Member) -> str:
    """A person's value as people read it: choice labels, dates written out, "" for none."""
    value = getattr(member, model_field.attname)
    if value in (None, ""):
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if hasattr(value, "strftime"):
        return date_format(value, "DATE_FORMAT")
    return str(value)


class EraseForm(forms.Form):
    """Erasing a person on request: why, and an explicit confirmation (members.erasure)."""

    reason = forms.CharField(
        label=_("Why is this person erased?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_(
            "Who asked and when, e.g. “Asked by email on 3 March”. Their name, emails "
            "and phones are taken out of it before it is kept."
        ),
        error_messages={"required": _("Say why this person is erased (e.g. who asked, when).")},
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone"),
        error_messages={"required": _("Tick the box to confirm: an erasure cannot be undone.")},
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise ValidationError(
                _("Say why this person is erased (e.g. who asked, when)."), code="required"
            )
        return reason
