"""LeaderTally moves here from certification, table and rows untouched: this migration and
certification's 0009 change Django's idea of who owns the model, not the database."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("certification", "0008_registry_members_in_good_standing"),
        ("members", "0003_user_erased_at_data_export"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LeaderTally",
                    fields=[
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        ("has_profile", models.BooleanField()),
                        ("first_certified_at", models.DateTimeField()),
                        ("first_certified_month", models.DateField()),
                        ("in_date_until", models.DateField(null=True)),
                        (
                            "constituency",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="members.constituency",
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="members.region",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "certification_leadertally",
                        "indexes": [
                            models.Index(fields=["region", "constituency"], name="certification_tally_place")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
