import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0009_phone_keys_by_library_and_import_sheet"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MergeRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "survivor_pk",
                    models.PositiveIntegerField(db_index=True, verbose_name="kept person"),
                ),
                (
                    "merged_pk",
                    models.PositiveIntegerField(db_index=True, verbose_name="merged-away person"),
                ),
                ("survivor_name", models.CharField(max_length=200)),
                ("merged_name", models.CharField(max_length=200)),
                ("merged_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("snapshot", models.JSONField(default=dict, editable=False)),
                ("survivor_history_id", models.PositiveIntegerField(editable=False, null=True)),
                ("undone_at", models.DateTimeField(blank=True, null=True)),
                (
                    "merged_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "undone_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-merged_at", "-pk"],
                "permissions": [
                    ("merge_people", "Can merge two records of one person, and undo it")
                ],
            },
        ),
    ]
