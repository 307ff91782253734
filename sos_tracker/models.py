"""Figures counted by the background worker, so no request counts the whole network."""

from django.conf import settings
from django.db import models


class CountedFigures(models.Model):
    """One set of figures (the dashboard's network-wide counts, a core page's levels,
    coverage and readiness) as the worker last counted them: sos_tracker.figures.

    `key` names the set ("network", "core:12"); `data` is what its counting function
    returned (plain JSON); `marks` the newest change-history ids of what it reads, taken
    before counting, so a change made meanwhile asks for another count; `day` the local
    date it was counted for (months roll over at midnight); `requested_at` when a request
    last asked the worker for a new count (None once counted).
    """

    key = models.CharField(max_length=80, unique=True)
    data = models.JSONField(default=dict)
    marks = models.JSONField(default=dict)
    counted_at = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    requested_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name_plural = "counted figures"

    def __str__(self):
        return self.key


class KeptForm(models.Model):
    """What someone typed into a form they sent after their session had ended, kept for a
    short time so that signing in again fills it back in: sos_tracker.kept_forms.

    `key` is the one-time random key the browser's session points to; `user` the person
    whose session ended (only they get it back); `path` the page the form was sent to;
    `data` the fields sent, as lists of strings, without files, passwords, codes or tokens;
    `expires_at` when it is deleted whether used or not.
    """

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=2000)
    data = models.JSONField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.path
