"""The throttle's sliding window: in memory, in the SQLite file a host's workers share, and in
the Redis several hosts share."""

import math
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.shared_state.failsafe import FailSafeStore
from ops.shared_state.memory import MemoryStore
from ops.shared_state.redis import RedisStore
from ops.shared_state.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
LIMIT, MINUTE = 4, 60
START = 600.0  # the start of window 10 of a minute


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "t.sqlite3")
    return RedisStore(request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))


@pytest.fixture(params=["memory", "sqlite"])
def own_clock_store(request, tmp_path):
    """The stores that purge on the clock they are given (Redis expires keys on its own)."""
    return MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "t.sqlite3")


def hits(store, times, now, key="login:203.0.113.7"):
    return [store.hit(key, LIMIT, MINUTE, now) for _ in range(times)]


def test_the_limit_holds_within_a_window_and_the_wait_says_when_one_more_fits(store):
    assert [allowed for allowed, _ in hits(store, LIMIT, START + 1)] == [True] * LIMIT

    allowed, wait = store.hit("login:203.0.113.7", LIMIT, MINUTE, START + 10)

    # Four in this window: one more fits once a quarter of the next window has passed, when
    # this window's four weigh three.
    assert (allowed, wait) == (False, pytest.approx(MINUTE + MINUTE / 4 - 10))
    assert hits(store, 1, START + MINUTE + MINUTE / 4 - 11)[0][0] is False
    assert hits(store, 1, START + MINUTE + MINUTE / 4 + 1)[0][0] is True
    assert hits(store, 1, START + MINUTE + MINUTE / 4 + 2)[0][0] is False


def test_the_previous_window_weighs_as_much_as_it_still_overlaps(store):
    hits(store, LIMIT, START + 50)

    halfway = START + MINUTE + MINUTE / 2  # the four weigh two: two more fit, not three
    assert [allowed for allowed, _ in hits(store, 3, halfway)] == [True, True, False]
    assert all(allowed for allowed, _ in hits(store, LIMIT, START + 3 * MINUTE))


def test_clients_and_scopes_are_counted_apart(store):
    hits(store, LIMIT, START)

    assert hits(store, 1, START)[0][0] is False
    assert hits(store, 1, START, key="login:203.0.113.8")[0][0] is True
    assert hits(store, 1, START, key="refresh:203.0.113.7")[0][0] is True


def test_a_rate_of_zero_refuses_everything_for_a_period(store):
    assert store.hit("login:203.0.113.7", 0, MINUTE, START + 5) == (False, float(MINUTE))


def test_expired_windows_are_purged_as_time_passes(own_clock_store):
    for n in range(50):
        own_clock_store.hit(f"login:198.51.100.{n}", LIMIT, MINUTE, START)
    assert own_clock_store.windows_kept() == 50

    own_clock_store.hit("login:203.0.113.7", LIMIT, MINUTE, START + 3 * MINUTE)

    assert own_clock_store.windows_kept() == 1  # the 50 clients' windows ended two minutes ago


def test_redis_keys_expire_once_they_cannot_be_the_previous_window(redis_url, redis_prefix):
    store = RedisStore(redis_url, redis_prefix)
    now = time.time()

    store.hit("login:203.0.113.7", LIMIT, MINUTE, now)

    (key,) = store.client.scan_iter(match=f"{redis_prefix}*")
    window_start = int(now // MINUTE) * MINUTE
    assert 0 < store.client.ttl(key) <= math.ceil(window_start + 2 * MINUTE - now)


def test_clear_forgets_every_count(store):
    hits(store, LIMIT, START)

    store.clear()

    assert hits(store, 1, START)[0][0] is True


HIT_SCRIPT = """
import os, sys
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1")
import django
django.setup()
from ops.shared_state.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
sys.stdin.readline()  # all processes start counting together
print(sum(store.hit("login:203.0.113.7", 4, 60, 600.0)[0] for _ in range(3)))
"""


def test_processes_sharing_the_file_share_the_limit(tmp_path):
    SQLiteStore(tmp_path / "t.sqlite3").clear()  # the file exists before they start
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", HIT_SCRIPT, str(tmp_path / "t.sqlite3")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    allowed = [int(process.communicate(timeout=60)[0]) for process in processes]

    assert sum(allowed) == LIMIT  # of 9 requests; with a count per process, 9 would pass


def errors_counted(api) -> float:
    text = api.get("/metrics").content.decode()
    line = next(
        x for x in text.splitlines() if x.startswith("journal_throttle_store_errors_total ")
    )
    return float(line.split()[1])


def login_statuses(api, times):
    return [api.post("/api/v1/auth/login", {}, format="json").status_code for _ in range(times)]


@pytest.fixture
def one_login_a_minute(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "1/min"}


@pytest.mark.django_db
def test_an_unwritable_counts_file_falls_back_to_this_process_counts_never_to_no_limit(
    api, settings, tmp_path, caplog, one_login_a_minute
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.CACHE_DIR = str(blocker / "cache")
    errors_before = errors_counted(api)

    statuses = login_statuses(api, 3)

    assert statuses == [400, 429, 429]
    assert "counting in this process" in caplog.text
    assert errors_counted(api) == errors_before + 1  # then the store rests, not retried per hit


@pytest.mark.django_db
def test_a_corrupt_counts_file_still_limits(api, settings, tmp_path, caplog, one_login_a_minute):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "throttle.sqlite3").write_bytes(b"this is not a database at all" * 100)
    settings.CACHE_DIR = str(cache)

    assert login_statuses(api, 3) == [400, 429, 429]
    assert "not a database" in caplog.text


@pytest.mark.django_db
def test_a_locked_counts_file_still_limits(api, settings, tmp_path, one_login_a_minute):
    cache = tmp_path / "cache"
    settings.CACHE_DIR = str(cache)
    assert login_statuses(api, 1) == [400]  # the file is made and counts the first one
    holder = sqlite3.connect(cache / "throttle.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock for good
    try:
        assert login_statuses(api, 2) == [400, 429]  # this process counts on its own
    finally:
        holder.close()


def test_the_shared_store_is_used_again_once_it_works(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    store = FailSafeStore(SQLiteStore(blocker / "cache" / "t.sqlite3"))
    assert store.hit("k", LIMIT, MINUTE, START)[0] is True
    assert store.failing

    store.store.path = tmp_path / "cache" / "t.sqlite3"  # the operator fixed it
    store._retry_at = 0.0  # and STORE_RETRY_SECONDS passed
    store.hit("k", LIMIT, MINUTE, START)

    assert not store.failing
    assert store.store.windows_kept() == 1
