from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, TextField
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audit.quotas import open_person
from members import erasure
from members.duplicates import SAME_EMAIL, find_duplicates
from members.forms import EraseForm, VersionedMemberForm
from members.models import (
    CapacityCheckIn,
    Erasure,
    ExportRecord,
    ImportRecord,
    Member,
    MergeRecord,
    Sector,
)
from members.search import ByteOrder
from members.text import fold
from sos_tracker.admin_mixins import LabelledInline, RecordAdmin
from sos_tracker.admin_paging import LargeListAdmin


def regions_in_use(limit: int = 200) -> list[str]:
    """The regions people have, in order, at most `limit` of them: the region filter's
    choices, read from the region index (MemberQuerySet.regions_in_use, which the
    people list's filter uses too)."""
    return Member.objects.regions_in_use(limit)


class RegionFilter(admin.SimpleListFilter):
    """People by region: the regions in use (regions_in_use), and people with none."""

    title = _("region")
    # The parameter Django's own filter on the field used: bookmarked lists keep working.
    parameter_name = "region"
    NONE = ""

    def lookups(self, request, model_admin):
        return [*((region, region) for region in regions_in_use()), (self.NONE, _("No region"))]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(region=self.value())


class PeopleSearchMixin:
    """A list of rows about people (`person_field` names the person) searched by the
    people's indexed search (Member.objects.search), not by LIKE '%term%' across a join.

    Mixed in before the ModelAdmin; `search_fields` stays set so the search box shows.
    """

    person_field = "member"

    def get_search_results(self, request, queryset, search_term):
        if not fold(search_term):
            return queryset, False
        people = Member.objects.search(search_term).values("pk")
        return queryset.filter(**{f"{self.person_field}__in": people}), False


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active", "people"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people_count=Count("members"))

    @admin.display(description=_("people"), ordering="people_count")
    def people(self, sector):
        return sector.people_count


class CapacityCheckInInline(LabelledInline, admin.TabularInline):
    model = CapacityCheckIn
    extra = 0
    fields = [
        "checked_on",
        "strategic_skills",
        "political_organizing_skills",
        "social_emotional_capacities",
        "organization_building_skills",
        "note",
        "assessed_by",
    ]
    # Set to the person saving; a read-only name costs no query per row, a select would.
    readonly_fields = ["assessed_by"]
    # The note at its full height made each row a screen tall; two lines keep the rows level.
    formfield_overrides = {TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 32})}}

    def get_queryset(self, request):
        # Each row's title is str(check_in), which names the member.
        return super().get_queryset(request).select_related("member", "assessed_by")


