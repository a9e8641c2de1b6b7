"""Short-lived state that the processes of a host, or several hosts, share: throttle counts
(``hit``) and read pins (``pin``/``pinned``, read-your-writes across requests).

Kept in Redis when ``REDIS_URL`` is set (every host that uses it shares it), else in a SQLite
file in ``CACHE_DIR`` that every worker of the host shares (one short ``IMMEDIATE``
transaction a request, about 15 µs), else in the process's memory (runserver, the tests).

A count is a sliding window of two fixed windows (the previous window's count weighted by how
much of it still overlaps, plus the current one's): two integers per client and scope. A
pin is a key and the time it ends.

A store that fails (a corrupt, unwritable or locked file; Redis unreachable or slow) never
means no limit: the process counts on its own (``FailSafeStore``) with a warning and the
metric ``journal_throttle_store_errors_total``, and tries the store again after
``STORE_RETRY_SECONDS``. Pins fail safe the other way: while the store fails, every reader
counts as pinned (reads go to the primary).
"""

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis
from django.conf import settings

from ops.metrics import THROTTLE_STORE_ERRORS

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Expired windows are deleted this often (per process).
PURGE_SECONDS = 60
# A new counts file is set up by the first process that gets to it: the others retry.
SETUP_ATTEMPTS = 5
# After the store failed, a process counts on its own this long before trying it again.
STORE_RETRY_SECONDS = 30
# The errors of a store that cannot count: the file is corrupt, locked, unwritable or gone;
# Redis is unreachable, too slow, or refuses (out of memory, read-only replica, auth).
STORE_ERRORS = (sqlite3.Error, OSError, redis.RedisError)
# A request waits at most this long for Redis (connecting, or an answer) before the process
# counts on its own.
REDIS_TIMEOUT_SECONDS = 0.5


def _refusal(previous: int, current: int, window: int, duration: int, limit: int, now: float):
    """None if one more request fits under ``limit`` (the previous window's count weighted by
    how much of it still overlaps, plus the current one's); else the seconds until one does."""
    overlap = 1 - (now - window * duration) / duration
    if previous * overlap + current + 1 <= limit:
        return None
    if limit <= 0:  # a rate of 0: nothing ever fits; try again in a period
        return float(duration)
    window_start = window * duration
    if current < limit:  # this window: the previous one's weight has to fall far enough
        if previous == 0:
            return 0.0
        fits_at = window_start + duration * (1 - (limit - 1 - current) / previous)
    else:  # the next window, where this one's count becomes the weighted one
        fits_at = window_start + duration * (2 - (limit - 1) / current)
    return max(fits_at - now, 0.0)


