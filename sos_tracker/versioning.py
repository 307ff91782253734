"""Optimistic locking: one version check for every record people edit side by side.

A versioned record carries a `version` counter, moved on by each save. A form carries
the version it was opened at; the save locks the row, compares, and refuses a save based
on an older version (StaleEditError) instead of overwriting what was saved meanwhile.
The refused form comes back merged three ways (what it was opened with, what was saved
since, what this person typed): fields this person left alone take the saved value, sets
(sectors, a core's members and leads) merge as sets, and fields both changed are shown
side by side with this person's input kept. The hidden version moves on, so saving again
replaces only what this person chose to change.

Used by the person edit (members.forms.VersionedMemberForm, members.services), the
cores' pages and services (cores.services) and the admin's core, milestone and invitation
forms (cores.admin).
"""

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from sos_tracker.lookups import holds

# The hidden fields a versioned form adds: the version it was opened at, and (signed)
# the values it was opened with, which the three-way merge compares against.
VERSION_FIELD = "edit_version"
OPENED_FIELD = "edit_opened"
HIDDEN_FIELDS = (VERSION_FIELD, OPENED_FIELD)
_SALT = "sos_tracker.versioning.opened"


class _Carried:
    """A hidden field the form only carries: never counted as a change of the record."""

    def has_changed(self, initial, data) -> bool:
        return False


class CarriedVersion(_Carried, forms.IntegerField):
    pass


class CarriedSnapshot(_Carried, forms.CharField):
    pass


class StaleEditError(ValidationError):
    """Someone else saved the record after this edit began; `current` is it as saved now."""

    def __init__(self, current, message: str | None = None):
        self.current = current
        super().__init__(
            message
            or _(
                "Someone else saved this while you were editing; nothing of yours was saved. "
                "Their version is shown beside yours; check it and save again."
            ),
            code="stale",
        )