class MemberAdminForm(VersionedMemberForm):
    """The admin's person form, with the app's rules for a person (as quick add has them).

    - Email or phone: a new person needs one, and an edit may not remove the last one.
    - The duplicate check (members.duplicates): adding a person, or changing the name,
      contact or place of one, lists the possible duplicates with their evidence and
      saves only once the admin user ticks "This is a different person". Someone who
      only shares a phone under another name (a household) does not stop the save; the
      admin names them after it (MemberAdmin.save_model).
    """

    CONTACT_FIELDS = ("name", "email", "phone", "city", "region")

    confirm_different = forms.BooleanField(
        label=_("This is a different person"),
        required=False,
        widget=forms.HiddenInput,  # shown as a checkbox once there is something to confirm
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []
        self.households = []

    def clean(self):
        cleaned = super().clean()
        self._email_or_phone(cleaned)
        if self.instance.pk and not any(n in self.changed_data for n in self.CONTACT_FIELDS):
            return cleaned
        if any(name in self.errors for name in self.CONTACT_FIELDS):
            return cleaned
        for match in find_duplicates(
            **{name: cleaned.get(name) or "" for name in self.CONTACT_FIELDS},
            exclude_pk=self.instance.pk,
        ):
            (self.households if match.only_shares_a_phone else self.duplicates).append(match)
        # An email someone already has is refused on the email field (Member.clean): the
        # same person, no question to ask.
        email_taken = any(
            match.member.email for match in self.duplicates if SAME_EMAIL in match.reasons
        )
        if self.duplicates and not email_taken and not cleaned.get("confirm_different"):
            field = self.fields["confirm_different"]
            field.widget = forms.CheckboxInput()
            # The bound field was made (and its help text read) before clean().
            field.help_text = self["confirm_different"].help_text = _duplicates_html(
                self.duplicates
            )
            self.add_error(
                "confirm_different",
                ValidationError(
                    _(
                        "This may be someone already here (listed below, with the evidence). "
                        "Open them to update their record instead, or tick the box if this "
                        "is a different person."
                    ),
                    code="possible_duplicate",
                ),
            )
        return cleaned

    def _email_or_phone(self, cleaned):
        if "email" in self.errors or "phone" in self.errors:
            return
        if cleaned.get("email") or cleaned.get("phone"):
            return
        had_one = self.instance.pk and (self.initial.get("email") or self.initial.get("phone"))
        if not self.instance.pk or had_one:
            self.add_error(
                "email",
                ValidationError(
                    _("Give an email or a phone number, so the person can be reached."),
                    code="unreachable",
                ),
            )


def _duplicates_html(matches) -> str:
    """The possible duplicates, each a link to its admin page with the evidence in words."""
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}" target="_blank" rel="noopener">{}</a> ({}): {}</li>',
            (
                (
                    reverse("admin:members_member_change", args=[match.member.pk]),
                    match.member,
                    ", ".join(
                        filter(None, [match.member.city, match.member.email, match.member.phone])
                    )
                    or gettext("no contact"),
                    "; ".join(f"{item.kind_label}: {item.text}" for item in match.evidence),
                )
                for match in matches
            ),
        ),
    )