class MemoryStore:
    """The counts and pins of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], tuple[int, float]] = {}
        self._pins: dict[str, float] = {}
        self._next_purge = 0.0

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        window = int(now // duration)
        with self._lock:
            previous = self._counts.get((key, window - 1), (0, 0.0))[0]
            current = self._counts.get((key, window), (0, 0.0))[0]
            wait = _refusal(previous, current, window, duration, limit, now)
            if wait is not None:
                return False, wait
            self._counts[(key, window)] = (current + 1, (window + 2) * duration)
            if now >= self._next_purge:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._pins = {k: until for k, until in self._pins.items() if until > now}
                self._next_purge = now + PURGE_SECONDS
        return True, 0.0

    def pin(self, key: str, seconds: float, now: float) -> None:
        with self._lock:
            self._pins[key] = max(self._pins.get(key, 0.0), now + seconds)

    def pinned(self, key: str, now: float) -> bool:
        with self._lock:
            return self._pins.get(key, 0.0) > now

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._pins.clear()

    def windows_kept(self) -> int:
        with self._lock:
            return len(self._counts)


class SQLiteStore:
    """The counts and pins of every process of the host, in one SQLite file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def name(self) -> str:
        return str(self.path)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
            for attempt in range(SETUP_ATTEMPTS):
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=OFF")  # counts lost in a crash: no harm
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS throttle_counts (key TEXT, window INTEGER,"
                        " count INTEGER NOT NULL, expires REAL NOT NULL,"
                        " PRIMARY KEY (key, window)) WITHOUT ROWID"
                    )
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS read_pins (key TEXT PRIMARY KEY,"
                        " until REAL NOT NULL) WITHOUT ROWID"
                    )
                    break
                except sqlite3.OperationalError:  # another process is setting it up
                    if attempt == SETUP_ATTEMPTS - 1:
                        db.close()
                        raise
                    time.sleep(0.05 * (attempt + 1))
            self._local.db = db
            self._local.next_purge = 0.0
        return db

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")  # read, check and count as one step across processes
        try:
            result = self._hit(db, key, limit, duration, now)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _hit(self, db, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        window = int(now // duration)
        counts = dict(
            db.execute(
                "SELECT window, count FROM throttle_counts WHERE key = ? AND window >= ?",
                (key, window - 1),
            ).fetchall()
        )
        previous, current = counts.get(window - 1, 0), counts.get(window, 0)
        wait = _refusal(previous, current, window, duration, limit, now)
        if wait is not None:
            return False, wait
        db.execute(
            "INSERT INTO throttle_counts VALUES (?, ?, 1, ?) ON CONFLICT (key, window)"
            " DO UPDATE SET count = count + 1",
            (key, window, (window + 2) * duration),
        )
        if now >= self._local.next_purge:
            db.execute("DELETE FROM throttle_counts WHERE expires <= ?", (now,))
            db.execute("DELETE FROM read_pins WHERE until <= ?", (now,))
            self._local.next_purge = now + PURGE_SECONDS
        return True, 0.0

    def pin(self, key: str, seconds: float, now: float) -> None:
        self._connection().execute(
            "INSERT INTO read_pins VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET until = max(until, excluded.until)",
            (key, now + seconds),
        )

    def pinned(self, key: str, now: float) -> bool:
        row = (
            self._connection()
            .execute("SELECT until FROM read_pins WHERE key = ?", (key,))
            .fetchone()
        )
        return row is not None and row[0] > now

    def clear(self) -> None:
        db = self._connection()
        db.execute("DELETE FROM throttle_counts")
        db.execute("DELETE FROM read_pins")

    def windows_kept(self) -> int:
        return self._connection().execute("SELECT count(*) FROM throttle_counts").fetchone()[0]

    def disconnect(self) -> None:
        """Close this thread's connection: the next hit opens the file afresh."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.close()


class RedisStore:
    """The counts and pins of every host that shares one Redis. A count is a key per client,
    scope and window, counted with ``INCR`` and given its expiry in the same ``MULTI``; a
    refused request gives its count back (``DECR``), so it is not counted, as in the other
    stores. A pin is a key that expires when the pin ends."""

    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.prefix = f"{prefix}throttle:"
        self.pin_prefix = f"{prefix}pin:"
        kwargs = self.client.connection_pool.connection_kwargs
        self.name = f"redis://{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"

    def _key(self, key: str, window: int) -> str:
        return f"{self.prefix}{key}:{window}"

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        window = int(now // duration)
        current = self._key(key, window)
        # Kept while it is this window or the previous one: up to two periods from its start.
        lifetime = max(math.ceil((window + 2) * duration - now), 1)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._key(key, window - 1))
        pipe.incr(current)
        pipe.expire(current, lifetime)
        previous, counted, _ = pipe.execute()
        wait = _refusal(int(previous or 0), counted - 1, window, duration, limit, now)
        if wait is None:
            return True, 0.0
        self.client.decr(current)
        return False, wait

    def pin(self, key: str, seconds: float, now: float) -> None:
        # A later pin of the same key replaces the earlier one: pins only ever get longer
        # here, since every pin of a deployment lasts the same time.
        self.client.set(f"{self.pin_prefix}{key}", 1, px=max(int(seconds * 1000), 1))

    def pinned(self, key: str, now: float) -> bool:
        return bool(self.client.exists(f"{self.pin_prefix}{key}"))

    def _keys(self, prefix=None):
        return self.client.scan_iter(match=f"{prefix or self.prefix}*", count=1000)

    def clear(self) -> None:
        for prefix in (self.prefix, self.pin_prefix):
            for key in self._keys(prefix):
                self.client.delete(key)

    def windows_kept(self) -> int:
        return sum(1 for _ in self._keys())

    def disconnect(self) -> None:
        self.client.connection_pool.disconnect()


class FailSafeStore:
    """A shared store, and this process's own counts while the store fails: a limit that
    cannot be shared is still a limit (per process, so at most workers x the rate)."""

    def __init__(self, store: "SQLiteStore | RedisStore"):
        self.store = store
        self.fallback = MemoryStore()
        self._retry_at = 0.0  # time.monotonic() at which the store is tried again

    @property
    def failing(self) -> bool:
        return time.monotonic() < self._retry_at

    def _failed(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
        self.store.disconnect()
        THROTTLE_STORE_ERRORS.inc()
        logger.warning(
            "throttle counts store %s failed, counting in this process for %d s: %s",
            self.store.name,
            STORE_RETRY_SECONDS,
            exc,
        )

    def _attempt(self, operation: Callable[[], T], otherwise: Callable[[], T]) -> T:
        """``operation`` on the shared store; ``otherwise`` while the store fails, and when
        this try of it fails."""
        if not self.failing:
            try:
                return operation()
            except STORE_ERRORS as exc:
                self._failed(exc)
        return otherwise()

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        return self._attempt(
            lambda: self.store.hit(key, limit, duration, now),
            lambda: self.fallback.hit(key, limit, duration, now),
        )

    def pin(self, key: str, seconds: float, now: float) -> None:
        # While the store fails every reader counts as pinned: nothing to remember.
        self._attempt(lambda: self.store.pin(key, seconds, now), lambda: None)

    def pinned(self, key: str, now: float) -> bool:
        # A pin that cannot be read may exist: read from the primary.
        return self._attempt(lambda: self.store.pinned(key, now), lambda: True)

    def clear(self) -> None:
        self.fallback.clear()
        self._retry_at = 0.0
        self.store.clear()

    def windows_kept(self) -> int:
        return self.store.windows_kept()


_stores: dict[tuple, "MemoryStore | FailSafeStore"] = {}
_stores_lock = threading.Lock()


def _new_store(redis_url: str | None, prefix: str, cache_dir: str | None):
    if redis_url is not None:
        return FailSafeStore(RedisStore(redis_url, prefix))
    if cache_dir is not None:
        return FailSafeStore(SQLiteStore(settings.BASE_DIR / cache_dir / "throttle.sqlite3"))
    return MemoryStore()


def shared_state():
    """The store the settings name (``REDIS_URL``, else ``CACHE_DIR``, else memory): settings,
    so tests may change them."""
    where = (settings.REDIS_URL, settings.REDIS_KEY_PREFIX, settings.CACHE_DIR)
    store = _stores.get(where)
    if store is None:
        with _stores_lock:
            store = _stores.get(where)
            if store is None:
                store = _stores[where] = _new_store(*where)
    return store
