"""Prometheus metrics of our own, beside django-prometheus's request and database series.

Every value is a plain ``Gauge`` set by the application, never a custom collector: under
gunicorn each worker is a process, prometheus_client's multiprocess mode merges the values
the workers wrote (``multiprocess_mode`` says how), and custom collectors are not supported
there. Each worker refreshes its pool gauges when it finishes a request (after its
connection went back to the pool) and the worker that answers a scrape refreshes everything
first, so a scrape never shows values older than each worker's last request.
"""

import hmac
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connections
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge

from ops.responses import error_response
from ops.text import first_line

logger = logging.getLogger(__name__)

# psycopg_pool statistics: key in ``pool.get_stats()`` -> gauge. Zero values may be missing
# from the stats, so each is read with a default of 0. Pools are per process: the values of
# the live workers are summed.
POOL_GAUGES = {
    "pool_max": Gauge(
        "journal_db_pool_max_size",
        "Largest number of connections the pools of this alias may open.",
        ["alias"],
        multiprocess_mode="livesum",
    ),
    "pool_size": Gauge(
        "journal_db_pool_size",
        "Connections currently open in the pools of this alias (in use or idle).",
        ["alias"],
        multiprocess_mode="livesum",
    ),
    "pool_available": Gauge(
        "journal_db_pool_available",
        "Idle connections ready in the pools of this alias.",
        ["alias"],
        multiprocess_mode="livesum",
    ),
    "requests_waiting": Gauge(
        "journal_db_pool_requests_waiting",
        "Requests waiting for a connection from the pools of this alias.",
        ["alias"],
        multiprocess_mode="livesum",
    ),
    "connections_errors": Gauge(
        "journal_db_pool_connection_errors",
        "Failed connection attempts of the pools of this alias since they started.",
        ["alias"],
        multiprocess_mode="livesum",
    ),
    "requests_errors": Gauge(
        "journal_db_pool_request_errors",
        "Checkouts that failed (timed out waiting, or errored) since the pools started.",
        ["alias"],
        multiprocess_mode="livesum",
    ),
}
REPLICA_UP = Gauge(
    "journal_db_replica_up",
    "1 while reads may go to this replica, 0 while it is skipped as unreachable.",
    ["alias"],
    multiprocess_mode="livemin",
)
THROTTLE_STORE_ERRORS = Counter(
    "journal_throttle_store_errors_total",
    "Times the shared throttle counts store failed and a process fell back to its own counts.",
)
ADMIN_LOGIN_USERNAME_CEILING = Counter(
    "journal_admin_login_username_ceiling_total",
    "Admin sign-in attempts past the per-username alert ceiling (one username guessed from "
    "many addresses); let through, since each address is limited on its own.",
)
# Domain gauges, declared by the apps that own the data (``register_domain_gauge`` in their
# ``AppConfig.ready``): counted by whichever worker answers the scrape; the latest value wins.
_domain_gauges: dict[str, tuple[Gauge, Callable[[], int]]] = {}


def register_domain_gauge(name: str, documentation: str, count: Callable[[], int]) -> None:
    """Publish ``count()`` (a selector of the app that owns the data) as the gauge ``name``,
    read afresh on every scrape. Registering a name again replaces its count."""
    if name in _domain_gauges:
        gauge = _domain_gauges[name][0]
    else:
        gauge = Gauge(name, documentation, multiprocess_mode="mostrecent")
    _domain_gauges[name] = (gauge, count)


def _pools():
    """``(alias, pool)`` of each configured PostgreSQL alias (the pool may not be open yet in
    this process, or closed while its replica is down)."""
    for alias in settings.DATABASES:
        wrapper = connections[alias]
        if wrapper.vendor == "postgresql" and getattr(wrapper, "pool", None) is not None:
            yield alias, wrapper.pool


def update_pool_gauges(**_signal_kwargs) -> None:
    for alias, pool in _pools():
        stats = {"pool_max": pool.max_size} if pool.closed else pool.get_stats()
        for key, gauge in POOL_GAUGES.items():
            gauge.labels(alias=alias).set(stats.get(key, 0))


def update_domain_gauges() -> None:
    # Counts read like any other read (a replica if there is one); all or none are updated.
    try:
        values = [(gauge, count()) for gauge, count in _domain_gauges.values()]
    except DatabaseError as exc:
        logger.warning("domain metrics not updated: %s", first_line(exc))
        return
    for gauge, value in values:
        gauge.set(value)


def set_replica_up(alias: str, up: bool) -> None:
    REPLICA_UP.labels(alias=alias).set(1 if up else 0)


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def metrics_view(request):
    """``/metrics``: refresh this process's gauges, then django-prometheus's exporter (which
    merges every worker's values in multiprocess mode). With ``METRICS_TOKEN`` set, only a
    scraper that sends it as a bearer token is answered."""
    expected = settings.METRICS_TOKEN
    if expected is not None:
        token = _bearer_token(request)
        if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
            response = error_response(
                401, "GET /metrics needs the metrics bearer token.", "not_authenticated"
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    update_domain_gauges()
    update_pool_gauges()
    return ExportToDjangoView(request)
