"""The people list filtered by status, read a page at a time in name order from an index."""

from django.db import migrations, models

import members.search


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0018_duplicate_block_key"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                models.F("status"),
                members.search.ByteOrder("name_key"),
                models.F("id"),
                name="member_status_order_idx",
            ),
        ),
    ]
