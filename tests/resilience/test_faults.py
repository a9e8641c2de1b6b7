"""Faults of the database, met with clear answers and nothing half-written."""

import threading
import time
import urllib.error

import pytest
from django.db import connection, transaction

from accounts.models import User
from accounts.services import upsert_user
from idempotency.models import IdempotencyKey
from journal.models import JournalEntry
from tests.resilience.http import call
from tests.resilience.server import (
    SERVER_APPLICATION_NAME,
    app_server,
    database_url_for_tests,
)
from tokens.services import start_session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(db):
    user = upsert_user(provider="google", provider_subject="alice")
    return user, start_session(user=user).access


def post_entry(base_url, token, content="hello"):
    return call(base_url, "POST", "/api/v1/journal/entries", token=token, body={"content": content})


def kill_app_connections():
    """pg_terminate_backend on every connection of the server under test (behind PgBouncer,
    the server connections it last used: never the one asking)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def test_killed_connections_are_replaced_and_no_write_is_half_done(alice):
    user, token = alice
    statuses = []
    stop = threading.Event()
    with app_server(DATABASE_URL=database_url_for_tests()) as base_url:

        def traffic():
            n = 0
            while not stop.is_set():
                status, _, _ = post_entry(base_url, token, f"entry {n}")
                statuses.append(status)
                n += 1

        threads = [threading.Thread(target=traffic) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        killed = kill_app_connections()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(30)
        after = [post_entry(base_url, token, f"after {i}")[0] for i in range(10)]

    assert killed > 0
    assert [s for s in statuses if s not in (201, 503)] == []
    assert after == [201] * 10
    # Every stored entry is whole: its size matches its content.
    for entry in JournalEntry.objects.filter(user=user):
        assert entry.size_bytes == len(entry.content.encode())


def kill_app_connections_in_commit():
    """pg_terminate_backend on the server's connections that are committing or between
    statements of a transaction: the moment where a write may be done but its answer lost."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()"
            " AND (state = 'idle in transaction' OR (state = 'active' AND query ILIKE 'COMMIT%%'))",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def write_until_answered(base_url, token, key, content):
    """A client's retry loop (docs/security.md): the same key until an answer below 500."""
    for _ in range(200):
        try:
            status, body, _ = call(
                base_url,
                "POST",
                "/api/v1/journal/entries",
                token=token,
                body={"content": content},
                headers={"Idempotency-Key": key},
            )
        except (urllib.error.URLError, ConnectionError):
            status, body = None, None
        if status is not None and status < 500 and status != 409:
            return status, body
        time.sleep(0.02)
    raise AssertionError(f"{key} was never answered")


def test_writes_retried_with_their_key_through_killed_connections_are_stored_once(alice):
    user, token = alice
    clients, writes_each = 4, 25
    answers = {}
    kills = []
    done = threading.Event()
    with app_server(DATABASE_URL=database_url_for_tests()) as base_url:

        def client(c):
            for n in range(writes_each):
                key = f"client {c} write {n}"
                answers[key] = write_until_answered(base_url, token, key, key)

        def killer():
            while not done.is_set():
                kills.append(kill_app_connections_in_commit())
                time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        killing = threading.Thread(target=killer)
        killing.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        done.set()
        killing.join(30)

    writes = sorted(answers)
    stored = sorted(JournalEntry.objects.filter(user=user).values_list("content", flat=True))
    assert sum(kills) > 0
    assert len(writes) == clients * writes_each
    assert {status for status, _ in answers.values()} == {201}
    assert stored == writes  # each write exactly once: none lost, none twice
    assert sorted(answers[key][1]["content"] for key in writes) == writes
    assert IdempotencyKey.objects.filter(user=user).count() == len(writes)


def test_unreachable_database_answers_503_json(alice):
    _, token = alice
    with app_server(
        DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere", DB_POOL_TIMEOUT_SECONDS="1"
    ) as base_url:
        ready = call(base_url, "GET", "/readyz")
        api = call(base_url, "GET", "/api/v1/me", token=token)
        write = post_entry(base_url, token)

    for status, body, _ in (ready, api, write):
        assert status == 503
        assert isinstance(body["detail"], str)


def test_a_statement_past_the_timeout_is_cut_and_answered_503(alice):
    user, token = alice
    with app_server(
        DATABASE_URL=database_url_for_tests(), DB_STATEMENT_TIMEOUT_MS="300"
    ) as base_url:
        # Hold the user's row lock: the entry's quota check waits on it past the timeout.
        with transaction.atomic():
            User.objects.select_for_update().get(pk=user.pk)
            status, body, headers = post_entry(base_url, token)
        after = post_entry(base_url, token)

    assert status == 503
    assert body["code"] == "database_unavailable"
    assert headers["Retry-After"]
    assert not JournalEntry.objects.filter(content="hello").exclude(pk=after[1]["id"]).exists()
    assert after[0] == 201


def test_an_exhausted_pool_makes_requests_wait_a_bounded_time_then_503(alice):
    user, token = alice
    env = {
        "DATABASE_URL": database_url_for_tests(),
        "DB_POOL_MAX": "1",
        "DB_POOL_TIMEOUT_SECONDS": "1",
        "DB_STATEMENT_TIMEOUT_MS": "20000",
    }
    with app_server(**env) as base_url:
        post_entry(base_url, token, "warm up")  # the pool's one connection exists
        outcome = {}
        with transaction.atomic():
            User.objects.select_for_update().get(pk=user.pk)
            # This request takes the only connection and waits on the lock...
            blocked = threading.Thread(
                target=lambda: outcome.setdefault("first", post_entry(base_url, token, "first"))
            )
            blocked.start()
            time.sleep(0.5)
            # ...so this one finds the pool empty, waits its second, and is told to retry.
            status, body, headers = call(base_url, "GET", "/api/v1/journal/usage", token=token)
        blocked.join(30)

    assert status == 503
    assert body["code"] == "database_unavailable"
    assert headers["Retry-After"]
    assert outcome["first"][0] == 201
