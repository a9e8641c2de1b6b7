"""A user may hold several active or grace subscriptions; their events go with the account.

Schema only, no row changes: the partial unique index is dropped, and ``on_delete`` is
Django's own (the foreign keys' database definitions stay as they are).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="subscription",
            name="sub_one_entitled_per_user",
        ),
        migrations.AlterField(
            model_name="subscriptionevent",
            name="subscription",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="subscriptions.subscription",
            ),
        ),
        migrations.AlterField(
            model_name="subscriptionevent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="subscription_events",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
