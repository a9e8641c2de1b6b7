"""What every shared-state store does (as Django's ``SessionBase`` states what every session
backend does): count a hit against a limit, pin a reader, tell whether a reader is pinned;
and, for the tests and the purge, clear everything and count the windows kept."""

from abc import ABC, abstractmethod

# Expired windows are deleted this often (per process), by the stores that purge themselves.
PURGE_SECONDS = 60


class SharedState(ABC):
    #: Where the store keeps its state, for the logs.
    name: str
    #: The errors that mean the store cannot count now (``FailSafeStore`` catches them).
    errors: tuple[type[Exception], ...] = ()

    @abstractmethod
    def hit(self, key: str, limit: int, duration: int, now: float) -> tuple[bool, float]:
        """Count one request of ``key`` if it fits under ``limit`` per ``duration`` seconds
        (a sliding window, ``ops.shared_state.window``): ``(True, 0.0)``; else, uncounted,
        ``(False, seconds until one fits)``."""

    @abstractmethod
    def pin(self, key: str, seconds: float, now: float) -> None:
        """``key`` is pinned for ``seconds`` from ``now`` (a pin never gets shorter)."""

    @abstractmethod
    def pinned(self, key: str, now: float) -> bool:
        """Whether ``key`` is pinned at ``now``."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every count and every pin."""

    @abstractmethod
    def windows_kept(self) -> int:
        """How many windows of counts the store holds (the purge keeps it small)."""

    def disconnect(self) -> None:  # noqa: B027 (a store without connections has nothing to do)
        """Drop this process's connections: the next use opens them afresh."""
