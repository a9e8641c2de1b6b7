"""Reads of subscriptions."""

from django.db.models import F

from accounts.models import User
from subscriptions.models import ENTITLED_STATUSES, Subscription


def get_active_subscription_for_user(*, user: User) -> Subscription | None:
    """Of the user's subscriptions in ``active`` or ``grace`` (there may be several), the one
    whose paid period ends last: the one that keeps the premium quota longest. One without an
    end counts as ending last; on a tie, the most recently updated."""
    return (
        Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES)
        .order_by(F("current_period_end").desc(nulls_first=True), "-updated_at", "-created_at")
        .first()
    )


def has_entitled_subscription(*, user: User, using: str | None = None) -> bool:
    """Whether the user has a subscription in ``active`` or ``grace`` (the premium quota), read
    on ``using``, else where the router sends reads."""
    subscriptions = Subscription.objects.db_manager(using)
    return subscriptions.filter(user=user, status__in=ENTITLED_STATUSES).exists()


def count_entitled_subscriptions() -> int:
    """Subscriptions in ``active`` or ``grace``, of every user."""
    return Subscription.objects.filter(status__in=ENTITLED_STATUSES).count()


def get_latest_subscription_for_user(*, user: User) -> Subscription | None:
    """The user's most recently updated subscription, whatever its status."""
    return Subscription.objects.filter(user=user).order_by("-updated_at", "-created_at").first()
