"""Reads of subscriptions."""

from subscriptions.models import ENTITLED_STATUSES, Subscription


def get_active_subscription_for_user(*, user) -> Subscription | None:
    """The user's subscription in ``active`` or ``grace`` (the database allows one at most)."""
    return Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES).first()


def get_latest_subscription_for_user(*, user) -> Subscription | None:
    """The user's most recently updated subscription, whatever its status."""
    return Subscription.objects.filter(user=user).order_by("-updated_at", "-created_at").first()
