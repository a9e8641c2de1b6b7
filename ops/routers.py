"""The database router.

Writes always go to ``default``. Reads go to a read replica (``DATABASE_REPLICA_URLS``, the
aliases in ``settings.DATABASE_REPLICAS``) unless that could show stale data:

- after a write in the same scope (read-your-writes): a request is one scope
  (``DatabaseRoutingMiddleware`` below); outside a request (a management command,
  a shell), the first write keeps the rest of that thread on ``default``;
- inside a transaction on ``default`` (``atomic()``): its reads must see its own writes and
  its locks;
- across requests: for ``REPLICA_PIN_SECONDS`` after a request of a user wrote, that user's
  requests read from ``default`` (``ops.pinning``).

A scope picks one replica and keeps it, so its reads see one consistent state. A replica that
does not answer, or cannot give a connection within its pool's short timeout, is skipped
(reads fall back to ``default``) and is tried again ``REPLICA_RETRY_SECONDS`` later.

Only ``default`` is migrated here; replicas never are (they replay the primary's changes).
The copy's own aliases are its router's business (``dbcopy.routers``, after this one).
"""

import contextlib
import logging
import random
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from ops.pinning import pin_reader, reader_scope, reads_pinned
from ops.text import first_line

logger = logging.getLogger(__name__)

# A replica found up is probed again after this long; one found down is skipped for as long.
REPLICA_RECHECK_SECONDS = 10
REPLICA_RETRY_SECONDS = 30


@dataclass
class _Scope:
    wrote: bool = False
    replica: str | None = None


_scope: ContextVar[_Scope | None] = ContextVar("database_routing_scope", default=None)


@contextmanager
def routing_scope():
    """A unit of read-your-writes: reads may use a replica until the first write in it."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def _current_scope() -> _Scope:
    scope = _scope.get()
    if scope is None:
        scope = _Scope()
        _scope.set(scope)
    return scope


class ReplicaHealth:
    """Whether each replica answers, per process: a short probe, remembered for a while
    (``REPLICA_RECHECK_SECONDS`` when up, ``REPLICA_RETRY_SECONDS`` when down), and any failure
    to get a connection from its pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[bool, float]] = {}

    def is_up(self, alias: str) -> bool:
        with self._lock:
            known = self._known.get(alias)
        if known is not None and time.monotonic() < known[1]:
            return known[0]
        from ops.health import probe_database  # the probe needs Django's connections

        reason = probe_database(alias)
        if reason is None:
            self._record(alias, up=True, previous=known)
        else:
            self.mark_down(alias, reason)
        return reason is None

    def mark_down(self, alias: str, reason: str) -> None:
        with self._lock:
            known = self._known.get(alias)
        self._record(alias, up=False, previous=known, reason=reason)

    def _record(self, alias, *, up, previous, reason=None) -> None:
        until = time.monotonic() + (REPLICA_RECHECK_SECONDS if up else REPLICA_RETRY_SECONDS)
        with self._lock:
            self._known[alias] = (up, until)
        if previous is not None and previous[0] == up:
            return
        from ops.metrics import set_replica_up

        set_replica_up(alias, up)
        if up:
            logger.info("read replica %s is up", alias, extra={"alias": alias})
            return
        logger.warning(
            "read replica %s is down, reading from %s for %s s: %s",
            alias,
            DEFAULT_DB_ALIAS,
            REPLICA_RETRY_SECONDS,
            reason,
            extra={"alias": alias},
        )
        # Stop the pool retrying in the background; a new one is made when the replica is
        # back and chosen again.
        with contextlib.suppress(Exception):
            connections[alias].close_pool()  # type: ignore[attr-defined]  # not in django-stubs 5.2

    def forget(self) -> None:
        with self._lock:
            self._known.clear()


def _usable(alias: str) -> bool:
    """The replica answers, and this thread has (or just got) a connection to it: a replica
    that died since its last probe is found here, before any query is sent to it."""
    if not replica_health.is_up(alias):
        return False
    wrapper = connections[alias]
    if wrapper.connection is not None:
        return True
    try:
        wrapper.ensure_connection()
    except Exception as exc:  # any failure to connect means "skip it"
        replica_health.mark_down(alias, first_line(exc))
        return False
    return True


replica_health = ReplicaHealth()


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        replicas = replica_aliases()
        if not replicas:
            return DEFAULT_DB_ALIAS
        scope = _current_scope()
        if scope.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block or reads_pinned():
            return DEFAULT_DB_ALIAS
        if scope.replica in replicas and _usable(scope.replica):
            return scope.replica
        # Spread scopes over the replicas; take the first one that is usable.
        for alias in random.sample(replicas, len(replicas)):
            if _usable(alias):
                scope.replica = alias
                return alias
        scope.replica = None
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        _current_scope().wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as default: objects read from either may be related.
        same_data = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return obj1._state.db == obj2._state.db or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        model = hints.get("model")
        if model is not None and not model._meta.managed:
            # The server's own views (ops.ServerSetting): no table of ours, so never dumped
            # or loaded (dumpdata and loaddata ask the router, not Meta.managed).
            return False
        if db == DEFAULT_DB_ALIAS:
            return True
        if db in replica_aliases():
            return False
        return None  # the copy's aliases: dbcopy.routers


class DatabaseRoutingMiddleware:
    """Each request is one read-your-writes scope for the database router: once it has
    written, its reads stay on ``default``, and so do its user's next requests for
    ``REPLICA_PIN_SECONDS`` (with replicas only: without them every read is on ``default``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with routing_scope(), reader_scope():
            response = self.get_response(request)
            if replica_aliases() and _current_scope().wrote:
                pin_reader()
            return response
