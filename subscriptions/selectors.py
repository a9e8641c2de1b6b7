"""Reads of subscriptions."""

from subscriptions.models import ENTITLED_STATUSES, Subscription


def get_active_subscription_for_user(*, user) -> Subscription | None:
    """The user's subscription in ``active`` or ``grace`` (the database allows one at most)."""
    return Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES).first()


def has_entitled_subscription(*, user) -> bool:
    """Whether the user has a subscription in ``active`` or ``grace`` (the premium quota)."""
    return Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES).exists()


def count_entitled_subscriptions() -> int:
    """Subscriptions in ``active`` or ``grace``, of every user."""
    return Subscription.objects.filter(status__in=ENTITLED_STATUSES).count()


def get_latest_subscription_for_user(*, user) -> Subscription | None:
    """The user's most recently updated subscription, whatever its status."""
    return Subscription.objects.filter(user=user).order_by("-updated_at", "-created_at").first()
