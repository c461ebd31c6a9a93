"""The staff's cohort list in its own order, read from an index (issue 23, a million members).

Built without a long lock (decision 0027): CREATE INDEX CONCURRENTLY on PostgreSQL, which cannot run in a
transaction, so this migration is not atomic.
"""

from django.db import migrations, models

from config.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("training", "0014_resubmit_due_on"),
    ]

    operations = [
        AddIndexOnline(
            model_name="cohort",
            index=models.Index(
                models.Case(
                    models.When(status__in=["finished", "cancelled"], then=models.Value(1)),
                    default=models.Value(0),
                ),
                models.F("starts_on"),
                models.F("name"),
                models.F("id"),
                name="training_cohort_over_start_idx",
            ),
        ),
    ]