class VersionedModel(models.Model):
    """A model whose every save moves `version` on by one, counted from the saved row
    (not from the copy being saved, which may be stale), so no two saves share a
    version and a form opened before either is always told."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using")):
            saved = (
                type(self)
                ._base_manager.select_for_update()
                .filter(pk=self.pk)
                .values_list("version", flat=True)
                .first()
            )
            self.version = (saved or 0) + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
            return super().save(*args, **kwargs)


def bump_versions(model, pks) -> None:
    """Move the version of the rows `pks` of `model` on: a change made without saving
    the row (a many-to-many link added or removed) must still tell open forms."""
    if pks:
        model._base_manager.filter(pk__in=pks).update(version=models.F("version") + 1)


def check_version(model, pk, expected: int | None, *, message: str | None = None):
    """The row `pk` of `model`, locked (call inside a transaction), if its version is
    still `expected` (None skips the comparison: a form served before versions existed).

    Raises StaleEditError (with the saved row as `current`) when it moved on.
    """
    current = model._base_manager.select_for_update().get(pk=pk)
    if expected is not None and current.version != expected:
        raise StaleEditError(current, message)
    return current


def merge_sets(opened, theirs, yours) -> set:
    """A three-way merge of two edits of one set (of pks): what either side added is
    in, what either side removed is out; nothing the other side did is lost."""
    opened, theirs, yours = set(opened), set(theirs), set(yours)
    return (theirs | (yours - opened)) - (opened - yours)


class VersionedModelForm(forms.ModelForm):
    """A ModelForm that refuses to overwrite a save made since the form was opened.

    `clean()` locks the row (inside the request's transaction) and compares the version
    the form carries. On a mismatch, when the form would change anything, the save is
    refused and the form comes back merged (see the module). The form's `comparison`
    lists the fields they changed: label, saved value, yours, and whether it conflicts.
    `noun` names the record in the message ("this core").
    """

    noun = _("this record")

    edit_version = CarriedVersion(widget=forms.HiddenInput, required=False)
    edit_opened = CarriedSnapshot(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = None
        # The fields they changed (label, saved, yours, conflict), and those fields' names.
        self.comparison = []
        self.compared_names = []
        if self.instance.pk:
            self.fields[VERSION_FIELD].initial = self.instance.version
            # The ModelForm's initial values are the instance's, already read: no query.
            self.fields[OPENED_FIELD].initial = self.snapshot(values=self.initial)

    # --- what the form was opened with ----------------------------------------------

    def _merged_fields(self):
        return {
            name: field
            for name, field in self.fields.items()
            if name not in HIDDEN_FIELDS and name in _model_field_names(self._meta.model)
        }

    def snapshot(self, instance=None, *, values=None) -> str:
        """The form's fields as `instance` has them (or as in `values`), signed, for the
        hidden field."""
        fields = list(self._merged_fields())
        if values is None:
            values = forms.models.model_to_dict(instance, fields=fields)
        return signing.dumps(
            {name: _comparable(values[name]) for name in fields if name in values},
            salt=_SALT,
            compress=True,
        )

    def opened_snapshot(self) -> dict | None:
        """The values this form was opened with, from the signed hidden field (None when
        it carries none, or one that is not ours)."""
        raw = self.data.get(self.add_prefix(OPENED_FIELD)) if self.is_bound else None
        if not raw or not isinstance(raw, str):
            return None
        try:
            values = signing.loads(raw, salt=_SALT)
        except signing.BadSignature:
            return None
        return values if isinstance(values, dict) else None

    def opened_values(self, version) -> dict | None:
        """The record as this form was opened: from the signed snapshot it carries, else
        from history (forms served before the snapshot existed); None if unknown."""
        return self.opened_snapshot() or self.opened_from_history(version)

    @property
    def changed_data(self):
        """The fields this person changed on the page: compared with the values the page
        was opened with (not with the row as saved now, whose newer values a stale page
        would otherwise seem to change back)."""
        changed = super().changed_data
        opened = self.opened_snapshot() if self.instance.pk else None
        if opened is None:
            return changed
        merged = self._merged_fields()
        return [
            name
            for name in self.fields
            if (
                _comparable(self._typed(name)) != opened[name]
                if name in merged and name in opened
                else name in changed
            )
        ]

    def _save_m2m(self):
        # Only the sets this person changed are written: saving a page left alone must
        # not put back a set someone else has changed since.
        unchanged = [
            name
            for name, field in self._merged_fields().items()
            if isinstance(field, forms.ModelMultipleChoiceField) and name not in self.changed_data
        ]
        if not unchanged or self.opened_snapshot() is None:
            return super()._save_m2m()
        cleaned = self.cleaned_data
        self.cleaned_data = {k: v for k, v in cleaned.items() if k not in unchanged}
        try:
            super()._save_m2m()
        finally:
            self.cleaned_data = cleaned

    def opened_from_history(self, version) -> dict | None:
        history = getattr(self._meta.model, "history", None)
        if history is None or version is None:
            return None
        record = (
            history.filter(**{self._meta.model._meta.pk.name: self.instance.pk, "version": version})
            .order_by("-history_date")
            .first()
        )
        if record is None:
            return None
        values = {}
        for name, field in self._merged_fields().items():
            if isinstance(field, forms.ModelMultipleChoiceField):
                related = getattr(record, name, None)
                if related is None or not hasattr(related, "all"):
                    continue
                column = self._meta.model._meta.get_field(name).m2m_reverse_name()
                values[name] = [getattr(row, column) for row in related.all()]
            elif hasattr(record, name):
                values[name] = getattr(record, name)
        return values

    # --- the check ------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        current = self._meta.model._base_manager.select_for_update().get(pk=self.instance.pk)
        opened_version = cleaned.get(VERSION_FIELD)
        stale = opened_version is not None and opened_version != current.version
        if stale and self.would_change(current):
            self.current = current
            self.comparison = self.merge(current, self.opened_values(opened_version))
            # The page now stands on the saved row: saving again compares with it.
            self.data[self.add_prefix(VERSION_FIELD)] = current.version
            self.data[self.add_prefix(OPENED_FIELD)] = self.snapshot(current)
            raise self.refusal(current)
        self.instance.version = current.version + 1
        return cleaned

    def would_change(self, current) -> bool:
        """Whether saving this form would change the saved row with something this person
        changed: a stale page left alone (a row of the admin's inline nobody touched), or
        one whose changes are already saved, writes nothing, so it need not be refused."""
        fields = self._merged_fields()
        saved = forms.models.model_to_dict(current, fields=list(fields))
        changed = set(self.changed_data)
        return any(
            name in saved
            and name in changed
            and _comparable(self._typed(name)) != _comparable(saved[name])
            for name in fields
        )

    def _typed(self, name):
        if name in getattr(self, "cleaned_data", {}):
            return self.cleaned_data[name]
        field = self.fields[name]
        if isinstance(field, forms.ModelMultipleChoiceField):
            return self.data.getlist(self.add_prefix(name)) if hasattr(self.data, "getlist") else []
        return self.data.get(self.add_prefix(name))

    def refusal(self, current) -> ValidationError:
        """The error refusing a stale save: on a field when the form has a message of its
        own for that field's conflict (stale_field_message), else for the whole form."""
        errors, others = {}, []
        for name, row in zip(self.compared_names, self.comparison, strict=True):
            if not row["conflict"]:
                continue
            message = self.stale_field_message(name, current)
            if message:
                errors[name] = ValidationError(message, code="stale")
            else:
                others.append(row["label"])
        if others or not errors:
            errors[forms.forms.NON_FIELD_ERRORS] = ValidationError(
                self.stale_message(others), code="stale"
            )
        return ValidationError(errors)

    def stale_field_message(self, name: str, current) -> str | None:
        """A message of the form's own for a conflict on field `name` (None: the form's
        general message names it)."""
        return None

    def stale_message(self, conflicts) -> str:
        if conflicts:
            return _(
                "Someone else saved %(record)s while you were editing; nothing was saved. "
                "You both changed: %(fields)s; your input is kept there. "
                "Check the form and save again."
            ) % {"record": self.noun, "fields": ", ".join(map(str, conflicts))}
        return _(
            "Someone else saved %(record)s while you were editing; nothing was saved. "
            "You changed different things; theirs are filled in below. "
            "Check the form and save again."
        ) % {"record": self.noun}

    def merge(self, current, opened: dict | None) -> list[dict]:
        """Adopt their changes where this person typed nothing new; merge sets; list what
        they changed (label, saved, yours, conflict)."""
        saved = forms.models.model_to_dict(current, fields=list(self._merged_fields()))
        self.data = self.data.copy()
        self.compared_names = []
        rows = []
        for name, field in self._merged_fields().items():
            if name not in saved:
                continue
            yours = self._typed(name)
            theirs = saved[name]
            was = None if opened is None else opened.get(name)
            they_changed = opened is None or _comparable(theirs) != _comparable(was)
            if not they_changed or _comparable(yours) == _comparable(theirs):
                continue  # only this person's edit, or both arrived at the same value
            if isinstance(field, forms.ModelMultipleChoiceField) and opened is not None:
                merged = merge_sets(_comparable(was), _comparable(theirs), _comparable(yours))
                self._set_data(name, field, sorted(merged))
                self.compared_names.append(name)
                rows.append(
                    {
                        "label": field.label,
                        "saved": _readable(field, theirs),
                        "yours": _readable(field, sorted(merged)),
                        "conflict": False,
                    }
                )
                continue
            untouched = opened is not None and _comparable(yours) == _comparable(was)
            if untouched:
                self._set_data(name, field, theirs)
            self.compared_names.append(name)
            rows.append(
                {
                    "label": field.label,
                    "saved": _readable(field, theirs),
                    "yours": _readable(field, theirs if untouched else yours),
                    "conflict": not untouched,
                }
            )
        return rows

    @property
    def has_field_errors(self) -> bool:
        return any(name != forms.forms.NON_FIELD_ERRORS for name in self.errors)

    def _set_data(self, name, field, value):
        key = self.add_prefix(name)
        if isinstance(field, forms.ModelMultipleChoiceField):
            self.data.setlist(key, [str(getattr(v, "pk", v)) for v in value])
        elif hasattr(value, "pk"):
            self.data[key] = str(value.pk)
        elif hasattr(value, "isoformat"):
            self.data[key] = value.isoformat()
        elif isinstance(value, bool) and isinstance(field, forms.BooleanField):
            if value:
                self.data[key] = "on"
            else:
                self.data.pop(key, None)
        else:
            self.data[key] = "" if value is None else value


def _model_field_names(model) -> set[str]:
    return {field.name for field in model._meta.get_fields()}


def _readable(field, value) -> str:
    """A value as people recognise it: choice labels, names rather than ids."""
    if value in (None, "", []):
        return ""
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = {str(getattr(v, "pk", v)) for v in value}
        # Posted text that is no id ("x", a date) is shown as typed, never looked up.
        ids = [pk for pk in pks if holds(field.queryset.model._meta.pk, pk)]
        return ", ".join(
            str(obj) for obj in field.queryset.model._base_manager.filter(pk__in=ids)
        ) or ", ".join(sorted(pks))
    if isinstance(field, forms.ModelChoiceField):
        pk = getattr(value, "pk", value)
        if not holds(field.queryset.model._meta.pk, pk):
            return str(pk)
        obj = field.queryset.model._base_manager.filter(pk=pk).first()
        return str(obj) if obj is not None else str(pk)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    return str(value)


def _comparable(value):
    """One form for values from forms, models, history and snapshots: sorted pk strings
    for sets, the pk string for a related row, "" for none, else the text."""
    if isinstance(value, list | tuple | set) or hasattr(value, "model"):
        return sorted(str(getattr(v, "pk", v)) for v in value)
    if hasattr(value, "pk"):
        return str(value.pk)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)
