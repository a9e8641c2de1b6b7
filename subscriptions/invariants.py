"""What subscription data must satisfy on any database that holds it, declared for the copy's
verification (``SubscriptionsConfig.data_invariants``): the states the webhook may write,
which neither engine enforces (``choices`` are the forms' and the serializers' check)."""

from django.db.models import QuerySet

from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionStatus


def data_invariants() -> list[tuple[str, QuerySet]]:
    return [
        (
            "subscriptions whose status is not one the webhook writes",
            Subscription.objects.exclude(status__in=SubscriptionStatus.values),
        ),
        (
            "subscription events whose outcome is not one the webhook records",
            SubscriptionEvent.objects.exclude(outcome__in=SubscriptionEvent.Outcome.values),
        ),
    ]
