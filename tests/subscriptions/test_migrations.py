import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from subscriptions.models import SubscriptionEvent

BEFORE = [("subscriptions", "0002_several_per_user_events_deleted_with_user")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_links_unlinked_events_to_their_user_and_strips_the_rest():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    alice = old.get_model("accounts", "User").objects.create(
        provider="google", provider_subject="alice-before", password="!"
    )
    events = old.get_model("subscriptions", "SubscriptionEvent").objects
    spellings = [str(alice.pk).upper(), alice.pk.hex, f"{{{alice.pk}}}", f"urn:uuid:{alice.pk}"]
    named = {f"evt_alice_{n}": {"user_id": spelling} for n, spelling in enumerate(spellings)}
    others = {
        "evt_stranger": {"user_id": str(uuid.uuid4())},
        "evt_garbled": {"user_id": "not a uuid"},
        "evt_not_an_object": ["not", "an", "object"],
    }
    for event_id, payload in {**named, **others}.items():
        events.create(
            provider="stripe",
            event_id=event_id,
            type="subscription.updated",
            payload=payload,
            outcome="ignored",
            created="2026-01-01T00:00:00Z",
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {e.event_id: (e.user_id, e.payload) for e in SubscriptionEvent.objects.all()}
    assert rows == {
        **{event_id: (alice.pk, payload) for event_id, payload in named.items()},
        **{event_id: (None, None) for event_id in others},
    }
