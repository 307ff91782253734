import datetime as dt

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from members.history import HistoryKeepingQuerySet
from members.models import CAPACITY_FIELDS, CAPACITY_LABELS, Member
from sos_tracker.versioning import VersionedModel, bump_versions


class TendencyQuerySet(models.QuerySet):
    def led_by(self, user):
        """The tendencies whose review notes and queue `user` may work: those of cores they lead.

        Superusers lead nothing by default but see everything; callers check that first.
        """
        return self.filter(cores__leads=user).distinct()


class Tendency(models.Model):
    """An alignment with one liberatory strategy. Two in practice; their names are data."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    objects = TendencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("tendency")
        verbose_name_plural = _("tendencies")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Phase(models.TextChoices):
    """The arc every core moves through, in this order."""

    COHERING = "cohering", _("Cohering a core")
    ENGAGING = "engaging", _("Engaging the Left")
    LAUNCHING = "launching", _("Launching a new formation")
    LAUNCHED = "launched", pgettext_lazy("phase", "Launched")

    @classmethod
    def after(cls, phase):
        """The phase that follows `phase`, or None after the last."""
        order = list(cls)
        index = order.index(cls(phase))
        return order[index + 1] if index + 1 < len(order) else None

    @classmethod
    def before(cls, phase):
        """The phase that comes before `phase`, or None before the first."""
        order = list(cls)
        index = order.index(cls(phase))
        return order[index - 1] if index > 0 else None


# Milestones every new core starts with, per phase; cores add their own in the admin.
DEFAULT_MILESTONES = {
    Phase.COHERING: [
        "Core members committed",
        "Foundational structure drafted",
        "Strategy drafted",
        "Program drafted",
    ],
    Phase.ENGAGING: [
        "Invitation list identified",
        "Invitations sent",
        "Orientation conversations held",
    ],
    Phase.LAUNCHING: [
        "Founding documents adopted",
        "Launch date set",
        "Founding convening held",
    ],
    Phase.LAUNCHED: ["Public launch announced"],
}


class AlignmentLevel(models.TextChoices):
    """Where a person stands toward a tendency, from not yet clear to committed (in order)."""

    NOT_YET_CLEAR = "not_yet_clear", _("Not yet clear")
    EXPLORING = "exploring", _("Exploring")
    LEANING = "leaning", _("Leaning")
    ALIGNED = "aligned", _("Aligned")
    COMMITTED = "committed", _("Committed")

    @classmethod
    def at_least(cls, level) -> list[str]:
        """The levels from `level` up, e.g. at_least("aligned") == ["aligned", "committed"]."""
        order = list(cls)
        return [choice.value for choice in order[order.index(cls(level)) :]]


class CoreGroupQuerySet(models.QuerySet):
    def led_by(self, user):
        return self.filter(leads=user)


class CoreGroup(VersionedModel):
    """One of the two independent groups building a future cadre organization.

    Versioned (sos_tracker.versioning): every save, and every change of its members or
    leads (core_links_changed), moves `version` on, so a page opened before is told.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    tendency = models.ForeignKey(
        Tendency, on_delete=models.PROTECT, related_name="cores", verbose_name=_("tendency")
    )
    # The one current phase; moved only by cores.services.advance_phase with a reason.
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.COHERING
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_cores", verbose_name=_("leads")
    )
    members = models.ManyToManyField(
        Member, blank=True, related_name="cores", verbose_name=_("members")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set by advance_phase when the core reaches "launched"; cleared if it steps back.
    launched_on = models.DateField(_("launched on"), null=True, blank=True, editable=False)

    objects = CoreGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("core group")
        verbose_name_plural = _("core groups")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(phase__in=Phase.values), name="core_phase_valid"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cores:core_detail", args=[self.slug])


@receiver(m2m_changed, sender=CoreGroup.members.through)
@receiver(m2m_changed, sender=CoreGroup.leads.through)
def core_links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A member or lead added to or removed from a core, from anywhere (the admin, a
    merge, an accepted user invitation), moves the core's version on: a core page or
    admin form opened before must not save its older list over it."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        bump_versions(CoreGroup, [instance.pk])
    elif pk_set:
        bump_versions(CoreGroup, pk_set)
    elif action == "post_clear":
        # A clear from the other side names no cores; all of them may have changed.
        bump_versions(CoreGroup, list(CoreGroup.objects.values_list("pk", flat=True)))


class Milestone(VersionedModel):
    core = models.ForeignKey(
        CoreGroup, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("core")
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    title = models.CharField(_("title"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    # An optional readiness rule computed from the people (cores.readiness): "at least
    # rule_min_people people aligned at rule_min_level or above, with rule_capacity at
    # rule_capacity_min or more at their latest check-in". Shown as met or not; the lead
    # still decides when the milestone is done.
    rule_min_people = models.PositiveIntegerField(
        _("readiness: at least this many people"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    rule_min_level = models.CharField(
        _("readiness: aligned at least at"),
        max_length=20,
        choices=AlignmentLevel.choices,
        default=AlignmentLevel.ALIGNED,
    )
    rule_capacity = models.CharField(
        _("readiness: with capacity"),
        max_length=40,
        blank=True,
        choices=[(name, CAPACITY_LABELS[name]) for name in CAPACITY_FIELDS],
    )
    rule_capacity_min = models.PositiveSmallIntegerField(
        _("readiness: capacity score at least"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["core", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["core", "phase", "title"], name="milestone_unique_title_per_phase"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=Phase.values), name="milestone_phase_valid"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_done(self):
        return self.done_on is not None

    @property
    def has_readiness_rule(self):
        return self.rule_min_people is not None

    def clean(self):
        errors = {}
        if self.done_on and self.done_on > timezone.localdate():
            errors["done_on"] = ValidationError(
                _("A milestone cannot be done in the future."), code="future"
            )
        if bool(self.rule_capacity) != (self.rule_capacity_min is not None):
            field = "rule_capacity_min" if self.rule_capacity else "rule_capacity"
            errors[field] = ValidationError(
                _("Give both the capacity and its lowest score, or neither."), code="incomplete"
            )
        if self.rule_capacity and self.rule_min_people is None:
            errors["rule_min_people"] = ValidationError(
                _("Say how many people the readiness rule needs."), code="required"
            )
        if errors:
            raise ValidationError(errors)


class PhaseDecision(models.Model):
    """The record of a core moving on: who decided, when and why. Never edited."""

    core = models.ForeignKey(
        CoreGroup,
        on_delete=models.CASCADE,
        related_name="phase_decisions",
        verbose_name=_("core"),
    )
    from_phase = models.CharField(_("from phase"), max_length=20, choices=Phase.choices)
    to_phase = models.CharField(_("to phase"), max_length=20, choices=Phase.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("phase decision")
        verbose_name_plural = _("phase decisions")
        ordering = ["core", "decided_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="phase_decision_has_reason"),
            models.CheckConstraint(
                condition=~Q(from_phase=models.F("to_phase")), name="phase_decision_moves"
            ),
        ]

    def __str__(self):
        return f"{self.core}: {self.get_from_phase_display()} → {self.get_to_phase_display()}"

    def clean(self):
        self.reason = (self.reason or "").strip()
        if not self.reason:
            raise ValidationError({"reason": _("Say why the core is moving on.")}, code="required")


class ReviewState(models.TextChoices):
    NEEDS_REVIEW = "needs_review", _("Needs review")
    REVIEWED = "reviewed", _("Reviewed")


def review_stale_after() -> dt.timedelta:
    """How long a review holds before the alignment comes back to the queue (settings)."""
    return dt.timedelta(days=settings.REVIEW_STALE_AFTER_DAYS)


class AlignmentQuerySet(HistoryKeepingQuerySet):
    def stale_q(self, now=None) -> Q:
        """Reviewed, but longer ago than REVIEW_STALE_AFTER_DAYS."""
        cutoff = (now or timezone.now()) - review_stale_after()
        return Q(review_state=ReviewState.REVIEWED, reviewed_at__lt=cutoff)

    def review_queue(self, tendency, *, now=None):
        """The alignments toward `tendency` a lead should look at, oldest waiting first.

        New or changed levels (needs review) wait since they entered the queue
        (`queued_at`); a review older than REVIEW_STALE_AFTER_DAYS comes back marked
        `is_stale` and waits since the day it went stale. Each row is annotated with
        `waiting_since` (a datetime) and `is_stale` (bool), and comes with its member.
        `tendency` is a Tendency or its id.
        """
        waiting = Q(review_state=ReviewState.NEEDS_REVIEW) | self.stale_q(now)
        return (
            self.filter(waiting, tendency=tendency)
            .annotate(
                waiting_since=Case(
                    When(
                        review_state=ReviewState.NEEDS_REVIEW,
                        then=F("queued_at"),
                    ),
                    default=F("reviewed_at") + Value(review_stale_after()),
                    output_field=models.DateTimeField(),
                ),
                is_stale=Case(
                    When(review_state=ReviewState.NEEDS_REVIEW, then=Value(False)),
                    default=Value(True),
                    output_field=models.BooleanField(),
                ),
            )
            .select_related("member", "tendency")
            .order_by("waiting_since", "pk")
        )

    # review_queue above states the order; it sorts every waiting row by a computed value,
    # which at 100,000 people means thousands of rows for one page. The functions below
    # give the same rows in the same order from two index-ordered slices instead: needs
    # review by queued_at (alignment_waiting_idx), gone stale by reviewed_at
    # (alignment_reviewed_idx). The stale slice is not stored as a column because when a
    # review goes stale depends on REVIEW_STALE_AFTER_DAYS, a setting that may change.

    def _needs_review(self, tendency):
        return self.filter(tendency=tendency, review_state=ReviewState.NEEDS_REVIEW).order_by(
            "queued_at", "pk"
        )

    def _gone_stale(self, tendency, now):
        cutoff = (now or timezone.now()) - review_stale_after()
        return self.filter(
            tendency=tendency, review_state=ReviewState.REVIEWED, reviewed_at__lt=cutoff
        ).order_by("reviewed_at", "pk")

    def waiting_page(self, tendency, *, offset=0, limit, now=None) -> list["Alignment"]:
        """Rows `offset` to `offset + limit` of review_queue(tendency), in its order.

        Each row has `waiting_since`, `is_stale`, its member and tendency, as there. Two
        queries, each reading at most `offset + limit` rows along an index, merged here.
        `tendency` is a Tendency or its id; `offset` and `limit` are whole numbers >= 0.
        """
        wanted = offset + limit
        needs = self._needs_review(tendency).select_related("member", "tendency")
        stale = self._gone_stale(tendency, now).select_related("member", "tendency")
        rows = [*_as_waiting(needs[:wanted]), *_as_waiting(stale[:wanted])]
        rows.sort(key=_queue_key)
        return rows[offset:wanted]

    def next_waiting_pk(self, tendency, *, after=None, exclude=(), now=None) -> int | None:
        """The id of the first item of review_queue(tendency) after `after`, or None.

        `after` is a (waiting_since, pk) pair, or None to start from the top; ids in
        `exclude` (an iterable of ints) are passed over. One query: each slice's first
        row after that position, found by keyset along its index, never the whole queue.
        """
        exclude = list(exclude)
        needs = self._needs_review(tendency).exclude(pk__in=exclude)
        stale = self._gone_stale(tendency, now).exclude(pk__in=exclude)
        if after is not None:
            since, pk = after
            needs = needs.filter(_keyset("queued_at", since, pk))
            stale = stale.filter(_keyset("reviewed_at", since - review_stale_after(), pk))
        heads = (
            Tendency.objects.filter(pk=getattr(tendency, "pk", tendency))
            .values(
                needs_pk=Subquery(needs.values("pk")[:1]),
                needs_at=Subquery(needs.values("queued_at")[:1]),
                stale_pk=Subquery(stale.values("pk")[:1]),
                stale_at=Subquery(stale.values("reviewed_at")[:1]),
            )
            .first()
        )
        if heads is None:
            return None
        found = []
        if heads["needs_pk"] is not None:
            found.append((heads["needs_at"], heads["needs_pk"]))
        if heads["stale_pk"] is not None:
            found.append((heads["stale_at"] + review_stale_after(), heads["stale_pk"]))
        return min(found)[1] if found else None

    def queue_counts(self, tendency_ids, *, now=None) -> dict[int, tuple[int, int]]:
        """{tendency id: (needing review, gone stale)} for each id, in one query.

        Each count reads one range of an index (alignment_queue_idx for needs review,
        alignment_reviewed_idx for stale), not the rows. Unknown ids are left out.
        """
        outer = OuterRef("pk")
        rows = Tendency.objects.filter(pk__in=list(tendency_ids)).values_list(
            "pk",
            Coalesce(_count(self._needs_review(outer)), 0),
            Coalesce(_count(self._gone_stale(outer, now)), 0),
        )
        return {pk: (needs, stale) for pk, needs, stale in rows}


def _as_waiting(rows) -> list:
    """Queue rows of one slice with the annotations review_queue gives them."""
    rows = list(rows)
    for row in rows:
        row.is_stale = row.review_state == ReviewState.REVIEWED
        row.waiting_since = (
            row.reviewed_at + review_stale_after() if row.is_stale else row.queued_at
        )
    return rows


def _queue_key(row):
    return (row.waiting_since, row.pk)


def _keyset(field: str, value, pk: int) -> Q:
    """Rows after (value, pk) in (field, pk) order. The `>=` on its own lets the database
    start the index range at `value` rather than test every row against the OR."""
    return Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))


def _count(queryset):
    """COUNT(*) of `queryset` as a subquery (grouped by tendency, the outer row's)."""
    return Subquery(queryset.order_by().values("tendency").annotate(n=Count("pk")).values("n")[:1])


def _related_or_number(row, name: str) -> str:
    """The related object's name, or "#<id>" once it is gone: a history row of a deleted
    alignment or invitation still names itself in the admin's history pages."""
    try:
        return str(getattr(row, name))
    except ObjectDoesNotExist:
        return f"#{getattr(row, name + '_id')}"


class Alignment(models.Model):
    """Where a person stands toward one tendency, as they state it and a lead reviews it."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="alignments", verbose_name=_("person")
    )
    tendency = models.ForeignKey(
        Tendency, on_delete=models.PROTECT, related_name="alignments", verbose_name=_("tendency")
    )
    level = models.CharField(
        _("level"),
        max_length=20,
        choices=AlignmentLevel.choices,
        default=AlignmentLevel.NOT_YET_CLEAR,
    )
    stated_on = models.DateField(_("stated on"), default=timezone.localdate)
    review_state = models.CharField(
        _("review state"),
        max_length=20,
        choices=ReviewState.choices,
        default=ReviewState.NEEDS_REVIEW,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # When the alignment last entered the review queue (new or changed level): the queue
    # is worked oldest waiting first.
    queued_at = models.DateTimeField(default=timezone.now, editable=False)
    # Optimistic locking: a review based on an older version is refused, not overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()
    objects = AlignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("alignment")
        verbose_name_plural = _("alignments")
        ordering = ["member", "tendency"]
        permissions = [("review_alignment", "Can review alignments of a tendency they lead")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "tendency"],
                name="alignment_one_per_member_and_tendency",
                violation_error_message=_(
                    "This person already has an alignment with this tendency."
                ),
            ),
            models.CheckConstraint(
                condition=Q(level__in=AlignmentLevel.values), name="alignment_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values),
                name="alignment_review_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tendency", "review_state"], name="alignment_queue_idx"),
            models.Index(
                fields=["tendency", "review_state", "queued_at"], name="alignment_waiting_idx"
            ),
            # The stale slice of the review queue, in the order it went stale.
            models.Index(
                fields=["tendency", "review_state", "reviewed_at"], name="alignment_reviewed_idx"
            ),
            # Counts by level on the core page and a readiness rule's candidates at the
            # levels it names, read from the index rather than every alignment.
            models.Index(fields=["tendency", "level"], name="alignment_level_idx"),
        ]

    def __str__(self):
        person, tendency = _related_or_number(self, "member"), _related_or_number(self, "tendency")
        return f"{person} — {tendency}: {self.get_level_display()}"

    def clean(self):
        errors = {}
        if self.stated_on and self.stated_on > timezone.localdate():
            errors["stated_on"] = ValidationError(
                _("The date stated cannot be in the future."), code="future"
            )
        if self.member_id and self.tendency_id:
            taken = Alignment.objects.filter(member_id=self.member_id, tendency_id=self.tendency_id)
            if taken.exclude(pk=self.pk).exists():
                errors["tendency"] = ValidationError(
                    _("This person already has an alignment with this tendency."), code="unique"
                )
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        # clean() checks one alignment per person and tendency so its message names the
        # field; the database constraint alone would report it as a form-wide error.
        super().validate_constraints(exclude={*(exclude or ()), "tendency"})


class ReviewNoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Only the notes of tendencies whose cores `user` leads; all for a superuser.

        Leading a core is not enough on its own: the role must grant reading notes too,
        as sos_tracker.permissions.can_review_tendency requires for writing them.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if not user.has_perm("cores.view_reviewnote"):
            return self.none()
        return self.filter(alignment__tendency__in=Tendency.objects.led_by(user))


class ReviewNote(models.Model):
    """A lead's private note on an alignment; only that tendency's leads ever see it."""

    alignment = models.ForeignKey(
        Alignment,
        on_delete=models.CASCADE,
        related_name="review_notes",
        verbose_name=_("alignment"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    objects = ReviewNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("review note")
        verbose_name_plural = _("review notes")
        ordering = ["alignment", "created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="review_note_not_blank"),
        ]

    def __str__(self):
        return gettext("Note on %(alignment)s by %(author)s") % {
            "alignment": self.alignment,
            "author": self.author or gettext("a former user"),
        }


class InvitationStage(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    INVITED = "invited", _("Invited")
    IN_CONVERSATION = "in_conversation", _("In conversation")
    JOINED = "joined", _("Joined the process")
    DECLINED = "declined", _("Declined")


# The stages an invitation still moves from; joined and declined are where it ends.
OPEN_STAGES = (
    InvitationStage.IDENTIFIED,
    InvitationStage.INVITED,
    InvitationStage.IN_CONVERSATION,
)
# The funnel, in order; declined stands beside it.
FUNNEL_STAGES = (*OPEN_STAGES, InvitationStage.JOINED)


def stalled_after() -> dt.timedelta:
    """How long an open invitation may sit in one stage before it is flagged (settings)."""
    return dt.timedelta(days=settings.INVITATION_STALLED_AFTER_DAYS)


class InvitationQuerySet(HistoryKeepingQuerySet):
    def stalled(self, *, today=None):
        """Open invitations (not joined, not declined) that have not moved for
        INVITATION_STALLED_AFTER_DAYS days."""
        cutoff = (today or timezone.localdate()) - stalled_after()
        return self.filter(stage__in=OPEN_STAGES, moved_on__lt=cutoff)


# The date field stamped when an invitation reaches each stage.
STAGE_DATE_FIELDS = {
    InvitationStage.IDENTIFIED: "identified_on",
    InvitationStage.INVITED: "invited_on",
    InvitationStage.IN_CONVERSATION: "conversation_on",
    InvitationStage.JOINED: "joined_on",
    InvitationStage.DECLINED: "declined_on",
}


class Invitation(VersionedModel):
    """A leftist the core invites into the process, followed from identified to joined."""

    core = models.ForeignKey(
        CoreGroup, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("core")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("person")
    )
    stage = models.CharField(
        _("stage"),
        max_length=20,
        choices=InvitationStage.choices,
        default=InvitationStage.IDENTIFIED,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    point_person = models.ForeignKey(
        Member,
        verbose_name=_("point person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_followed",
        help_text=_("The member of the core who follows up with this person."),
    )
    next_step_on = models.DateField(
        _("next step"), null=True, blank=True, help_text=_("When the point person follows up next.")
    )
    identified_on = models.DateField(_("identified on"), default=timezone.localdate)
    invited_on = models.DateField(_("invited on"), null=True, blank=True)
    conversation_on = models.DateField(_("first conversation on"), null=True, blank=True)
    joined_on = models.DateField(_("joined the process on"), null=True, blank=True)
    declined_on = models.DateField(_("declined on"), null=True, blank=True)
    declined_reason = models.TextField(_("why they declined"), blank=True)
    # The day of the last move between stages: invitations that sit too long are flagged.
    moved_on = models.DateField(_("last moved on"), default=timezone.localdate, editable=False)
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["core", "-identified_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["core", "member"],
                name="invitation_one_per_core_and_person",
                violation_error_message=_("This core has already invited this person."),
            ),
            models.CheckConstraint(
                condition=Q(stage__in=InvitationStage.values), name="invitation_stage_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["core", "stage"], name="invitation_funnel_idx"),
            models.Index(fields=["core", "stage", "moved_on"], name="invitation_stalled_idx"),
            # The invitation list, last moved first, 50 a page: read off this index in
            # order instead of sorting every invitation of the core.
            models.Index(fields=["core", "moved_on", "id"], name="invitation_moved_idx"),
        ]

    def __str__(self):
        person, core = _related_or_number(self, "member"), _related_or_number(self, "core")
        return f"{person} — {core} ({self.get_stage_display()})"

    @property
    def is_open(self):
        return self.stage in OPEN_STAGES

    @property
    def is_stalled(self):
        return self.is_open and self.moved_on < timezone.localdate() - stalled_after()

    def clean(self):
        today = timezone.localdate()
        errors = {}
        for field in STAGE_DATE_FIELDS.values():
            value = getattr(self, field)
            if value and value > today:
                errors[field] = ValidationError(
                    _("This date cannot be in the future."), code="future"
                )
            elif value and self.identified_on and value < self.identified_on:
                errors[field] = ValidationError(
                    _("This date cannot be before the person was identified."),
                    code="before_identified",
                )
        if (
            self.point_person_id
            and self.core_id
            and not self.core.members.filter(pk=self.point_person_id).exists()
        ):
            errors["point_person"] = ValidationError(
                _("The point person must be a member of this core."), code="not_in_core"
            )
        if self.core_id and self.member_id:
            taken = Invitation.objects.filter(core_id=self.core_id, member_id=self.member_id)
            if taken.exclude(pk=self.pk).exists():
                errors["member"] = ValidationError(
                    _("This core has already invited this person."), code="unique"
                )
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        # clean() checks one invitation per core and person so its message names the
        # field; the database constraint alone would report it as a form-wide error.
        super().validate_constraints(exclude={*(exclude or ()), "member"})
