"""Journal writes from several processes on one SQLite file, as gunicorn's workers make them:
a write transaction begins DEFERRED and takes the database's write lock with its first
statement (``ops.transactions.write_transaction``), so the quota must stay exact and no write
may fail for the lock."""

import json
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from journal import services
from ops.transactions import write_transaction
from scripts.api_client import call
from tests.ops.test_serving import Server
from tests.processes import run_manage

ENTRY = "ten bytes!"  # 10 bytes
FITTING = 35


@pytest.mark.sqlite_only
def test_racing_creates_of_gunicorn_workers_on_one_sqlite_file_fill_the_quota_exactly(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "k" * 50,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "JOURNAL_QUOTA_FREE_BYTES": str(FITTING * len(ENTRY)),
        "JOURNAL_QUOTA_PREMIUM_BYTES": str(10 * FITTING * len(ENTRY)),
        "THROTTLE_WRITE_RATE": "1000000/s",
    }
    assert run_manage("migrate", "--verbosity", "0", env=env).returncode == 0
    tokens = []
    for subject in ("writer-a", "writer-b"):
        issued = run_manage("issue_tokens", "--provider", "google", "--subject", subject, env=env)
        assert issued.returncode == 0, issued.stderr
        tokens.append(json.loads(issued.stdout)["access"])
    statuses = {token: [] for token in tokens}

    def write(base, token):
        for _ in range(10):
            answer = call(
                base,
                "POST",
                "/api/v1/journal/entries",
                body={"content": ENTRY},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses[token].append(answer.status)

    with Server(tmp_path, GUNICORN_WORKERS="4", **env) as server:
        # Eight writers of each user, 80 writes each, for 35 places each.
        threads = [
            threading.Thread(target=write, args=(server.base, token))
            for token in tokens
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}"}

            def read(path, headers=headers):
                return call(server.base, "GET", path, headers=headers, timeout=10).body

            usage, listed = read("/api/v1/journal/usage"), read("/api/v1/journal/entries")
            assert sorted(statuses[token]) == [201] * FITTING + [403] * (80 - FITTING)
            assert (usage["bytes_used"], usage["entries"]) == (FITTING * len(ENTRY), FITTING)
            assert listed["count"] == FITTING


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_only_a_write_transaction_begins_deferred_on_sqlite(user):
    def begins(block):
        with CaptureQueriesContext(connection) as queries:
            block()
        return [q["sql"] for q in queries if q["sql"].startswith("BEGIN")]

    def write_then_atomic():
        with write_transaction():
            User.objects.filter(pk=user.pk).update(display_name="written")
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(display_name="again")

    def failed_write_then_atomic():
        with pytest.raises(ZeroDivisionError), write_transaction():
            User.objects.filter(pk=user.pk).update(display_name="rolled back")
            1 / 0  # noqa: B018
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(display_name="again")

    def nested():
        with transaction.atomic(), write_transaction():  # a savepoint of the outer one
            User.objects.filter(pk=user.pk).update(display_name="nested")
        with transaction.atomic():
            pass

    assert begins(write_then_atomic) == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    assert begins(failed_write_then_atomic) == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    assert begins(nested) == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
    assert User.objects.get(pk=user.pk).display_name == "nested"


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_journal_write_begins_deferred_and_writes_first(user):
    with CaptureQueriesContext(connection) as queries:
        services.insert_journal_entry(user=user, content="first")  # creates the usage row
        services.insert_journal_entry(user=user, content="second")
    statements = [q["sql"].split()[0] for q in queries]
    second = statements[statements.index("BEGIN", 1) :]
    assert [q["sql"] for q in queries if q["sql"].startswith("BEGIN")][-1] == "BEGIN DEFERRED"
    assert second[:3] == ["BEGIN", "UPDATE", "INSERT"]
