"""The ``DATABASES`` entries, built from ``DATABASE_URL`` (or the SQLite default) and
``DATABASE_REPLICA_URLS``."""

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import dj_database_url
from dj_database_url import DBConfig
from django.db import DEFAULT_DB_ALIAS

from config.env import ConfigError
from ops.databases import (
    DB_REPLICA_PREFIX,
    POOLER_NONE,
    POOLER_PGBOUNCER,
    SQLITE_ENGINE,
    sqlite_config,
)

# A lost pooled connection is retried for as long as a request waits for one, plus this.
RECONNECT_GRACE_SECONDS = 2
# Seconds a request waits for a connection from a replica's pool before reading from default.
REPLICA_POOL_TIMEOUT_SECONDS = 2
# libpq's connect_timeout for a connection opened without the pool (commands): its smallest
# useful value, so a database that does not answer fails a command within about 3 s.
DIRECT_CONNECT_TIMEOUT_SECONDS = 2


POSTGRES_ENGINE = "django.db.backends.postgresql"
# django-prometheus's wrappers of the same backends: they count connections, queries, query
# durations and errors per alias (dj-database-url cannot name them, so they are swapped in).
# SQLite's also creates the database file readable by its owner only (ops/backends/sqlite3).
INSTRUMENTED_ENGINES = {
    POSTGRES_ENGINE: "django_prometheus.db.backends.postgresql",
    SQLITE_ENGINE: "ops.backends.sqlite3",
}


# libpq's target_session_attrs. With several hosts, DATABASE_URL needs one that skips a
# standby: libpq then tries the hosts in order and keeps the first that accepts writes.
SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
WRITABLE_SESSION_ATTRS = ("read-write", "primary")
# One entry of a libpq host list: a name, an address or a bracketed IPv6 address, and a port.
_HOST_ENTRY = re.compile(r"(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?")


def split_hosts(url: str, variable: str) -> tuple[str, str, str] | None:
    """For a URL listing several ``host:port`` pairs (libpq's form,
    ``postgres://u@h1:5432,h2:5433/db``): the same URL with its first host only (what
    dj-database-url can parse), and ``HOST`` and ``PORT`` as libpq lists (``"h1,h2"``,
    ``"5432,5433"``; an empty port is libpq's default). ``None`` for a URL with one host."""
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    if "," not in hostlist:
        return None
    entries: list[re.Match[str]] = []
    for number, entry in enumerate(hostlist.split(","), start=1):
        match = _HOST_ENTRY.fullmatch(entry)
        if match is None or match["host"] in ("", "[]"):
            raise ConfigError(f"{variable}: host {number} of {hostlist!r} is empty or malformed")
        port = match["port"] or ""
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(f"{variable}: host {number} of {hostlist!r} has a bad port {port!r}")
        entries.append(match)
    hosts = ",".join(unquote(match["host"].strip("[]")) for match in entries)
    ports = [match["port"] or "" for match in entries]
    netloc = f"{userinfo}{at}{entries[0]['host']}"
    single = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return single, hosts, ",".join(ports) if any(ports) else ""


