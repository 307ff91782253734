from django.contrib.auth.management import create_permissions
from django.db import migrations

# Both roles may merge two records of one person (sos_tracker/roles.py).
ROLES = ("Organizers", "Core leads")
PERMISSION = ("members", "merge_people")


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make the new one
    # now so a fresh database gets complete groups.
    app_config = apps.get_app_config("members")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label=PERMISSION[0], codename=PERMISSION[1]
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label=PERMISSION[0], codename=PERMISSION[1]
    ).first()
    if permission is not None:
        for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("cores", "0003_core_pages_review_queue_invitation_follow_up"),
        ("members", "0010_add_merge_record"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
