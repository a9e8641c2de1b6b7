import json

import pytest
from rest_framework.test import APIClient

from subscriptions.models import ENTITLED_STATUSES, Subscription, SubscriptionEvent
from tests.subscriptions.conftest import CREATED, WEBHOOK, event_payload, sign
from tests.tokens.test_concurrency import race

THREADS = 8


def deliver(payload):
    """POST one signed event as the provider would, from the calling thread."""
    body = json.dumps(payload).encode()
    response = APIClient().post(
        WEBHOOK, data=body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=sign(body)
    )
    return response.status_code, response.json()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_deliveries_of_one_event_apply_it_once(user, webhook_secret, attempt):
    payload = event_payload(user.pk)

    outcomes = race(lambda: deliver(payload), count=THREADS)

    assert sorted(outcomes, key=str) == sorted(
        [(200, {"status": "processed"})] + [(200, {"status": "duplicate"})] * (THREADS - 1),
        key=str,
    ), outcomes
    assert SubscriptionEvent.objects.count() == 1
    assert SubscriptionEvent.objects.get().outcome == "processed"
    subscription = Subscription.objects.get()
    assert (subscription.user, subscription.status) == (user, "active")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_events_for_two_subscriptions_of_one_user_are_all_applied(
    user, webhook_secret, make_subscription, attempt
):
    make_subscription(user, sub_id="sub_a")
    make_subscription(user, sub_id="sub_b")
    # Each subscription gets half the events; its newest one says where it must end.
    statuses = ["grace", "canceled", "active", "grace"]
    payloads = iter(
        [
            event_payload(
                user.pk,
                event_id=f"evt_{sub_id}_{n}",
                sub_id=sub_id,
                created=CREATED + 60 * (n + 1),
                status=statuses[n],
                period_end=f"2027-0{n + 1}-01T00:00:00Z",
            )
            for n in range(THREADS // 2)
            for sub_id in ("sub_a", "sub_b")
        ]
    )

    outcomes = race(lambda: deliver(next(payloads)), count=THREADS)

    assert outcomes == [(200, {"status": "processed"})] * THREADS, outcomes
    for sub_id in ("sub_a", "sub_b"):
        subscription = Subscription.objects.get(provider_subscription_id=sub_id)
        assert (subscription.status, subscription.current_period_end.month) == ("grace", 4)
        assert subscription.last_event_at.timestamp() == CREATED + 60 * (THREADS // 2)
    outcomes_by_event = dict(SubscriptionEvent.objects.values_list("event_id", "outcome"))
    assert len(outcomes_by_event) == THREADS
    assert set(outcomes_by_event.values()) <= {"processed", "stale"}
    assert outcomes_by_event["evt_sub_a_3"] == outcomes_by_event["evt_sub_b_3"] == "processed"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_activations_of_one_user_all_stay_entitled(
    user, webhook_secret, make_subscription, attempt
):
    make_subscription(user, sub_id="sub_existing")
    payloads = iter(
        [
            event_payload(
                user.pk,
                event_id=f"evt_{n}",
                sub_id=f"sub_{n}",
                created=CREATED + 60 * (n + 1),
                status="grace" if n % 2 else "active",
            )
            for n in range(THREADS)
        ]
    )

    outcomes = race(lambda: deliver(next(payloads)), count=THREADS)

    assert outcomes == [(200, {"status": "processed"})] * THREADS, outcomes
    entitled = Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES)
    assert entitled.count() == THREADS + 1
    assert set(SubscriptionEvent.objects.values_list("outcome", flat=True)) == {"processed"}
