import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from subscriptions import services
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.webhook import parse_event
from tests.subscriptions.conftest import CREATED, event_payload

pytestmark = pytest.mark.django_db

T0 = datetime.fromtimestamp(CREATED, tz=UTC)
PERIOD_END = datetime(2027, 1, 1, tzinfo=UTC)


def record(**overrides):
    fields = {
        "provider": "stripe",
        "event_id": "evt_1",
        "event_type": "subscription.updated",
        "payload": {"id": "evt_1"},
        "created": T0,
        "outcome": SubscriptionEvent.Outcome.PROCESSED,
        **overrides,
    }
    return services.add_subscription_event(**fields)


def upsert(user, **overrides):
    fields = {
        "user": user,
        "provider": "stripe",
        "provider_subscription_id": "sub_9",
        "plan": "premium_monthly",
        "status": "active",
        "current_period_end": PERIOD_END,
        "event_created": T0,
        **overrides,
    }
    return services.apply_subscription_state(**fields)


def process(user_id, **overrides):
    return services.process_webhook_event(
        event=parse_event(json.dumps(event_payload(user_id, **overrides)).encode())
    )


def statuses():
    return dict(Subscription.objects.values_list("provider_subscription_id", "status"))


def test_add_subscription_event_records_the_event(user):
    event = record(user=user)

    stored = SubscriptionEvent.objects.get()
    assert stored == event
    assert (stored.provider, stored.event_id, stored.type) == (
        "stripe",
        "evt_1",
        "subscription.updated",
    )
    assert (stored.payload, stored.created, stored.user) == ({"id": "evt_1"}, T0, user)


def test_add_subscription_event_returns_none_for_a_recorded_event_id(db):
    record()

    with transaction.atomic():
        assert record(payload={"other": True}) is None
        # The savepoint kept the surrounding transaction usable.
        assert SubscriptionEvent.objects.count() == 1

    assert SubscriptionEvent.objects.get().payload == {"id": "evt_1"}


def test_add_subscription_event_keys_on_provider_and_event_id(db):
    record()

    assert record(provider="paddle") is not None
    assert record(event_id="evt_2") is not None
    assert SubscriptionEvent.objects.count() == 3


def test_upsert_creates_the_subscription_on_first_sight(user):
    applied = upsert(user)

    assert applied.outcome == "processed"
    subscription = Subscription.objects.get()
    assert applied.subscription == subscription
    assert (subscription.user, subscription.plan, subscription.status) == (
        user,
        "premium_monthly",
        "active",
    )
    assert subscription.current_period_end == PERIOD_END
    assert subscription.last_event_at == T0


def test_upsert_applies_a_newer_state(user):
    upsert(user)
    later = T0 + timedelta(minutes=1)

    applied = upsert(
        user, status="canceled", plan="basic", current_period_end=None, event_created=later
    )

    assert applied.outcome == "processed"
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.plan) == ("canceled", "basic")
    assert subscription.current_period_end is None
    assert subscription.last_event_at == later


def test_upsert_applies_an_event_of_the_same_time(user):
    upsert(user)

    assert upsert(user, status="grace").outcome == "processed"
    assert Subscription.objects.get().status == "grace"


def test_upsert_keeps_the_state_for_an_older_event(user):
    upsert(user, status="canceled", event_created=T0 + timedelta(minutes=1))

    applied = upsert(user, status="active", plan="other")

    assert applied.outcome == "stale"
    subscription = Subscription.objects.get()
    assert applied.subscription == subscription
    assert (subscription.status, subscription.plan) == ("canceled", "premium_monthly")
    assert subscription.last_event_at == T0 + timedelta(minutes=1)


def test_upsert_of_a_second_activation_leaves_the_first_one_entitled(user):
    upsert(user, provider_subscription_id="sub_old", status="grace")

    applied = upsert(user, provider_subscription_id="sub_new", event_created=T0 + timedelta(days=1))

    assert applied.outcome == "processed"
    assert statuses() == {"sub_old": "grace", "sub_new": "active"}


def test_upsert_of_an_older_activation_of_another_subscription_is_applied(user):
    upsert(user, provider_subscription_id="sub_new", event_created=T0 + timedelta(days=1))

    applied = upsert(user, provider_subscription_id="sub_old")

    assert applied.outcome == "processed"
    assert statuses() == {"sub_new": "active", "sub_old": "active"}


def test_upsert_of_an_ended_state_leaves_the_users_other_entitled_subscription(user):
    upsert(user, provider_subscription_id="sub_kept")
    upsert(user, provider_subscription_id="sub_ended")

    upsert(
        user,
        provider_subscription_id="sub_ended",
        status="canceled",
        event_created=T0 + timedelta(minutes=1),
    )

    assert statuses() == {"sub_kept": "active", "sub_ended": "canceled"}


def test_upsert_of_an_inactive_state_leaves_the_entitled_subscription_alone(user):
    upsert(user, provider_subscription_id="sub_current")

    upsert(user, provider_subscription_id="sub_refunded", status="refunded")

    assert statuses() == {"sub_current": "active", "sub_refunded": "refunded"}


def test_upsert_leaves_other_users_subscriptions_alone(user, other_user):
    upsert(other_user, provider_subscription_id="sub_bob")

    upsert(user, provider_subscription_id="sub_alice", event_created=T0 + timedelta(days=1))

    assert statuses() == {"sub_bob": "active", "sub_alice": "active"}


