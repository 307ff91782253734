from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from cores import services
from cores.models import (
    STAGE_DATE_FIELDS,
    Alignment,
    CoreGroup,
    Invitation,
    Milestone,
    Phase,
    PhaseDecision,
    ReviewNote,
    ReviewState,
    Tendency,
)
from members.admin import MemberAdmin
from members.models import Member
from sos_tracker.admin_mixins import RecordAdmin
from sos_tracker.permissions import can_manage_core, can_review_tendency


@admin.register(Tendency)
class TendencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


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


class AlignmentInline(admin.TabularInline):
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


class InvitationOfPersonInline(admin.TabularInline):
    model = Invitation
    fk_name = "member"
    extra = 0
    fields = ["core", "stage", "identified_on", "invited_by"]
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
class MemberWithAlignmentsAdmin(MemberAdmin):
    inlines = [*MemberAdmin.inlines, AlignmentInline, InvitationOfPersonInline]
    list_filter = [*MemberAdmin.list_filter, "alignments__tendency", "alignments__level"]

    def save_formset(self, request, form, formset, change):
        if formset.model is Alignment:
            # A changed level goes back into its tendency's review queue.
            for alignment_form in formset.forms:
                if alignment_form.has_changed() and "level" in alignment_form.changed_data:
                    alignment_form.instance.review_state = ReviewState.NEEDS_REVIEW
                    alignment_form.instance.reviewed_by = None
                    alignment_form.instance.reviewed_at = None
        super().save_formset(request, form, formset, change)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["phase", "order", "title", "done_on", "note", "done_by"]
    readonly_fields = ["done_by"]
    # One line per milestone keeps the phase's checklist readable at a glance.
    formfield_overrides = {models.TextField: {"widget": forms.TextInput(attrs={"size": 40})}}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by")


class PhaseDecisionInline(admin.TabularInline):
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


