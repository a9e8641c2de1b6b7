"""The app against a primary and a streaming replica: serves a few requests through the whole
middleware stack and router, and prints where each query went. Run by scripts/replica_demo.sh,
which sets DATABASE_URL, DATABASE_REPLICA_URLS and REPLICA_STOP_COMMAND."""

import os
import shlex
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import DEFAULT_DB_ALIAS, connections  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.services import upsert_user  # noqa: E402
from ops.routers import routing_scope  # noqa: E402
from tokens.services import start_session  # noqa: E402

ALIASES = [DEFAULT_DB_ALIAS, *settings.DATABASE_REPLICAS]


def server_of(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        port, standby = cursor.fetchone()
    connections[alias].close()
    return f"port {port}, {'standby (read-only)' if standby else 'primary'}"


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    response.elapsed_ms = (time.monotonic() - started) * 1000
    return response


@contextmanager
def query_log():
    """Every query of the block, as (alias, SQL), in order."""
    log = []

    def recorder(alias):
        def record(execute, sql, params, many, context):
            log.append((alias, sql))
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in ALIASES:
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield log


def show(title: str, response, log) -> None:
    print(f"\n{title} -> {response.status_code} in {response.elapsed_ms:.0f} ms")
    for alias, sql in log:
        verb = sql.split()[0].upper()
        print(f"  {alias:<10} {verb:<7} {' '.join(sql.split())[:90]}")
    counts = {alias: sum(1 for a, _ in log if a == alias) for alias in ALIASES}
    print("  queries: " + ", ".join(f"{alias} {n}" for alias, n in counts.items()))


def wait_for_replay(alias: str, timeout: float = 10) -> float:
    """Seconds until the standby has replayed everything the primary has written."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit(f"{alias} did not catch up within {timeout} s")


def main() -> int:
    replica = settings.DATABASE_REPLICAS[0]
    for alias in ALIASES:
        print(f"alias {alias:<10} -> {server_of(alias)}")

    with routing_scope():
        user = upsert_user(provider="demo", provider_subject="replica-demo")
        access = start_session(user=user).access
    client = Client(HTTP_AUTHORIZATION=f"Bearer {access}")
    print(f"replica caught up with the sign-in in {wait_for_replay(replica) * 1000:.0f} ms")

    with query_log() as log:
        response = timed(client.get, "/api/v1/journal/entries")
    show("GET  /api/v1/journal/entries (a read: every query on the replica)", response, log)

    with query_log() as log:
        response = timed(
            client.post,
            "/api/v1/journal/entries",
            {"content": "written on the primary"},
            "application/json",
        )
    show(
        "POST /api/v1/journal/entries (a write: authentication and every query of its "
        "transaction on the primary)",
        response,
        log,
    )
    entry_id = response.json()["id"]
    print(f"replica replayed the write in {wait_for_replay(replica) * 1000:.0f} ms")

    with query_log() as log:
        response = timed(client.get, f"/api/v1/journal/entries/{entry_id}")
    show("GET  the new entry (a new request: read from the replica, which has it)", response, log)
    print(f"  content: {response.json()['content']!r}")

    with query_log() as log:
        response = timed(client.get, "/api/v1/journal/usage")
    show("GET  /api/v1/journal/usage", response, log)

    print("\nstopping the standby ...")
    subprocess.run(shlex.split(os.environ["REPLICA_STOP_COMMAND"]), check=True)  # noqa: S603
    for alias in settings.DATABASE_REPLICAS:
        connections[alias].close()
        connections[alias].close_pool()  # type: ignore[attr-defined]  # not in django-stubs 5.2
    with query_log() as log:
        response = timed(client.get, "/api/v1/journal/entries")
    show(
        "GET  /api/v1/journal/entries (replica down: skipped, read from the primary)", response, log
    )
    print(f"  entries: {response.json()['count']}")

    ok = all(alias == DEFAULT_DB_ALIAS for alias, _ in log) and response.status_code == 200
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
