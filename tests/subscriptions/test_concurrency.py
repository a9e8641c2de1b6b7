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
def test_concurrent_activations_of_one_user_leave_one_entitled_subscription(
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
    # The activation with the newest event time wins, whatever the arrival order.
    assert [s.provider_subscription_id for s in entitled] == [f"sub_{THREADS - 1}"]
    assert Subscription.objects.filter(user=user).count() == THREADS + 1
    assert set(SubscriptionEvent.objects.values_list("outcome", flat=True)) == {"processed"}
