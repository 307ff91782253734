import pytest
from django.contrib.auth.models import Group

from sos_tracker.roles import (
    CORE_LEAD_PERMISSIONS,
    CORE_LEADS,
    ORGANIZER_PERMISSIONS,
    ORGANIZERS,
    ROLE_PERMISSIONS,
)

pytestmark = pytest.mark.django_db


def held_permissions(group):
    return {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.select_related("content_type")
    }


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_role_group_from_the_migration_holds_exactly_the_role_permissions(role):
    assert held_permissions(Group.objects.get(name=role)) == ROLE_PERMISSIONS[role]


def test_every_group_on_a_fresh_database_is_a_role_of_roles_py():
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_PERMISSIONS)
    assert set(ROLE_PERMISSIONS) == {ORGANIZERS, CORE_LEADS}


def test_core_leads_can_do_everything_organizers_can():
    assert ORGANIZER_PERMISSIONS < CORE_LEAD_PERMISSIONS


def test_organizers_can_neither_read_review_notes_nor_review():
    assert (
        not {
            "cores.view_reviewnote",
            "cores.add_reviewnote",
            "cores.change_reviewnote",
            "cores.review_alignment",
        }
        & ORGANIZER_PERMISSIONS
    )


def test_no_role_may_delete_people_or_edit_phase_decisions():
    granted = ORGANIZER_PERMISSIONS | CORE_LEAD_PERMISSIONS
    assert (
        not {
            "members.delete_member",
            "cores.change_phasedecision",
            "cores.delete_phasedecision",
            "cores.delete_reviewnote",
        }
        & granted
    )


def test_role_members_hold_their_permissions(organizer, lead_a):
    assert organizer.has_perm("members.change_member")
    assert not organizer.has_perm("cores.view_reviewnote")
    assert lead_a.has_perm("cores.review_alignment")
    assert lead_a.has_perm("cores.view_reviewnote")
