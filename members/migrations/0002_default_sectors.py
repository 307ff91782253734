from django.db import migrations

# The movement areas named in the brief; admins add, rename and retire them afterwards.
DEFAULT_SECTORS = [
    ("Labor", "labor", "Workplace organizing, unions and worker centers."),
    ("Black liberation", "black-liberation", ""),
    ("Climate", "climate", ""),
    ("Land sovereignty", "land-sovereignty", "Indigenous land and water struggles."),
    ("Housing", "housing", "Tenant unions, anti-displacement and housing justice."),
    ("Abolition", "abolition", "Prison and police abolition."),
    ("Education", "education", "Students, teachers and school communities."),
    ("Immigrant justice", "immigrant-justice", ""),
    ("Gender justice", "gender-justice", ""),
    ("Environmental justice", "environmental-justice", ""),
    ("Racial justice", "racial-justice", ""),
]


def add_sectors(apps, schema_editor):
    Sector = apps.get_model("members", "Sector")
    for name, slug, description in DEFAULT_SECTORS:
        Sector.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})


def remove_sectors(apps, schema_editor):
    Sector = apps.get_model("members", "Sector")
    Sector.objects.filter(slug__in=[slug for _, slug, _ in DEFAULT_SECTORS], members=None).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(add_sectors, remove_sectors)]
