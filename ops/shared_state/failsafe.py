"""A shared store, and this process's own counts while the store fails."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ops.metrics import THROTTLE_STORE_ERRORS
from ops.shared_state.base import SharedState
from ops.shared_state.memory import MemoryStore

T = TypeVar("T")

logger = logging.getLogger(__name__)

# After the store failed, a process counts on its own this long before trying it again.
STORE_RETRY_SECONDS = 30


class FailSafeStore(SharedState):
    """A shared store, and this process's own counts while the store fails: a limit that
    cannot be shared is still a limit (per process, so at most workers x the rate)."""

    def __init__(self, store: SharedState):
        self.store = store
        self.name = store.name
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
            except self.store.errors as exc:
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
