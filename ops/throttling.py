"""Rate limits per client address (DRF throttling) on the endpoints anyone can call.

DRF's own throttles keep a list of timestamps per client in Django's cache, read and written
whole on every request. Shared between gunicorn's workers through a file cache that cost about
0.25 ms a request (a third of a token refresh), and in each worker's memory it let a client
have workers x the rate. Here the count is a sliding window of two fixed windows (the
previous window's count weighted by how much of it still overlaps, plus the current one's),
two integers per client and scope, kept in Redis when ``REDIS_URL`` is set (every host that
uses it shares the limit), else in a SQLite file in ``CACHE_DIR`` that every worker of the
host shares (one short ``IMMEDIATE`` transaction a request, about 15 µs), else in the
process's memory (runserver, the tests).

A store that fails (a corrupt, unwritable or locked file) never means no limit: the process
counts on its own (``FailSafeCounts``) with a warning and the metric
``journal_throttle_store_errors_total``, and tries the store again after
``STORE_RETRY_SECONDS``. A client is its address, an IPv6 one its /64 (``client_ident``): a
host is given a /64, so counting single IPv6 addresses would give it 2**64 rates.
"""

import ipaddress
import logging
import math
import sqlite3
import threading
import time
from pathlib import Path

import redis
from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from ops.metrics import THROTTLE_STORE_ERRORS

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


class MemoryCounts:
    """The counts of one process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], tuple[int, float]] = {}
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
                self._next_purge = now + PURGE_SECONDS
        return True, 0.0

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def windows_kept(self) -> int:
        with self._lock:
            return len(self._counts)


class SQLiteCounts:
    """The counts of every process of the host, in one SQLite file."""

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
            self._local.next_purge = now + PURGE_SECONDS
        return True, 0.0

    def clear(self) -> None:
        self._connection().execute("DELETE FROM throttle_counts")

    def windows_kept(self) -> int:
        return self._connection().execute("SELECT count(*) FROM throttle_counts").fetchone()[0]

    def disconnect(self) -> None:
        """Close this thread's connection: the next hit opens the file afresh."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.close()


class RedisCounts:
    """The counts of every host that shares one Redis: a key per client, scope and window,
    counted with ``INCR`` and given its expiry in the same ``MULTI``; a refused request gives
    its count back (``DECR``), so it is not counted, as in the other stores."""

    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.prefix = f"{prefix}throttle:"
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

    def _keys(self):
        return self.client.scan_iter(match=f"{self.prefix}*", count=1000)

    def clear(self) -> None:
        for key in self._keys():
            self.client.delete(key)

    def windows_kept(self) -> int:
        return sum(1 for _ in self._keys())

    def disconnect(self) -> None:
        self.client.connection_pool.disconnect()


class FailSafeCounts:
    """A shared store, and this process's own counts while the store fails: a limit that
    cannot be shared is still a limit (per process, so at most workers x the rate)."""

    def __init__(self, store: SQLiteCounts | RedisCounts):
        self.store = store
        self.fallback = MemoryCounts()
        self._retry_at = 0.0  # time.monotonic() at which the store is tried again

    @property
    def failing(self) -> bool:
        return time.monotonic() < self._retry_at

    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        if not self.failing:
            try:
                return self.store.hit(key, limit, duration, now)
            except STORE_ERRORS as exc:
                self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
                self.store.disconnect()
                THROTTLE_STORE_ERRORS.inc()
                logger.warning(
                    "throttle counts store %s failed, counting in this process for %d s: %s",
                    self.store.name,
                    STORE_RETRY_SECONDS,
                    exc,
                )
        return self.fallback.hit(key, limit, duration, now)

    def clear(self) -> None:
        self.fallback.clear()
        self._retry_at = 0.0
        self.store.clear()

    def windows_kept(self) -> int:
        return self.store.windows_kept()


_stores: dict[tuple, MemoryCounts | FailSafeCounts] = {}
_stores_lock = threading.Lock()


def _new_store(redis_url: str | None, prefix: str, cache_dir: str | None):
    if redis_url is not None:
        return FailSafeCounts(RedisCounts(redis_url, prefix))
    if cache_dir is not None:
        return FailSafeCounts(SQLiteCounts(settings.BASE_DIR / cache_dir / "throttle.sqlite3"))
    return MemoryCounts()


def counts():
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


def client_ident(request) -> str:
    """Who a request counts against when no user is known: the client's address as DRF's
    throttles see it (``NUM_PROXIES``), an IPv6 address as its /64 and an IPv4-mapped one as
    the IPv4 address."""
    ident = BaseThrottle().get_ident(request)
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return ident
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ident


class ClientAddressThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with its counts kept as above: a view's
    ``throttle_scope`` names its rate in ``settings.THROTTLE_RATES``, counted per user when the
    request is authenticated and else per client (``client_ident``). The rates are read on each
    request, not once at import as DRF's own class does, so a changed setting applies at once;
    over the rate, DRF answers 429 with ``Retry-After``."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (the name DRF looks up)
        return settings.THROTTLE_RATES

    def get_ident(self, request):
        return client_ident(request)

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, self._wait_seconds = counts().hit(
            key, self.num_requests, self.duration, self.timer()
        )
        return allowed

    def wait(self):
        # At least one second: Retry-After is whole seconds, and 0 would invite a retry storm.
        return max(math.ceil(self._wait_seconds), 1)


class UserWriteThrottle(ClientAddressThrottle):
    """The same, for the writes (unsafe methods) of a view whose reads are not limited: a
    journal's writes per user (``throttle_scope = "write"``)."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
