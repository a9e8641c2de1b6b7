"""Short-lived state that the processes of a host, or several hosts, share: throttle counts
(``hit``) and read pins (``pin``/``pinned``, read-your-writes across requests).

Kept in Redis when ``REDIS_URL`` is set (every host that uses it shares it,
``ops.shared_state.redis``), else in a SQLite file in ``CACHE_DIR`` that every worker of the
host shares (one short ``IMMEDIATE`` transaction a request, about 15 µs,
``ops.shared_state.sqlite``), else in the process's memory (runserver, the tests,
``ops.shared_state.memory``). Each store is a ``SharedState`` (``ops.shared_state.base``).

A count is a sliding window of two fixed windows (``ops.shared_state.window``): two integers
per client and scope. A pin is a key and the time it ends.

A store that fails (a corrupt, unwritable or locked file; Redis unreachable or slow) never
means no limit: the process counts on its own (``ops.shared_state.failsafe``) with a warning
and the metric ``journal_throttle_store_errors_total``, and tries the store again after
``STORE_RETRY_SECONDS``. Pins fail safe the other way: while the store fails, every reader
counts as pinned (reads go to the primary).
"""

import threading

from django.conf import settings

from ops.shared_state.base import SharedState
from ops.shared_state.failsafe import FailSafeStore
from ops.shared_state.memory import MemoryStore
from ops.shared_state.redis import RedisStore
from ops.shared_state.sqlite import SQLiteStore

_stores: dict[tuple, SharedState] = {}
_stores_lock = threading.Lock()


def _new_store(redis_url: str | None, prefix: str, cache_dir: str | None) -> SharedState:
    if redis_url is not None:
        return FailSafeStore(RedisStore(redis_url, prefix))
    if cache_dir is not None:
        return FailSafeStore(SQLiteStore(settings.BASE_DIR / cache_dir / "throttle.sqlite3"))
    return MemoryStore()


def shared_state() -> SharedState:
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
