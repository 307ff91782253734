"""The Django admin for cores, alignments, review notes and invitations.

Every write that has a rule goes through cores.services, as the app's own pages do: the
admin saves plain fields (a name, a note, a corrected date) itself and hands phases,
milestones, levels, reviews, invitations and their stages to the service. When a service
refuses, the save raises ServiceRefused; ServiceWritesAdmin then rolls the whole save
back (the admin's changeform view is one transaction) and shows the form again, the
service's message on the field it is about and everything typed kept.
"""

from contextlib import contextmanager

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cores import admin_privacy, services
from cores.models import (
    STAGE_DATE_FIELDS,
    Alignment,
    AlignmentLevel,
    CoreGroup,
    Invitation,
    InvitationStage,
    Milestone,
    Phase,
    PhaseDecision,
    ReviewNote,
    ReviewState,
    Tendency,
)
from members.admin import MemberAdmin, PeopleSearchMixin
from members.models import Member
from sos_tracker.admin_mixins import LabelledInline, RecordAdmin
from sos_tracker.admin_paging import LargeListAdmin
from sos_tracker.permissions import can_manage_core, can_review_tendency
from sos_tracker.versioning import HIDDEN_FIELDS, VersionedModelForm

# How services and admin forms meet
# ---------------------------------


class ServiceRefused(Exception):
    """A service refused what a valid admin form asked for.

    `prefix` is the prefix of the form whose input was refused: None for the page's own
    form, "milestones-2" for a row of an inline. `errors` maps that form's field names
    (None for the form as a whole) to the service's messages.
    """

    def __init__(self, error: ValidationError, *, prefix: str | None = None, fields=None):
        super().__init__(error)
        self.prefix = prefix
        renamed = fields or {}
        self.errors = {}
        for name, messages in error.update_error_dict({}).items():
            name = None if name == NON_FIELD_ERRORS else renamed.get(name, name)
            self.errors.setdefault(name, []).extend(messages)


@contextmanager
def refused_on(prefix: str | None = None, fields: dict[str, str] | None = None):
    """Turn a service's ValidationError into ServiceRefused for the form at `prefix`.

    `fields` renames the service's field names to the form's, e.g. {"reason":
    "decision_reason"}; a name the form lacks becomes an error of the whole form.
    """
    try:
        yield
    except ValidationError as error:
        raise ServiceRefused(error, prefix=prefix, fields=fields) from error


def _shows_refusal(form_class, request):
    """`form_class`, or when a first try of this request was refused, a subclass that
    puts the refusal on its field after the form's own validation."""
    refused = getattr(request, "_service_refused", None)
    if refused is None:
        return form_class

    class Refused(form_class):
        def _post_clean(self):
            super()._post_clean()
            if self.prefix == refused.prefix:
                for name, messages in refused.errors.items():
                    self.add_error(name if name in self.fields else None, messages)

    Refused.__name__ = form_class.__name__
    return Refused


def compare_with_the_page(form, *names) -> None:
    """Count `names` as changed only when the person changed them on the page.

    By default a form compares what was posted with the row as saved now: if a colleague
    ticked a milestone or restated a level since this page opened, the page's stale value
    would look like a change and undo theirs. The hidden copy of each value as shown
    (Django's show_hidden_initial) makes the comparison with the page instead.
    """
    for name in names:
        if name in form.fields:
            form.fields[name].show_hidden_initial = True


