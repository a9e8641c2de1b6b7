"""Running behind PgBouncer in transaction mode (``DB_POOLER=pgbouncer``).

PgBouncer refuses the startup parameter that carries ``statement_timeout`` to the server, and
hands each transaction whichever server connection is free, so a session ``SET`` would land
on one connection and not the next. The timeout therefore has to be what every server
connection starts with: PgBouncer's ``connect_query`` on the database's line of
pgbouncer.ini (or a setting of the role in the database, given by its owner). That is the
operator's configuration, not the app's; the app reads what the server connection it is
given has in force (``pg_settings``) and says when it is not ``DB_STATEMENT_TIMEOUT_MS``: in
gunicorn's log at start and as the system check ``ops.W002`` (``manage.py check --database
default``, ``migrate``).
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from ops.databases import POOLER_PGBOUNCER
from ops.health import probe_database
from ops.models import ServerSetting


def statement_timeout_in_force(alias: str = DEFAULT_DB_ALIAS) -> int:
    """The ``statement_timeout`` of the server connection ``alias`` is given, in ms."""
    setting = (
        ServerSetting.objects.using(alias)
        .values_list("setting", flat=True)
        .get(name="statement_timeout")
    )
    return int(setting)  # pg_settings keeps it in its unit, ms


def statement_timeout_problem(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Behind PgBouncer, one line saying that the server's ``statement_timeout`` is not
    ``DB_STATEMENT_TIMEOUT_MS`` and where to set it, or ``None``. Straight to PostgreSQL the
    timeout is a startup parameter of every connection, so nothing can differ; an unreachable
    server is the readiness probe's business, not this check's."""
    if settings.DB_POOLER != POOLER_PGBOUNCER or connections[alias].vendor != "postgresql":
        return None
    if probe_database(alias) is not None:
        return None
    try:
        in_force = statement_timeout_in_force(alias)
    except Exception:  # noqa: BLE001 (gone since the probe: /readyz reports it)
        return None
    finally:
        # Outside any request (gunicorn's start) nothing gives the connection back to the
        # pool: a pool of one would be empty for good.
        if not connections[alias].in_atomic_block:
            connections[alias].close()
    wanted = settings.DB_STATEMENT_TIMEOUT_MS
    if in_force == wanted:
        return None
    server = f"{in_force} ms" if in_force else "none"
    return (
        f"statement timeout: the server's is {server} behind PgBouncer, DB_STATEMENT_TIMEOUT_MS "
        f"is {wanted}; set connect_query='SET statement_timeout = {wanted}' on the database's "
        "line in pgbouncer.ini"
    )
