import re

from django.db import migrations, models

from members.text import phone_digits, phone_key

BATCH = 2000


def _recompute(apps, schema_editor, digits_of, key_of):
    """Rewrite every person's phone_digits and phone_key, a batch of plain UPDATEs at a time."""
    Member = apps.get_model("members", "Member")
    table = schema_editor.quote_name(Member._meta.db_table)
    update = f"UPDATE {table} SET phone_digits = %s, phone_key = %s WHERE id = %s"
    last_pk = 0
    with schema_editor.connection.cursor() as cursor:
        while batch := list(
            Member.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "phone")[:BATCH]
        ):
            cursor.executemany(
                update, [(digits_of(phone), key_of(phone), pk) for pk, phone in batch]
            )
            last_pk = batch[-1][0]


def keys_by_library(apps, schema_editor):
    """Phone keys from libphonenumber (E.164 where it knows the number), as
    Member.refresh_derived_fields() now computes them, for people saved before."""
    _recompute(apps, schema_editor, phone_digits, phone_key)


def _old_digits(phone):
    return re.sub(r"\D+", "", phone or "")


def _old_key(phone):
    digits = _old_digits(phone)
    return digits[-10:] if len(digits) >= 7 else ""


def keys_by_last_ten_digits(apps, schema_editor):
    """The rule before this migration, written out here: the code no longer has it."""
    _recompute(apps, schema_editor, _old_digits, _old_key)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_index_dashboard_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrecord",
            name="sheet",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        # Widen first on the way forward; on the way back the keys are shortened first.
        migrations.AlterField(
            model_name="member",
            name="phone_key",
            field=models.CharField(default="", editable=False, max_length=40),
        ),
        migrations.RunPython(keys_by_library, keys_by_last_ten_digits, elidable=False),
    ]