def test_upsert_ignores_a_subscription_of_another_user(user, other_user):
    upsert(user)

    applied = upsert(other_user, status="canceled", event_created=T0 + timedelta(days=1))

    assert (applied.outcome, applied.subscription) == ("ignored", None)
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.status) == (user, "active")


def test_process_webhook_event_records_and_applies_the_event(user):
    assert process(user.pk) == "processed"

    event = SubscriptionEvent.objects.get()
    subscription = Subscription.objects.get()
    assert (event.outcome, event.user, event.subscription) == ("processed", user, subscription)
    assert event.created == T0
    assert subscription.status == "active"


def test_process_webhook_event_answers_duplicate_for_a_replay(user):
    process(user.pk)

    assert process(user.pk, status="canceled", created=CREATED + 60) == "duplicate"

    assert Subscription.objects.get().status == "active"
    assert SubscriptionEvent.objects.count() == 1


def test_process_webhook_event_ignores_an_unknown_user(db):
    assert process(uuid.uuid4()) == "ignored"

    event = SubscriptionEvent.objects.get()
    assert (event.outcome, event.user_id, event.subscription_id) == ("ignored", None, None)
    assert not Subscription.objects.exists()


def test_process_webhook_event_records_a_stale_event_as_processed(user):
    process(user.pk, event_id="evt_new", created=CREATED + 60, status="expired")

    assert process(user.pk, event_id="evt_old") == "processed"

    assert Subscription.objects.get().status == "expired"
    stale = SubscriptionEvent.objects.get(event_id="evt_old")
    assert (stale.outcome, stale.subscription) == ("stale", Subscription.objects.get())


def test_process_webhook_event_keeps_both_subscriptions_of_a_plan_switch(user):
    process(user.pk, event_id="evt_1", sub_id="sub_monthly")
    process(user.pk, event_id="evt_2", sub_id="sub_yearly", created=CREATED + 60)
    assert statuses() == {"sub_monthly": "active", "sub_yearly": "active"}

    # The provider ends the old plan with an event of its own.
    process(
        user.pk, event_id="evt_3", sub_id="sub_monthly", created=CREATED + 120, status="canceled"
    )

    assert statuses() == {"sub_monthly": "canceled", "sub_yearly": "active"}


def test_run_expiry_sweep_expires_only_past_due_entitled_subscriptions(
    user, other_user, make_subscription
):
    now = timezone.now()
    past, future = now - timedelta(minutes=1), now + timedelta(days=1)
    make_subscription(user, sub_id="active_past", status="active", period_end=past)
    make_subscription(other_user, sub_id="grace_past", status="grace", period_end=past)
    make_subscription(user, sub_id="canceled_past", status="canceled", period_end=past)
    make_subscription(user, sub_id="refunded_past", status="refunded", period_end=past)
    make_subscription(other_user, sub_id="canceled_future", status="canceled", period_end=future)
    untouched = make_subscription(user, sub_id="no_end", status="canceled")
    Subscription.objects.filter(pk=untouched.pk).update(current_period_end=None)

    assert services.run_expiry_sweep() == {"expired": 2}

    assert statuses() == {
        "active_past": "expired",
        "grace_past": "expired",
        "canceled_past": "canceled",
        "refunded_past": "refunded",
        "canceled_future": "canceled",
        "no_end": "canceled",
    }


def test_run_expiry_sweep_leaves_current_and_open_ended_subscriptions(
    user, other_user, make_subscription
):
    make_subscription(user, sub_id="current", period_end=timezone.now() + timedelta(days=1))
    open_ended = make_subscription(other_user, sub_id="open_ended", status="grace")
    Subscription.objects.filter(pk=open_ended.pk).update(current_period_end=None)

    assert services.run_expiry_sweep() == {"expired": 0}

    assert statuses() == {"current": "active", "open_ended": "grace"}


def test_run_expiry_sweep_bumps_updated_at(user, make_subscription):
    subscription = make_subscription(user, period_end=timezone.now() - timedelta(seconds=1))
    long_ago = timezone.now() - timedelta(days=3)
    Subscription.objects.filter(pk=subscription.pk).update(updated_at=long_ago)

    services.run_expiry_sweep()

    assert Subscription.objects.get().updated_at > long_ago


def test_expire_subscriptions_expires_only_the_chosen_entitled_ones(
    user, other_user, make_subscription
):
    chosen = make_subscription(user, sub_id="chosen")
    canceled = make_subscription(user, sub_id="canceled", status="canceled")
    make_subscription(other_user, sub_id="not_chosen")

    assert services.expire_subscriptions(subscription_ids=[chosen.pk, canceled.pk]) == 1

    assert statuses() == {"chosen": "expired", "canceled": "canceled", "not_chosen": "active"}


@pytest.mark.parametrize(
    ("first", "second"), [("active", "active"), ("active", "grace"), ("grace", "grace")]
)
def test_the_database_allows_several_entitled_subscriptions_for_one_user(
    user, make_subscription, first, second
):
    make_subscription(user, status=first)
    make_subscription(user, status=second)

    assert Subscription.objects.filter(user=user).count() == 2


def test_the_database_allows_any_number_of_ended_subscriptions(user, make_subscription):
    make_subscription(user, status="active")
    for status in ("canceled", "canceled", "expired", "refunded"):
        make_subscription(user, status=status)

    assert Subscription.objects.filter(user=user).count() == 5
