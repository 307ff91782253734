from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy of sos_tracker.roles at the time of this migration (migrations must not
# change meaning when the live module does); tests/test_roles.py compares the two.
ORGANIZER_PERMISSIONS = [
    "members.view_sector",
    "members.view_member",
    "members.add_member",
    "members.change_member",
    "members.import_people",
    "members.view_historicalmember",
    "members.view_capacitycheckin",
    "members.add_capacitycheckin",
    "members.change_capacitycheckin",
    "members.view_historicalcapacitycheckin",
    "cores.view_tendency",
    "cores.view_coregroup",
    "cores.view_milestone",
    "cores.view_phasedecision",
    "cores.view_alignment",
    "cores.add_alignment",
    "cores.change_alignment",
    "cores.view_historicalalignment",
    "cores.view_invitation",
    "cores.view_historicalinvitation",
]
CORE_LEAD_PERMISSIONS = [
    *ORGANIZER_PERMISSIONS,
    "cores.review_alignment",
    "cores.view_reviewnote",
    "cores.add_reviewnote",
    "cores.change_coregroup",
    "cores.add_milestone",
    "cores.change_milestone",
    "cores.add_phasedecision",
    "cores.add_invitation",
    "cores.change_invitation",
]
ROLES = {"Organizers": ORGANIZER_PERMISSIONS, "Core leads": CORE_LEAD_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make them now
    # so a fresh database gets complete groups.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0002_default_sectors"),
        ("cores", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
