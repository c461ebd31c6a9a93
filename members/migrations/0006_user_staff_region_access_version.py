"""The region a regional staff member oversees, apart from their profile's region; and the
version stamp that tells a session its MFA state is out of date (decision 0020).

Regional staff oversee, from now on, the region their profile names today: that was their
scope until this migration, so nobody's access changes by it. After it, editing the profile
no longer moves the scope."""

import django.db.models.deletion
from django.db import migrations, models

REGIONAL_STAFF_GROUP = "Regional staff"

# access_version only moves forward. A save() of a user instance loaded before a role change
# would write the older number back, and a session worked out at that number would then
# look current; instead the write moves it on past the row's (every session works out again).
MONOTONIC = {
    "postgresql": (
        """
        CREATE OR REPLACE FUNCTION members_user_access_version_forward() RETURNS trigger AS $$
        BEGIN
            IF NEW.access_version < OLD.access_version THEN
                NEW.access_version := OLD.access_version + 1;
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER members_user_access_version_forward
            BEFORE UPDATE OF access_version ON members_user
            FOR EACH ROW EXECUTE FUNCTION members_user_access_version_forward();
        """,
        """
        DROP TRIGGER IF EXISTS members_user_access_version_forward ON members_user;
        DROP FUNCTION IF EXISTS members_user_access_version_forward();
        """,
    ),
    "sqlite": (
        """
        CREATE TRIGGER members_user_access_version_forward
        AFTER UPDATE OF access_version ON members_user
        WHEN NEW.access_version < OLD.access_version
        BEGIN
            UPDATE members_user SET access_version = OLD.access_version + 1 WHERE id = NEW.id;
        END;
        """,
        "DROP TRIGGER IF EXISTS members_user_access_version_forward;",
    ),
}


def _monotonic(index: int):
    def run(apps, schema_editor):
        sql = MONOTONIC.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql[index])

    return run


def scope_from_profile_region(apps, schema_editor):
    User = apps.get_model("members", "User")
    Profile = apps.get_model("members", "Profile")
    regional = User.objects.filter(groups__name=REGIONAL_STAFF_GROUP, staff_region__isnull=True)
    for user_id, region_id in Profile.objects.filter(user__in=regional).values_list("user_id", "region_id"):
        User.objects.filter(pk=user_id).update(staff_region_id=region_id)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("members", "0005_user_name_trigram_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("access_trainee_area", "Can use the trainee pages"),
                    ("access_trainer_area", "Can use the trainer pages"),
                    ("access_staff_area", "Can use the national staff pages"),
                    ("access_regional_area", "Can use the regional staff pages"),
                    ("erase_member", "Can erase a member's account at their request"),
                    ("grant_roles", "Can set the region a regional staff member oversees"),
                ]
            },
        ),
        migrations.AddField(
            model_name="user",
            name="access_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="user",
            name="staff_region",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="members.region",
                verbose_name="region overseen (regional staff)",
            ),
        ),
        migrations.RunPython(_monotonic(0), _monotonic(1)),
        migrations.RunPython(scope_from_profile_region, migrations.RunPython.noop),
    ]
