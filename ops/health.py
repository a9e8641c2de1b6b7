"""Liveness and readiness: ``/healthz`` (the process answers) and ``/readyz`` (the database
answers within a short timeout and every migration is applied).

``probe_database`` is also how the router decides that a read replica is down.
"""

import functools
import logging

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.responses import error_body
from ops.text import first_line

logger = logging.getLogger(__name__)

# libpq counts connect_timeout in whole seconds and treats anything below 2 as 2.
PROBE_TIMEOUT_SECONDS = 2
# Keys of Django's connection parameters that are psycopg options, not libpq's.
_NOT_LIBPQ = frozenset(
    {"context", "cursor_factory", "prepare_threshold", "server_side_binding", "pool"}
)


def direct_connection(alias: str, *, timeout: int = PROBE_TIMEOUT_SECONDS) -> psycopg.Connection:
    """A connection of its own (not from the pool) to the PostgreSQL server of ``alias``, in
    autocommit, that gives up connecting after ``timeout`` seconds."""
    params = {
        key: value
        for key, value in connections[alias].get_connection_params().items()
        if key not in _NOT_LIBPQ
    }
    params["connect_timeout"] = timeout
    return psycopg.connect(**params, autocommit=True)


def probe_database(alias: str, *, timeout: int = PROBE_TIMEOUT_SECONDS) -> str | None:
    """``None`` if the database of ``alias`` answers ``SELECT 1`` within ``timeout`` seconds,
    else the reason in one line.

    PostgreSQL is asked on a connection of its own rather than one from the pool: a pool that
    cannot connect keeps its callers waiting for its whole checkout timeout (10 s) before it
    gives up, while a refused or timed-out connection fails at once. With several hosts in
    DATABASE_URL libpq tries each in turn (``timeout`` each), so with
    ``target_session_attrs=read-write`` the answer is whether any host accepts writes now.
    The query is what reaches PostgreSQL behind PgBouncer, which accepts connections itself."""
    wrapper = connections[alias]
    try:
        if wrapper.vendor == "postgresql":
            with direct_connection(alias, timeout=timeout) as conn:
                conn.execute("SELECT 1")
        else:
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not reachable": the reason is reported
        return first_line(exc)
    return None


@functools.cache
def migrations_on_disk() -> tuple[tuple[str, str], ...]:
    """Every migration of the code this process runs, in the order they apply: read from
    disk once per process (the code does not change under a running process)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    plan = (node for leaf in sorted(graph.leaf_nodes()) for node in graph.forwards_plan(leaf))
    return tuple(dict.fromkeys(plan))


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """``app.migration`` names that exist on disk but are not applied to ``alias``: one query
    of the applied ones against the graph loaded once."""
    applied = MigrationRecorder(connections[alias]).applied_migrations()
    return [f"{app}.{name}" for app, name in migrations_on_disk() if (app, name) not in applied]


def readiness_problem() -> tuple[str, str] | None:
    """``(code, detail)`` of the first reason not to send traffic here, or ``None``. The
    answer names no host or port (a probe is public); the reason goes to the log."""
    reason = probe_database(DEFAULT_DB_ALIAS)
    if reason is None:
        try:
            pending = unapplied_migrations(DEFAULT_DB_ALIAS)
        except DatabaseError as exc:
            reason = first_line(exc)
    if reason is not None:
        logger.warning("not ready, the database is unreachable: %s", reason)
        return "database_unavailable", "The database is unreachable."
    if pending:
        shown = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
        return "migrations_pending", f"{len(pending)} migration(s) not applied: {shown}"
    return None


class HealthView(APIView):
    """The process is up and serving. Touches nothing else, so a database outage never makes
    the orchestrator restart healthy processes."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessView(APIView):
    """Ready for traffic: the database answers within a short timeout and is migrated."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        problem = readiness_problem()
        if problem is not None:
            code, detail = problem
            return Response(error_body(detail, code), status=503)
        return Response({"status": "ready"})