@admin.register(Member)
class MemberAdmin(LargeListAdmin, SimpleHistoryAdmin):
    form = MemberAdminForm
    # Adds an "Import people" button beside "Add member" (the organizers' import page).
    change_list_template = "admin/members/member/change_list.html"
    list_display = ["person", "preferred_name", "email", "city", "status", "joining_story_kind"]
    # Only the name sorts: member_name_key_order_idx serves it; any other column would
    # sort everyone on every page (the filters narrow by status, story and region).
    sortable_by = ["person"]
    list_filter = [
        "status",
        "joining_story_kind",
        "sectors",
        RegionFilter,
        ("erased_at", admin.EmptyFieldListFilter),
    ]
    # The admin search runs on the folded search column (see get_search_results); these
    # fields are what it covers, and autocomplete needs the list to be non-empty.
    search_fields = ["name", "preferred_name", "email", "city"]
    search_help_text = _(
        "Any part of name, preferred name, email or city; accents and case ignored."
    )
    autocomplete_fields = ["sectors"]
    readonly_fields = [
        "added_by",
        "imported_from",
        "created_at",
        "updated_at",
        "version",
        "erased_at",
    ]
    list_per_page = 50
    inlines = [CapacityCheckInInline]
    actions = ["merge_two_people", "erase_on_request"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "confirm_different",
                    "name",
                    "preferred_name",
                    "pronouns",
                    "status",
                    "edit_version",
                    "edit_opened",
                ]
            },
        ),
        (_("Contact"), {"fields": ["email", "phone", "city", "region"]}),
        (_("Joining story"), {"fields": ["joining_story_kind", "joining_story", "joined_on"]}),
        (_("Sectors and notes"), {"fields": ["sectors", "note"]}),
        (
            _("Record"),
            {
                "fields": [
                    "added_by",
                    "imported_from",
                    "created_at",
                    "updated_at",
                    "version",
                    "erased_at",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description=_("name"), ordering=ByteOrder("name_key"))
    def person(self, member):
        return member.name

    @admin.action(description=_("Merge the two selected people…"), permissions=["merge"])
    def merge_two_people(self, request, queryset):
        """Open the app's merge page for exactly two selected people (the older one first,
        offered as the record that stays); nothing is merged until it is confirmed there."""
        pks = sorted(queryset.order_by().values_list("pk", flat=True)[:3])
        if len(pks) != 2:
            self.message_user(
                request, _("Select exactly two people to merge them."), level=messages.WARNING
            )
            return None
        return redirect("members:person_merge", pks[0], pks[1])

    def has_merge_permission(self, request):
        return request.user.has_perm("members.merge_people")

    # --- erasure on request (members.erasure) ---------------------------------------------

    @admin.action(description=_("Erase the selected person on request…"), permissions=["erase"])
    def erase_on_request(self, request, queryset):
        """Open the erasure page for exactly one selected person; nothing is erased until a
        reason is typed and the erasure confirmed there."""
        pks = list(queryset.order_by().values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            self.message_user(
                request, _("Select exactly one person to erase."), level=messages.WARNING
            )
            return None
        return redirect("admin:members_member_erase", pks[0])

    def has_erase_permission(self, request):
        return request.user.has_perm("members.erase_person")

    def has_change_permission(self, request, obj=None):
        # An erased person is shown read-only: no edit brings them back to life.
        if obj is not None and obj.erased_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self):
        erase = self.admin_site.admin_view(self.erase_view)
        return [
            path("<int:object_id>/erase/", erase, name="members_member_erase"),
            *super().get_urls(),
        ]

    def erase_view(self, request, object_id):
        """What will be anonymised, a typed reason and a confirmation; POST erases.

        Superusers and holders of members.erase_person only (403 to other staff; the admin
        sends anyone else to its login page). 404 for no such person.
        """
        if not self.has_erase_permission(request):
            raise PermissionDenied
        member = get_object_or_404(self.get_queryset(request), pk=object_id)
        if member.erased_at is not None:
            self.message_user(
                request,
                gettext("%(person)s was erased already.") % {"person": member},
                level=messages.WARNING,
            )
            return redirect("admin:members_member_change", member.pk)
        # The retention list links here with its reason written out, to be checked.
        form = EraseForm(request.POST or None, initial={"reason": request.GET.get("reason", "")})
        if request.method == "POST" and form.is_valid():
            try:
                record = erasure.erase_person(
                    member, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext(
                        "Erased person #%(person)s on request (erasure #%(erasure)s): their "
                        "record and its history are anonymised; counts are kept."
                    )
                    % {"person": member.pk, "erasure": record.pk},
                    level=messages.SUCCESS,
                )
                return redirect("admin:members_member_change", member.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase %(person)s on request") % {"person": member},
            "opts": self.model._meta,
            "member": member,
            "form": form,
            "preview": erasure.erasure_preview(member),
        }
        return TemplateResponse(request, "admin/members/erase.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a person in the admin is a read like the person page: logged, and counted
        # against the same hourly quota (audit.quotas.open_person, the one rule).
        if request.method == "GET" and str(object_id).isdigit():
            refused = open_person(request, int(object_id))
            if refused is not None:
                return refused
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        # The people page's indexed search (trigram / FTS5), not the admin's icontains scan.
        if not fold(search_term):
            return queryset, False
        return queryset.search(search_term, typed=True), False

    def get_changeform_initial_data(self, request):
        return {"joined_on": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        # The admin user's decisions about possible duplicates, kept in the history as
        # quick add keeps them (members.services.create_member).
        reasons = []
        if form.duplicates:
            others = ", ".join(f"{match.member} (#{match.member.pk})" for match in form.duplicates)
            reasons.append(f"Confirmed a different person from {others}")
        if form.households:
            others = ", ".join(f"{match.member} (#{match.member.pk})" for match in form.households)
            reasons.append(f"Shares a phone with {others}")
            self.message_user(
                request,
                gettext("%(person)s shares a phone with %(others)s: kept as two people.")
                % {"person": obj.name, "others": others},
            )
        if reasons:
            obj._change_reason = "; ".join(reasons)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, CapacityCheckIn) and instance.assessed_by_id is None:
                instance.assessed_by = request.user
            instance.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(CapacityCheckIn)
class CapacityCheckInAdmin(PeopleSearchMixin, LargeListAdmin, SimpleHistoryAdmin):
    list_display = [
        "member",
        "checked_on",
        "strategic_skills",
        "political_organizing_skills",
        "social_emotional_capacities",
        "organization_building_skills",
        "assessed_by",
    ]
    # The date filter offers its ranges without a query; a date hierarchy would read the
    # years of every check-in on each view. checkin_date_idx serves the model's order.
    list_filter = ["checked_on"]
    list_select_related = ["member", "assessed_by"]
    # Only the date sorts (checkin_date_idx); a capacity column would sort every
    # check-in, the member and assessor columns every check-in through a join.
    sortable_by = ["checked_on"]
    search_fields = ["member__name", "member__email", "member__city"]
    search_help_text = _("The person's name, preferred name, email or city, as on the people list.")
    autocomplete_fields = ["member", "assessed_by"]

    def get_changeform_initial_data(self, request):
        return {"assessed_by": request.user.pk, **super().get_changeform_initial_data(request)}


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    """Imports are made on the import page (linked from here) and never edited afterwards."""

    list_display = ["__str__", "uploaded_by", "created_at", "state", "total_rows", "review"]
    list_filter = ["state", "created_at"]
    list_select_related = ["uploaded_by"]
    search_fields = ["filename"]
    exclude = ["content"]
    readonly_fields = [
        "filename",
        "uploaded_by",
        "created_at",
        "state",
        "sha256",
        "headers",
        "mapping",
        "sector_choices",
        "warnings",
        "total_rows",
        "counts",
        "error",
        "applied_at",
        "undone_at",
        "undone_by",
        "undo_conflicts",
        "review",
    ]

    def get_queryset(self, request):
        # Like the import pages: one's own imports; a superuser sees every one.
        return super().get_queryset(request).visible_to(request.user).defer("content")

    @admin.display(description=_("rows and undo"))
    def review(self, record):
        return format_html(
            '<a href="{}">{}</a>', record.get_absolute_url(), gettext("Open the import page")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(RecordAdmin):
    """The trail of who took people out of the system; read-only."""

    list_display = [
        "created_at",
        "exported_by",
        "file_format",
        "row_count",
        "included_joining_story",
    ]
    list_filter = ["file_format", "included_joining_story", "created_at"]
    list_select_related = ["exported_by"]


@admin.register(MergeRecord)
class MergeRecordAdmin(RecordAdmin):
    """The trail of merges of two records of one person; read-only. A merge is made and
    undone on the app's pages (the kept person's page offers the undo)."""

    list_display = ["__str__", "merged_by", "merged_at", "undone_at", "kept_person"]
    list_filter = ["merged_at", ("undone_at", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_by"]
    search_fields = ["survivor_name", "merged_name"]
    show_full_result_count = False
    # The snapshot holds both records' fields for the undo; the history pages show them.
    exclude = ["snapshot"]

    def get_queryset(self, request):
        # Whether the kept person is still here, in the list's one query (not one per row).
        here = Member.objects.filter(pk=OuterRef("survivor_pk"))
        return super().get_queryset(request).annotate(survivor_here=Exists(here))

    @admin.display(description=_("kept person"))
    def kept_person(self, record):
        if not record.survivor_here:
            return gettext("%(name)s (#%(person)s, no longer here)") % {
                "name": record.survivor_name,
                "person": record.survivor_pk,
            }
        return format_html(
            '<a href="{}">{} (#{})</a>',
            reverse("members:person_detail", args=[record.survivor_pk]),
            record.survivor_name,
            record.survivor_pk,
        )


@admin.register(Erasure)
class ErasureAdmin(RecordAdmin):
    """The trail of people erased on request: who, when, why; read-only. An erasure is made
    from a person's "Erase on request" action (MemberAdmin.erase_view)."""

    list_display = ["__str__", "erased_by", "erased_at", "reason"]
    list_filter = ["erased_at"]
    list_select_related = ["erased_by"]
    show_full_result_count = False
