"""Search's first tiers: indexes on the name and preferred name keys without their spaces.

A name or preferred name that is the query, or starts with it, is an equality or a range
of these (members.search, Member.objects.search); compared byte by byte on PostgreSQL
(COLLATE "C") as SQLite always does, so a prefix is one range on both.
"""

from django.db import migrations, models

import members.search


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0016_member_region_order_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                members.search.ByteOrder(members.search.Joined("name_key")),
                name="member_name_joined_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                members.search.ByteOrder(members.search.Joined("preferred_name_key")),
                name="member_preferred_joined_idx",
            ),
        ),
    ]