class InvitationOfCoreInline(admin.TabularInline):
    """A core's invitations, listed read-only: a core may have hundreds, and editing them
    one by one on the invitation page keeps this page's size and queries flat."""

    model = Invitation
    extra = 0
    fields = ["member", "stage", "identified_on", "invited_on", "invited_by"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title is str(invitation), which names the member and the core.
        return super().get_queryset(request).select_related("member", "core", "invited_by")


class CoreGroupForm(forms.ModelForm):
    """Moving on is a decision with a reason, taken on the core's own page."""

    move_to_next_phase = forms.BooleanField(
        required=False, help_text="Record the decision to move this core to its next phase."
    )
    decision_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Why the core is moving on",
    )

    class Meta:
        model = CoreGroup
        fields = ["name", "slug", "tendency", "phase", "leads", "members"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("move_to_next_phase"):
            if self.instance.pk is None:
                self.add_error("move_to_next_phase", "Save the new core first, then move it on.")
            elif Phase.after(self.instance.phase) is None:
                self.add_error(
                    "move_to_next_phase", "This core has launched; there is no later phase."
                )
            if not (cleaned.get("decision_reason") or "").strip():
                self.add_error("decision_reason", "Say why the core is moving on.")
        return cleaned


@admin.register(CoreGroup)
class CoreGroupAdmin(admin.ModelAdmin):
    form = CoreGroupForm
    list_display = ["name", "tendency", "phase", "lead_names", "created_at"]
    list_filter = ["tendency", "phase"]
    list_select_related = ["tendency"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["leads", "members"]
    inlines = [MilestoneInline, PhaseDecisionInline, InvitationOfCoreInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "slug", "tendency", "phase", "leads"]}),
            ("People in this core", {"fields": ["members"], "classes": ["collapse"]}),
        ]
        if obj is not None:
            fieldsets.append(
                ("Move to the next phase", {"fields": ["move_to_next_phase", "decision_reason"]})
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The phase moves only through a recorded decision (the fields below it).
        if request.user.is_superuser:
            return ["phase"]
        # A core's tendency and leads decide who reads which tendency's private review
        # notes; leads run their core, admins decide who leads what.
        return ["phase", "tendency", "leads"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("leads")

    @admin.display(description="leads")
    def lead_names(self, core):
        return ", ".join(lead.get_full_name() or lead.username for lead in core.leads.all())

    def has_change_permission(self, request, obj=None):
        if obj is not None and not can_manage_core(request.user, obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            # Write only what this form edits: the phase shown here was read when the
            # page opened, and saving it back could undo someone else's move meanwhile.
            edited = [f.name for f in obj._meta.concrete_fields if f.name in form.changed_data]
            obj.save(update_fields=edited)
        else:
            super().save_model(request, obj, form, change)
        if not change:
            services.add_default_milestones(obj)
        elif form.cleaned_data.get("move_to_next_phase"):
            services.advance_phase(
                obj, by=request.user, reason=form.cleaned_data["decision_reason"]
            )

    def save_formset(self, request, form, formset, change):
        for milestone_form in formset.forms:
            instance = milestone_form.instance
            if isinstance(instance, Milestone) and "done_on" in milestone_form.changed_data:
                instance.done_by = request.user if instance.done_on else None
        super().save_formset(request, form, formset, change)


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
class MilestoneAdmin(CoreScopedAdmin):
    list_display = ["title", "core", "phase", "order", "done_on", "done_by"]
    list_filter = ["core", "phase", ("done_on", admin.EmptyFieldListFilter)]
    list_select_related = ["core", "done_by"]
    search_fields = ["title", "core__name"]
    readonly_fields = ["done_by"]

    def save_model(self, request, obj, form, change):
        if "done_on" in form.changed_data:
            obj.done_by = request.user if obj.done_on else None
        super().save_model(request, obj, form, change)


@admin.register(PhaseDecision)
class PhaseDecisionAdmin(RecordAdmin):
    """Decisions are appended by moving a core on (on the core's page); never edited."""

    list_display = ["core", "from_phase", "to_phase", "decided_by", "decided_at"]
    list_filter = ["core", "to_phase"]
    list_select_related = ["core", "decided_by"]
    readonly_fields = ["core", "from_phase", "to_phase", "decided_by", "decided_at", "reason"]


class ReviewNoteInline(admin.StackedInline):
    model = ReviewNote
    extra = 0
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def get_queryset(self, request):
        # Each note's title is str(note), which names the alignment's member and tendency.
        return ReviewNote.objects.visible_to(request.user).select_related(
            "alignment__member", "alignment__tendency", "author"
        )

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
    class Meta:
        model = Alignment
        fields = ["member", "tendency", "level", "stated_on", "review_state"]

    def clean(self):
        cleaned = super().clean()
        changed = set(self.changed_data)
        if {"level", "review_state"} <= changed and cleaned.get(
            "review_state"
        ) == ReviewState.REVIEWED:
            self.add_error(
                "review_state",
                "A new level needs a review of its own: save the level first, then review it.",
            )
        return cleaned


@admin.register(Alignment)
class AlignmentAdmin(SimpleHistoryAdmin):
    form = AlignmentForm
    list_display = ["member", "tendency", "level", "stated_on", "review_state", "reviewed_by"]
    list_filter = ["tendency", "level", "review_state"]
    list_select_related = ["member", "tendency", "reviewed_by"]
    search_fields = ["member__name", "member__email", "member__city"]
    autocomplete_fields = ["member"]
    readonly_fields = ["reviewed_by", "reviewed_at"]
    inlines = [ReviewNoteInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A new alignment enters its tendency's review queue, as state_alignment() puts it:
        # on the add page the tendency is not yet known, so nobody could be checked.
        if obj is None or not can_review_tendency(request.user, obj.tendency_id):
            fields.append("review_state")
        return fields

    def save_model(self, request, obj, form, change):
        if "level" in form.changed_data:
            obj.review_state = ReviewState.NEEDS_REVIEW
            obj.reviewed_by = None
            obj.reviewed_at = None
        elif "review_state" in form.changed_data:
            reviewed = obj.review_state == ReviewState.REVIEWED
            obj.reviewed_by = request.user if reviewed else None
            obj.reviewed_at = timezone.now() if reviewed else None
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for note_form in formset.forms:
            if note_form.instance.pk is None and note_form.has_changed():
                note_form.instance.author = request.user
        super().save_formset(request, form, formset, change)


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
            raise ValidationError("You can write notes only on alignments of a tendency you lead.")
        return alignment


@admin.register(ReviewNote)
class ReviewNoteAdmin(admin.ModelAdmin):
    """Private to the leads of the note's tendency, here as everywhere."""

    form = ReviewNoteForm
    list_display = ["alignment", "author", "created_at"]
    list_filter = ["alignment__tendency"]
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
        # Offering the other tendency as a filter would say it has notes.
        return self.list_filter if request.user.is_superuser else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        # Notes are a record; authors correct their own, superusers anyone's.
        if obj is not None and not (request.user.is_superuser or obj.author_id == request.user.pk):
            return False
        return super().has_change_permission(request, obj)


@admin.register(Invitation)
class InvitationAdmin(CoreScopedAdmin, SimpleHistoryAdmin):
    list_display = ["member", "core", "stage", "identified_on", "invited_on", "invited_by"]
    list_filter = ["core", "stage"]
    list_select_related = ["member", "core", "invited_by"]
    search_fields = ["member__name", "member__email", "member__city"]
    autocomplete_fields = ["member", "invited_by"]
    show_full_result_count = False

    def get_changeform_initial_data(self, request):
        return {"invited_by": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        # Reaching a stage stamps its date, unless the person typed one.
        date_field = STAGE_DATE_FIELDS[obj.stage]
        if "stage" in form.changed_data and getattr(obj, date_field) is None:
            setattr(obj, date_field, timezone.localdate())
        super().save_model(request, obj, form, change)
