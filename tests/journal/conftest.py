import pytest
from django.utils import timezone

from subscriptions.models import Subscription


@pytest.fixture
def premium(db):
    """Give a user an active subscription (the premium quota)."""

    def _premium(user, status="active"):
        return Subscription.objects.create(
            user=user,
            provider="stripe",
            provider_subscription_id=f"sub_{user.pk.hex[:8]}",
            plan="premium_monthly",
            status=status,
            last_event_at=timezone.now(),
        )

    return _premium
