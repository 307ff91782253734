"""The two roles and exactly the model permissions each holds (DESIGN.md, "Roles").

Groups are created by the data migration cores/0002 (merge_people added by cores/0004);
when this table changes, add a migration that applies it (tests/test_roles.py fails
until the groups match).
Scope beyond model permissions (own tendency only) is enforced in querysets.
"""

ORGANIZERS = "Organizers"
CORE_LEADS = "Core leads"

ORGANIZER_PERMISSIONS = frozenset(
    {
        "members.view_sector",
        "members.view_member",
        "members.add_member",
        "members.change_member",
        "members.import_people",
        # Merging deletes one record of a person, but only into another, with everything
        # moved and the merge undoable: not the delete_member no role holds.
        "members.merge_people",
        "members.view_historicalmember",
        "members.view_capacitycheckin",
        "members.add_capacitycheckin",
        "members.change_capacitycheckin",
        "members.view_historicalcapacitycheckin",
        "cores.view_tendency",
        "cores.view_coregroup",
        "cores.view_milestone",
        "cores.view_phasedecision",
        # Organizers record the level a person states; reviewing it is the leads' job.
        "cores.view_alignment",
        "cores.add_alignment",
        "cores.change_alignment",
        "cores.view_historicalalignment",
        "cores.view_invitation",
        "cores.view_historicalinvitation",
    }
)

CORE_LEAD_PERMISSIONS = ORGANIZER_PERMISSIONS | {
    "cores.review_alignment",
    "cores.view_reviewnote",
    "cores.add_reviewnote",
    "cores.change_coregroup",
    "cores.add_milestone",
    "cores.change_milestone",
    "cores.add_phasedecision",
    "cores.add_invitation",
    "cores.change_invitation",
}

ROLE_PERMISSIONS = {ORGANIZERS: ORGANIZER_PERMISSIONS, CORE_LEADS: CORE_LEAD_PERMISSIONS}
