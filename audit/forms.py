"""The access log page's filters: who, what kind, when, which person, which search text."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.log import search_hash
from audit.models import Action

# The largest id the log's id columns hold (a signed 64-bit integer on PostgreSQL).
MAX_ID = 2**63 - 1
# Pages of 100 rows; beyond this page, nobody reads a log by paging.
MAX_PAGE = 10_000


class AccessLogFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        label=_("User"),
        empty_label=_("Anyone"),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    since = forms.DateField(
        label=pgettext_lazy("start of a date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("end of a date range", "Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    person = forms.IntegerField(
        label=_("Person number"),
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("Who opened (or erased) this person."),
    )
    searched = forms.CharField(
        label=_("Searched for"),
        required=False,
        max_length=200,
        help_text=_("Finds searches of exactly this text (case and spacing aside)."),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error(
                "until",
                ValidationError(_("“Until” must be on or after “From”."), code="before_from"),
            )
        return data

    def apply(self, entries):
        """`entries` (AccessLog rows) narrowed to the filters given."""
        data = self.cleaned_data
        if data.get("user"):
            entries = entries.filter(user=data["user"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        # Whole local days, as a range on the indexed column.
        if data.get("since"):
            entries = entries.filter(created__gte=_midnight(data["since"]))
        if data.get("until") and data["until"] < dt.date.max:
            entries = entries.filter(created__lt=_midnight(data["until"] + dt.timedelta(days=1)))
        if data.get("person"):
            entries = entries.filter(person_id=data["person"])
        if data.get("searched"):
            entries = entries.filter(action=Action.SEARCH, query_hash=search_hash(data["searched"]))
        return entries


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
