"""Guards that keep every change to a tracked model in its history."""

from django.db import models
from simple_history import utils as history_utils


class HistoryKeepingQuerySet(models.QuerySet):
    """A QuerySet whose bulk writes refuse to run.

    `update()` and `bulk_update()` write rows without calling `save()`, so
    django-simple-history never sees the change and the audit trail silently loses it.
    Save each object, or call `bulk_update_with_history()` below. Django's own cascades
    (SET_NULL on delete) go through the plain base manager and are unaffected.
    """

    def update(self, **kwargs):
        raise TypeError(
            f"{self.model.__name__}.objects.update() would skip the change history. "
            "Save each object, or use members.history.bulk_update_with_history()."
        )

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError(
            f"{self.model.__name__}.objects.bulk_update() would skip the change history. "
            "Use members.history.bulk_update_with_history()."
        )


def bulk_update_with_history(objs, model, fields, *, by, reason="", batch_size=500):
    """Update many rows at once and write one history row per object, attributed to `by`.

    Derived columns (a model's `DERIVED_FIELDS`, such as Member's search text) are
    recomputed and written too: a bulk write skips the save() that normally keeps them.
    """
    derived = getattr(model, "DERIVED_FIELDS", ())
    if derived:
        for obj in objs:
            obj.refresh_derived_fields()
        fields = list(dict.fromkeys([*fields, *derived]))
    return history_utils.bulk_update_with_history(
        objs,
        model,
        fields,
        batch_size=batch_size,
        default_user=by,
        default_change_reason=reason,
        # The base manager has no guard; history is written right here instead.
        manager=model._base_manager,
    )
