"""The access log (who read, searched, exported or imported what) and bulk-access alerts.

The log is append-only at every layer: the model refuses to save an existing row or to
delete one, its QuerySet refuses update() and delete(), the admin offers no change or
delete (superusers included), and a database trigger refuses UPDATE and DELETE on the
table (audit/migrations/0002). Rows name people by id, never by foreign key: a log must
outlive the record it speaks of (merged or erased people), and never blocks deleting one.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete a row of the access log."""


class Action(models.TextChoices):
    VIEW_PERSON = "view_person", _("Opened a person")
    SEARCH = "search", _("Searched people")
    LIST = "list", _("Listed people")
    EXPORT = "export", _("Exported people")
    IMPORT = "import", _("Imported people")
    ERASE = "erase", _("Erased a person")


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The access log is append-only: its rows cannot be changed.")

    def delete(self):
        raise AppendOnlyError("The access log is append-only: its rows cannot be deleted.")

    # Refused here, before bulk_update opens its transaction (it would call update()).
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("The access log is append-only: its rows cannot be changed.")

    def people_viewed_since(self, user, since):
        """The person pages `user` opened since `since` (the (user, action, created) index)."""
        return self.filter(user=user, action=Action.VIEW_PERSON, created__gte=since)

    def exports_since(self, user, since):
        """The exports `user` made since `since` (the (user, action, created) index)."""
        return self.filter(user=user, action=Action.EXPORT, created__gte=since)

    def openers_of(self, person_id: int, *, since):
        """Who opened person `person_id` since `since`: dicts of user_id, username, the
        user's first_name and last_name, times (how often) and last (when), latest first.
        One grouped query over the (person_id, created) index."""
        return (
            self.filter(person_id=person_id, action=Action.VIEW_PERSON, created__gte=since)
            .values("user_id", "username", "user__first_name", "user__last_name")
            .annotate(times=models.Count("pk"), last=models.Max("created"))
            .order_by("-last")
        )


class AccessLog(models.Model):
    """One read or bulk movement of people's data: who, when, what, how many, where."""

    created = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    # No database constraint and no cascade: deleting a user never touches the log (the
    # trigger would refuse it); the username below keeps the row readable afterwards.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # The one person opened or erased; indexed for "who opened this person".
    person_id = models.PositiveBigIntegerField(_("person"), null=True, blank=True)
    # Several people: those a search page listed.
    people = models.JSONField(_("people"), default=list, blank=True)
    # The import (members.ImportRecord) or export (members.ExportRecord) concerned.
    record_id = models.PositiveBigIntegerField(_("import or export"), null=True, blank=True)
    # How many people (search results shown, exported) or rows (imported).
    count = models.PositiveIntegerField(_("count"), default=0)
    # A search's text as a keyed hash only (audit.log.search_hash): whether a given text
    # was searched can be checked, but nobody can read what was searched.
    query_hash = models.CharField(_("search hash"), max_length=64, blank=True)
    # The request's path, without its query string (which may hold the search text).
    path = models.CharField(_("path"), max_length=500, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            # The quotas count a user's views and exports of the last hour or day.
            models.Index(fields=["user", "action", "created"], name="audit_user_action_created"),
            # "Who opened this person in the last 30 days" and the log's person filter.
            models.Index(fields=["person_id", "created"], name="audit_person_created"),
            models.Index(fields=["created"], name="audit_created"),
        ]

    def __str__(self):
        who = self.username or "someone"
        return f"{who}: {self.get_action_display()} at {self.created:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The access log is append-only: its rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The access log is append-only: its rows cannot be deleted.")


class AlertKind(models.TextChoices):
    PEOPLE_VIEWED = "people_viewed", _("Opened too many people in an hour")
    PEOPLE_EXPORTED = "people_exported", _("Exported too many people in a day")


class AlertQuerySet(models.QuerySet):
    def open(self):
        """Alerts no admin has acknowledged yet, newest first, with their user."""
        return self.filter(acknowledged_at=None).select_related("user").order_by("-last_at", "-pk")


class Alert(models.Model):
    """A user went over a bulk-access quota; shown to admins until one acknowledges it.

    Repeated refusals of the same user and kind while it is open add to `times` rather
    than making a new alert per refused page.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    created = models.DateTimeField(_("first"), default=timezone.now)
    last_at = models.DateTimeField(_("last"), default=timezone.now)
    times = models.PositiveIntegerField(_("times"), default=1)
    # The count at the last refusal and the limit it went over, for the message.
    amount = models.PositiveIntegerField(_("amount"))
    limit = models.PositiveIntegerField(_("limit"))
    # Superusers are flagged, not refused (audit.quotas explains why).
    refused = models.BooleanField(_("refused"), default=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_at", "-pk"]
        constraints = [
            # At most one open alert per user and kind; a repeat adds to it.
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=models.Q(acknowledged_at=None),
                name="audit_one_open_alert_per_user_and_kind",
            ),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()}"

    @property
    def message(self) -> str:
        what = "opened" if self.kind == AlertKind.PEOPLE_VIEWED else "exported"
        period = "hour" if self.kind == AlertKind.PEOPLE_VIEWED else "day"
        action = "refused" if self.refused else "allowed (superuser), flagged"
        return (
            f"{self.user.get_full_name() or self.user.username} {what} {self.amount} people "
            f"in the last {period} (limit {self.limit}); {action}"
            + (f", {self.times} times" if self.times > 1 else "")
            + "."
        )
