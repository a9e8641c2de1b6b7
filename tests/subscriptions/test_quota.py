"""The whole life of a premium quota: the webhook lifts it, the expiry sweep drops it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from subscriptions.models import Subscription
from tests.subscriptions.conftest import CREATED, event_payload

pytestmark = pytest.mark.django_db

ENTRIES = "/api/v1/journal/entries"


def test_a_subscription_lifts_the_quota_and_the_sweep_drops_it_back(
    auth_api, user, signed_post, settings
):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 100
    settings.JOURNAL_MAX_ENTRY_BYTES = 100

    assert auth_api.post(ENTRIES, {"content": "x" * 20}, format="json").status_code == 403

    assert signed_post(event_payload(user.pk, status="active")).json() == {"status": "processed"}
    assert auth_api.get("/api/v1/journal/usage").json()["quota_bytes"] == 100
    assert auth_api.post(ENTRIES, {"content": "x" * 20}, format="json").status_code == 201

    Subscription.objects.update(current_period_end=timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("expire_subscriptions", stdout=out)

    assert "expired 1 subscription(s)" in out.getvalue()
    assert auth_api.get("/api/v1/journal/usage").json() == {
        "bytes_used": 20,
        "quota_bytes": 10,
        "entries": 1,
    }
    refused = auth_api.post(ENTRIES, {"content": "y"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "quota_exceeded"
    # The data stays readable and exportable over quota.
    assert auth_api.get(ENTRIES).json()["count"] == 1
    assert auth_api.get("/api/v1/subscription").json()["active"] is None


def test_canceling_one_of_two_subscriptions_keeps_the_premium_quota(
    auth_api, user, signed_post, settings
):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 100
    settings.JOURNAL_MAX_ENTRY_BYTES = 100
    signed_post(event_payload(user.pk, event_id="evt_a", sub_id="sub_a"))
    signed_post(event_payload(user.pk, event_id="evt_b", sub_id="sub_b", provider="paddle"))

    canceled = event_payload(
        user.pk, event_id="evt_a_end", created=CREATED + 60, sub_id="sub_a", status="refunded"
    )
    assert signed_post(canceled).json() == {"status": "processed"}

    assert auth_api.get("/api/v1/journal/usage").json()["quota_bytes"] == 100
    assert auth_api.post(ENTRIES, {"content": "x" * 20}, format="json").status_code == 201
    assert auth_api.get("/api/v1/subscription").json()["active"]["provider"] == "paddle"

    last = event_payload(
        user.pk,
        event_id="evt_b_end",
        created=CREATED + 120,
        sub_id="sub_b",
        provider="paddle",
        status="canceled",
    )
    assert signed_post(last).json() == {"status": "processed"}

    assert auth_api.get("/api/v1/journal/usage").json()["quota_bytes"] == 10
    assert auth_api.get("/api/v1/subscription").json()["active"] is None


def test_a_cheap_purchase_in_a_paying_users_name_leaves_their_premium(
    auth_api, user, signed_post, settings
):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 100
    signed_post(event_payload(user.pk, sub_id="sub_paid", period_end="2027-06-01T00:00:00Z"))

    # Someone else buys a cheap plan with this user's id, then lets it lapse.
    for n, status in enumerate(["active", "expired"], start=1):
        cheap = event_payload(
            user.pk,
            event_id=f"evt_cheap_{n}",
            created=CREATED + 60 * n,
            sub_id="sub_cheap",
            plan="basic",
            period_end="2026-02-01T00:00:00Z",
            status=status,
        )
        assert signed_post(cheap).json() == {"status": "processed"}
        assert auth_api.get("/api/v1/journal/usage").json()["quota_bytes"] == 100

    assert auth_api.get("/api/v1/subscription").json()["active"]["plan"] == "premium_monthly"
