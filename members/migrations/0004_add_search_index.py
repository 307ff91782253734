"""The index behind Member.objects.search(): see members/search.py for the why.

PostgreSQL: the pg_trgm extension and a trigram GIN index on members_member.search_text.
CREATE EXTENSION needs a superuser (our `postgres` role is one) or, on PostgreSQL 13+, a
database owner with the extension marked trusted (pg_trgm is). Reversing drops the index
and leaves the extension, which other tables may use.

SQLite: an FTS5 trigram table over search_text, triggers that keep it in step with
members_member, and a backfill of the existing rows. If a later migration rebuilds the
members table, MembersConfig puts the triggers back after `migrate`.
"""

from django.db import migrations

from members.search import create_search_index, drop_search_index


def create(apps, schema_editor):
    create_search_index(schema_editor)


def drop(apps, schema_editor):
    drop_search_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("members", "0003_add_search_and_duplicate_keys")]

    operations = [migrations.RunPython(create, drop)]
