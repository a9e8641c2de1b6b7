"""Read-your-writes across requests (ops/pinning.py): after a request of a user wrote, that
user's next requests read from default for REPLICA_PIN_SECONDS; other users keep reading
from the replica."""

import pytest
from django.db import DEFAULT_DB_ALIAS
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import upsert_user
from ops import pinning
from ops.databases import DB_REPLICA_1
from ops.shared_state.redis import RedisStore
from tests.ops.test_router import Queries
from tokens.services import start_session

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, DB_REPLICA_1])

ENTRIES = "/api/v1/journal/entries"


class SignedInClient(APIClient):
    user: User


def client_of(subject: str) -> SignedInClient:
    user = upsert_user(provider="google", provider_subject=subject)
    client = SignedInClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {start_session(user=user).access}")
    client.user = user
    return client


def entry_reads(queries, alias) -> list[str]:
    return [q for q in queries.on(alias) if "journal_journalentry" in q]


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(pinning, "clock", lambda: now[0])
    return now


def test_after_a_write_the_users_next_requests_read_from_default(replica, clock):
    dana, erin = client_of("dana"), client_of("erin")
    assert dana.post(ENTRIES, {"content": "hello"}, format="json").status_code == 201

    with Queries() as dana_lists:
        assert dana.get(ENTRIES).json()["count"] == 1
    with Queries() as erin_lists:
        assert erin.get(ENTRIES).status_code == 200

    assert entry_reads(dana_lists, DEFAULT_DB_ALIAS) and not entry_reads(dana_lists, DB_REPLICA_1)
    assert entry_reads(erin_lists, DB_REPLICA_1) and not entry_reads(erin_lists, DEFAULT_DB_ALIAS)


def test_the_pin_ends_after_replica_pin_seconds(replica, clock, settings):
    settings.REPLICA_PIN_SECONDS = 5
    dana = client_of("dana")
    dana.post(ENTRIES, {"content": "hello"}, format="json")

    clock[0] += 4.9
    with Queries() as within:
        dana.get(ENTRIES)
    clock[0] += 0.2
    with Queries() as after:
        dana.get(ENTRIES)

    assert entry_reads(within, DEFAULT_DB_ALIAS)
    assert entry_reads(after, DB_REPLICA_1) and not entry_reads(after, DEFAULT_DB_ALIAS)


def test_reads_alone_pin_nothing(replica, clock):
    dana = client_of("dana")
    dana.get(ENTRIES)

    with Queries() as listing:
        dana.get(ENTRIES)

    assert entry_reads(listing, DB_REPLICA_1)


def test_a_pin_of_zero_seconds_keeps_read_your_writes_within_the_request_only(
    replica, clock, settings
):
    settings.REPLICA_PIN_SECONDS = 0
    dana = client_of("dana")
    dana.post(ENTRIES, {"content": "hello"}, format="json")

    with Queries() as listing:
        dana.get(ENTRIES)

    assert entry_reads(listing, DB_REPLICA_1)


def test_pins_are_shared_through_redis(replica, clock, settings, redis_url, redis_prefix):
    settings.REDIS_URL, settings.REDIS_KEY_PREFIX = redis_url, redis_prefix
    dana = client_of("dana")
    dana.post(ENTRIES, {"content": "hello"}, format="json")

    another_host = RedisStore(redis_url, redis_prefix)

    assert another_host.pinned(f"user:{dana.user.pk}", clock[0])
    assert not another_host.pinned("user:someone-else", clock[0])


def test_when_the_pins_cannot_be_read_reads_go_to_default(replica, clock, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    dana = client_of("dana")

    with Queries() as listing:
        assert dana.get(ENTRIES).status_code == 200

    assert entry_reads(listing, DEFAULT_DB_ALIAS) and not entry_reads(listing, DB_REPLICA_1)
