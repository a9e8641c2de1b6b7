import re

import pytest
from django.db import connection
from django.utils import timezone

from accounts.services import upsert_user
from subscriptions.models import Subscription, SubscriptionStatus

pytestmark = pytest.mark.django_db


def series(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{[^}}]*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def scrape(api) -> str:
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_count_requests_by_method_status_and_view(auth_api, api):
    for _ in range(3):
        auth_api.get("/api/v1/journal/entries")
    auth_api.get("/api/v1/journal/entries/not-a-uuid")

    text = scrape(api)

    assert series(text, "django_http_requests_total_by_method_total")['{method="GET"}'] >= 4
    assert series(text, "django_http_responses_total_by_status_total")['{status="404"}'] >= 1
    latency = series(text, "django_http_requests_latency_seconds_by_view_method_count")
    assert latency['{method="GET",view="journal-entries"}'] >= 3


def test_metrics_count_queries_of_the_default_database(auth_api, api):
    auth_api.get("/api/v1/journal/entries")

    text = scrape(api)

    executed = series(text, "django_db_execute_total")
    assert executed[f'{{alias="default",vendor="{connection.vendor}"}}'] > 0
    assert series(text, "django_db_query_duration_seconds_count")


def test_metrics_report_users_and_active_subscriptions(api, user, other_user):
    upsert_user(provider="google", provider_subject="carol-sub")
    for number, (owner, status) in enumerate(
        [
            (user, SubscriptionStatus.ACTIVE),
            (other_user, SubscriptionStatus.GRACE),
            (user, SubscriptionStatus.EXPIRED),
        ]
    ):
        Subscription.objects.create(
            user=owner,
            provider="stripe",
            provider_subscription_id=f"sub_{number}",
            plan="premium_monthly",
            status=status,
            last_event_at=timezone.now(),
        )

    text = scrape(api)

    assert series(text, "journal_users") == {"": 3.0}
    assert series(text, "journal_active_subscriptions") == {"": 2.0}


@pytest.mark.postgres_only
def test_metrics_report_the_connection_pool_of_each_postgres_alias(auth_api, api):
    auth_api.get("/api/v1/journal/entries")

    text = scrape(api)

    assert series(text, "journal_db_pool_max_size")['{alias="default"}'] == 10
    assert series(text, "journal_db_pool_size")['{alias="default"}'] >= 1
    for name in (
        "journal_db_pool_available",
        "journal_db_pool_requests_waiting",
        "journal_db_pool_connection_errors",
        "journal_db_pool_request_errors",
    ):
        assert '{alias="default"}' in series(text, name), name


def test_metrics_need_the_bearer_token_when_one_is_set(api, settings):
    settings.METRICS_TOKEN = "scrape-me-0123456789"

    missing = api.get("/metrics")
    wrong = api.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-wrong")
    basic = api.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-me-0123456789")
    right = api.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-0123456789")

    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.json()["code"] == "not_authenticated"
        assert refused["WWW-Authenticate"].startswith("Bearer")
        assert b"journal_" not in refused.content
    assert right.status_code == 200
    assert "journal_users " in right.content.decode()


def test_metrics_are_open_without_a_token(api, settings):
    settings.METRICS_TOKEN = None

    assert api.get("/metrics").status_code == 200
