"""Trigram indexes on the name and preferred name keys, on PostgreSQL only.

Search's WORD_STARTS tier (a later word of a name starting with the query) otherwise reads
every row whose search text contains the query: see members.search.WORD_START_INDEXES.
"""

from django.db import migrations

from members.search import create_word_start_indexes, drop_word_start_indexes


def create(apps, schema_editor):
    create_word_start_indexes(schema_editor)


def drop(apps, schema_editor):
    drop_word_start_indexes(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("members", "0019_member_status_order_index")]

    operations = [migrations.RunPython(create, drop)]
