"""LeaderTally now belongs to reporting (its migration 0001); the table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0008_registry_members_in_good_standing"),
        ("reporting", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="LeaderTally")],
            database_operations=[],
        ),
    ]
