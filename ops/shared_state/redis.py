"""The counts and pins of every host that shares one Redis (``REDIS_URL``)."""

import math

import redis

from ops.shared_state.base import SharedState
from ops.shared_state.window import refusal

# A request waits at most this long for Redis (connecting, or an answer) before the process
# counts on its own.
REDIS_TIMEOUT_SECONDS = 0.5


class RedisStore(SharedState):
    """The counts and pins of every host that shares one Redis. A count is a key per client,
    scope and window, counted with ``INCR`` and given its expiry in the same ``MULTI``; a
    refused request gives its count back (``DECR``), so it is not counted, as in the other
    stores. A pin is a key that expires when the pin ends."""

    # Unreachable, too slow, or refusing (out of memory, a read-only replica, auth).
    errors = (redis.RedisError, OSError)

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
        wait = refusal(int(previous or 0), counted - 1, window, duration, limit, now)
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
