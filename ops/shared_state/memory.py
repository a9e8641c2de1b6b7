"""The counts and pins of one process (runserver, the tests, and a failing store's fallback)."""

import threading

from ops.shared_state.base import PURGE_SECONDS, SharedState
from ops.shared_state.window import refusal


class MemoryStore(SharedState):
    """The counts and pins of one process."""

    name = "memory"

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
            wait = refusal(previous, current, window, duration, limit, now)
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
