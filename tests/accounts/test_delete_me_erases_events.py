"""`DELETE me` erases every subscription event that names the user, in its one transaction."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.db.models.signals import pre_delete

from accounts.models import User
from accounts.services import delete_user
from subscriptions import services
from subscriptions.models import Subscription, SubscriptionEvent
from tests.subscriptions.conftest import CREATED, SECRET, WEBHOOK, event_payload, sign

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


@pytest.fixture
def deliver(api, settings):
    """POST a payload to the webhook, signed as the provider would; returns its status."""
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]

    def _deliver(payload):
        body = json.dumps(payload).encode()
        response = api.post(
            WEBHOOK, data=body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=sign(body)
        )
        assert response.status_code == 200, response.content
        return response.json()["status"]

    return _deliver


def record_unlinked(*, event_id, user_id_text):
    """An event recorded with no user link whose payload names ``user_id_text`` (what the
    webhook leaves for a user id it did not know)."""
    services.add_subscription_event(
        provider="stripe",
        event_id=event_id,
        event_type="subscription.updated",
        payload={"id": event_id, "user_id": user_id_text, "subscription": {"id": "sub_x"}},
        created=datetime.fromtimestamp(CREATED, tz=UTC),
        outcome=SubscriptionEvent.Outcome.IGNORED,
    )


def rows_naming(user_pk) -> list[str]:
    """The events whose user column or payload names this user id, in any spelling."""
    spellings = (str(user_pk), user_pk.hex)
    return [
        event.event_id
        for event in SubscriptionEvent.objects.order_by("event_id")
        if event.user_id == user_pk
        or any(s in json.dumps(event.payload).lower() for s in spellings)
    ]


@pytest.fixture
def alice_events(deliver, user, other_user):
    """Every kind of event that can name ``user``: applied, stale, ignored as another user's
    subscription, and recorded unlinked."""
    assert deliver(event_payload(user.pk, event_id="evt_a1", sub_id="sub_a")) == "processed"
    second = event_payload(user.pk, event_id="evt_a2", sub_id="sub_b", created=CREATED + 60)
    assert deliver(second) == "processed"
    stale = event_payload(user.pk, event_id="evt_a3", sub_id="sub_a", created=CREATED - 60)
    assert deliver(stale) == "processed"
    assert deliver(event_payload(other_user.pk, event_id="evt_b1", sub_id="sub_bob")) == (
        "processed"
    )
    # Alice's id on Bob's subscription: ignored, but recorded under her name.
    mixup = event_payload(user.pk, event_id="evt_a4", sub_id="sub_bob", created=CREATED + 60)
    assert deliver(mixup) == "ignored"
    record_unlinked(event_id="evt_a5", user_id_text=str(user.pk))
    record_unlinked(event_id="evt_a6", user_id_text=str(user.pk).upper())
    assert len(rows_naming(user.pk)) == 6


def test_delete_me_leaves_no_event_naming_the_user(auth_api, user, alice_events):
    assert auth_api.delete(ME).status_code == 204

    assert rows_naming(user.pk) == []
    assert not Subscription.objects.filter(user_id=user.pk).exists()


def test_delete_me_keeps_every_event_of_other_users(
    auth_api, deliver, user, other_user, alice_events
):
    stranger = uuid.uuid4()
    assert deliver(event_payload(stranger, event_id="evt_stranger", sub_id="sub_s")) == "ignored"
    bob_later = event_payload(
        other_user.pk, event_id="evt_b2", sub_id="sub_bob", created=CREATED + 120, status="grace"
    )
    assert deliver(bob_later) == "processed"
    others = SubscriptionEvent.objects.exclude(event_id__startswith="evt_a")
    before = list(others.order_by("pk").values())

    assert auth_api.delete(ME).status_code == 204

    assert list(others.order_by("pk").values()) == before
    assert {row["event_id"] for row in before} == {"evt_b1", "evt_b2", "evt_stranger"}
    bob = Subscription.objects.get(provider_subscription_id="sub_bob")
    assert (bob.user, bob.status) == (other_user, "grace")


def test_a_replay_of_another_users_event_is_still_a_duplicate(
    auth_api, deliver, other_user, alice_events
):
    assert auth_api.delete(ME).status_code == 204

    replay = event_payload(
        other_user.pk, event_id="evt_b1", sub_id="sub_bob", created=CREATED + 300, status="canceled"
    )
    assert deliver(replay) == "duplicate"

    assert Subscription.objects.get(provider_subscription_id="sub_bob").status == "active"
    assert SubscriptionEvent.objects.filter(event_id="evt_b1").count() == 1


def test_a_failed_account_deletion_keeps_the_users_events(user, alice_events):
    def fail_after_the_events_went(sender, instance, **kwargs):
        # The unlinked events are gone already; the linked ones wait for the CASCADE.
        assert rows_naming(instance.pk) == ["evt_a1", "evt_a2", "evt_a3", "evt_a4"]
        raise RuntimeError("deletion interrupted")

    pre_delete.connect(fail_after_the_events_went, sender=User)
    try:
        with pytest.raises(RuntimeError):
            delete_user(user=user)
    finally:
        pre_delete.disconnect(fail_after_the_events_went, sender=User)

    assert len(rows_naming(user.pk)) == 6
    assert User.objects.filter(pk=user.pk).exists()
