from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions import selectors
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["active", "grace"])
def test_active_subscription_is_the_entitled_one(user, make_subscription, status):
    make_subscription(user, status="canceled")
    entitled = make_subscription(user, status=status)
    make_subscription(user, status="expired")

    assert selectors.get_active_subscription_for_user(user=user) == entitled


def test_active_subscription_is_the_entitled_one_ending_last(user, make_subscription):
    now = timezone.now()
    make_subscription(user, status="active", period_end=now + timedelta(days=1))
    ending_last = make_subscription(user, status="grace", period_end=now + timedelta(days=3))
    make_subscription(user, status="active", period_end=now + timedelta(days=2))
    make_subscription(user, status="expired", period_end=now + timedelta(days=9))

    assert selectors.get_active_subscription_for_user(user=user) == ending_last


def test_entitlement_lasts_while_any_subscription_is_active_or_grace(user, make_subscription):
    first = make_subscription(user, status="active")
    second = make_subscription(user, status="grace")
    assert selectors.has_entitled_subscription(user=user)

    Subscription.objects.filter(pk=first.pk).update(status="canceled")
    assert selectors.has_entitled_subscription(user=user)

    Subscription.objects.filter(pk=second.pk).update(status="expired")
    assert not selectors.has_entitled_subscription(user=user)


def test_count_entitled_subscriptions_counts_subscriptions_not_users(
    user, other_user, make_subscription
):
    make_subscription(user, status="active")
    make_subscription(user, status="grace")
    make_subscription(user, status="canceled")
    make_subscription(other_user, status="active")

    assert selectors.count_entitled_subscriptions() == 3


def test_no_active_subscription_when_every_one_has_ended(user, make_subscription):
    for status in ("canceled", "expired", "refunded"):
        make_subscription(user, status=status)

    assert selectors.get_active_subscription_for_user(user=user) is None


def test_active_subscription_is_never_another_users(user, other_user, make_subscription):
    make_subscription(other_user)

    assert selectors.get_active_subscription_for_user(user=user) is None


def test_latest_subscription_is_the_most_recently_updated(user, make_subscription):
    renewed = make_subscription(user, status="active")
    ended = make_subscription(user, status="canceled")
    now = timezone.now()
    Subscription.objects.filter(pk=ended.pk).update(updated_at=now - timedelta(days=2))
    Subscription.objects.filter(pk=renewed.pk).update(updated_at=now - timedelta(days=1))
    assert selectors.get_latest_subscription_for_user(user=user) == renewed

    Subscription.objects.filter(pk=ended.pk).update(updated_at=now)

    assert selectors.get_latest_subscription_for_user(user=user) == ended


def test_latest_subscription_is_none_without_subscriptions(user, other_user, make_subscription):
    make_subscription(other_user)

    assert selectors.get_latest_subscription_for_user(user=user) is None


def test_latest_subscription_breaks_update_ties_by_creation(user, make_subscription):
    older = make_subscription(user, status="canceled")
    newer = make_subscription(user, status="expired")
    Subscription.objects.filter(pk__in=[older.pk, newer.pk]).update(updated_at=older.updated_at)

    assert selectors.get_latest_subscription_for_user(user=user) == newer
