import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Sum

BATCH = 2000


def count_existing_entries(apps, schema_editor):
    """One usage row per user who has entries, from one grouped aggregate."""
    alias = schema_editor.connection.alias
    entries = apps.get_model("journal", "JournalEntry")
    usage = apps.get_model("journal", "JournalUsage")
    totals = (
        entries.objects.using(alias)
        .order_by()
        .values("user_id")
        .annotate(bytes_used=Sum("size_bytes"), entries=Count("id"))
    )
    usage.objects.using(alias).bulk_create(
        (
            usage(user_id=t["user_id"], bytes_used=t["bytes_used"], entries=t["entries"])
            for t in totals.iterator()
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("journal", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="JournalUsage",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="journal_usage",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("bytes_used", models.BigIntegerField(default=0)),
                ("entries", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name_plural": "journal usage",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("bytes_used__gte", 0)),
                        name="journal_usage_bytes_not_negative",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("entries__gte", 0)),
                        name="journal_usage_entries_not_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(count_existing_entries, migrations.RunPython.noop, elidable=True),
    ]
