"""Search and sort names as people write them (issue 9, item 6).

Adds name_key and preferred_name_key (members.search.search_key: "donal oneill") and
refills search_text with punctuation-free words plus words written together, so "O'Neill",
"ONeill", "van der Berg" and "vanderberg" find the same people. The people list orders by
name_key byte by byte (Member.Meta.ordering) instead of by the raw name, which put every
accented or lower-case name after "Z"; the index on (name, id) gives way to one on that
order. On SQLite the members table may be rebuilt here; MembersConfig puts the search
triggers back and refills the FTS table after `migrate`.
"""

from django.conf import settings
from django.db import migrations, models

import members.search
from members.search import search_key, search_text_for
from members.text import fold

BATCH = 2000
SOURCE = ("name", "preferred_name", "email", "city")


def _refill(apps, compute, fields):
    Member = apps.get_model("members", "Member")
    people = Member.objects.only("pk", *SOURCE).order_by("pk")
    batch = []
    for person in people.iterator(chunk_size=BATCH):
        compute(person)
        batch.append(person)
        if len(batch) == BATCH:
            Member.objects.bulk_update(batch, fields)
            batch = []
    Member.objects.bulk_update(batch, fields)


def fill_keys(apps, schema_editor):
    def compute(person):
        person.name_key = search_key(person.name)
        person.preferred_name_key = search_key(person.preferred_name)
        person.search_text = search_text_for(**{f: getattr(person, f) for f in SOURCE})

    _refill(apps, compute, ["name_key", "preferred_name_key", "search_text"])


def restore_search_text(apps, schema_editor):
    # search_text as migration 0003 wrote it; the key columns go with the fields.
    def compute(person):
        person.search_text = " | ".join(fold(getattr(person, f)) for f in SOURCE)

    _refill(apps, compute, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0011_import_row_decision"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="member",
            name="preferred_name_key",
            field=models.CharField(default="", editable=False, max_length=120),
        ),
        migrations.RunPython(fill_keys, restore_search_text),
        migrations.AlterModelOptions(
            name="member",
            options={
                "ordering": [models.OrderBy(members.search.ByteOrder("name_key")), "pk"],
                "permissions": [
                    ("import_people", "Can import people from a spreadsheet"),
                    ("export_people", "Can export people to a spreadsheet"),
                ],
            },
        ),
        migrations.RemoveIndex(
            model_name="member",
            name="member_name_order_idx",
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                members.search.ByteOrder("name_key"),
                models.F("id"),
                name="member_name_key_order_idx",
            ),
        ),
    ]
