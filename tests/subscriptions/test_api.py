from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions.models import Subscription, SubscriptionEvent
from tests.subscriptions.conftest import CREATED, event_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscription"
SUB_FIELDS = {"id", "provider", "plan", "status", "current_period_end", "updated_at"}


def test_subscription_needs_authentication(api, db):
    response = api.get(URL)

    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_subscription_is_null_and_null_without_any(auth_api, other_user, make_subscription):
    make_subscription(other_user)

    response = auth_api.get(URL)

    assert response.status_code == 200
    assert response.json() == {"active": None, "latest": None}


def test_subscription_shows_the_active_one(auth_api, user, make_subscription):
    subscription = make_subscription(user, plan="premium_yearly", status="grace")

    body = auth_api.get(URL).json()

    assert body["active"] == body["latest"]
    assert set(body["active"]) == SUB_FIELDS
    assert body["active"]["id"] == str(subscription.pk)
    assert (body["active"]["provider"], body["active"]["plan"], body["active"]["status"]) == (
        "stripe",
        "premium_yearly",
        "grace",
    )
    assert body["active"]["current_period_end"].endswith("Z")
    assert body["active"]["updated_at"].endswith("Z")


def test_subscription_shows_an_ended_one_as_latest_only(auth_api, user, make_subscription):
    ended = make_subscription(user, status="canceled")

    body = auth_api.get(URL).json()

    assert body["active"] is None
    assert body["latest"]["id"] == str(ended.pk)
    assert body["latest"]["status"] == "canceled"


def test_subscription_follows_a_plan_switch(auth_api, signed_post, user):
    signed_post(event_payload(user.pk, sub_id="sub_monthly", plan="monthly"))
    signed_post(
        event_payload(
            user.pk, event_id="evt_2", created=CREATED + 60, sub_id="sub_yearly", plan="yearly"
        )
    )

    body = auth_api.get(URL).json()

    assert body["active"]["plan"] == "yearly"
    assert body["active"]["status"] == "active"


def test_subscription_shows_the_entitled_one_ending_last_as_active(
    auth_api, user, make_subscription
):
    now = timezone.now()
    make_subscription(user, status="active", period_end=now + timedelta(days=30))
    ending_last = make_subscription(user, status="grace", period_end=now + timedelta(days=90))
    make_subscription(user, status="active", period_end=now + timedelta(days=60))
    make_subscription(user, status="canceled", period_end=now + timedelta(days=365))
    latest = make_subscription(user, status="active", period_end=now + timedelta(days=7))

    body = auth_api.get(URL).json()

    assert body["active"]["id"] == str(ending_last.pk)
    assert body["latest"]["id"] == str(latest.pk)


def test_subscription_breaks_a_tie_of_period_ends_by_the_latest_update(
    auth_api, user, make_subscription
):
    period_end = timezone.now() + timedelta(days=30)
    renewed = make_subscription(user, period_end=period_end)
    other = make_subscription(user, period_end=period_end)
    Subscription.objects.filter(pk=other.pk).update(
        updated_at=renewed.updated_at - timedelta(hours=1)
    )

    assert auth_api.get(URL).json()["active"]["id"] == str(renewed.pk)


def test_subscription_counts_an_open_ended_one_as_ending_last(auth_api, user, make_subscription):
    make_subscription(user, period_end=timezone.now() + timedelta(days=3650))
    open_ended = make_subscription(user, status="grace")
    Subscription.objects.filter(pk=open_ended.pk).update(current_period_end=None)

    assert auth_api.get(URL).json()["active"]["id"] == str(open_ended.pk)


def test_account_deletion_removes_subscriptions_and_their_events(
    auth_api, signed_post, user, other_user
):
    signed_post(event_payload(user.pk))
    signed_post(event_payload(other_user.pk, event_id="evt_bob", sub_id="sub_bob"))

    assert auth_api.delete("/api/v1/me").status_code == 204

    assert list(Subscription.objects.values_list("provider_subscription_id", flat=True)) == [
        "sub_bob"
    ]
    assert not SubscriptionEvent.objects.filter(event_id="evt_1").exists()
    assert SubscriptionEvent.objects.get(event_id="evt_bob").user == other_user