def postgres_config(
    url: str,
    *,
    pool_max: int,
    statement_timeout_ms: int,
    pool_timeout: int = 10,
    variable: str = "DATABASE_URL",
    pooler: str = POOLER_NONE,
    writable: bool = True,
    pooled: bool = True,
) -> DBConfig:
    """PostgreSQL through psycopg 3 with Django's native pool and a statement timeout.

    Behind PgBouncer (``pooler="pgbouncer"``) nothing may rely on a server session: the
    timeout is PgBouncer's to set on every server connection (``ops.pooler`` checks it)
    instead of a startup parameter, and querysets' ``iterator()`` uses client-side cursors
    (a named cursor would outlive its transaction's server connection).

    Several hosts (``postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write``) follow
    a failover: every connection the pool opens goes to whichever host accepts writes now.
    ``writable=False`` (a read replica) lets several hosts go without that attribute.

    ``pooled=False`` (management commands, ``DB_POOL=0``): each connection is opened directly,
    so an unreachable or missing database fails the first query at once with the server's
    reason, instead of after the pool's timeout and its retries' warnings."""
    try:
        several = split_hosts(url, variable)
        cfg = dj_database_url.parse(several[0] if several else url)
    except ValueError as exc:
        raise ConfigError(f"{variable} is not a database URL: {exc}") from None
    if cfg.get("ENGINE") != POSTGRES_ENGINE:
        raise ConfigError(f"{variable} must be a postgres:// or postgresql:// URL")
    if not cfg.get("NAME"):
        raise ConfigError(f"{variable} must name a database (postgres://host/NAME)")
    options = cfg.setdefault("OPTIONS", {})
    attrs = options.get("target_session_attrs")
    if attrs is not None and attrs not in SESSION_ATTRS:
        raise ConfigError(
            f"{variable}: target_session_attrs must be one of {', '.join(SESSION_ATTRS)}"
        )
    if several:
        # libpq (so psycopg) takes the lists as they are: host="h1,h2" port="5432,5433".
        cfg["HOST"], cfg["PORT"] = several[1], several[2]
        if writable and attrs not in WRITABLE_SESSION_ATTRS:
            raise ConfigError(
                f"{variable} lists several hosts: add ?target_session_attrs=read-write, or "
                "the app may connect to a standby and fail every write"
            )
    if pooler == POOLER_PGBOUNCER:
        cfg["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # Applied by the server to every connection the pool opens.
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    # A connection not answered this fast is a failure (a command's within about 3 s).
    options.setdefault("connect_timeout", 5 if pooled else DIRECT_CONNECT_TIMEOUT_SECONDS)
    # A pool needs persistent connections off: the pool keeps them instead. A command's
    # connections are closed when it ends.
    cfg["CONN_MAX_AGE"] = 0
    if not pooled:
        return cfg
    # A request waits at most pool_timeout seconds for a connection, then answers 503.
    options["pool"] = {
        "min_size": 1,
        "max_size": pool_max,
        "timeout": pool_timeout,
        # A lost connection is retried with a growing delay (1, 2, 4 s, ...) for this long,
        # then the next request starts again at once. psycopg_pool's default (300 s) lets the
        # delay grow to minutes, so after a failover the pool would find the new primary long
        # after it accepts writes; this way it tries again at least every few seconds. The
        # grace lets a request that gave up answer (a command print why) before the pool
        # logs that it gave up too.
        "reconnect_timeout": pool_timeout + RECONNECT_GRACE_SECONDS,
    }
    # The pool checks a connection when it hands it out (one round trip) and replaces a dead
    # one: after a database restart or failover, idle pooled connections are all dead, and
    # without the check each would fail one request before the pool noticed.
    cfg["CONN_HEALTH_CHECKS"] = True
    return cfg


def database_config(
    url: str | None,
    *,
    sqlite_path: Path,
    pool_max: int,
    statement_timeout_ms: int,
    pool_timeout: int = 10,
    pooler: str = POOLER_NONE,
    pooled: bool = True,
) -> DBConfig:
    if url is None:  # DB_POOLER says what a PostgreSQL URL points at: SQLite has none
        return sqlite_config(sqlite_path)
    return postgres_config(
        url,
        pool_max=pool_max,
        statement_timeout_ms=statement_timeout_ms,
        pool_timeout=pool_timeout,
        pooler=pooler,
        pooled=pooled,
    )


def replica_configs(
    urls: list[str], *, pool_max: int, statement_timeout_ms: int, pooled: bool = True
) -> dict[str, DBConfig]:
    """``replica_1``, ``replica_2``, ... for the PostgreSQL read replicas, with the same pool
    size and statement timeout as ``default`` (but a short wait for a connection). In tests
    each one mirrors ``default``: a replica is read-only, so the test runner must not try to
    create a test database on it."""
    replicas = {}
    for number, url in enumerate(urls, start=1):
        alias = f"{DB_REPLICA_PREFIX}{number}"
        cfg = postgres_config(
            url,
            pool_max=pool_max,
            statement_timeout_ms=statement_timeout_ms,
            variable=f"DATABASE_REPLICA_URLS (replica {number})",
            writable=False,
            pooled=pooled,
        )
        if pooled:
            # Waiting long for a replica's connection makes no sense: the router reads from
            # default instead (config/routers.py).
            cfg["OPTIONS"]["pool"]["timeout"] = REPLICA_POOL_TIMEOUT_SECONDS
        cfg["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        replicas[alias] = cfg
    return replicas


def instrumented(cfg: DBConfig) -> DBConfig:
    """The same database through its django-prometheus wrapper (``INSTRUMENTED_ENGINES``)."""
    return {**cfg, "ENGINE": INSTRUMENTED_ENGINES.get(cfg["ENGINE"], cfg["ENGINE"])}
