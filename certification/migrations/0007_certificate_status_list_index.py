"""Each certificate's bit in the W3C Bitstring Status List: existing certificates draw a random,
unique index the way new ones do (certification/status_list.py), in a list of at least
131,072 bits that is never more than half allocated."""

import secrets

from django.db import migrations, models

MIN_LENGTH = 131_072  # certification.status_list.MIN_LENGTH, copied: migrations stay frozen


def indexes_draw(apps, schema_editor):
    Certificate = apps.get_model("certification", "Certificate")
    pks = list(Certificate.objects.order_by("pk").values_list("pk", flat=True))
    capacity = MIN_LENGTH * (2 * len(pks) // MIN_LENGTH + 1)
    # Distinct, in random order (the operating system's generator): pk order reveals nothing.
    indexes = secrets.SystemRandom().sample(range(capacity), len(pks))
    rows = [Certificate(pk=pk, status_list_index=index) for pk, index in zip(pks, indexes, strict=True)]
    Certificate.objects.bulk_update(rows, ["status_list_index"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0006_verification_at_default"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="status_list_index",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(indexes_draw, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="certificate",
            name="status_list_index",
            field=models.PositiveIntegerField(editable=False, unique=True),
        ),
    ]
