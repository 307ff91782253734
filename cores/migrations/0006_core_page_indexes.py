# Indexes for the core page and the invitation list (issue 8's bench at 100,000 people):
# alignments by tendency and level, invitations by core in the order they last moved.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cores", "0005_alignment_reviewed_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alignment",
            index=models.Index(fields=["tendency", "level"], name="alignment_level_idx"),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(fields=["core", "moved_on", "id"], name="invitation_moved_idx"),
        ),
    ]
