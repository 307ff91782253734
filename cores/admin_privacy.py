"""Nothing about private review notes is learnt through the admin's lookups.

A review note is readable by its tendency's leads only (ReviewNote.objects.visible_to).
Its text never shows outside that scope, but a changelist could still tell whether a
row *has* notes: `/admin/cores/alignment/?review_notes__isnull=False` (Django allows
any lookup one relation deep), an ordering or a search through the notes, or a list
filter over them would sort the other tendency's alignments into "with notes" and
"without". So on every registered changelist (ours, accounts', audit's and the
third-party apps' alike) any filter, lookup, search or ordering whose path passes
through a private model is refused: a lookup in the query string answers 400 (Django's
DisallowedModelAdminLookup), and search fields, list filters and sortable columns that
would reach one are dropped. The notes' own changelist is scoped by its queryset
(visible_to) and keeps filtering and searching its own fields.

`protect(site)` is called once every admin is registered (the end of cores/admin.py,
the last app's admin module); tests/test_note_privacy.py walks every changelist with
every path to a note that `_meta` offers, as each role, and compares the results with
and without the notes the user may not read.
"""

import types

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from cores.models import ReviewNote

# Models whose rows' existence is private to a scope: no lookup from another model may
# pass through them.
PRIVATE_MODELS = (ReviewNote,)


def reaches_private(model, path) -> bool:
    """Whether the lookup `path` (a string such as "alignments__review_notes__isnull",
    "-member__name" or a search field "^name"; or an F/OrderBy expression), followed from
    `model`, passes through one of PRIVATE_MODELS. The starting model itself does not
    count: a private model's own admin is scoped by its queryset."""
    name = _path_name(path)
    if not name:
        return False
    for part in name.lstrip("-^=@").split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        related = getattr(field, "related_model", None)
        if not field.is_relation or related is None or isinstance(related, str):
            return False
        if issubclass(related, PRIVATE_MODELS):
            return True
        model = related
    return False


def _path_name(path) -> str:
    """The field path of a string, an F() or an OrderBy(F()); "" for anything else."""
    if isinstance(path, str):
        return path
    expression = getattr(path, "expression", path)
    name = getattr(expression, "name", "")
    return name if isinstance(name, str) else ""


def _filter_path(spec):
    """The field path a list_filter entry filters on (None for a SimpleListFilter)."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list | tuple) and spec and isinstance(spec[0], str):
        return spec[0]
    return None


class PrivateAwareChangeList(ChangeList):
    """A changelist that never sorts by a column reached through a private model."""

    def get_ordering_field(self, field_name):
        order_field = super().get_ordering_field(field_name)
        if order_field is not None and reaches_private(self.model, order_field):
            return None
        return order_field


class NotePrivacyMixin:
    """Refuse every filter, lookup, search and ordering through a private model."""

    def lookup_allowed(self, lookup, value, request):
        if reaches_private(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return [field for field in fields if not reaches_private(self.model, field)]

    def get_list_filter(self, request):
        specs = super().get_list_filter(request)
        return [
            spec
            for spec in specs
            if (path := _filter_path(spec)) is None or not reaches_private(self.model, path)
        ]

    def get_ordering(self, request):
        ordering = super().get_ordering(request) or ()
        return [field for field in ordering if not reaches_private(self.model, field)]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        return [
            column
            for column in sortable
            if not (isinstance(column, str) and reaches_private(self.model, column))
        ]

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if issubclass(changelist, PrivateAwareChangeList):
            return changelist
        return types.new_class(
            f"PrivateAware{changelist.__name__}", (PrivateAwareChangeList, changelist)
        )


def protect(site: admin.AdminSite = admin.site) -> None:
    """Give every ModelAdmin registered on `site` the NotePrivacyMixin (once each).

    The instances' classes are extended in place, so admins registered by apps we do not
    own (axes, django-otp, simple_history) are covered without re-registering them.
    """
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if issubclass(cls, NotePrivacyMixin):
            continue
        guarded = types.new_class(cls.__name__, (NotePrivacyMixin, cls))
        guarded.__module__ = cls.__module__
        guarded.__qualname__ = cls.__qualname__
        model_admin.__class__ = guarded