class ServiceWritesAdmin:
    """Mixed into a ModelAdmin whose saves call services (before ModelAdmin in the bases).

    The changeform view runs in one transaction: a ServiceRefused raised by a save undoes
    everything that save wrote, and the page is built again from the same POST, this time
    with the refusal on the form, so nothing is half-saved and nothing typed is lost.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._service_refused = refused
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _shows_refusal(super().get_form(request, obj, change, **kwargs), request)

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            # Each call builds a new formset class, so setting its form touches no other.
            formset.form = _shows_refusal(formset.form, request)
            yield formset, inline


def _take_saved(into, saved) -> None:
    """Make the admin's instance the row a service saved, so the admin's own steps after
    the save (inlines, the change message, the redirect) use it."""
    for field in saved._meta.concrete_fields:
        setattr(into, field.attname, getattr(saved, field.attname))
    into._state.adding = False
    into._state.db = saved._state.db


def _save_plain(instance, fields) -> None:
    """Save only `fields`: the ones the form edited that no service rules."""
    if fields:
        instance.save(update_fields=sorted(fields))


def _formset_rows(formset):
    """Delete the rows marked for deletion; yield the forms of rows added or changed."""
    formset.save(commit=False)  # sets each new row's parent and lists the deleted ones
    for obj in formset.deleted_objects:
        obj.delete()
    deleted = set(formset.deleted_forms)
    for form in formset.forms:
        if form.has_changed() and form not in deleted:
            yield form


# Tendencies
# ----------


@admin.register(Tendency)
class TendencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


# Alignments, on the person page and their own
# --------------------------------------------


class FixedPlaceAlignmentForm(forms.ModelForm):
    """Once saved, an alignment keeps its person and tendency.

    Its private review notes belong to that tendency; moving the alignment to the other
    one would show them to the other tendency's leads. A new level is a change; a new
    tendency is a new alignment.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("member", "tendency"):
                if name in self.fields:
                    self.fields[name].disabled = True
        compare_with_the_page(self, "level", "review_state")


def save_alignment(request, form, *, prefix: str | None = None) -> Alignment:
    """Save an admin form of an alignment through the services.

    A new alignment or a new level is stated (state_alignment: it enters the queue, on
    the date typed if one was, else today); marking it reviewed is a review
    (review_alignment, with the level typed if the lead changed it, refused if someone
    reviewed or restated it since the page opened); marking it "needs review" again
    puts it back in the queue (reopen_review). A corrected date alone is saved as typed.
    Raises ServiceRefused for the form at `prefix`.
    """
    alignment = form.instance
    changed = set(form.changed_data)
    by = request.user
    review_state = form.cleaned_data.get("review_state") if "review_state" in changed else None
    if alignment.pk is None or ("level" in changed and review_state != ReviewState.REVIEWED):
        typed_date = alignment.stated_on if alignment.pk is None or "stated_on" in changed else None
        with refused_on(prefix):
            saved = services.state_alignment(
                alignment.member, alignment.tendency, alignment.level, by=by, on=typed_date
            )
        _take_saved(alignment, saved)
        return alignment
    _save_plain(alignment, changed & {"stated_on"})
    if review_state == ReviewState.REVIEWED:
        # The service names `level` when someone was quicker; here the lead acted on the
        # review state, so the message belongs there.
        with refused_on(prefix, {"level": "review_state"}):
            services.review_alignment(
                alignment,
                by=by,
                level=alignment.level if "level" in changed else None,
                expected_version=form.cleaned_data.get("seen_version"),
            )
    elif review_state == ReviewState.NEEDS_REVIEW:
        with refused_on(prefix):
            services.reopen_review(alignment, by=by)
    return alignment


class AlignmentInline(LabelledInline, admin.TabularInline):
    """A person's alignments; levels only. Reviewing happens on the alignment itself."""

    model = Alignment
    form = FixedPlaceAlignmentForm
    extra = 0
    fields = ["tendency", "level", "stated_on", "review_state", "reviewed_by", "reviewed_at"]
    readonly_fields = ["review_state", "reviewed_by", "reviewed_at"]
    show_change_link = True

    def get_queryset(self, request):
        # Each row's title is str(alignment), which names the member and the tendency.
        return super().get_queryset(request).select_related("member", "tendency", "reviewed_by")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "tendency":
            # Every row's select would read the tendencies again; read them once per page
            # (iter() first, so list() does not ask the iterator for a COUNT as well).
            field.choices = list(iter(field.choices))
        return field


