"""The connection budget of a server: gunicorn's workers each open up to ``DB_POOL_MAX``
connections to PostgreSQL, which allows ``max_connections`` minus the slots it keeps for
superusers (``superuser_reserved_connections``, and ``reserved_connections`` from 16 on).
Past that, requests wait for connections the server refuses and answer 503. Behind PgBouncer
(``DB_POOLER``) the budget is PgBouncer's: its ``default_pool_size`` against the same limit."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from ops.health import probe_database
from ops.models import ServerSetting

# max_connections, then the slots it keeps back (reserved_connections exists from 16 on).
CONNECTION_SETTINGS = (
    "max_connections",
    "superuser_reserved_connections",
    "reserved_connections",
)


def server_allowance(alias: str = DEFAULT_DB_ALIAS) -> int:
    """Connections the PostgreSQL server of ``alias`` accepts from ordinary roles."""
    values = dict(
        ServerSetting.objects.using(alias)
        .filter(name__in=CONNECTION_SETTINGS)
        .values_list("name", "setting")
    )
    reserved = sum(int(values.get(name, 0)) for name in CONNECTION_SETTINGS[1:])
    return int(values["max_connections"]) - reserved


def budget_problem(workers: int, alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """One line saying why ``workers`` processes may open more connections than the server
    of ``alias`` allows, or ``None``. Only for PostgreSQL; an unreachable server is the
    readiness probe's business, not this check's."""
    if connections[alias].vendor != "postgresql":
        return None
    if settings.DB_POOLER:
        # The workers' connections end at PgBouncer; the server sees its default_pool_size
        # per database and user, which is PgBouncer's to fit under max_connections.
        return None
    if probe_database(alias) is not None:
        # Unreachable now (/readyz reports it): asked through the pool, the check would hold
        # the worker's start for the pool's whole checkout timeout.
        return None
    try:
        allowance = server_allowance(alias)
    except Exception:  # noqa: BLE001 (gone since the probe: /readyz reports it)
        return None
    finally:
        # Outside any request nothing gives the connection back to the pool: a pool of one
        # would be empty for good.
        if not connections[alias].in_atomic_block:
            connections[alias].close()
    wanted = workers * settings.DB_POOL_MAX
    if wanted <= allowance:
        return None
    return (
        f"connection budget: {workers} workers x DB_POOL_MAX={settings.DB_POOL_MAX} = {wanted} "
        f"connections, but the server allows {allowance} (max_connections minus reserved): "
        "lower GUNICORN_WORKERS or DB_POOL_MAX, or put PgBouncer in front"
    )
