"""Where Django's admin trusts what a request sends, bounded once for every admin.

Django's admin validates most of its input, but a few paths build a query straight from
posted or queried values and fail with a server error on a tampered one; they are bounded
here for every registered admin (ours and the libraries': users, groups, lockouts,
devices), at startup (SosTrackerConfig.ready), rather than in each ModelAdmin:

- an autocomplete field (AutocompleteSelect) shown again with its errors looks up the
  posted values unchecked: "x" raised ValueError. Values the field cannot hold are dropped
  (the form itself already says "Select a valid choice");
- the list's actions filter by the ticked `_selected_action` values unchecked. Values the
  primary key cannot hold are dropped; none left is "No action selected" as usual;
- the list's filters and date hierarchy: a lookup that only fails when the query is built
  (a year past 9999 in `?joined_on__year=`, `?checked_on__gte=99999-01-01`, day 31 of
  February) raised as the page rendered. The query is compiled where Django checks the
  lookups, so the failure is its IncorrectLookupParameters: the whole list with "?e=1",
  Django's own answer to a bad filter. Compiling runs no query;
- an empty `?_to_field=` on a change page named the field "" (FieldDoesNotExist): it is
  the primary key, as no `_to_field` at all.
"""

from django.contrib.admin import ModelAdmin, helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteMixin
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DatabaseError

from sos_tracker.lookups import BAD_VALUE, holds

_optgroups = AutocompleteMixin.optgroups


def _optgroups_of_valid_values(self, name, value, attr=None):
    remote = self.field.remote_field
    opts = remote.model._meta
    field_name = getattr(remote, "field_name", None)  # a ForeignKey's to_field; M2M: pk
    target = opts.get_field(field_name) if field_name else opts.pk
    return _optgroups(self, name, [v for v in value if holds(target, v)], attr)


_response_action = ModelAdmin.response_action


def _response_action_on_valid_pks(self, request, queryset, *args, **kwargs):
    selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    valid = [pk for pk in selected if holds(self.opts.pk, pk)]
    if len(valid) != len(selected):
        request.POST = request.POST.copy()
        request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, valid)
    return _response_action(self, request, queryset, *args, **kwargs)


_get_queryset = ChangeList.get_queryset


def _get_queryset_compiled(self, request, exclude_parameters=None):
    try:
        # The date hierarchy computes the end of year 9999 (or of its December) outside
        # the check Django makes for the year itself: ValueError, OverflowError.
        queryset = _get_queryset(self, request, exclude_parameters)
        queryset.query.get_compiler(queryset.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        pass  # a filter that matches nothing or everything is a fine filter
    except (*BAD_VALUE, DatabaseError) as error:
        raise IncorrectLookupParameters(error) from error
    return queryset


_get_object = ModelAdmin.get_object


def _get_object_by_pk_when_no_field(self, request, object_id, from_field=None):
    # "?_to_field=" (empty) passes the admin's check of allowed fields, being falsy, and
    # then names the field "" (FieldDoesNotExist). Empty means the primary key.
    return _get_object(self, request, object_id, from_field or None)


def harden_admin() -> None:
    """Install the bounds above. Idempotent."""
    ModelAdmin.get_object = _get_object_by_pk_when_no_field
    AutocompleteMixin.optgroups = _optgroups_of_valid_values
    ModelAdmin.response_action = _response_action_on_valid_pks
    ChangeList.get_queryset = _get_queryset_compiled