class InvitationOfPersonInline(LabelledInline, admin.TabularInline):
    model = Invitation
    fk_name = "member"
    extra = 0
    fields = ["core", "stage", "identified_on", "moved_on", "invited_by"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title is str(invitation), which names the member and the core.
        return super().get_queryset(request).select_related("member", "core", "invited_by")


# members must not import cores, so the cores app extends the person page here.
admin.site.unregister(Member)


@admin.register(Member)
class MemberWithAlignmentsAdmin(ServiceWritesAdmin, MemberAdmin):
    inlines = [*MemberAdmin.inlines, AlignmentInline, InvitationOfPersonInline]
    list_filter = [*MemberAdmin.list_filter, "alignments__tendency", "alignments__level"]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Alignment:
            return super().save_formset(request, form, formset, change)
        for row in _formset_rows(formset):
            save_alignment(request, row, prefix=row.prefix)


class ReviewNoteInlineForm(forms.ModelForm):
    """A note is a record: its author corrects it, superusers too; others read it."""

    user = None  # set per request by ReviewNoteInline.get_formset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        note = self.instance
        if note.pk and not (self.user.is_superuser or note.author_id == self.user.pk):
            self.fields["body"].disabled = True


class ReviewNoteInline(LabelledInline, admin.StackedInline):
    model = ReviewNote
    form = ReviewNoteInlineForm
    extra = 0
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def get_queryset(self, request):
        # Each note's title is str(note), which names the alignment's member and tendency.
        return ReviewNote.objects.visible_to(request.user).select_related(
            "alignment__member", "alignment__tendency", "author"
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(formset.form.__name__, (formset.form,), {"user": request.user})
        return formset

    def _allowed(self, request, obj):
        if obj is None:
            # A new alignment's tendency is not known until it is saved: only a superuser,
            # who may write on any tendency, writes a note in the same step.
            return request.user.is_superuser
        return can_review_tendency(request.user, obj.tendency_id)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj) and super().has_delete_permission(request, obj)


class AlignmentForm(FixedPlaceAlignmentForm):
    # The version the lead's page showed: a review of an older one is refused
    # (review_alignment's expected_version), never written over a colleague's.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Alignment
        fields = ["member", "tendency", "level", "stated_on", "review_state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version
        if "review_state" in self.fields:
            self.fields["review_state"].help_text = _(
                "Reviewed: you confirm the level (or the one you set above). Needs review: "
                "it goes back in the tendency's queue."
            )


@admin.register(Alignment)
class AlignmentAdmin(ServiceWritesAdmin, PeopleSearchMixin, LargeListAdmin, SimpleHistoryAdmin):
    form = AlignmentForm
    list_display = ["member", "tendency", "level", "stated_on", "review_state", "reviewed_by"]
    # Newest first, from the primary key: the model's order (by person, then tendency)
    # would join and sort every alignment for each page. The person, tendency and
    # reviewer columns would too, so they do not sort; the filters narrow instead.
    ordering = ["-pk"]
    sortable_by = ["level", "stated_on", "review_state"]
    list_filter = ["tendency", "level", "review_state"]
    list_select_related = ["member", "tendency", "reviewed_by"]
    search_fields = ["member__name", "member__email", "member__city"]
    search_help_text = _("The person's name, preferred name, email or city, as on the people list.")
    autocomplete_fields = ["member"]
    readonly_fields = ["reviewed_by", "reviewed_at", "queued_at"]
    inlines = [ReviewNoteInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A new alignment enters its tendency's review queue, as state_alignment() puts it:
        # on the add page the tendency is not yet known, so nobody could be checked.
        if obj is None or not can_review_tendency(request.user, obj.tendency_id):
            fields.append("review_state")
        return fields

    def save_model(self, request, obj, form, change):
        save_alignment(request, form)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ReviewNote:
            return super().save_formset(request, form, formset, change)
        for row in _formset_rows(formset):
            note = row.instance
            if note.pk is None:
                with refused_on(row.prefix):
                    saved = services.add_review_note(form.instance, by=request.user, body=note.body)
                _take_saved(note, saved)
            else:
                _save_plain(note, set(row.changed_data) & {"body"})


class ReviewNoteForm(forms.ModelForm):
    class Meta:
        model = ReviewNote
        fields = ["alignment", "body"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_alignment(self):
        alignment = self.cleaned_data["alignment"]
        if not can_review_tendency(self.user, alignment.tendency_id):
            raise ValidationError(
                _("You can write notes only on alignments of a tendency you lead."),
                code="not_lead",
            )
        return alignment


@admin.register(ReviewNote)
class ReviewNoteAdmin(ServiceWritesAdmin, LargeListAdmin, admin.ModelAdmin):
    """Private to the leads of the note's tendency, here as everywhere."""

    form = ReviewNoteForm
    list_display = ["alignment", "author", "created_at"]
    # Newest first, from the primary key: the model's order (by alignment, so by person)
    # would join and sort every note; so would the alignment and author columns.
    ordering = ["-pk"]
    sortable_by = ["created_at"]
    search_fields = ["alignment__member__name", "body"]
    autocomplete_fields = ["alignment"]
    readonly_fields = ["author", "created_at"]

    def get_queryset(self, request):
        return ReviewNote.objects.visible_to(request.user).select_related(
            "alignment__member", "alignment__tendency", "author"
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class ScopedForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return ScopedForm

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return ["alignment__tendency"]
        # A filter offering every tendency would name the other one beside notes; this
        # one offers only the tendencies of the notes this user may read (when several).
        return [("alignment__tendency", admin.RelatedOnlyFieldListFilter)]

    def save_model(self, request, obj, form, change):
        if change:
            _save_plain(obj, set(form.changed_data) & {"body"})
            return
        with refused_on():
            saved = services.add_review_note(obj.alignment, by=request.user, body=obj.body)
        _take_saved(obj, saved)

    def has_change_permission(self, request, obj=None):
        # Notes are a record; authors correct their own, superusers anyone's.
        if obj is not None and not (request.user.is_superuser or obj.author_id == request.user.pk):
            return False
        return super().has_change_permission(request, obj)


# Cores, their milestones and phase decisions
# -------------------------------------------


def describe_readiness_rule(milestone: Milestone) -> str:
    """The milestone's readiness rule in words ("" when it has none)."""
    if not milestone.has_readiness_rule:
        return ""
    levels = AlignmentLevel.at_least(milestone.rule_min_level)
    words = ngettext(
        "at least %(count)d person %(levels)s",
        "at least %(count)d people %(levels)s",
        milestone.rule_min_people,
    ) % {
        "count": milestone.rule_min_people,
        "levels": gettext(" or ").join(
            str(AlignmentLevel(level).label).lower() for level in levels
        ),
    }
    if milestone.rule_capacity:
        words = gettext("%(people)s, with %(capacity)s %(score)s or more") % {
            "people": words,
            "capacity": milestone.get_rule_capacity_display().lower(),
            "score": milestone.rule_capacity_min,
        }
    return words


class MilestoneForm(VersionedModelForm):
    """A milestone, on its own page or as a row of its core's: a row saved by someone
    else since the page opened (ticked, reopened, renamed) is refused, not overwritten
    (sos_tracker.versioning), their values filled in where this person typed nothing."""

    noun = _("this milestone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        compare_with_the_page(self, "done_on")


def save_milestone(request, form, *, prefix: str | None = None) -> Milestone:
    """Save an admin form of a milestone; its done date goes through the services.

    A date typed in `done_on` ticks it off on that date (complete_milestone: done by
    whoever saved it); clearing it reopens it (reopen_milestone). The other fields are
    saved as typed. Raises ServiceRefused for the form at `prefix`.
    """
    milestone = form.instance
    changed = set(form.changed_data)
    done_on = milestone.done_on
    if "done_on" in changed:
        milestone.done_on = form.initial.get("done_on")  # as saved, until the service runs
    if milestone.pk is None:
        milestone.save()
    else:
        _save_plain(milestone, changed - {"done_on"})
    if "done_on" in changed:
        with refused_on(prefix):
            if done_on:
                services.complete_milestone(milestone, by=request.user, on=done_on)
            else:
                services.reopen_milestone(milestone, by=request.user)
    return milestone


class MilestoneInline(LabelledInline, admin.TabularInline):
    """A core's checklist, one line per milestone; readiness rules on the milestone's page."""

    model = Milestone
    form = MilestoneForm
    extra = 0
    fields = [
        "phase",
        "order",
        "title",
        "done_on",
        "note",
        "done_by",
        "readiness_rule",
        *HIDDEN_FIELDS,
    ]
    readonly_fields = ["done_by", "readiness_rule"]
    show_change_link = True
    # One line per milestone keeps the phase's checklist readable at a glance.
    formfield_overrides = {models.TextField: {"widget": forms.TextInput(attrs={"size": 40})}}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by")

    @admin.display(description=_("readiness rule"))
    def readiness_rule(self, milestone):
        return describe_readiness_rule(milestone) or "—"


class PhaseDecisionInline(LabelledInline, admin.TabularInline):
    """The record of moves; append-only, so shown and never edited here."""

    model = PhaseDecision
    extra = 0
    fields = ["decided_at", "from_phase", "to_phase", "decided_by", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title is str(decision), which names the core.
        return super().get_queryset(request).select_related("core", "decided_by")


class InvitationOfCoreInline(LabelledInline, admin.TabularInline):
    """A core's invitations, listed read-only: a core may have hundreds, and editing them
    one by one on the invitation page keeps this page's size and queries flat."""

    model = Invitation
    extra = 0
    fields = ["member", "stage", "identified_on", "moved_on", "invited_by"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title is str(invitation), which names the member and the core.
        return super().get_queryset(request).select_related("member", "core", "invited_by")


class CoreGroupForm(VersionedModelForm):
    """A core's name and people, and on its change page the decision to move it a phase.

    Versioned (sos_tracker.versioning): a save based on a page older than the core's last
    save or change of members or leads is refused; the members and leads merge as sets
    (one another admin added stays, one this person removed goes), and saving again
    keeps both.

    Moving on or going back is a decision with a reason (advance_phase,
    return_to_previous_phase). `seen_phase` is the phase the page showed: a decision
    taken on a page another lead has since overtaken is refused.
    """

    seen_phase = forms.ChoiceField(choices=Phase.choices, widget=forms.HiddenInput, required=False)
    move_to_next_phase = forms.BooleanField(
        required=False,
        label=_("Move to the next phase"),
        help_text=_("Record the decision to move this core to its next phase."),
    )
    open_milestones_confirmed = forms.BooleanField(
        required=False, label=_("Move on although milestones of this phase are still open")
    )
    decision_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Why the core is moving on"),
    )
    return_to_previous_phase = forms.BooleanField(
        required=False,
        label=_("Go back one phase"),
        help_text=_("Record the decision to take this core back one phase."),
    )
    return_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Why the core is going back"),
    )

    # The titles of this phase's open milestones, set per page by CoreGroupAdmin.get_form.
    open_milestones = ()
    noun = _("this core")

    class Meta:
        model = CoreGroup
        fields = ["name", "slug", "tendency", "leads", "members"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        core = self.instance
        if core.pk is None:
            return
        self.fields["seen_phase"].initial = core.phase
        if (next_phase := Phase.after(core.phase)) is not None:
            self.fields["move_to_next_phase"].label = gettext("Move on to “%(phase)s”") % {
                "phase": next_phase.label
            }
        if (previous := Phase.before(core.phase)) is not None:
            self.fields["return_to_previous_phase"].label = gettext("Go back to “%(phase)s”") % {
                "phase": previous.label
            }
        self.fields["open_milestones_confirmed"].help_text = (
            gettext("Still open in this phase: %(milestones)s.")
            % {"milestones": ", ".join(self.open_milestones)}
            if self.open_milestones
            else gettext("Every milestone of this phase is done.")
        )

    def clean(self):
        cleaned = super().clean()
        moving = cleaned.get("move_to_next_phase") or cleaned.get("return_to_previous_phase")
        if moving and self.instance.pk is None:
            self.add_error(None, _("Save the new core first, then move it."))
        elif cleaned.get("move_to_next_phase") and cleaned.get("return_to_previous_phase"):
            self.add_error("return_to_previous_phase", _("Move on or go back, not both at once."))
        return cleaned


@admin.register(CoreGroup)
class CoreGroupAdmin(ServiceWritesAdmin, admin.ModelAdmin):
    form = CoreGroupForm
    list_display = ["name", "tendency", "phase", "lead_names", "created_at"]
    list_filter = ["tendency", "phase"]
    list_select_related = ["tendency"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["leads", "members"]
    inlines = [MilestoneInline, PhaseDecisionInline, InvitationOfCoreInline]

    def get_inlines(self, request, obj):
        # A new core gets the default milestones from create_core; rows typed beside them
        # could clash with those before the core even exists.
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "slug", "tendency", "phase", "leads"]}),
            (_("People in this core"), {"fields": ["members"], "classes": ["collapse"]}),
        ]
        if obj is None:
            return fieldsets
        fieldsets[0][1]["fields"] += ["launched_on", "seen_phase", *HIDDEN_FIELDS]
        if Phase.after(obj.phase) is not None:
            fields = ["move_to_next_phase", "open_milestones_confirmed", "decision_reason"]
            fieldsets.append((_("Move to the next phase"), {"fields": fields}))
        if Phase.before(obj.phase) is not None:
            fields = ["return_to_previous_phase", "return_reason"]
            fieldsets.append((_("Go back one phase"), {"fields": fields, "classes": ["collapse"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        if obj is None or Phase.after(obj.phase) is None:
            return form_class
        open_titles = obj.milestones.filter(phase=obj.phase, done_on__isnull=True).values_list(
            "title", flat=True
        )
        return type(form_class.__name__, (form_class,), {"open_milestones": list(open_titles)})

    def get_readonly_fields(self, request, obj=None):
        # The phase moves only through a recorded decision (the fields below it); a new
        # core starts in the first.
        if obj is None:
            return ["phase"]
        if request.user.is_superuser:
            return ["phase", "launched_on"]
        # A core's tendency and leads decide who reads which tendency's private review
        # notes; leads run their core, admins decide who leads what.
        return ["phase", "launched_on", "tendency", "leads"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("leads")

    @admin.display(description=_("leads"))
    def lead_names(self, core):
        return ", ".join(lead.get_full_name() or lead.username for lead in core.leads.all())

    def has_change_permission(self, request, obj=None):
        if obj is not None and not can_manage_core(request.user, obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            with refused_on():
                core = services.create_core(
                    name=obj.name,
                    slug=obj.slug,
                    tendency=obj.tendency,
                    leads=form.cleaned_data.get("leads", ()),
                    by=request.user,
                )
            _take_saved(obj, core)
            return
        # Write only what this form edits: the phase shown here was read when the page
        # opened, and saving it back could undo someone else's move meanwhile.
        _save_plain(obj, {f.name for f in obj._meta.concrete_fields} & set(form.changed_data))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Milestone:
            return super().save_formset(request, form, formset, change)
        for row in _formset_rows(formset):
            save_milestone(request, row, prefix=row.prefix)

    def save_related(self, request, form, formsets, change):
        # Milestones first: ticking the last open one and moving on is one save.
        super().save_related(request, form, formsets, change)
        if change:
            self.decide_phase(request, form)

    def decide_phase(self, request, form):
        """Move the core on or back one phase, as the form asks (advance_phase or
        return_to_previous_phase). Raises ServiceRefused on the decision's fields."""
        data = form.cleaned_data
        seen = data.get("seen_phase") or None
        if data.get("move_to_next_phase"):
            fields = {
                "reason": "decision_reason",
                "to_phase": "move_to_next_phase",
                "phase": "move_to_next_phase",
            }
            with refused_on(None, fields):
                services.advance_phase(
                    form.instance,
                    by=request.user,
                    reason=data.get("decision_reason"),
                    to_phase=Phase.after(seen) if seen else None,
                    open_milestones_confirmed=data.get("open_milestones_confirmed", False),
                )
        elif data.get("return_to_previous_phase"):
            fields = {
                "reason": "return_reason",
                "from_phase": "return_to_previous_phase",
                "phase": "return_to_previous_phase",
            }
            with refused_on(None, fields):
                services.return_to_previous_phase(
                    form.instance,
                    by=request.user,
                    reason=data.get("return_reason"),
                    from_phase=seen,
                )


class CoreScopedAdmin(admin.ModelAdmin):
    """Everyone with view permission sees these rows; only the core's leads change them."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and not can_manage_core(request.user, obj.core_id):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not can_manage_core(request.user, obj.core_id):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "core" and not request.user.is_superuser:
            kwargs["queryset"] = CoreGroup.objects.led_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Milestone)
class MilestoneAdmin(ServiceWritesAdmin, CoreScopedAdmin):
    form = MilestoneForm
    list_display = ["title", "core", "phase", "order", "done_on", "done_by"]
    list_filter = ["core", "phase", ("done_on", admin.EmptyFieldListFilter)]
    list_select_related = ["core", "done_by"]
    search_fields = ["title", "core__name"]
    readonly_fields = ["done_by"]
    fieldsets = [
        (None, {"fields": ["core", "phase", "order", "title", *HIDDEN_FIELDS]}),
        (
            pgettext_lazy("milestone", "Done"),
            {
                "fields": ["done_on", "done_by", "note"],
                "description": _(
                    "A date ticks the milestone off as done by you; clearing it "
                    "reopens the milestone."
                ),
            },
        ),
        (
            _("Readiness rule"),
            {
                "fields": [
                    "rule_min_people",
                    "rule_min_level",
                    "rule_capacity",
                    "rule_capacity_min",
                ],
                "description": _(
                    "Optional. Counted from the people at their latest check-in "
                    "and shown on the core's page as met or not; the lead still decides when "
                    "the milestone is done."
                ),
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        save_milestone(request, form)


@admin.register(PhaseDecision)
class PhaseDecisionAdmin(RecordAdmin):
    """Decisions are appended by moving a core on (on the core's page); never edited."""

    list_display = ["core", "from_phase", "to_phase", "decided_by", "decided_at"]
    list_filter = ["core", "to_phase"]
    list_select_related = ["core", "decided_by"]
    readonly_fields = ["core", "from_phase", "to_phase", "decided_by", "decided_at", "reason"]


# Invitations
# -----------


class InvitationForm(VersionedModelForm):
    """An invitation: a save based on a page older than its last save is refused
    (sos_tracker.versioning), theirs filled in where this person typed nothing."""

    noun = _("this invitation")

    # The stage the page showed: a move made on a page someone has since overtaken is
    # refused (move_invitation's expected_stage).
    seen_stage = forms.ChoiceField(
        choices=InvitationStage.choices, widget=forms.HiddenInput, required=False
    )

    class Meta:
        model = Invitation
        fields = [
            "core",
            "member",
            "stage",
            "point_person",
            "next_step_on",
            "note",
            "identified_on",
            "invited_on",
            "conversation_on",
            "joined_on",
            "declined_on",
            "declined_reason",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_stage"].initial = self.instance.stage

    def stale_field_message(self, name, current):
        if name == "stage":
            stage = current.get_stage_display()
            return gettext("Someone moved this invitation meanwhile: it is now “%(stage)s”.") % {
                "stage": stage
            }
        return None


class StalledFilter(admin.SimpleListFilter):
    title = _("not moved lately")
    parameter_name = "stalled"

    def lookups(self, request, model_admin):
        return [("yes", _("Stalled (no move for a while)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.stalled()
        return queryset


# Fields of an invitation that services write: who follows up (update_follow_up) and the
# stage (move_invitation). The others (dates of other stages, why they declined) are
# corrections, saved as typed.
FOLLOW_UP_FIELDS = {"point_person", "next_step_on", "note"}


@admin.register(Invitation)
class InvitationAdmin(
    ServiceWritesAdmin, PeopleSearchMixin, LargeListAdmin, CoreScopedAdmin, SimpleHistoryAdmin
):
    form = InvitationForm
    list_display = [
        "member",
        "core",
        "stage",
        "point_person",
        "next_step_on",
        "moved_on",
        "identified_on",
    ]
    # Newest first, from the primary key: the model's order starts with the core, which
    # the admin sorts by the core's name through a join. The person, core and point
    # person columns would sort through a join too; the core filter narrows instead.
    ordering = ["-pk"]
    sortable_by = ["stage", "next_step_on", "moved_on", "identified_on"]
    list_filter = ["core", "stage", StalledFilter]
    list_select_related = ["member", "core", "point_person"]
    search_fields = ["member__name", "member__email", "member__city"]
    search_help_text = _("The person's name, preferred name, email or city, as on the people list.")
    autocomplete_fields = ["member", "point_person"]
    readonly_fields = ["invited_by", "moved_on"]
    fieldsets = [
        (None, {"fields": ["core", "member", "stage", "seen_stage", *HIDDEN_FIELDS]}),
        (
            _("Follow-up"),
            {
                "fields": ["point_person", "next_step_on", "note"],
                "description": _("The point person must be a member of this core."),
            },
        ),
        (
            _("Stages"),
            {
                "fields": [
                    "identified_on",
                    "invited_on",
                    "conversation_on",
                    "joined_on",
                    "declined_on",
                    "declined_reason",
                    "moved_on",
                    "invited_by",
                ],
                "description": _(
                    "Moving to a stage stamps its date: the one you type beside "
                    "it, or today. Joined the process and declined are where an invitation ends."
                ),
            },
        ),
    ]

    def get_queryset(self, request):
        # The change page shows these read-only, and the title names person and core.
        return (
            super()
            .get_queryset(request)
            .select_related("member", "core", "invited_by", "point_person")
        )

    def get_readonly_fields(self, request, obj=None):
        # An invitation is one core's, about one person; a new pair is a new invitation.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "core", "member"]

    def save_model(self, request, obj, form, change):
        """Start (invite_to_core), follow up (update_follow_up) and move (move_invitation)
        through the services; corrected dates of other stages and the reason someone
        declined are saved as typed."""
        changed = set(form.changed_data)
        data = form.cleaned_data
        stage = obj.stage
        # Moving is choosing a stage other than the one the page showed (not the one saved
        # now): a page someone has since overtaken is then refused by the service.
        seen_stage = data.get("seen_stage") or form.initial.get("stage")
        moving = stage != seen_stage if change else stage != InvitationStage.IDENTIFIED
        date_field = STAGE_DATE_FIELDS[stage]
        by_service = FOLLOW_UP_FIELDS | {"core", "member", "stage", "seen_stage"}
        if moving:
            # The stage reached takes the date typed beside it, else today (the service).
            by_service |= {date_field, "declined_reason"}
        corrections = changed - by_service
        if not change:
            corrections -= {"identified_on"}
            typed = {name: getattr(obj, name) for name in corrections}
            with refused_on():
                saved = services.invite_to_core(
                    obj.core,
                    obj.member,
                    by=request.user,
                    point_person=obj.point_person,
                    next_step_on=obj.next_step_on,
                    note=obj.note,
                    on=obj.identified_on,
                )
            _take_saved(obj, saved)
            for name, value in typed.items():
                setattr(obj, name, value)
        _save_plain(obj, corrections)
        if change and changed & FOLLOW_UP_FIELDS:
            with refused_on():
                services.update_follow_up(
                    obj,
                    by=request.user,
                    point_person=obj.point_person,
                    next_step_on=obj.next_step_on,
                    note=obj.note,
                )
        if moving:
            with refused_on():
                services.move_invitation(
                    obj,
                    stage,
                    by=request.user,
                    on=data.get(date_field) if date_field in changed else None,
                    reason=data.get("declined_reason", ""),
                    expected_stage=seen_stage if change else None,
                )


# Every admin is registered by now (cores is the last app): none may filter, search or
# sort through a private review note (cores.admin_privacy).
admin_privacy.protect(admin.site)
