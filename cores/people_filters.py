"""The people list's filters by tendency, alignment level and core.

members never imports cores, so these are registered from CoresConfig.ready()
(members.forms.register_people_filter), as the merge and erasure steps are. Each narrows
the people through MemberQuerySet.among, which keeps a page in name order flat however
many people the filter holds.

What they filter on, every role may see (DESIGN.md, "Roles"): a person's stated level
toward each tendency, and who is a member of each core. Nothing here reads review state,
review notes or invitations: a tendency's review work is its own leads', and a core's
invitations are shown to the other core only as "in conversation", so no filter may
narrow by them (tests/members/test_people_list_filters.py tries).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from cores.models import Alignment, AlignmentLevel, CoreGroup, Tendency
from members.forms import PeopleFilter, register_people_filter


def alignment_fields() -> dict[str, forms.Field]:
    return {
        "tendency": forms.ModelChoiceField(
            label=_("Tendency"),
            required=False,
            queryset=Tendency.objects.order_by("name"),
            to_field_name="slug",
            empty_label=_("Any tendency"),
        ),
        "level": forms.ChoiceField(
            label=_("Alignment level"),
            required=False,
            choices=[("", _("Any level")), *AlignmentLevel.choices],
        ),
    }


def apply_alignment(people, data):
    """People with a stated alignment toward the tendency, at the level (either may be
    unset): one alignment row must match both, not one each."""
    tendency, level = data.get("tendency"), data.get("level")
    if not tendency and not level:
        return people
    alignments = Alignment.objects.all()
    if tendency:
        alignments = alignments.filter(tendency=tendency)
    else:
        # Every tendency named, so that a level alone is read from alignment_level_idx
        # (tendency, level) too, not from every alignment.
        alignments = alignments.filter(tendency__in=Tendency.objects.values("pk"))
    if level:
        alignments = alignments.filter(level=level)
    return people.among(alignments)


def core_fields() -> dict[str, forms.Field]:
    return {
        "core": forms.ModelChoiceField(
            label=_("Core"),
            required=False,
            queryset=CoreGroup.objects.order_by("name"),
            to_field_name="slug",
            empty_label=_("Any core"),
        ),
    }


def apply_core(people, data):
    """The core's members (CoreGroup.members), never its invitees."""
    core = data.get("core")
    if not core:
        return people
    return people.among(CoreGroup.members.through.objects.filter(coregroup=core))


def register() -> None:
    register_people_filter(
        PeopleFilter(
            name="alignment",
            permission="cores.view_alignment",
            fields=alignment_fields,
            apply=apply_alignment,
        )
    )
    register_people_filter(
        PeopleFilter(
            name="core",
            permission="cores.view_coregroup",
            fields=core_fields,
            apply=apply_core,
        )
    )
