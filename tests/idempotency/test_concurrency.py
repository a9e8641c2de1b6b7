"""Concurrent twins (the same key at the same moment) against a live server on PostgreSQL:
exactly one runs; the others get its answer or 409 ``idempotency_key_in_use``."""

import hashlib
import json
import threading
import time

import pytest
from django.db import transaction

from accounts.services import upsert_user
from idempotency.models import IdempotencyKey
from journal.models import JournalEntry
from tests.resilience.http import call
from tests.resilience.server import app_server, database_url_for_tests
from tokens.services import start_session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ENTRIES = "/api/v1/journal/entries"
TWINS = 8


@pytest.fixture
def alice(db):
    user = upsert_user(provider="google", provider_subject="alice")
    return user, start_session(user=user).access


def send_twins(base_url, token, method, path, key, body):
    """``TWINS`` identical requests released at once; their (status, body, replayed)."""
    start = threading.Barrier(TWINS)
    answers = []

    def twin():
        start.wait()
        status, answer, headers = call(
            base_url, method, path, token=token, body=body, headers={"Idempotency-Key": key}
        )
        answers.append((status, answer, headers.get("Idempotent-Replayed"), headers))

    threads = [threading.Thread(target=twin) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == TWINS
    return answers


def assert_ran_once(answers, status):
    ran = [a for a in answers if a[0] == status and a[2] is None]
    replayed = [a for a in answers if a[0] == status and a[2] == "true"]
    in_use = [a for a in answers if a[0] == 409]
    assert len(ran) == 1
    assert len(ran) + len(replayed) + len(in_use) == TWINS
    assert all(a[1] == ran[0][1] for a in replayed)
    assert all(a[1]["code"] == "idempotency_key_in_use" for a in in_use)
    assert all(a[3]["Retry-After"] for a in in_use)


def test_concurrent_twins_create_one_entry(alice):
    user, token = alice
    with app_server(DATABASE_URL=database_url_for_tests()) as base_url:
        rounds = [
            send_twins(base_url, token, "POST", ENTRIES, f"twin {n}", {"content": f"entry {n}"})
            for n in range(5)
        ]

    for answers in rounds:
        assert_ran_once(answers, 201)
    assert sorted(JournalEntry.objects.filter(user=user).values_list("content", flat=True)) == [
        f"entry {n}" for n in range(5)
    ]
    assert IdempotencyKey.objects.filter(user=user).count() == 5


def test_concurrent_twins_edit_and_delete_once(alice):
    user, token = alice
    with app_server(DATABASE_URL=database_url_for_tests()) as base_url:
        entry = call(base_url, "POST", ENTRIES, token=token, body={"content": "draft"})[1]
        path = f"{ENTRIES}/{entry['id']}"
        edits = send_twins(base_url, token, "PATCH", path, "edit", {"content": "final"})
        deletions = send_twins(base_url, token, "DELETE", path, "delete", None)

    assert_ran_once(edits, 200)
    ran = [a for a in deletions if a[0] == 204 and a[2] is None]
    assert len(ran) == 1
    assert {a[0] for a in deletions} <= {204, 409}
    assert not JournalEntry.objects.filter(user=user).exists()


def test_a_twin_that_cannot_wait_for_the_first_is_told_409_then_its_retry_runs(alice):
    user, token = alice
    key = {"Idempotency-Key": "held"}
    with app_server(
        DATABASE_URL=database_url_for_tests(), DB_STATEMENT_TIMEOUT_MS="500"
    ) as base_url:
        # The first request with the key is still running: its claim is not committed.
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=user, key="held", method="POST", path=ENTRIES, body_sha256="0" * 64, status=0
            )
            status, body, headers = call(
                base_url, "POST", ENTRIES, token=token, body={"content": "x"}, headers=key
            )
            transaction.set_rollback(True)  # ...and then fails: it keeps nothing
        retried = call(base_url, "POST", ENTRIES, token=token, body={"content": "x"}, headers=key)

    assert status == 409
    assert body["code"] == "idempotency_key_in_use"
    assert headers["Retry-After"] == "1"
    assert retried[0] == 201 and retried[2].get("Idempotent-Replayed") is None
    assert JournalEntry.objects.filter(user=user).count() == 1


def test_a_twin_waits_for_the_first_and_then_replays_its_answer(alice):
    user, token = alice
    body = {"content": "x"}
    sent = json.dumps(body).encode()  # what tests.resilience.http sends
    outcome = {}
    with app_server(DATABASE_URL=database_url_for_tests()) as base_url:
        with transaction.atomic():
            # The first request has claimed the key and is about to commit its answer.
            IdempotencyKey.objects.create(
                user=user,
                key="first",
                method="POST",
                path=ENTRIES,
                body_sha256=hashlib.sha256(sent).hexdigest(),
                status=201,
                body='{"answer": "of the first"}',
            )
            twin = threading.Thread(
                target=lambda: outcome.setdefault(
                    "twin",
                    call(
                        base_url,
                        "POST",
                        ENTRIES,
                        token=token,
                        body=body,
                        headers={"Idempotency-Key": "first"},
                    ),
                )
            )
            twin.start()
            time.sleep(0.5)  # the twin is now waiting on the first one's claim
        twin.join(30)

    status, answer, headers = outcome["twin"]
    assert (status, answer) == (201, {"answer": "of the first"})
    assert headers["Idempotent-Replayed"] == "true"
    assert not JournalEntry.objects.filter(user=user).exists()
