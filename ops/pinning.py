"""Read-your-writes across requests: once a request acting for a user has written, that
user's reads stay on the primary for ``REPLICA_PIN_SECONDS``, so the next request (a list
after a create, an access token right after its login) never reads a replica that has not
replayed the write yet. The pins are shared state (``ops.shared_state``): in Redis across
hosts when ``REDIS_URL`` is set, else across the workers of a host; a pin that cannot be read
counts as set.

The router asks ``reads_pinned()``; whoever learns who a request acts for says so with
``identify_reader()`` (the access token's authentication, sign-in, refresh), before the
request's first read of that user's data; the routing middleware calls ``pin_reader()`` when
a request that wrote ends.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from ops.shared_state import shared_state

# The clock pins are set and read by (tests move it).
clock = time.time

_reader: ContextVar[str | None] = ContextVar("journal_reader", default=None)
_pinned: ContextVar[bool | None] = ContextVar("journal_reader_pinned", default=None)


@contextmanager
def reader_scope():
    """One request: nobody identified yet."""
    reader, pinned = _reader.set(None), _pinned.set(None)
    try:
        yield
    finally:
        _pinned.reset(pinned)
        _reader.reset(reader)


def identify_reader(user_id) -> None:
    """The current request acts for this user."""
    _reader.set(f"user:{user_id}")
    _pinned.set(None)


def reads_pinned() -> bool:
    """True while the current request's user wrote within ``REPLICA_PIN_SECONDS`` (asked of
    the store once per request)."""
    reader = _reader.get()
    if reader is None:
        return False
    pinned = _pinned.get()
    if pinned is None:
        pinned = shared_state().pinned(reader, clock())
        _pinned.set(pinned)
    return pinned


def pin_reader() -> None:
    """The current request wrote: its user's reads stay on the primary for a while."""
    reader = _reader.get()
    if reader is not None and settings.REPLICA_PIN_SECONDS > 0:
        shared_state().pin(reader, settings.REPLICA_PIN_SECONDS, clock())
