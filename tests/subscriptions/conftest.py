import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.utils import timezone

from subscriptions.models import Subscription

WEBHOOK = "/api/v1/subscriptions/webhook"
SECRET = "whsec_current_0123456789"
OLD_SECRET = "whsec_previous_9876543210"
# 2026-01-01T00:00:00Z, the `created` of the default event.
CREATED = 1767225600
SIGN = object()  # signed_post: compute the signature header (the default)


def sign(body: bytes, *, secret: str = SECRET, t: int | None = None) -> str:
    """The ``X-Webhook-Signature`` header a provider would send for ``body``."""
    t = int(time.time()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(
    user_id,
    *,
    event_id="evt_1",
    created=CREATED,
    status="active",
    sub_id="sub_9",
    plan="premium_monthly",
    period_end="2027-01-01T00:00:00Z",
    provider="stripe",
    event_type="subscription.updated",
) -> dict:
    return {
        "id": event_id,
        "type": event_type,
        "created": created,
        "provider": provider,
        "user_id": str(user_id),
        "subscription": {
            "id": sub_id,
            "plan": plan,
            "status": status,
            "current_period_end": period_end,
        },
    }


@pytest.fixture
def webhook_secret(settings):
    settings.SUBSCRIPTION_WEBHOOK_SECRETS = [SECRET]
    return SECRET


@pytest.fixture
def signed_post(api, webhook_secret):
    """POST a payload (a dict, or raw bytes) to the webhook, signed with ``secret`` at time
    ``t`` (now by default); ``header`` replaces the signature header, None omits it."""

    def _post(payload, *, secret=SECRET, t=None, header=SIGN):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if header is SIGN:
            header = sign(body, secret=secret, t=t)
        extra = {} if header is None else {"HTTP_X_WEBHOOK_SIGNATURE": header}
        return api.post(WEBHOOK, data=body, content_type="application/json", **extra)

    return _post


@pytest.fixture
def make_subscription(db):
    """A subscription straight in the database (the state a past event left)."""
    numbers = count(1)

    def _make(
        user,
        *,
        status="active",
        sub_id=None,
        provider="stripe",
        plan="premium_monthly",
        period_end=None,
        last_event_at=None,
    ):
        return Subscription.objects.create(
            user=user,
            provider=provider,
            provider_subscription_id=sub_id or f"sub_made_{next(numbers)}",
            plan=plan,
            status=status,
            current_period_end=period_end or timezone.now() + timedelta(days=30),
            last_event_at=last_event_at or datetime.fromtimestamp(CREATED, tz=UTC),
        )

    return _make
