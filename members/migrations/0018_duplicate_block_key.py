from django.db import migrations, models

from members.blocking import saved_keys
from members.text import fold, name_words

BATCH = 2000


def fill_block_keys(apps, schema_editor):
    """Each person's two duplicate block keys, as Member.refresh_derived_fields() computes
    them, for people saved before: a batch of plain UPDATEs at a time."""
    Member = apps.get_model("members", "Member")
    table = schema_editor.quote_name(Member._meta.db_table)
    update = f"UPDATE {table} SET duplicate_key_1 = %s, duplicate_key_2 = %s WHERE id = %s"
    last_pk = 0
    with schema_editor.connection.cursor() as cursor:
        while batch := list(
            Member.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "name", "city")[:BATCH]
        ):
            cursor.executemany(
                update,
                [(*saved_keys(name_words(name), fold(city)), pk) for pk, name, city in batch],
            )
            last_pk = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0017_search_prefix_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="duplicate_key_1",
            field=models.CharField(default="", editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="member",
            name="duplicate_key_2",
            field=models.CharField(default="", editable=False, max_length=255),
        ),
        # Filled before indexing: one index build instead of an update per entry.
        migrations.RunPython(fill_block_keys, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["duplicate_key_1"], name="member_duplicate_key_1_idx"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["duplicate_key_2"], name="member_duplicate_key_2_idx"),
        ),
    ]
