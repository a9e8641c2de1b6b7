"""Events are linked to their user when recorded, and keep no payload when they name no user.

Existing rows: an event recorded unlinked (``user`` NULL) whose payload names an account, in
whatever spelling of its id, is linked to it, so it goes with the account by CASCADE; one that
names no account keeps only provider, event id, type and times.
"""

import uuid

from django.conf import settings
from django.db import migrations, models


def _canonical_id(payload) -> uuid.UUID | None:
    """The user id an event's payload names, in any spelling the webhook accepts."""
    named = payload.get("user_id") if isinstance(payload, dict) else None
    if not isinstance(named, str):
        return None
    try:
        return uuid.UUID(named)
    except ValueError:
        return None


def link_or_strip_unlinked_events(apps, schema_editor):
    alias = schema_editor.connection.alias
    event_model = apps.get_model("subscriptions", "SubscriptionEvent")
    user_model = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    unlinked = event_model.objects.using(alias).filter(user__isnull=True, payload__isnull=False)
    for event in unlinked.iterator():
        user_id = _canonical_id(event.payload)
        if user_id is not None and user_model.objects.using(alias).filter(pk=user_id).exists():
            event.user_id = user_id
            event.save(update_fields=["user"])
        else:
            event.payload = None
            event.save(update_fields=["payload"])


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0002_several_per_user_events_deleted_with_user"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="subscriptionevent",
            name="payload",
            field=models.JSONField(
                blank=True, help_text="None: not kept (no known user)", null=True
            ),
        ),
        migrations.RunPython(link_or_strip_unlinked_events, migrations.RunPython.noop),
    ]
